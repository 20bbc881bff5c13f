// Read state from displayed markers and synchronized positions: the archive moves it only
// forwards, only for the conversation it names, and only for messages of the right direction.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import parse from '@xmpp/xml/lib/parse.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Archive, type MessageRecord } from '../../main/core/archive/archive';
import { openDatabase } from '../../main/core/archive/database';
import { applyDisplayed } from '../../main/core/features/markers';
import { isMdsEvent, mdsPublish, parseMdsEvent, parseMdsItems } from '../../main/core/xmpp/mds';

const ACCOUNT = '00000000-0000-4000-8000-000000000001';
const OWN = 'me@example.org';
const PEER = 'peer@example.org';

const at = (n: number) => 1_700_000_000_000 + n * 1000;
const incoming = (n: number, peer = PEER): MessageRecord => ({
  peer,
  direction: 'in',
  sender: peer,
  messageId: `in-${n}`,
  stanzaId: { id: `s-${n}`, by: OWN },
  body: `theirs ${n}`,
  ts: at(n),
  state: 'received',
  markable: n % 2 === 0,
});
const outgoing = (n: number, state: MessageRecord['state'] = 'delivered', peer = PEER): MessageRecord => ({
  peer,
  direction: 'out',
  sender: OWN,
  messageId: `out-${n}`,
  originId: `out-${n}`,
  body: `mine ${n}`,
  ts: at(n),
  state,
});

describe('archive read state', () => {
  let dir: string;
  let archive: Archive;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-read-'));
    archive = new Archive(openDatabase(path.join(dir, 'heron.sqlite')), () => at(100));
    archive.accounts.insert({ id: ACCOUNT, jid: OWN, host: null, port: null, resource: 'r', enabled: true });
  });

  afterEach(() => {
    archive.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const states = () =>
    archive.messages
      .pageBefore(archive.conversations.open(ACCOUNT, PEER).id, undefined, 50)
      .messages.filter((m) => m.direction === 'out')
      .map((m) => [m.body, m.state]);

  it('a peer marker reads our messages up to the one it names, never the later ones, never backwards', () => {
    archive.messages.storeBatch(ACCOUNT, [outgoing(1, 'sent'), outgoing(2, 'delivered'), outgoing(3, 'pending'), outgoing(4, 'failed'), outgoing(5, 'delivered')]);
    const read = applyDisplayed(archive, ACCOUNT, { peer: PEER, messageId: 'out-3', direction: 'in' }).read;
    expect(read.map((m) => m.body)).toEqual(['mine 1', 'mine 2', 'mine 3']);
    expect(states()).toEqual([
      ['mine 1', 'read'],
      ['mine 2', 'read'],
      ['mine 3', 'read'],
      ['mine 4', 'failed'],
      ['mine 5', 'delivered'],
    ]);
    // An older marker arriving late changes nothing.
    expect(applyDisplayed(archive, ACCOUNT, { peer: PEER, messageId: 'out-2', direction: 'in' }).read).toEqual([]);
  });

  it('a marker only reaches messages we sent to whoever sent it', () => {
    archive.messages.storeBatch(ACCOUNT, [outgoing(1, 'delivered'), outgoing(2, 'delivered', 'carol@example.org'), incoming(3)]);
    // Carol names our message to peer; peer names their own message: neither moves anything.
    expect(applyDisplayed(archive, ACCOUNT, { peer: 'carol@example.org', messageId: 'out-1', direction: 'in' }).read).toEqual([]);
    expect(applyDisplayed(archive, ACCOUNT, { peer: PEER, messageId: 'in-3', direction: 'in' }).read).toEqual([]);
    expect(states()).toEqual([['mine 1', 'delivered']]);
  });

  it("my other device's marker leaves unread only what came after it", () => {
    // Our own message counts as having read what came before it: unread starts after it.
    archive.messages.storeBatch(ACCOUNT, [outgoing(3), incoming(4), incoming(5), incoming(6), incoming(7)]);
    const id = archive.conversations.open(ACCOUNT, PEER).id;
    expect(archive.conversations.get(id).unread).toBe(4);
    expect(applyDisplayed(archive, ACCOUNT, { peer: PEER, messageId: 'in-5', direction: 'out' }).conversation?.unread).toBe(2);
    // Never backwards, and unknown or foreign ids are ignored.
    expect(applyDisplayed(archive, ACCOUNT, { peer: PEER, messageId: 'in-4', direction: 'out' }).conversation).toBeUndefined();
    expect(applyDisplayed(archive, ACCOUNT, { peer: PEER, messageId: 'out-3', direction: 'out' }).conversation).toBeUndefined();
    expect(applyDisplayed(archive, ACCOUNT, { peer: PEER, messageId: 'nope', direction: 'out' }).conversation).toBeUndefined();
    // By our archive's stanza-id (XEP-0490): up to the newest.
    expect(archive.messages.readIncomingUpTo(ACCOUNT, PEER, { stanzaId: 's-7' })?.unread).toBe(0);
    expect(archive.conversations.get(id).unread).toBe(0);
  });

  it('a position for a chat we do not have creates nothing', () => {
    expect(archive.messages.readIncomingUpTo(ACCOUNT, 'stranger@example.org', { stanzaId: 's-1' })).toBeUndefined();
    expect(archive.conversations.list()).toEqual([]);
  });

  it('tells a read what it covered: newest incoming first, with markable and stanza ids', () => {
    archive.messages.storeBatch(ACCOUNT, [incoming(1), incoming(2), incoming(3), outgoing(4)]);
    const id = archive.conversations.open(ACCOUNT, PEER).id;
    expect(archive.messages.recentIncoming(id, 2)).toEqual([
      { messageId: 'in-3', stanzaId: 's-3', markable: false },
      { messageId: 'in-2', stanzaId: 's-2', markable: true },
    ]);
  });

  it('a late server ack does not hide an error that came first', () => {
    archive.messages.store(ACCOUNT, outgoing(1, 'pending'));
    expect(archive.messages.advanceOutgoing(ACCOUNT, PEER, 'out-1', 'failed', 'this address does not exist')?.state).toBe('failed');
    expect(archive.messages.advanceOutgoing(ACCOUNT, PEER, 'out-1', 'sent')).toBeUndefined();
    expect(states()).toEqual([['mine 1', 'failed']]);
  });
});

