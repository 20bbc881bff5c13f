// xmpp: links: a corpus of valid, malformed and hostile links through the one parser.
import { describe, expect, it } from 'vitest';
import { parseXmppUri, MAX_URI_LENGTH } from '../../main/core/xmpp/uri';
import { uriRequest, UriInbox } from '../../main/core/uri-inbox';

const FP = 'a'.repeat(32) + '0123456789abcdef0123456789ABCDEF';

function ok(text: string) {
  const parsed = parseXmppUri(text);
  if (!parsed.ok) throw new Error(`refused ${text}: ${parsed.reason}`);
  return parsed.uri;
}

function refused(text: unknown): string {
  const parsed = parseXmppUri(text);
  if (parsed.ok) throw new Error(`accepted ${String(text)}`);
  return parsed.reason;
}

describe('valid links', () => {
  it('a bare address opens the chat', () => {
    const uri = ok('xmpp:Romeo@Montague.net');
    expect(uri.target.bare).toBe('romeo@montague.net');
    expect(uri.action).toEqual({ kind: 'open' });
    expect(uri.account).toBeUndefined();
    expect(uri.omemo).toEqual([]);
  });

  it('keeps the resource, with slashes and @ in it, and drops the fragment', () => {
    const uri = ok('xmpp:romeo@montague.net/orchard/gate@night#ignored');
    expect(uri.target.resource).toBe('orchard/gate@night');
    expect(uri.target.full).toBe('romeo@montague.net/orchard/gate@night');
  });

  it('message with body and subject, percent-encoded UTF-8, + stays a plus', () => {
    const uri = ok('xmpp:romeo@montague.net?message;subject=Test%20Message;body=Here%27s%20a%20test%0Aline%202%20%E2%9C%93+1');
    expect(uri.action).toEqual({ kind: 'message', subject: 'Test Message', body: "Here's a test\nline 2 ✓+1" });
  });

  it('roster with name and group, subscribe, register', () => {
    expect(ok('xmpp:romeo@montague.net?roster;name=Romeo%20Montague;group=Friends').action).toEqual({
      kind: 'roster',
      name: 'Romeo Montague',
      group: 'Friends',
    });
    expect(ok('xmpp:romeo@montague.net?subscribe').action).toEqual({ kind: 'subscribe' });
    expect(ok('xmpp:montague.net?register').action).toEqual({ kind: 'register' });
    expect(ok('xmpp:montague.net?register').target.bare).toBe('montague.net');
  });

  it('join with a password and invite with the invitee', () => {
    expect(ok('xmpp:darkcave@chat.shakespeare.lit?join;password=cauldronburn').action).toEqual({ kind: 'join', password: 'cauldronburn' });
    expect(ok('xmpp:darkcave@chat.shakespeare.lit?invite;jid=Hecate@shakespeare.lit').action).toEqual({
      kind: 'invite',
      invitee: 'hecate@shakespeare.lit',
    });
  });

  it('the authority names the account to act from', () => {
    const uri = ok('xmpp://Guest@example.com/support@example.com?message');
    expect(uri.account).toBe('guest@example.com');
    expect(uri.target.bare).toBe('support@example.com');
  });

  it('IRIs: Unicode node and domain, and punycode read as the same domain', () => {
    const iri = ok('xmpp:jüliet@dömain.example');
    expect(iri.target.bare).toBe('jüliet@dömain.example');
    expect(ok('xmpp:j%C3%BCliet@xn--dmain-jua.example').target.bare).toBe('jüliet@dömain.example');
    // NFC: a decomposed ü is the same address as a composed one.
    expect(ok('xmpp:ju%CC%88liet@example.org').target.bare).toBe('jüliet@example.org');
  });

  it('unknown actions, and actions a link must not perform, just open the chat', () => {
    for (const type of ['remove', 'unsubscribe', 'unregister', 'vcard', 'command']) {
      const uri = ok(`xmpp:romeo@montague.net?${type};node=x`);
      expect(uri.action).toEqual({ kind: 'open' });
      expect(uri.ignoredAction).toBe(type);
    }
  });

  it('keeps OMEMO fingerprints, after an action or straight after "?" (Conversations)', () => {
    const conversations = ok(`xmpp:juliet@capulet.lit?omemo-sid-123456=05${FP};omemo-sid-42=${FP}`);
    expect(conversations.action).toEqual({ kind: 'open' });
    expect(conversations.omemo).toEqual([
      { device: 123456, fingerprint: FP.toLowerCase() },
      { device: 42, fingerprint: FP.toLowerCase() },
    ]);
    expect(ok(`xmpp:juliet@capulet.lit?message;omemo-sid-7=${FP}`).omemo).toEqual([{ device: 7, fingerprint: FP.toLowerCase() }]);
  });

  it('surrounding whitespace from a command line is trimmed; empty parameters are skipped', () => {
    expect(ok('  xmpp:romeo@montague.net?message;;body=hi \n').action).toEqual({ kind: 'message', body: 'hi' });
    expect(ok('XMPP:romeo@montague.net').target.bare).toBe('romeo@montague.net');
  });
});

