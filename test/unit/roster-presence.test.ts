import { describe, expect, it } from 'vitest';
import parse from '@xmpp/xml/lib/parse.js';
import { parseRosterPush, parseRosterResult } from '../../main/core/xmpp/roster';
import { PresenceBook, parsePresence } from '../../main/core/xmpp/presence';

describe('roster', () => {
  it('parses a roster result, dropping malformed items', () => {
    const query = parse(`<query xmlns="jabber:iq:roster">
      <item jid="Bob@heron.test" name=" Bob " subscription="both"><group>Friends</group><group>Friends</group></item>
      <item jid="carol@heron.test"/>
      <item jid="bad@@x" subscription="both"/>
      <item jid="dave@heron.test" subscription="weird"/></query>`);
    expect(parseRosterResult(query)).toEqual([
      { jid: 'bob@heron.test', name: 'Bob', subscription: 'both', groups: ['Friends'] },
      { jid: 'carol@heron.test', subscription: 'none', groups: [] },
    ]);
  });

  it('accepts a push only from our own account', () => {
    const push = (from: string) =>
      parse(`<iq type="set" ${from}><query xmlns="jabber:iq:roster"><item jid="eve@heron.test" subscription="remove"/></query></iq>`);
    expect(parseRosterPush(push(''), 'alice@heron.test')).toEqual({ kind: 'remove', jid: 'eve@heron.test' });
    expect(parseRosterPush(push('from="alice@heron.test"'), 'alice@heron.test').kind).toBe('remove');
    expect(parseRosterPush(push('from="mallory@evil.test"'), 'alice@heron.test').kind).toBe('rejected');
  });
});

describe('presence', () => {
  it('shows the best of a contact’s resources and goes offline when all leave', () => {
    const book = new PresenceBook();
    const apply = (xml: string) => {
      const p = parsePresence(parse(xml));
      if (p.kind === 'available' || p.kind === 'unavailable') book.apply(p);
    };
    apply(`<presence from="bob@heron.test/phone"><show>away</show><status>on the go</status></presence>`);
    expect(book.best('bob@heron.test')).toEqual({ show: 'away', status: 'on the go' });
    apply(`<presence from="bob@heron.test/desk"/>`);
    expect(book.best('bob@heron.test')).toEqual({ show: 'available' });
    apply(`<presence from="bob@heron.test/desk" type="unavailable"/>`);
    apply(`<presence from="bob@heron.test/phone" type="unavailable"/>`);
    expect(book.best('bob@heron.test')).toEqual({ show: 'offline' });
  });

  it('recognises subscription requests and ignores junk', () => {
    expect(parsePresence(parse(`<presence from="carol@heron.test" type="subscribe"/>`))).toEqual({ kind: 'subscribe', bare: 'carol@heron.test' });
    expect(parsePresence(parse(`<presence/>`)).kind).toBe('ignored');
    expect(parsePresence(parse(`<presence from="x@y/z"><show>bogus</show><priority>nan</priority></presence>`))).toMatchObject({
      show: 'available',
      priority: 0,
    });
  });
});
