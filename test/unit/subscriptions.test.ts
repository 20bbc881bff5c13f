import { describe, expect, it } from 'vitest';
import parse from '@xmpp/xml/lib/parse.js';
import { blockQuery, isSubscriptionPresence, parseSubscriptionPresence } from '../../main/core/xmpp/subscriptions';

const OWN = 'alice@heron.test';
const read = (text: string) => parseSubscriptionPresence(parse(text), OWN);

describe('subscription presences', () => {
  it('tells subscription presences from availability', () => {
    expect(isSubscriptionPresence(parse(`<presence type="subscribe" from="bob@heron.test"/>`))).toBe(true);
    expect(isSubscriptionPresence(parse(`<presence type="unsubscribed" from="bob@heron.test"/>`))).toBe(true);
    expect(isSubscriptionPresence(parse(`<presence from="bob@heron.test/x"/>`))).toBe(false);
    expect(isSubscriptionPresence(parse(`<presence type="unavailable" from="bob@heron.test/x"/>`))).toBe(false);
    expect(isSubscriptionPresence(parse(`<message type="subscribe"/>`))).toBe(false);
  });

  it('reads a request with the nick (XEP-0172) and message it carries, as text', () => {
    expect(
      read(`<presence type="subscribe" from="Bob@heron.test"><nick xmlns="http://jabber.org/protocol/nick"> Bobby </nick>
        <status>Hi, it is &lt;b&gt;Bob&lt;/b&gt;</status></presence>`),
    ).toEqual({ kind: 'request', from: 'bob@heron.test', nick: 'Bobby', status: 'Hi, it is <b>Bob</b>' });
    expect(read(`<presence type="subscribe" from="bob@heron.test"><nick xmlns="urn:other">x</nick><status> </status></presence>`)).toEqual({
      kind: 'request',
      from: 'bob@heron.test',
    });
  });

  it('reads a request from a full JID as its account, and cuts overlong text', () => {
    const long = 'x'.repeat(5000);
    const parsed = read(`<presence type="subscribe" from="bob@heron.test/phone"><nick xmlns="http://jabber.org/protocol/nick">${long}</nick><status>${long}</status></presence>`);
    expect(parsed).toMatchObject({ kind: 'request', from: 'bob@heron.test' });
    expect(parsed.kind === 'request' && [parsed.nick?.length, parsed.status?.length]).toEqual([200, 1000]);
  });

  it('rejects a request from our own account or without a valid sender', () => {
    expect(read(`<presence type="subscribe" from="alice@heron.test"/>`)).toEqual({ kind: 'rejected', reason: 'subscription presence from our own account' });
    expect(read(`<presence type="subscribe" from="ALICE@heron.test/phone"/>`).kind).toBe('rejected');
    expect(read(`<presence type="subscribe"/>`).kind).toBe('rejected');
    expect(read(`<presence type="subscribe" from="a@b@c"/>`).kind).toBe('rejected');
  });

  it('reads a withdrawn request, and leaves answers to the roster push', () => {
    expect(read(`<presence type="unsubscribe" from="bob@heron.test"/>`)).toEqual({ kind: 'withdrawn', from: 'bob@heron.test' });
    expect(read(`<presence type="subscribed" from="bob@heron.test"/>`)).toEqual({ kind: 'answer' });
    expect(read(`<presence type="unsubscribed" from="bob@heron.test"/>`)).toEqual({ kind: 'answer' });
  });

  it('blocks one address (XEP-0191)', () => {
    expect(blockQuery('mallory@evil.test').toString()).toBe('<block xmlns="urn:xmpp:blocking"><item jid="mallory@evil.test"/></block>');
  });
});