describe('malformed links are refused with a reason', () => {
  it.each([
    ['xmpp:', 'no address'],
    ['xmpp:?message', 'no address'],
    ['xmpp:@montague.net', 'empty name'],
    ['xmpp:romeo@', 'no server'],
    ['xmpp:romeo@montague.net/', 'nothing after'],
    ['xmpp:romeo@juliet@montague.net', 'server'],
    ['xmpp:ro%ZZmeo@montague.net', 'percent-encoded'],
    ['xmpp:romeo@montague.net?message;body=%E2%28', 'percent-encoded'],
    ['xmpp:romeo@montague.net?message;body', 'without a name or value'],
    ['xmpp:romeo@montague.net?message;=x', 'without a name or value'],
    ['xmpp:romeo@montague.net?mes$age', 'not a valid name'],
    ['xmpp://montague.net/romeo@montague.net', 'like me@example.org'],
    ['xmpp://me@example.org', 'no address to open'],
    ['xmpp://me@example.org/', 'no address to open'],
    ['xmpp:darkcave@chat.shakespeare.lit?invite', 'whom to invite'],
    ['xmpp:darkcave@chat.shakespeare.lit?invite;jid=bad@', 'no server'],
    ['xmpp:romeo@mon..tague.net', 'server'],
    ['xmpp:ro%22meo@montague.net', 'characters an address cannot have'],
    ['xmpp:juliet@capulet.lit?omemo-sid-1=abcd', 'OMEMO fingerprint for device 1 is malformed'],
    ['xmpp:juliet@capulet.lit?omemo-sid-0=' + FP, 'cannot exist'],
    ['xmpp:juliet@capulet.lit?omemo-sid-99999999999=' + FP, 'cannot exist'],
  ])('%s', (text, reason) => {
    expect(refused(text)).toContain(reason);
  });
});

describe('hostile links are refused', () => {
  it('other schemes, whatever they carry', () => {
    for (const text of ['javascript:alert(1)', 'JavaScript:xmpp:romeo@montague.net', 'http://evil.example/xmpp:x@y', 'file:///etc/passwd', 'data:text/html,<b>', 'xmpp-evil:romeo@montague.net', 'romeo@montague.net', '']) {
      expect(refused(text)).toBe('Only xmpp: links open in Heron.');
    }
    expect(refused(undefined)).toBe('The link is not text.');
    expect(refused({ toString: () => 'xmpp:a@b' })).toBe('The link is not text.');
  });

  it('over-long links, bodies and parameter lists', () => {
    expect(refused(`xmpp:romeo@montague.net?message;body=${'a'.repeat(MAX_URI_LENGTH)}`)).toBe('The link is too long.');
    expect(refused(`xmpp:${'a'.repeat(1024)}@montague.net`)).toContain('too long');
    expect(refused(`xmpp:romeo@montague.net?message;${Array.from({ length: 40 }, (_, i) => `k${i}=v`).join(';')}`)).toContain('too many');
    expect(refused(`xmpp:romeo@montague.net?roster;name=${'n'.repeat(1100)}`)).toContain('name is too long');
  });

  it('raw spaces, controls and bidi overrides anywhere; decoded ones in addresses and names', () => {
    expect(refused('xmpp:romeo@montague.net?message;body=a b')).toContain('spaces');
    expect(refused('xmpp:romeo@montague.net\u0000')).toContain('control');
    expect(refused('xmpp:romeo\u202E@montague.net')).toContain('invisible');
    expect(refused('xmpp:romeo%E2%80%AEten.eugatnom@example.org')).toContain('invisible or control characters');
    expect(refused('xmpp:romeo%00@montague.net')).toContain('control');
    expect(refused('xmpp:romeo@montague.net/res%07ource')).toContain('control');
    expect(refused('xmpp:romeo@montague.net?roster;name=Bob%E2%80%AE')).toContain('control characters');
    expect(refused('xmpp:romeo@montague.net?message;body=bell%07')).toContain('body contains control characters');
    expect(refused('xmpp:romeo@montague.net?message;body=<script>')).toContain('spaces, control');
  });

  it('a parameter given twice (one value shown, the other used)', () => {
    expect(refused('xmpp:romeo@montague.net?message;body=hi;body=transfer%20money')).toContain('“body” twice');
  });

  it('encoded separators cannot smuggle a second address or a resource into the node', () => {
    expect(refused('xmpp:romeo%40evil.example@montague.net')).toContain('characters an address cannot have');
    expect(refused('xmpp:romeo%2Fx@montague.net')).toContain('characters an address cannot have');
    expect(refused('xmpp:romeo@montague.net%2Fevil')).toContain('server');
  });

  it('a domain that is not one', () => {
    expect(refused('xmpp:romeo@xn--zz')).toContain('not a valid domain name');
    expect(refused('xmpp:romeo@-')).toBeTruthy();
  });
});

