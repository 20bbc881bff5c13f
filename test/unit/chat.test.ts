import { describe, expect, it } from 'vitest';
import parse from '@xmpp/xml/lib/parse.js';
import { chatMessage, parseArchivedMessage, parseMessage } from '../../main/core/xmpp/chat';
import { displayedMarker } from '../../main/core/xmpp/markers';

const ctx = { ownBareJid: 'alice@heron.test', now: 1_700_000_000_000 };
const msg = (xml: string) => parseMessage(parse(xml), ctx);

describe('parseMessage', () => {
  it('reads a live chat message with ids and a receipt request, timed on arrival whatever delay the sender put in', () => {
    const parsed = msg(`<message from="Bob@heron.test/phone" to="alice@heron.test/desk" type="chat" id="m1">
      <body>hi &lt;b&gt;</body><origin-id xmlns="urn:xmpp:sid:0" id="o1"/>
      <stanza-id xmlns="urn:xmpp:sid:0" id="s1" by="alice@heron.test"/>
      <delay xmlns="urn:xmpp:delay" stamp="2024-01-02T03:04:05Z"/>
      <request xmlns="urn:xmpp:receipts"/></message>`);
    expect(parsed).toEqual({
      kind: 'chat',
      record: {
        peer: 'bob@heron.test',
        direction: 'in',
        sender: 'bob@heron.test',
        messageId: 'm1',
        originId: 'o1',
        stanzaId: { id: 's1', by: 'alice@heron.test' },
        body: 'hi <b>',
        ts: ctx.now,
        state: 'received',
      },
      replyTo: 'bob@heron.test/phone',
      receiptRequested: true,
      timedBy: 'arrival',
    });
  });

  it('ignores a stanza-id stamped by anyone but our own archive', () => {
    const parsed = msg(`<message from="bob@heron.test/x" type="chat" id="m"><body>x</body>
      <stanza-id xmlns="urn:xmpp:sid:0" id="forged" by="bob@heron.test"/></message>`);
    expect(parsed.kind).toBe('chat');
    expect(parsed.kind === 'chat' && 'stanzaId' in parsed.record).toBe(false);
  });

  it('unwraps a sent carbon from our own account as an outgoing message', () => {
    const parsed = msg(`<message from="alice@heron.test" to="alice@heron.test/desk">
      <sent xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0">
      <message from="alice@heron.test/phone" to="bob@heron.test" type="chat" id="p1"><body>from my phone</body></message>
      </forwarded></sent></message>`);
    expect(parsed).toMatchObject({ kind: 'chat', record: { peer: 'bob@heron.test', direction: 'out', sender: 'alice@heron.test', state: 'sent' } });
  });

  it('rejects a carbon that does not come from our own bare JID', () => {
    for (const from of ['mallory@evil.test', 'alice@heron.test/other', '']) {
      const parsed = msg(`<message ${from ? `from="${from}"` : ''} to="alice@heron.test/desk">
        <received xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0">
        <message from="bob@heron.test/x" to="alice@heron.test" type="chat"><body>forged</body></message>
        </forwarded></received></message>`);
      expect(parsed.kind).toBe('rejected');
    }
  });

  it('reports receipts, errors, and ignores bodiless or group messages', () => {
    expect(msg(`<message from="bob@heron.test/x"><received xmlns="urn:xmpp:receipts" id="m9"/></message>`)).toEqual({
      kind: 'receipt',
      peer: 'bob@heron.test',
      messageId: 'm9',
    });
    expect(
      msg(`<message from="bob@heron.test" type="error" id="m2"><error type="cancel">
        <service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`),
    ).toEqual({
      kind: 'error',
      peer: 'bob@heron.test',
      messageId: 'm2',
      text: 'this address does not exist or does not accept messages',
      condition: 'service-unavailable',
    });
    expect(msg(`<message from="bob@heron.test/x" type="chat"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`).kind).toBe('ignored');
    expect(msg(`<message from="room@muc.heron.test/bob" type="groupchat"><body>x</body></message>`).kind).toBe('ignored');
    expect(msg(`<message from="@@bad" type="chat"><body>x</body></message>`).kind).toBe('rejected');
  });

  it('builds an outgoing message whose id is also its origin-id and asks for a receipt and markers', () => {
    const stanza = chatMessage('bob@heron.test', 'id-1', 'a < b');
    expect(stanza.toString()).toContain('<body>a &lt; b</body>');
    expect(stanza.getChild('origin-id', 'urn:xmpp:sid:0')?.attrs.id).toBe('id-1');
    expect(stanza.getChild('request', 'urn:xmpp:receipts')).toBeDefined();
    expect(stanza.getChild('markable', 'urn:xmpp:chat-markers:0')).toBeDefined();
  });

  it('keeps the time our server stamped on an offline message, not when it reached us (XEP-0203, XEP-0160)', () => {
    // Prosody stamps what it held for us while we were offline with a delay from its domain.
    const offline = msg(`<message from="bob@heron.test/phone" to="alice@heron.test" type="chat" id="o1"><body>sent yesterday</body>
      <delay xmlns="urn:xmpp:delay" from="bob@heron.test/phone" stamp="2023-11-14T07:00:00Z"/>
      <delay xmlns="urn:xmpp:delay" from="heron.test" stamp="2023-11-14T08:00:00.250Z">Offline Storage</delay></message>`);
    expect(offline).toMatchObject({ kind: 'chat', record: { ts: Date.parse('2023-11-14T08:00:00.250Z') }, timedBy: 'server' });
    // An unreadable stamp falls back to the arrival time rather than losing the message.
    const garbled = msg(`<message from="bob@heron.test/x" type="chat" id="g"><body>x</body><delay xmlns="urn:xmpp:delay" from="heron.test" stamp="yesterday"/></message>`);
    expect(garbled).toMatchObject({ kind: 'chat', record: { ts: ctx.now }, timedBy: 'arrival' });
  });

  it('times on arrival what only the sender vouches for, and nothing after now', () => {
    const delayed = (delay: string) =>
      msg(`<message from="mallory@evil.test/x" to="alice@heron.test" type="chat" id="d"><body>first!</body>${delay}</message>`);
    for (const delay of [
      // A stranger's own stamp, far in the future or the past, with or without a from.
      '<delay xmlns="urn:xmpp:delay" stamp="2099-01-01T00:00:00Z"/>',
      '<delay xmlns="urn:xmpp:delay" from="mallory@evil.test" stamp="1999-01-01T00:00:00Z"/>',
      // Someone else's server, our own bare JID, or a resource of our domain: not our server's offline storage.
      '<delay xmlns="urn:xmpp:delay" from="evil.test" stamp="1999-01-01T00:00:00Z"/>',
      '<delay xmlns="urn:xmpp:delay" from="alice@heron.test" stamp="1999-01-01T00:00:00Z"/>',
      '<delay xmlns="urn:xmpp:delay" from="heron.test/offline" stamp="1999-01-01T00:00:00Z"/>',
    ]) {
      expect(delayed(delay), delay).toMatchObject({ kind: 'chat', record: { ts: ctx.now }, timedBy: 'arrival' });
    }
    // Even our server's stamp is no later than now: a clock ahead of ours cannot push a chat to the top.
    const ahead = delayed('<delay xmlns="urn:xmpp:delay" from="heron.test" stamp="2099-01-01T00:00:00Z"/>');
    expect(ahead).toMatchObject({ record: { ts: ctx.now }, timedBy: 'server' });
  });

  it('times a carbon on arrival: the delays inside it are the sender\'s', () => {
    const carbon = msg(`<message from="alice@heron.test" to="alice@heron.test/desk"><received xmlns="urn:xmpp:carbons:2">
      <forwarded xmlns="urn:xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="2099-11-14T09:00:00Z"/>
      <message from="bob@heron.test/x" to="alice@heron.test/phone" type="chat" id="c1"><body>late</body>
      <delay xmlns="urn:xmpp:delay" from="heron.test" stamp="2023-11-14T09:00:00Z"/></message></forwarded></received></message>`);
    expect(carbon).toMatchObject({ kind: 'chat', record: { ts: ctx.now, direction: 'in' }, timedBy: 'arrival' });
  });

  it('notes whether an incoming message asked for markers, and only with an id to mark', () => {
    const markable = msg(`<message from="bob@heron.test/x" type="chat" id="m1"><body>x</body><markable xmlns="urn:xmpp:chat-markers:0"/></message>`);
    expect(markable).toMatchObject({ kind: 'chat', record: { markable: true } });
    const noId = msg(`<message from="bob@heron.test/x" type="chat"><body>x</body><markable xmlns="urn:xmpp:chat-markers:0"/></message>`);
    expect(noId.kind === 'chat' && 'markable' in noId.record).toBe(false);
    const plain = msg(`<message from="bob@heron.test/x" type="chat" id="m2"><body>x</body></message>`);
    expect(plain.kind === 'chat' && 'markable' in plain.record).toBe(false);
  });
});

