import { describe, expect, it } from 'vitest';
import parse from '@xmpp/xml/lib/parse.js';
import { mamQuery, parseFin, parseMamResult } from '../../main/core/xmpp/mam';

const ctx = { ownBareJid: 'alice@heron.test', now: Date.parse('2026-01-01T00:00:00Z'), queryIds: new Set(['q1']) };
const result = (attrs: string, inner: string) =>
  parse(`<message ${attrs} to="alice@heron.test/desk"><result xmlns="urn:xmpp:mam:2" queryid="q1" id="arch-7">
    <forwarded xmlns="urn:xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="2025-05-06T07:08:09Z"/>${inner}</forwarded></result></message>`);

describe('MAM', () => {
  it('reads results from our own archive as stored messages with the archive id', () => {
    const parsed = parseMamResult(result('', '<message from="bob@heron.test/x" to="alice@heron.test" type="chat" id="b1"><body>hi</body></message>'), ctx);
    expect(parsed).toMatchObject({
      kind: 'result',
      archiveId: 'arch-7',
      message: {
        kind: 'chat',
        record: { peer: 'bob@heron.test', direction: 'in', stanzaId: { id: 'arch-7', by: 'alice@heron.test' }, ts: Date.parse('2025-05-06T07:08:09Z') },
      },
    });
    // The archive's stamp, not one the sender put inside the message, and never after now.
    const stamped = (stamp: string) =>
      parseMamResult(
        result('', `<message from="bob@heron.test/x" type="chat" id="b2"><body>x</body><delay xmlns="urn:xmpp:delay" from="heron.test" stamp="${stamp}"/></message>`),
        ctx,
      );
    expect(stamped('2001-01-01T00:00:00Z')).toMatchObject({ message: { record: { ts: Date.parse('2025-05-06T07:08:09Z') }, timedBy: 'server' } });
    expect(parseMamResult(result('', '<message from="bob@heron.test/x" type="chat"><body>x</body></message>'), { ...ctx, now: 1_000 })).toMatchObject({
      message: { record: { ts: 1_000 } },
    });
    const mine = parseMamResult(result('from="alice@heron.test"', '<message from="alice@heron.test/phone" to="carol@heron.test" type="chat"><body>x</body></message>'), ctx);
    expect(mine).toMatchObject({ message: { record: { peer: 'carol@heron.test', direction: 'out', state: 'sent' } } });
  });

  it('rejects results from another archive or for a query we did not send', () => {
    const inner = '<message from="bob@heron.test/x" type="chat"><body>forged</body></message>';
    expect(parseMamResult(result('from="mallory@evil.test"', inner), ctx).kind).toBe('rejected');
    expect(parseMamResult(result('', inner), { ...ctx, queryIds: new Set(['other']) }).kind).toBe('rejected');
    expect(parseMamResult(parse('<message><result xmlns="urn:xmpp:mam:2" queryid="q1"/></message>'), ctx).kind).toBe('rejected');
  });

  it('builds paged queries and reads the end of a page', () => {
    const query = mamQuery({ queryId: 'q1', max: 250, after: 'arch-7' }).toString();
    expect(query).toContain('<after>arch-7</after>');
    expect(query).toContain('<max>250</max>');
    expect(mamQuery({ queryId: 'q', max: 50, before: true }).toString()).toContain('<before/>');
    expect(
      parseFin(parse('<fin xmlns="urn:xmpp:mam:2" complete="true"><set xmlns="http://jabber.org/protocol/rsm"><first>a</first><last>b</last></set></fin>')),
    ).toEqual({ complete: true, first: 'a', last: 'b' });
    expect(parseFin(parse('<fin xmlns="urn:xmpp:mam:2"/>'))).toEqual({ complete: false });
  });
});
