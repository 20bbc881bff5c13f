// Strangers at the door and the origin rules, with forged stanzas against a real archive and
// a recording session: who lands in message requests, who hears receipts from us, which
// roster pushes, archive answers and bounces may change anything, and how requests are settled.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Element } from '@xmpp/xml';
import parse from '@xmpp/xml/lib/parse.js';
import { Archive } from '../../main/core/archive/archive';
import { openDatabase } from '../../main/core/archive/database';
import type { FeatureContext } from '../../main/core/features/feature';
import { Hooks } from '../../main/core/features/hooks';
import { ChatFeature } from '../../main/core/features/chat';
import { RelationsFeature } from '../../main/core/features/relations';
import { MarkersFeature } from '../../main/core/features/markers';
import { MdsFeature } from '../../main/core/features/mds';
import { DiscoFeature } from '../../main/core/features/disco';
import { PresenceFeature } from '../../main/core/features/presence';
import { RosterFeature } from '../../main/core/features/roster';
import { MAX_PENDING_REQUESTS, SubscriptionsFeature } from '../../main/core/features/subscriptions';
import { MessageRequestsFeature } from '../../main/core/features/requests';
import { LATE_RECEIPT_WINDOW_MS, LATE_RECEIPTS_PER_PEER, usefulLateReceipts } from '../../main/core/features/receipts';
import { SenderLimit } from '../../main/core/features/sender-limit';
import { BulkLane } from '../../main/core/features/outbound';
import { isForeignRosterPush, parseRosterPush } from '../../main/core/xmpp/roster';
import { parseFinResult } from '../../main/core/xmpp/mam';
import type { Session } from '../../main/core/xmpp/session';
import type { EventName, EventPayloads } from '../../preload/contract';

const ACCOUNT = '00000000-0000-4000-8000-000000000001';
const OWN = 'alice@heron.test';
const NOW = 1_700_000_000_000;

describe('origin rules in parse', () => {
  const iq = (attrs: string) => parse(`<iq type="set" id="p1" ${attrs}><query xmlns="jabber:iq:roster"><item jid="bob@heron.test"/></query></iq>`);

  it('takes roster pushes only without from or from our bare JID (RFC 6121 §2.1.6)', () => {
    expect(isForeignRosterPush(iq(''), OWN)).toBe(false);
    expect(isForeignRosterPush(iq(`from="${OWN}"`), OWN)).toBe(false);
    // Our own full JID is no more our account than anyone else.
    expect(isForeignRosterPush(iq(`from="${OWN}/phone"`), OWN)).toBe(true);
    expect(isForeignRosterPush(iq('from="mallory@evil.test"'), OWN)).toBe(true);
    expect(isForeignRosterPush(iq('from="heron.test"'), OWN)).toBe(true);
    expect(parseRosterPush(iq(`from="${OWN}/phone"`), OWN)).toMatchObject({ kind: 'rejected' });
    expect(parseRosterPush(iq(`from="${OWN}"`), OWN)).toMatchObject({ kind: 'set', item: { jid: 'bob@heron.test' } });
    // An answer to our own roster get is not a push.
    expect(isForeignRosterPush(parse(`<iq type="result" id="r" from="x@y.test"><query xmlns="jabber:iq:roster"/></iq>`), OWN)).toBe(false);
  });

  it('takes the end of an archive query only from the archive asked (our account)', () => {
    const fin = (attrs: string) =>
      parse(`<iq type="result" id="q" ${attrs}><fin xmlns="urn:xmpp:mam:2" complete="true">
        <set xmlns="http://jabber.org/protocol/rsm"><last>s9</last></set></fin></iq>`);
    expect(parseFinResult(fin(''), OWN)).toEqual({ complete: true, last: 's9' });
    expect(parseFinResult(fin(`from="${OWN}"`), OWN)).toEqual({ complete: true, last: 's9' });
    expect(parseFinResult(fin('from="mallory@evil.test"'), OWN)).toMatchObject({ kind: 'rejected' });
    expect(parseFinResult(fin(`from="${OWN}/phone"`), OWN)).toMatchObject({ kind: 'rejected' });
  });
});