describe('what a link asks of Heron (uriRequest)', () => {
  const alice = { id: 'a1', jid: 'alice@example.org' };
  const work = { id: 'a2', jid: 'alice@work.example' };

  it('a chat, with the body for the composer, from the only account', () => {
    expect(uriRequest(1, 'xmpp:bob@example.org?message;body=Hello%20Bob', [alice])).toEqual({
      id: 1,
      action: 'chat',
      uri: 'xmpp:bob@example.org?message;body=Hello%20Bob',
      jid: 'bob@example.org',
      accountId: 'a1',
      body: 'Hello Bob',
    });
  });

  it('with several accounts the user picks, unless the link names one', () => {
    expect(uriRequest(1, 'xmpp:bob@example.org', [alice, work]).accountId).toBeUndefined();
    expect(uriRequest(1, 'xmpp://alice@work.example/bob@example.org', [alice, work]).accountId).toBe('a2');
    expect(uriRequest(1, 'xmpp://mallory@example.org/bob@example.org', [alice, work])).toMatchObject({
      action: 'refused',
      reason: 'The link is for the account mallory@example.org, which is not set up in Heron.',
    });
  });

  it('roster and subscribe add a contact; the roster name and group come along', () => {
    expect(uriRequest(1, 'xmpp:bob@example.org?roster;name=Bob;group=Work', [alice])).toMatchObject({ action: 'add-contact', jid: 'bob@example.org', name: 'Bob', group: 'Work' });
    expect(uriRequest(1, 'xmpp:bob@example.org?subscribe', [alice])).toMatchObject({ action: 'add-contact', jid: 'bob@example.org' });
  });

  it('what Heron cannot do yet says so; an unknown action opens the chat and says what was left out', () => {
    expect(uriRequest(1, 'xmpp:room@muc.example.org?join;password=secret', [alice])).toEqual({
      id: 1,
      action: 'unsupported',
      uri: 'xmpp:room@muc.example.org?join;password=secret',
      jid: 'room@muc.example.org',
      accountId: 'a1',
      reason: 'Heron cannot join group chats yet.',
    });
    expect(uriRequest(1, 'xmpp:example.org?register', [alice])).toMatchObject({ action: 'unsupported' });
    expect(uriRequest(1, 'xmpp:bob@example.org?remove', [alice])).toMatchObject({ action: 'chat', reason: expect.stringContaining('“remove”') });
  });

  it('refuses a server as a chat partner, a link with no account to use, and hostile text', () => {
    expect(uriRequest(1, 'xmpp:example.org', [alice])).toMatchObject({ action: 'refused', reason: expect.stringContaining('is a server') });
    expect(uriRequest(1, 'xmpp:bob@example.org', [])).toMatchObject({ action: 'refused', reason: expect.stringContaining('Add an account') });
    const hostile = uriRequest(1, `javascript:${'x'.repeat(1000)}`, [alice]);
    expect(hostile).toMatchObject({ action: 'refused', reason: 'Only xmpp: links open in Heron.' });
    expect(hostile.uri.length).toBeLessThanOrEqual(301);
  });

  it('keeps the OMEMO fingerprints for the OMEMO trust work', () => {
    expect(uriRequest(1, `xmpp:bob@example.org?omemo-sid-9=${FP}`, [alice]).omemo).toEqual([{ device: 9, fingerprint: FP.toLowerCase() }]);
  });

  it('the inbox hands each link over once, and holds only the latest ten', () => {
    const inbox = new UriInbox();
    const first = inbox.put('xmpp:bob@example.org', [alice]);
    expect(inbox.take()).toEqual([first]);
    expect(inbox.take()).toEqual([]);
    for (let i = 0; i < 15; i++) inbox.put(`xmpp:bob${i}@example.org`, [alice]);
    const taken = inbox.take();
    expect(taken.map((r) => r.jid)).toEqual(Array.from({ length: 10 }, (_, i) => `bob${i + 5}@example.org`));
    expect(new Set(taken.map((r) => r.id)).size).toBe(10);
  });
});
