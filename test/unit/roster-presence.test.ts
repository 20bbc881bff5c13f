import { describe, expect, it } from 'vitest';
import parse from '@xmpp/xml/lib/parse.js';
import { parseRosterPush, parseRosterResult, rosterQuery, rosterSetQuery } from '../../main/core/xmpp/roster';
import { PresenceBook, ownPresence, parsePresence } from '../../main/core/xmpp/presence';

const OWN = 'alice@heron.test';

describe('roster', () => {
  it('parses a roster result with its version, dropping malformed items and ourselves', () => {
    const iq = parse(`<iq type="result" id="r1"><query xmlns="jabber:iq:roster" ver="17">
      <item jid="Bob@heron.test" name=" Bob " subscription="both"><group>Friends</group><group>Friends</group></item>
      <item jid="carol@heron.test" ask="subscribe" approved="true"/>
      <item jid="alice@heron.test" subscription="both"/>
      <item jid="bad@@x" subscription="both"/>
      <item jid="dave@heron.test" subscription="weird"/></query></iq>`);
    expect(parseRosterResult(iq, OWN)).toEqual({
      kind: 'full',
      ver: '17',
      items: [
        { jid: 'bob@heron.test', name: 'Bob', subscription: 'both', groups: ['Friends'] },
        { jid: 'carol@heron.test', subscription: 'none', groups: [], ask: true, approved: true },
      ],
    });
  });

  it('reads an empty result as "unchanged since the version we sent"', () => {
    expect(parseRosterResult(parse(`<iq type="result" id="r1"/>`), OWN)).toEqual({ kind: 'unchanged' });
    expect(parseRosterResult(parse(`<iq type="result" id="r1" from="alice@heron.test"/>`), OWN)).toEqual({ kind: 'unchanged' });
  });

  it('accepts a roster result only from our own account', () => {
    const forged = parse(`<iq type="result" id="r1" from="mallory@evil.test/x"><query xmlns="jabber:iq:roster"/></iq>`);
    expect(parseRosterResult(forged, OWN).kind).toBe('rejected');
  });

  it('a result without a version carries none', () => {
    expect(parseRosterResult(parse(`<iq type="result" id="r1"><query xmlns="jabber:iq:roster" ver=""/></iq>`), OWN)).toEqual({ kind: 'full', items: [] });
  });

  it('accepts a push only from our own account, with the version it brings', () => {
    const push = (from: string) =>
      parse(`<iq type="set" ${from}><query xmlns="jabber:iq:roster" ver="18"><item jid="eve@heron.test" subscription="remove"/></query></iq>`);
    expect(parseRosterPush(push(''), OWN)).toEqual({ kind: 'remove', jid: 'eve@heron.test', ver: '18' });
    expect(parseRosterPush(push('from="alice@heron.test"'), OWN).kind).toBe('remove');
    expect(parseRosterPush(push('from="mallory@evil.test"'), OWN).kind).toBe('rejected');
    expect(parseRosterPush(push('from="alice@heron.test.evil.test"'), OWN).kind).toBe('rejected');
  });

  it('refuses a push with other than one item', () => {
    const two = parse(`<iq type="set"><query xmlns="jabber:iq:roster"><item jid="a@x"/><item jid="b@x"/></query></iq>`);
    expect(parseRosterPush(two, OWN)).toEqual({ kind: 'rejected', reason: 'a roster push carries exactly one item' });
    expect(parseRosterPush(parse(`<iq type="set"/>`), OWN).kind).toBe('rejected');
  });

  it('asks for the version only when given one; sets items with name and groups', () => {
    expect(rosterQuery().toString()).toBe('<query xmlns="jabber:iq:roster"/>');
    expect(rosterQuery('').toString()).toBe('<query xmlns="jabber:iq:roster" ver=""/>');
    expect(rosterSetQuery({ jid: 'bob@heron.test', name: 'Bob <3', groups: ['Work'] }).toString()).toBe(
      '<query xmlns="jabber:iq:roster"><item jid="bob@heron.test" name="Bob &lt;3"><group>Work</group></item></query>',
    );
  });
});

describe('presence', () => {
  const NOW = Date.parse('2025-05-01T12:00:00Z');
  const parseAt = (text: string) => parsePresence(parse(text), { now: NOW });

  it('shows the best of a contact’s resources and goes offline when all leave', () => {
    const book = new PresenceBook();
    const apply = (xml: string) => {
      const p = parseAt(xml);
      if (p.kind !== 'ignored') book.apply(p);
    };
    apply(`<presence from="bob@heron.test/phone"><show>away</show><status>on the go</status></presence>`);
    expect(book.best('bob@heron.test')).toEqual({ show: 'away', status: 'on the go' });
    apply(`<presence from="bob@heron.test/desk"/>`);
    expect(book.best('bob@heron.test')).toEqual({ show: 'available' });
    apply(`<presence from="bob@heron.test/desk" type="unavailable"/>`);
    apply(`<presence from="bob@heron.test/phone" type="unavailable"/>`);
    expect(book.best('bob@heron.test')).toEqual({ show: 'offline' });
  });

  it('reads idle time (XEP-0319) and prefers an active device', () => {
    const book = new PresenceBook();
    const idle = parseAt(`<presence from="bob@heron.test/desk"><idle xmlns="urn:xmpp:idle:1" since="2025-05-01T11:30:00.123+01:00"/></presence>`);
    expect(idle).toMatchObject({ kind: 'available', idleSince: Date.parse('2025-05-01T10:30:00.123Z') });
    if (idle.kind !== 'ignored') book.apply(idle);
    expect(book.best('bob@heron.test')).toEqual({ show: 'available', idleSince: Date.parse('2025-05-01T10:30:00.123Z') });
    const active = parseAt(`<presence from="bob@heron.test/phone"/>`);
    if (active.kind !== 'ignored') book.apply(active);
    expect(book.best('bob@heron.test')).toEqual({ show: 'available' });
  });

  it('ignores a malformed idle time and reads a future one as now', () => {
    expect(parseAt(`<presence from="b@x/r"><idle xmlns="urn:xmpp:idle:1" since="yesterday"/></presence>`)).not.toHaveProperty('idleSince');
    expect(parseAt(`<presence from="b@x/r"><idle xmlns="urn:xmpp:idle:1" since="2025-13-45T99:00:00Z"/></presence>`)).not.toHaveProperty('idleSince');
    expect(parseAt(`<presence from="b@x/r"><idle xmlns="urn:other" since="2025-05-01T11:00:00Z"/></presence>`)).not.toHaveProperty('idleSince');
    expect(parseAt(`<presence from="b@x/r"><idle xmlns="urn:xmpp:idle:1" since="2030-01-01T00:00:00Z"/></presence>`)).toMatchObject({ idleSince: NOW });
  });

  it('leaves subscription presences to their own parser and ignores junk', () => {
    expect(parseAt(`<presence from="carol@heron.test" type="subscribe"/>`).kind).toBe('ignored');
    expect(parseAt(`<presence/>`).kind).toBe('ignored');
    expect(parseAt(`<presence from="x@y/z"><show>bogus</show><priority>nan</priority></presence>`)).toMatchObject({
      show: 'available',
      priority: 0,
    });
  });

  it('builds our own presence: available has no show', () => {
    expect(ownPresence({ show: 'available' }).toString()).toBe('<presence/>');
    expect(ownPresence({ show: 'dnd', status: 'In a meeting & busy' }).toString()).toBe(
      '<presence><show>dnd</show><status>In a meeting &amp; busy</status></presence>',
    );
  });
});