describe('message displayed synchronization (XEP-0490) parsing', () => {
  const event = (from: string, items: string) =>
    parse(`<message ${from} to="${OWN}/desk" type="headline"><event xmlns="http://jabber.org/protocol/pubsub#event">
      <items node="urn:xmpp:mds:displayed:0">${items}</items></event></message>`);
  const item = (id: string, stanzaIds: string) =>
    `<item id="${id}"><displayed xmlns="urn:xmpp:mds:displayed:0">${stanzaIds}</displayed></item>`;
  const sid = (by: string, id: string) => `<stanza-id xmlns="urn:xmpp:sid:0" by="${by}" id="${id}"/>`;

  it('takes positions from our own account, for bare JIDs, by our own archive ids', () => {
    const stanza = event(
      `from="${OWN}"`,
      item(PEER, sid(OWN, 'a')) + item('room@muc.example.org/nick', sid(OWN, 'b')) + item('x@example.org', sid('x@example.org', 'c')) + item('y@example.org', sid(OWN, 'd') + sid(OWN, 'e')),
    );
    expect(isMdsEvent(stanza)).toBe(true);
    expect(parseMdsEvent(stanza, OWN)).toEqual({ kind: 'positions', positions: [{ peer: PEER, stanzaId: 'a' }] });
  });

  it('refuses positions pushed by anyone but our own account', () => {
    for (const from of ['from="mallory@evil.test"', `from="${OWN}/phone"`, 'from="example.org"']) {
      expect(parseMdsEvent(event(from, item(PEER, sid(OWN, 'a'))), OWN).kind).toBe('rejected');
    }
  });

  it('reads the catch-up answer and builds a private, persistent publication', () => {
    const answer = parse(`<pubsub xmlns="http://jabber.org/protocol/pubsub"><items node="urn:xmpp:mds:displayed:0">${item(PEER, sid(OWN, 'z'))}</items></pubsub>`);
    expect(parseMdsItems(answer, OWN)).toEqual([{ peer: PEER, stanzaId: 'z' }]);
    expect(parseMdsItems(undefined, OWN)).toEqual([]);
    const publish = mdsPublish(OWN, { peer: PEER, stanzaId: 'z' }).toString();
    expect(publish).toContain(`<item id="${PEER}">`);
    expect(publish).toContain(`by="${OWN}" id="z"`);
    expect(publish).toMatch(/pubsub#access_model"><value>whitelist/);
    expect(publish).toMatch(/pubsub#max_items"><value>max/);
  });

});