describe('strangers and contacts', () => {
  let dir: string;
  let archive: Archive;
  let ctx: FeatureContext;
  let sent: Element[];
  let iqs: Element[];
  /** IQs sent through `request` (disco queries). */
  let asked: Element[];
  let events: Array<{ event: EventName; payload: unknown }>;
  let session: Session;
  let refusals: Array<(stanza: Element) => boolean>;
  let rosterPush: (context: { stanza: Element }) => unknown;
  let serverArchives: boolean;
  let serverFeatures: Set<string>;
  let chat: ChatFeature;
  let roster: RosterFeature;
  let presence: PresenceFeature;
  let disco: DiscoFeature;
  let subscriptions: SubscriptionsFeature;
  let requests: MessageRequestsFeature;
  let now: number;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-strangers-'));
    now = NOW;
    archive = new Archive(openDatabase(path.join(dir, 'heron.sqlite')), () => now);
    archive.accounts.insert({ id: ACCOUNT, jid: OWN, host: null, port: null, resource: 'r', enabled: true });
    sent = [];
    iqs = [];
    asked = [];
    events = [];
    refusals = [];
    serverArchives = true;
    serverFeatures = new Set();
    session = {
      entity: { send: async (stanza: Element) => void sent.push(stanza), on: () => {}, jid: { toString: () => `${OWN}/r` } },
      iqCaller: { set: async (child: Element) => void iqs.push(child), request: async (query: Element) => (asked.push(query), parse('<iq type="result"/>')) },
      iqCallee: { set: (_ns: string, _name: string, handler: typeof rosterPush) => (rosterPush = handler), get: () => {} },
      streamManagement: { enabled: true, outbound_q: [], on: () => {} },
      refuseIncoming: (refuses: (stanza: Element) => boolean) => void refusals.push(refuses),
      onStanza: () => () => {},
    } as unknown as Session;
    ctx = {
      accountId: ACCOUNT,
      bare: OWN,
      archive,
      emit: (event, payload) => void events.push({ event, payload }),
      log: () => {},
      clock: { now: () => now, random: () => 0, setTimeout: () => 0, clearTimeout: () => {} },
      liveSession: () => session,
      hooks: new Hooks(() => {}),
    };
    presence = new PresenceFeature(ctx);
    roster = new RosterFeature(ctx, presence);
    subscriptions = new SubscriptionsFeature(ctx, roster);
    disco = new DiscoFeature(ctx, () => []);
    const mds = new MdsFeature(ctx, disco);
    chat = new ChatFeature(ctx, new MarkersFeature(ctx, mds, disco), new RelationsFeature(ctx), () => serverArchives);
    requests = new MessageRequestsFeature(ctx, roster, subscriptions, () => serverFeatures.has('urn:xmpp:reporting:1'));
    ctx.hooks.on('roster.items', (items) => requests.settle(items)); // as the requests module does
    roster.wire(session);
  });

  afterEach(() => {
    archive.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const contact = (jid: string, subscription: 'none' | 'to' | 'from' | 'both') => archive.roster.upsert(ACCOUNT, { jid, subscription, groups: [] });
  const receive = (xml: string) => chat.stanza(parse(xml), session);
  const chatFrom = (from: string, id: string, body = 'hello') =>
    receive(`<message from="${from}/x" to="${OWN}/r" type="chat" id="${id}"><body>${body}</body><request xmlns="urn:xmpp:receipts"/></message>`);
  const receiptsSent = () => sent.filter((s) => s.getChild('received', 'urn:xmpp:receipts')).map((s) => `${s.attrs.to} ${s.getChild('received')!.attrs.id}`);
  const eventsOf = <E extends EventName>(event: E) => events.filter((e) => e.event === event).map((e) => e.payload as EventPayloads[E]);

  it('a stranger’s message is archived as a message request: not in the chat list, and no receipt', () => {
    chatFrom('spammer@evil.test', 's1', 'buy now');
    chatFrom('spammer@evil.test', 's2', 'buy more');
    expect(archive.conversations.list()).toEqual([]);
    const [request] = archive.conversations.listRequests();
    expect(request).toMatchObject({ peer: 'spammer@evil.test', request: 'waiting', unread: 2, last: { body: 'buy more' } });
    // Archived all the same: nothing is lost while it waits.
    expect(archive.messages.pageBefore(request!.id, undefined, 10).messages.map((m) => m.body)).toEqual(['buy now', 'buy more']);
    expect(eventsOf('conversation.changed').every((c) => c.request === 'waiting')).toBe(true);
    expect(receiptsSent()).toEqual([]);
  });

  it('receipts go to contacts who see our presence and to whom we wrote first; not to other roster entries', () => {
    contact('bob@heron.test', 'both');
    contact('carol@heron.test', 'to'); // we see her, she does not see us
    chat.send('dave@heron.test', 'hi dave'); // not a contact, but we wrote first
    chatFrom('bob@heron.test', 'b1');
    chatFrom('carol@heron.test', 'c1');
    chatFrom('dave@heron.test', 'd1');
    expect(receiptsSent()).toEqual(['bob@heron.test/x b1', 'dave@heron.test/x d1']);
    // Carol is a contact: her chat is in the list though she gets no receipt.
    expect(archive.conversations.list().map((c) => c.peer).sort()).toEqual(['bob@heron.test', 'carol@heron.test', 'dave@heron.test']);
    expect(archive.conversations.listRequests()).toEqual([]);
  });

  it('replying to a message request accepts it into the chat list', () => {
    chatFrom('erin@heron.test', 'e1');
    expect(archive.conversations.listRequests()).toHaveLength(1);
    chat.send('erin@heron.test', 'who is this?');
    expect(archive.conversations.listRequests()).toEqual([]);
    expect(archive.conversations.list()).toMatchObject([{ peer: 'erin@heron.test' }]);
    expect(archive.conversations.list()[0]).not.toHaveProperty('request');
    chatFrom('erin@heron.test', 'e2');
    expect(receiptsSent()).toEqual(['erin@heron.test/x e2']);
  });

  it('a bounce changes only a message we sent to whoever bounced it', () => {
    const mine = chat.send('bob@heron.test', 'hello bob');
    const id = sent.find((s) => s.getChildText('body') === 'hello bob')!.attrs.id!;
    const error = (from: string, condition: string) =>
      receive(`<message from="${from}" type="error" id="${id}"><error type="cancel"><${condition} xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`);
    const state = () => archive.messages.get(mine.id).state;
    error('mallory@evil.test', 'service-unavailable');
    error('heron.test', 'service-unavailable');
    receive(`<message from="mallory@evil.test/x"><received xmlns="urn:xmpp:receipts" id="${id}"/></message>`);
    expect(state()).toBe('pending');
    // A copy of an error my other device sent is not about my message.
    receive(`<message from="${OWN}"><sent xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0">
      <message from="${OWN}/phone" to="bob@heron.test" type="error" id="${id}"><error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>
      </forwarded></sent></message>`);
    expect(state()).toBe('pending');
    error('bob@heron.test/phone', 'service-unavailable');
    expect(state()).toBe('failed');
  });

  it('a full offline queue is "waiting for the archive" where our server archives, failed where it does not', () => {
    const bounce = (to: string) => {
      const mine = chat.send(to, `to ${to}`);
      const id = sent.find((s) => s.getChildText('body') === `to ${to}`)!.attrs.id!;
      receive(`<message from="${to}" type="error" id="${id}"><error type="wait"><resource-constraint xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`);
      return archive.messages.get(mine.id);
    };
    expect(bounce('bob@heron.test')).toMatchObject({ state: 'archived' });
    expect(bounce('bob@heron.test').error).toBeUndefined();
    serverArchives = false;
    expect(bounce('carol@heron.test')).toMatchObject({ state: 'failed', error: 'the server is overloaded' });
    // The receipt that follows once bob catches up moves it on.
    const waiting = archive.messages.pageBefore(archive.conversations.open(ACCOUNT, 'bob@heron.test').id, undefined, 10).messages[0]!;
    const id = sent.find((s) => s.getChildText('body') === 'to bob@heron.test')!.attrs.id!;
    receive(`<message from="bob@heron.test/x"><received xmlns="urn:xmpp:receipts" id="${id}"/></message>`);
    expect(archive.messages.get(waiting.id).state).toBe('delivered');
  });

  it('a receipt delivers the message it names and what we sent before it that was only sent', () => {
    contact('bob@heron.test', 'both');
    const ids = ['one', 'two', 'three', 'four'].map((body) => {
      chat.send('bob@heron.test', body);
      return sent.find((s) => s.getChildText('body') === body)!.attrs.id!;
    });
    const states = () => archive.messages.pageBefore(archive.conversations.open(ACCOUNT, 'bob@heron.test').id, undefined, 10).messages.map((m) => `${m.body}:${m.state}`);
    for (const id of ids) archive.messages.advanceOutgoing(ACCOUNT, 'bob@heron.test', id, 'sent');
    receive(`<message from="bob@heron.test" type="error" id="${ids[1]}"><error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`);
    receive(`<message from="bob@heron.test/x"><received xmlns="urn:xmpp:receipts" id="${ids[2]}"/></message>`);
    expect(states()).toEqual(['one:delivered', 'two:failed', 'three:delivered', 'four:sent']);
    // Someone else's receipt naming our message moves nothing.
    receive(`<message from="mallory@evil.test/x"><received xmlns="urn:xmpp:receipts" id="${ids[3]}"/></message>`);
    expect(states().at(-1)).toBe('four:sent');
  });

  it('a forged roster push is dropped before anything answers it; a malformed one of our own server gets an error', () => {
    const forged = parse(`<iq type="set" id="f1" from="${OWN}/phone"><query xmlns="jabber:iq:roster"><item jid="mallory@evil.test" subscription="both"/></query></iq>`);
    expect(refusals.some((refuses) => refuses(forged))).toBe(true);
    expect(refusals.some((refuses) => refuses(parse(`<iq type="set" id="f2"><query xmlns="jabber:iq:roster"><item jid="bob@heron.test"/></query></iq>`)))).toBe(false);
    const answer = rosterPush({ stanza: parse(`<iq type="set" id="f3"><query xmlns="jabber:iq:roster"/></iq>`) }) as Element;
    expect(answer.is('error')).toBe(true);
    expect(roster.contacts()).toEqual([]);
  });

  it('keeps no presence or caps of strangers', () => {
    contact('bob@heron.test', 'both');
    const available = (from: string) =>
      parse(`<presence from="${from}"><c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="https://x.test" ver="QgayPKawpkPSDYmwT/WM94uAlu0="/></presence>`);
    for (const from of ['bob@heron.test/laptop', 'stranger@evil.test/bot']) {
      disco.stanza(available(from), session);
      presence.stanza(available(from));
    }
    expect(presence.best('bob@heron.test').show).toBe('available');
    expect(presence.best('stranger@evil.test').show).toBe('offline');
    expect(disco.devicesOf('stranger@evil.test')).toEqual([]);
    expect(disco.devicesOf('bob@heron.test')).toHaveLength(1);
    // Bob's client is asked what its caps mean; the stranger's never is.
    expect(asked.map((q) => q.attrs.to)).toEqual(['bob@heron.test/laptop']);
  });

  it('caps pending subscription requests, limits each sender, and announces changes, not the list', () => {
    const ask = (jid: string) => subscriptions.stanza(parse(`<presence type="subscribe" from="${jid}"/>`), session);
    for (let i = 0; i < MAX_PENDING_REQUESTS + 5; i++) ask(`user${i}@crowd.test`);
    expect(subscriptions.list()).toHaveLength(MAX_PENDING_REQUESTS);
    const changes = eventsOf('requests.changed');
    expect(changes).toHaveLength(MAX_PENDING_REQUESTS);
    expect(changes.every((c) => c.added.length === 1 && c.removed.length === 0)).toBe(true);

    // One sender asking and withdrawing in a loop is heard a few times, then ignored.
    const before = eventsOf('requests.changed').length;
    for (let i = 0; i < 10; i++) {
      subscriptions.stanza(parse(`<presence type="unsubscribe" from="user0@crowd.test"/>`), session);
      ask('user0@crowd.test');
    }
    expect(eventsOf('requests.changed').length - before).toBeLessThanOrEqual(3);
    expect(eventsOf('requests.changed').at(-1)).toMatchObject({ removed: [] });
  });

  it('accepting many at once makes them contacts and moves their chats into the list', async () => {
    chatFrom('erin@heron.test', 'e1');
    chatFrom('frank@heron.test', 'f1');
    subscriptions.stanza(parse(`<presence type="subscribe" from="frank@heron.test"><nick xmlns="http://jabber.org/protocol/nick">Frank</nick></presence>`), session);
    await requests.decide(['erin@heron.test', 'frank@heron.test'], 'accept');
    expect(iqs.map((q) => q.toString())).toEqual([
      '<query xmlns="jabber:iq:roster"><item jid="erin@heron.test"/></query>',
      '<query xmlns="jabber:iq:roster"><item jid="frank@heron.test" name="Frank"/></query>',
    ]);
    expect(archive.conversations.listRequests()).toEqual([]);
    expect(archive.conversations.list().map((c) => c.peer).sort()).toEqual(['erin@heron.test', 'frank@heron.test']);
    expect(subscriptions.list()).toEqual([]);
    // Frank's request was answered by the pre-approval that adding sends.
    expect(sent.filter((s) => s.attrs.to === 'frank@heron.test' && s.is('presence')).map((s) => s.attrs.type)).toEqual(['subscribe', 'subscribed']);
  });

  it('refuses to answer a subscription request that is not there', async () => {
    await expect(requests.answer('nobody@heron.test', 'approve')).rejects.toMatchObject({ error: { code: 'not-found' } });
    expect(iqs).toEqual([]);
  });

  it('a contact added on another device leaves message requests', () => {
    chatFrom('erin@heron.test', 'e1');
    rosterPush({ stanza: parse(`<iq type="set" id="p"><query xmlns="jabber:iq:roster"><item jid="erin@heron.test" subscription="none"/></query></iq>`) });
    expect(archive.conversations.listRequests()).toEqual([]);
    expect(archive.conversations.list().map((c) => c.peer)).toEqual(['erin@heron.test']);
  });

  it('blocks many senders in one request, with a spam report only where the server takes them', async () => {
    chatFrom('spam1@evil.test', '1');
    chatFrom('spam2@evil.test', '2');
    subscriptions.stanza(parse(`<presence type="subscribe" from="spam2@evil.test"/>`), session);
    expect(await requests.decide(['spam1@evil.test', 'spam2@evil.test'], 'report')).toEqual({ reported: false });
    expect(iqs.map((q) => q.toString())).toEqual([
      '<block xmlns="urn:xmpp:blocking"><item jid="spam1@evil.test"/><item jid="spam2@evil.test"/></block>',
    ]);
    // The denial goes out before the block (a server drops what we send to someone blocked).
    expect(sent.filter((s) => s.is('presence')).map((s) => `${s.attrs.to} ${s.attrs.type}`)).toEqual(['spam2@evil.test unsubscribed']);
    expect(archive.conversations.listRequests()).toEqual([]);
    expect(archive.conversations.list()).toEqual([]);
    expect(subscriptions.list()).toEqual([]);
    // Shown nowhere, but kept: an export still holds them.
    expect(archive.conversations.listAll().map((c) => `${c.peer} ${c.request}`).sort()).toEqual(['spam1@evil.test declined', 'spam2@evil.test declined']);

    serverFeatures.add('urn:xmpp:reporting:1');
    chatFrom('spam3@evil.test', '3');
    expect(await requests.decide(['spam3@evil.test'], 'report')).toEqual({ reported: true });
    expect(iqs.at(-1)!.toString()).toBe(
      '<block xmlns="urn:xmpp:blocking"><item jid="spam3@evil.test"><report xmlns="urn:xmpp:reporting:1" reason="urn:xmpp:reporting:spam"/></item></block>',
    );
  });

  it('answers receipts for messages that waited offline only while the sender can still use them', () => {
    contact('bob@heron.test', 'both');
    void chat.online(session); // the catch-up runs: archived messages are held until it ends
    const stamp = (ms: number) => new Date(ms).toISOString();
    const offline = (id: string, ts: number) =>
      receive(`<message from="bob@heron.test/x" type="chat" id="${id}"><body>${id}</body><request xmlns="urn:xmpp:receipts"/>
        <stanza-id xmlns="urn:xmpp:sid:0" id="s-${id}" by="${OWN}"/><delay xmlns="urn:xmpp:delay" from="heron.test" stamp="${stamp(ts)}"/></message>`);
    offline('yesterday', NOW - 86_400_000);
    for (let i = 1; i <= 8; i++) offline(`recent-${i}`, NOW - 60_000 + i * 1000);
    chat.release(session);
    expect(receiptsSent()).toEqual(
      Array.from({ length: LATE_RECEIPTS_PER_PEER }, (_, k) => `bob@heron.test/x recent-${8 - LATE_RECEIPTS_PER_PEER + 1 + k}`),
    );
  });
  it('answers at once what came in live while the catch-up ran, however much waited offline', () => {
    contact('bob@heron.test', 'both');
    void chat.online(session);
    const stamp = (ms: number) => new Date(ms).toISOString();
    for (let i = 1; i <= 8; i++) {
      receive(`<message from="bob@heron.test/x" type="chat" id="offline-${i}"><body>o${i}</body><request xmlns="urn:xmpp:receipts"/>
        <stanza-id xmlns="urn:xmpp:sid:0" id="s-o${i}" by="${OWN}"/><delay xmlns="urn:xmpp:delay" from="heron.test" stamp="${stamp(NOW - 60_000 + i * 1000)}"/></message>`);
    }
    // Resent by bob after a cut left them unconfirmed: live, no delay from our server.
    for (const id of ['resent-1', 'resent-2']) {
      receive(`<message from="bob@heron.test/x" type="chat" id="${id}"><body>${id}</body><request xmlns="urn:xmpp:receipts"/>
        <stanza-id xmlns="urn:xmpp:sid:0" id="s-${id}" by="${OWN}"/></message>`);
    }
    chat.release(session);
    const answered = receiptsSent();
    expect(answered).toEqual(expect.arrayContaining(['bob@heron.test/x resent-1', 'bob@heron.test/x resent-2']));
    expect(answered.filter((r) => r.includes('offline-'))).toHaveLength(LATE_RECEIPTS_PER_PEER);
  });
});

