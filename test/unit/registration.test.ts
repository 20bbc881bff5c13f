// XEP-0077 forms as servers send them (a data form, or legacy fields), what we submit for
// each, the refusals in words; and XEP-0191 block lists as servers answer them.
import { describe, expect, it } from 'vitest';
import xml from '@xmpp/xml';
import { missingFields, parseRegistrationForm, registrationRefusal, registrationSubmission, type ServerForm } from '../../main/core/xmpp/registration';
import { parseBlocklist } from '../../main/core/xmpp/subscriptions';

const NS = 'jabber:iq:register';

describe('registration forms', () => {
  it('reads a data form: fields by type, required, options, hidden FORM_TYPE; instructions', () => {
    const query = xml(
      'query',
      { xmlns: NS },
      xml('instructions', {}, 'Use the form.'),
      xml(
        'x',
        { xmlns: 'jabber:x:data', type: 'form' },
        xml('instructions', {}, 'Pick a name'),
        xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS)),
        xml('field', { var: 'username', type: 'text-single', label: 'Username' }, xml('required')),
        xml('field', { var: 'password', type: 'text-private', label: 'Password' }, xml('required'), xml('desc', {}, 'At least 8 characters')),
        xml('field', { var: 'lang', type: 'list-single', label: 'Language' }, xml('option', { label: 'English' }, xml('value', {}, 'en')), xml('value', {}, 'en')),
        xml('field', { var: 'tos', type: 'boolean', label: 'I agree' }),
        xml('field', { type: 'fixed' }, xml('value', {}, 'Be nice.')),
        xml('field', { var: 'friends', type: 'jid-multi' }),
        xml('field', { type: 'text-single' }),
      ),
    );
    expect(parseRegistrationForm(query)).toEqual({
      dataForm: true,
      registered: false,
      instructions: 'Pick a name',
      fields: [
        { var: 'FORM_TYPE', type: 'hidden', value: NS },
        { var: 'username', type: 'text-single', label: 'Username', required: true },
        { var: 'password', type: 'text-private', label: 'Password', required: true, desc: 'At least 8 characters' },
        { var: 'lang', type: 'list-single', label: 'Language', value: 'en', options: [{ value: 'en', label: 'English' }] },
        { var: 'tos', type: 'boolean', label: 'I agree' },
        { var: '', type: 'fixed', value: 'Be nice.' },
        // An unknown type is asked as text; a nameless field that is not fixed text is dropped.
        { var: 'friends', type: 'text-single' },
      ],
    });
  });

  it('reads legacy fields with our labels, keeping an old key hidden', () => {
    const query = xml('query', { xmlns: NS }, xml('instructions', {}, 'Choose'), xml('username'), xml('password'), xml('email'), xml('key', {}, 'k123'));
    expect(parseRegistrationForm(query)).toEqual({
      dataForm: false,
      registered: false,
      instructions: 'Choose',
      fields: [
        { var: 'username', type: 'text-single', label: 'Username', required: true },
        { var: 'password', type: 'text-private', label: 'Password', required: true },
        { var: 'email', type: 'text-single', label: 'Email', required: true },
        { var: 'key', type: 'hidden', value: 'k123' },
      ],
    });
  });

  it('refuses an answer that holds no form', () => {
    expect(parseRegistrationForm(undefined)).toMatchObject({ kind: 'rejected' });
    expect(parseRegistrationForm(xml('query', { xmlns: 'jabber:iq:roster' }))).toMatchObject({ kind: 'rejected' });
  });

  it('submits a data form with every field, hidden ones as the server sent them', () => {
    const form = parseRegistrationForm(
      xml(
        'query',
        { xmlns: NS },
        xml(
          'x',
          { xmlns: 'jabber:x:data', type: 'form' },
          xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS)),
          xml('field', { var: 'username' }, xml('required')),
          xml('field', { var: 'password', type: 'text-private' }, xml('required')),
        ),
      ),
    ) as ServerForm;
    const sent = registrationSubmission(form, { username: 'alice', password: 'pw', FORM_TYPE: 'forged' });
    expect(sent.toString()).toBe(
      `<query xmlns="${NS}"><x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE"><value>${NS}</value></field><field var="username"><value>alice</value></field><field var="password"><value>pw</value></field></x></query>`,
    );
  });

  it('submits legacy fields as elements, text escaped', () => {
    const form = parseRegistrationForm(xml('query', { xmlns: NS }, xml('username'), xml('password'))) as ServerForm;
    expect(registrationSubmission(form, { username: 'a<b', password: 'p&w' }).toString()).toBe(`<query xmlns="${NS}"><username>a&lt;b</username><password>p&amp;w</password></query>`);
  });

  it('names the required fields still empty', () => {
    const form = parseRegistrationForm(xml('query', { xmlns: NS }, xml('username'), xml('password'), xml('email'))) as ServerForm;
    expect(missingFields(form, { username: 'a', password: ' ' })).toEqual(['Password', 'Email']);
  });

  it('says why the server refused, in words', () => {
    expect(registrationRefusal('example.org', 'conflict', undefined, 'alice')).toBe('The name “alice” is already taken on example.org; choose another.');
    expect(registrationRefusal('example.org', 'not-acceptable', 'Password too short')).toBe(
      'example.org did not accept the form: a field is missing or not valid. The server said: “Password too short”',
    );
    expect(registrationRefusal('example.org', 'not-allowed', undefined)).toContain('does not let new accounts be created from an app');
    expect(registrationRefusal('example.org', 'resource-constraint', undefined)).toContain('try again later');
  });
});

describe('block lists', () => {
  it('reads each valid JID once, sorted, as blocked (bare, full or a domain)', () => {
    const answer = xml(
      'blocklist',
      { xmlns: 'urn:xmpp:blocking' },
      xml('item', { jid: 'zed@example.org' }),
      xml('item', { jid: 'Spam.example' }),
      xml('item', { jid: 'ann@example.org/phone' }),
      xml('item', { jid: 'zed@example.org' }),
      xml('item', { jid: '@broken' }),
      xml('item', {}),
    );
    expect(parseBlocklist(answer)).toEqual(['ann@example.org/phone', 'spam.example', 'zed@example.org']);
    expect(parseBlocklist(undefined)).toEqual([]);
  });
});
