import { describe, expect, it } from 'vitest';
import parse from '@xmpp/xml/lib/parse.js';
import { chatMessage, parseMessage } from '../../main/core/xmpp/chat';

const ctx = { ownBareJid: 'alice@heron.test', now: 1_700_000_000_000 };
const msg = (xml: string) => parseMessage(parse(xml), ctx);

describe('parseMessage', () => {
  it('reads a live chat message with ids, delay and a receipt request', () => {
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
        ts: Date.parse('2024-01-02T03:04:05Z'),
        state: 'received',
      },
      replyTo: 'bob@heron.test/phone',
      receiptRequested: true,
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
    ).toEqual({ kind: 'error', peer: 'bob@heron.test', messageId: 'm2', text: 'service unavailable' });
    expect(msg(`<message from="bob@heron.test/x" type="chat"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`).kind).toBe('ignored');
    expect(msg(`<message from="room@muc.heron.test/bob" type="groupchat"><body>x</body></message>`).kind).toBe('ignored');
    expect(msg(`<message from="@@bad" type="chat"><body>x</body></message>`).kind).toBe('rejected');
  });

  it('builds an outgoing message whose id is also its origin-id and asks for a receipt', () => {
    const stanza = chatMessage('bob@heron.test', 'id-1', 'a < b');
    expect(stanza.toString()).toContain('<body>a &lt; b</body>');
    expect(stanza.getChild('origin-id', 'urn:xmpp:sid:0')?.attrs.id).toBe('id-1');
    expect(stanza.getChild('request', 'urn:xmpp:receipts')).toBeDefined();
  });
});