describe('late receipts policy', () => {
  it('keeps recent ones only, the newest few per sender by arrival, oldest first', () => {
    const owed = [
      { to: 'a@x/1', peer: 'a@x', messageId: 'old', ts: NOW - LATE_RECEIPT_WINDOW_MS - 1 },
      ...Array.from({ length: 10 }, (_, i) => ({ to: 'a@x/1', peer: 'a@x', messageId: `a${i}`, ts: NOW - 1000 + i })),
      { to: 'b@x/1', peer: 'b@x', messageId: 'b0', ts: NOW - 500 },
    ];
    const kept = usefulLateReceipts(owed, NOW).map((r) => r.messageId);
    expect(kept).toEqual([...Array.from({ length: LATE_RECEIPTS_PER_PEER }, (_, k) => `a${10 - LATE_RECEIPTS_PER_PEER + k}`), 'b0']);
    // Stamped in the same second, they are still told apart by the order they arrived in.
    const tied = usefulLateReceipts(Array.from({ length: 5000 }, (_, i) => ({ ...owed[1]!, messageId: `m${i}` })), NOW);
    expect(tied.map((r) => r.messageId)).toEqual(Array.from({ length: LATE_RECEIPTS_PER_PEER }, (_, k) => `m${5000 - LATE_RECEIPTS_PER_PEER + k}`));
    // Offline storage hands over again, last, what we stored long ago: old news, not the newest.
    const redelivered = Array.from({ length: 3 }, (_, i) => ({ ...owed[1]!, messageId: `again${i}`, ts: NOW - 5000 + i }));
    expect(usefulLateReceipts([...owed, ...redelivered], NOW).map((r) => r.messageId)).toEqual(kept);
  });

  it('a sender limit forgets what lies outside its window', () => {
    const limit = new SenderLimit(2, 1000);
    expect([limit.allow('a', 0), limit.allow('a', 10), limit.allow('a', 20), limit.allow('b', 20)]).toEqual([true, true, false, true]);
    expect(limit.allow('a', 1011)).toBe(true);
  });
});

describe('outbound lanes', () => {
  it('bulk waits for the server to acknowledge what is in flight; what the user sends does not wait', async () => {
    const written: Element[] = [];
    let onAck: (stanza: Element) => void = () => {};
    const sm = { enabled: true, on: (_event: string, fn: (stanza: Element) => void) => (onAck = fn) };
    const session = { entity: { send: async (stanza: Element) => void written.push(stanza) }, streamManagement: sm } as unknown as Session;
    const ids = () => written.map((s) => s.attrs.id);
    const lane = new BulkLane(session, 3);
    for (let i = 1; i <= 10; i++) lane.send(parse(`<message id="bulk-${i}"/>`));
    expect(ids()).toEqual(['bulk-1', 'bulk-2', 'bulk-3']);
    // The user's message goes straight out, ahead of the seven bulk stanzas still waiting.
    await session.entity.send(parse('<message id="user"/>'));
    // The server acknowledges, in order: each bulk stanza acked lets one more out.
    for (const stanza of written.slice(0, 4)) onAck(stanza);
    expect(ids()).toEqual(['bulk-1', 'bulk-2', 'bulk-3', 'user', 'bulk-4', 'bulk-5', 'bulk-6']);
  });
});
