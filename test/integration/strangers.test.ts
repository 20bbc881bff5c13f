// Strangers at the door, against a real Prosody: twenty people not in alice's roster who ask
// to see her presence and write three messages each wait in message requests (no chat in the
// list, nothing unread, no receipt for them), and are settled in bulk; and after a catch-up,
// archived messages are not answered with a flood of receipts.
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import xml, { type Element } from '@xmpp/xml';
import { startProsody, type TestServer } from '../support/prosody';
import { accountFor, startCore, type TestCore } from '../support/cores';
import { befriend, connectRaw, nextStanza, type RawClient } from '../support/raw-client';
import { until } from '../support/until';
import { systemClock } from '../../main/core/features/feature';
import { LATE_RECEIPTS_PER_PEER } from '../../main/core/features/receipts';

const STRANGERS = 20;
const isReceipt = (s: Element) => s.is('message') && Boolean(s.getChild('received', 'urn:xmpp:receipts'));
const chat = (to: string, id: string, body: string) =>
  xml('message', { to, type: 'chat', id }, xml('body', {}, body), xml('request', { xmlns: 'urn:xmpp:receipts' }));

describe('strangers through a real server', () => {
  let server: TestServer;
  let alice: TestCore | undefined;
  let aliceJid: string;
  let aliceId: string;
  const raws: RawClient[] = [];

  beforeAll(async () => {
    server = await startProsody();
    aliceJid = await server.register('alice', 'a-pw');
  });

  afterAll(async () => {
    for (const raw of raws) await raw.stop();
    await alice?.core.close();
    await server?.stop();
  });

  /** Someone who connects and keeps every receipt alice sends them. */
  async function person(local: string): Promise<{ client: RawClient; receipts: Element[] }> {
    const jid = await server.register(local, `${local}-pw`);
    const client = await connectRaw(server, jid, `${local}-pw`);
    raws.push(client);
    const receipts: Element[] = [];
    client.entity.on('stanza', (s: Element) => void (isReceipt(s) && receipts.push(s)));
    await client.send(xml('presence'));
    return { client, receipts };
  }

  /**
   * Alice answers a version query after everything sent to her before it, on the same path:
   * once its answer is back, any receipt for those earlier messages would be here too.
   */
  function flushed(client: RawClient): Promise<unknown> {
    const db = new Database(path.join(alice!.dataDir, 'heron.sqlite'), { readonly: true });
    const { resource } = db.prepare('SELECT resource FROM accounts').get() as { resource: string };
    db.close();
    const query = xml('iq', { type: 'get', to: `${aliceJid}/${resource}` }, xml('query', { xmlns: 'jabber:iq:version' }));
    return client.iqCaller.request(query).catch((error: Error) => error);
  }

  it('twenty strangers who ask and write three messages each wait in message requests, unanswered', async () => {
    alice = await startCore({ server });
    aliceId = (await alice.call('accounts.add', accountFor(server, aliceJid, 'a-pw'))).id;
    await alice.waitForState(aliceId, (a) => a.connection.state === 'online' && !a.connection.syncing);

    const strangers: Array<{ client: RawClient; receipts: Element[] }> = [];
    for (let i = 1; i <= STRANGERS; i++) {
      const stranger = await person(`stranger${i}`);
      await stranger.client.send(xml('presence', { to: aliceJid, type: 'subscribe' }, xml('status', {}, `let me in, ${i}`)));
      for (let n = 1; n <= 3; n++) await stranger.client.send(chat(aliceJid, `s${i}-${n}`, `message ${n} from stranger ${i}`));
      strangers.push(stranger);
    }
    for (const stranger of strangers) {
      const answer = await flushed(stranger.client);
      // The version is not for strangers either (XEP-0092 answered only to who may hear from us).
      expect((answer as { condition?: string }).condition).toBe('service-unavailable');
    }

    expect(await alice.call('conversations.list', {})).toEqual([]);
    const waiting = await alice.call('messageRequests.list', {});
    expect(waiting).toHaveLength(STRANGERS);
    expect(waiting.every((c) => c.request === 'waiting' && c.unread === 3 && c.last?.body.startsWith('message 3'))).toBe(true);
    expect(await alice.call('requests.list', { accountId: aliceId })).toHaveLength(STRANGERS);
    // The window heard of each conversation as a request, never as a chat for its list.
    const changed = alice.events.filter((e) => e.event === 'conversation.changed').map((e) => e.payload as { request?: string });
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.every((c) => c.request === 'waiting')).toBe(true);
    // Each subscription request was announced alone, not with the whole list again.
    const announced = alice.events.filter((e) => e.event === 'requests.changed').map((e) => e.payload as { added: unknown[] });
    expect(announced.every((e) => e.added.length === 1)).toBe(true);
    // No receipt reached any of them: receipts would tell them alice is online.
    expect(strangers.map((s) => s.receipts.length)).toEqual(Array(STRANGERS).fill(0));

    // Settled in two actions: two are accepted, the other eighteen blocked as spam at once.
    const item = (i: number) => ({ accountId: aliceId, jid: strangers[i - 1]!.client.jid });
    expect(await alice.call('requests.decide', { items: [item(1), item(2)], action: 'accept' })).toEqual({ decided: 2, reported: false });
    const rest = Array.from({ length: STRANGERS - 2 }, (_, k) => item(k + 3));
    // This Prosody takes no spam reports (no urn:xmpp:reporting:1): the block goes alone.
    expect(await alice.call('requests.decide', { items: rest, action: 'report' })).toEqual({ decided: STRANGERS - 2, reported: false });
    expect(await alice.call('messageRequests.list', {})).toEqual([]);
    expect(await alice.call('requests.list', { accountId: aliceId })).toEqual([]);
    expect((await alice.call('conversations.list', {})).map((c) => c.peer).sort()).toEqual([item(1).jid, item(2).jid].sort());

    // A blocked stranger is bounced by the server; an accepted one now hears receipts.
    const bounced = nextStanza(strangers[2]!.client, (s) => s.is('message') && s.attrs.type === 'error' && s.attrs.id === 'after-block');
    await strangers[2]!.client.send(chat(aliceJid, 'after-block', 'still me'));
    expect((await bounced).getChild('error')?.getChildElements()[0]?.name).toBe('service-unavailable');
    await alice.waitFor('contacts.changed', (c) => c.contacts.some((x) => x.jid === item(1).jid && (x.subscription === 'from' || x.subscription === 'both')));
    const receipt = nextStanza(strangers[0]!.client, (s) => isReceipt(s) && s.getChild('received')!.attrs.id === 'after-accept');
    await strangers[0]!.client.send(chat(aliceJid, 'after-accept', 'thanks'));
    await receipt;
  });

  it('a roster push from anyone but our server, our own other device included, gets no answer and changes nothing', async () => {
    const mallory = await person('mallory');
    const phone = await connectRaw(server, aliceJid, 'a-pw', 'phone');
    raws.push(phone);
    const db = new Database(path.join(alice!.dataDir, 'heron.sqlite'), { readonly: true });
    const { resource } = db.prepare('SELECT resource FROM accounts').get() as { resource: string };
    db.close();
    for (const [client, id] of [[mallory.client, 'forged-1'], [phone, 'forged-2']] as const) {
      const answered = new Promise<Element>((resolve) => client.entity.on('stanza', (s: Element) => s.attrs.id === id && resolve(s)));
      const push = xml('iq', { type: 'set', id, to: `${aliceJid}/${resource}` }, xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: mallory.client.jid, subscription: 'both' })));
      await client.send(push);
      // Alice answers this after the push, on the same path: had she answered the push, that answer would be here first.
      await flushed(client);
      expect(await Promise.race([answered, Promise.resolve('no answer')])).toBe('no answer');
    }
    expect((await alice!.call('contacts.list', { accountId: aliceId })).map((c) => c.jid)).not.toContain(mallory.client.jid);
    expect(alice!.logs.filter((l) => l.includes('ignored a roster push from'))).toHaveLength(2);
    await phone.stop(); // an idle device of alice's would change where later messages go
  });

  it('after a catch-up, archived messages get no receipts, or only the newest few while recent', async () => {
    const bobJid = await server.register('bob', 'b-pw');
    await befriend(server, { jid: aliceJid, password: 'a-pw' }, { jid: bobJid, password: 'b-pw' });
    const bob = await connectRaw(server, bobJid, 'b-pw', 'laptop');
    raws.push(bob);
    const receipts: string[] = [];
    bob.entity.on('stanza', (s: Element) => void (isReceipt(s) && receipts.push(s.getChild('received')!.attrs.id!)));
    await bob.send(xml('presence'));

    /** Alice away while bob writes `count`; then back, with a clock `aheadMs` fast. */
    async function awayWhile(prefix: string, count: number, aheadMs: number): Promise<number[]> {
      const dataDir = alice!.dataDir;
      await alice!.core.close();
      for (let n = 1; n <= count; n++) await bob.send(chat(aliceJid, `${prefix}-${n}`, `${prefix} ${n}`));
      await bob.iqCaller.get(xml('ping', { xmlns: 'urn:xmpp:ping' }));
      alice = await startCore({ server, dataDir, clock: { ...systemClock, now: () => Date.now() + aheadMs } });
      await alice.waitForState(aliceId, (a) => a.connection.state === 'online' && !a.connection.syncing, 30_000);
      // A live message is answered at once; receipts owed for archived ones are paced behind.
      const live = nextStanza(bob, (s) => isReceipt(s) && s.getChild('received')!.attrs.id === `${prefix}-live`);
      await bob.send(chat(aliceJid, `${prefix}-live`, `${prefix} live`));
      await live;
      // What the catch-up decided to answer, of the receipts its messages asked for.
      return until('the catch-up answered its receipts', async () => {
        const line = alice!.logs.find((l) => l.includes('receipts asked for by archived messages'));
        return line?.match(/answering (\d+) of (\d+) receipts/)?.slice(1).map(Number);
      });
    }

    // Back after an hour: what waited in the archive is old news to bob; only the live one is answered.
    expect(await awayWhile('old', 40, 3_600_000)).toEqual([0, 40]);
    expect(receipts).toEqual(['old-live']);
    const page = await alice!.call('messages.page', { conversationId: (await alice!.call('conversations.list', {})).find((c) => c.peer === bobJid)!.id, limit: 200 });
    expect(page.messages.filter((m) => /^old \d+$/.test(m.body)).length).toBe(40);

    // Back within minutes: the newest few are answered (bob's client shows those), not all forty.
    receipts.length = 0;
    expect(await awayWhile('recent', 40, 0)).toEqual([LATE_RECEIPTS_PER_PEER, 40]);
    const newest = Array.from({ length: LATE_RECEIPTS_PER_PEER }, (_, k) => `recent-${40 - LATE_RECEIPTS_PER_PEER + 1 + k}`);
    // They go out in order; once the newest is here, every one the catch-up sent is.
    await until('the newest archived message answered', async () => (receipts.includes(newest.at(-1)!) ? true : undefined));
    // Whether they overtook the live one depends on how much was in flight: the set is what counts.
    expect(receipts.toSorted()).toEqual([...newest, 'recent-live'].toSorted());
  });
});