describe('displayed markers (XEP-0333)', () => {
  const marker = `<displayed xmlns="urn:xmpp:chat-markers:0" id="our-1"/>`;

  it('a marker from the peer says they displayed our messages', () => {
    expect(msg(`<message from="bob@heron.test/phone" to="alice@heron.test/desk" type="chat" id="x">${marker}</message>`)).toEqual({
      kind: 'displayed',
      peer: 'bob@heron.test',
      messageId: 'our-1',
      direction: 'in',
    });
  });

  it('a marker my other device sent (a sent carbon from our own account) says I displayed theirs', () => {
    const parsed = msg(`<message from="alice@heron.test" to="alice@heron.test/desk"><sent xmlns="urn:xmpp:carbons:2">
      <forwarded xmlns="urn:xmpp:forward:0"><message from="alice@heron.test/phone" to="bob@heron.test" type="chat" id="x">${marker}</message>
      </forwarded></sent></message>`);
    expect(parsed).toEqual({ kind: 'displayed', peer: 'bob@heron.test', messageId: 'our-1', direction: 'out' });
  });

  it('refuses a forged "my device displayed" carbon from anyone else', () => {
    const forged = msg(`<message from="bob@heron.test" to="alice@heron.test/desk"><sent xmlns="urn:xmpp:carbons:2">
      <forwarded xmlns="urn:xmpp:forward:0"><message from="alice@heron.test/phone" to="bob@heron.test" type="chat" id="x">${marker}</message>
      </forwarded></sent></message>`);
    expect(forged.kind).toBe('rejected');
    const inner = msg(`<message from="alice@heron.test" to="alice@heron.test/desk"><sent xmlns="urn:xmpp:carbons:2">
      <forwarded xmlns="urn:xmpp:forward:0"><message from="mallory@evil.test/x" to="bob@heron.test" type="chat" id="x">${marker}</message>
      </forwarded></sent></message>`);
    expect(inner.kind).toBe('rejected');
  });

  it('reads my device\'s markers from our archive as mine, the peer\'s as theirs', () => {
    const archived = (from: string, to: string) =>
      parseArchivedMessage(
        parse(`<message from="${from}" to="${to}" type="chat" id="x">${marker}</message>`),
        ctx,
        { id: 'a1', by: 'alice@heron.test' },
        ctx.now,
      );
    expect(archived('alice@heron.test/phone', 'bob@heron.test')).toMatchObject({ kind: 'displayed', peer: 'bob@heron.test', direction: 'out' });
    expect(archived('bob@heron.test/x', 'alice@heron.test')).toMatchObject({ kind: 'displayed', peer: 'bob@heron.test', direction: 'in' });
  });

  it('ignores markers without an id, in group chats, or riding along with a body', () => {
    expect(msg(`<message from="bob@heron.test/x" type="chat"><displayed xmlns="urn:xmpp:chat-markers:0"/></message>`).kind).toBe('ignored');
    expect(msg(`<message from="room@muc.heron.test/bob" type="groupchat">${marker}</message>`).kind).toBe('ignored');
    expect(msg(`<message from="bob@heron.test/x" type="chat" id="b"><body>hello</body>${marker}</message>`)).toMatchObject({
      kind: 'chat',
      record: { body: 'hello' },
    });
  });

  it('builds a marker my other devices get a copy of and the archive keeps', () => {
    const stanza = displayedMarker('bob@heron.test', 'mk-1', 'their-9');
    expect(stanza.attrs).toEqual({ to: 'bob@heron.test', id: 'mk-1', type: 'chat' });
    expect(stanza.getChild('displayed', 'urn:xmpp:chat-markers:0')?.attrs.id).toBe('their-9');
    expect(stanza.getChild('store', 'urn:xmpp:hints')).toBeDefined();
    expect(stanza.getChild('body')).toBeUndefined();
  });
});

describe('bounced messages', () => {
  it('explain the condition in words, with the server\'s own text when it gave one', () => {
    const bounce = (inner: string) =>
      msg(`<message from="nobody@heron.test" type="error" id="m3"><error type="cancel">${inner}</error></message>`);
    expect(bounce(`<item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>`)).toMatchObject({ text: 'this address does not exist' });
    expect(
      bounce(`<policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">too many</text>`),
    ).toMatchObject({ text: 'the server refused the message (too many)' });
    expect(bounce(`<undefined-condition xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>`)).toMatchObject({ text: 'undefined condition' });
    expect(bounce('')).toMatchObject({ text: 'the message could not be delivered' });
  });
});
