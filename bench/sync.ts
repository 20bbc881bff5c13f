// `npm run bench -- sync`: what Heron's core costs on the wire path, each figure beside a
// baseline of bare xmpp.js sessions against the same test Prosody in the same run.
//   latency   one core sends, the other core has it in its archive and has emitted the event
//   catch-up  10,000 messages waiting in MAM, from connect until all are archived and listed
//   memory    RSS of a core process with 5 accounts of 1,000 contacts each, online
//   first-message  on a server that paces clients at 3 kB/s, how soon the message the user
//             sends right after a catch-up of 5,000 messages (all asking for receipts) arrives
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import xml from '@xmpp/xml';
import { startProsody, type TestServer } from '../test/support/prosody';
import { startCore, testKeychainService, type TestCore } from '../test/support/cores';
import { befriend, connectRaw, type RawClient } from '../test/support/raw-client';
import { startHostProcess } from '../test/support/host-process';
import { connectApi } from '../test/support/api-client';
import { summarize } from './stats';

const LATENCY_MESSAGES = 1_000;
const CATCH_UP_MESSAGES = 10_000;
const ACCOUNTS = 5;
const CONTACTS = 1_000;
const FIRST_MESSAGE_BACKLOG = 5_000;

const ms = (n: number) => `${n.toFixed(2)} ms`;

async function online(core: TestCore, jid: string, password: string, server: TestServer) {
  const account = await core.call('accounts.add', { jid, password, host: server.host, port: server.port });
  await core.waitForState(account.id, (a) => a.connection.state === 'online' && !a.connection.syncing, 120_000);
  return account;
}

/**
 * Bare sessions: one sends, until the other's stanza event. With `receipts`, the message asks
 * for a receipt (XEP-0184) and the receiver answers it, as Heron does: the server's work for
 * the receipt (routing, archiving it for both) is then in the baseline too.
 */
async function bareLatency(server: TestServer, a: string, b: string, receipts: boolean): Promise<number[]> {
  const rawA = await connectRaw(server, a, 'pw', `bench-${receipts}`);
  const rawB = await connectRaw(server, b, 'pw', `bench-${receipts}`);
  await rawB.send(xml('presence'));
  const times: number[] = [];
  for (let i = 0; i < LATENCY_MESSAGES; i++) {
    const body = `bare ${receipts} ${i}`;
    const arrived = new Promise<void>((resolve) => {
      const onStanza = (stanza: import('@xmpp/xml').Element) => {
        if (stanza.getChildText('body') !== body) return;
        rawB.entity.off('stanza', onStanza);
        if (receipts) void rawB.send(xml('message', { to: stanza.attrs.from }, xml('received', { xmlns: 'urn:xmpp:receipts', id: stanza.attrs.id })));
        resolve();
      };
      rawB.entity.on('stanza', onStanza);
    });
    const start = performance.now();
    await rawA.send(xml('message', { to: b, type: 'chat', id: `m${receipts}${i}` }, xml('body', {}, body), receipts ? xml('request', { xmlns: 'urn:xmpp:receipts' }) : null));
    await arrived;
    times.push(performance.now() - start);
  }
  await rawA.stop();
  await rawB.stop();
  return times;
}

/** Sends one message at a time and times its arrival at the other side. */
async function latency(server: TestServer): Promise<void> {
  const [a, b] = [await server.register('lat-a', 'pw'), await server.register('lat-b', 'pw')];
  const bare = await bareLatency(server, a, b, false);
  const bareWithReceipts = await bareLatency(server, a, b, true);

  const alice = await startCore({ server });
  const bob = await startCore({ server });
  const aliceAccount = await online(alice, a, 'pw', server);
  await online(bob, b, 'pw', server);
  const conversation = await alice.call('conversations.open', { accountId: aliceAccount.id, peer: b });
  const heron: number[] = [];
  for (let i = 0; i < LATENCY_MESSAGES; i++) {
    const body = `heron ${i}`;
    const arrived = bob.waitFor('message.added', (m) => m.body === body);
    const start = performance.now();
    await alice.call('messages.send', { conversationId: conversation.id, body });
    await arrived; // emitted only after bob's archive has it
    heron.push(performance.now() - start);
  }
  await alice.core.close();
  await bob.core.close();

  const base = summarize(bare);
  const withReceipts = summarize(bareWithReceipts);
  const ours = summarize(heron);
  console.log(`latency over ${LATENCY_MESSAGES} messages, one at a time`);
  console.log(`  bare xmpp.js                  median ${ms(base.p50)}  p95 ${ms(base.p95)}`);
  console.log(`  bare xmpp.js, with receipts   median ${ms(withReceipts.p50)}  p95 ${ms(withReceipts.p95)}`);
  console.log(`  Heron cores                   median ${ms(ours.p50)}  p95 ${ms(ours.p95)}`);
  console.log(`  overhead over bare            median +${ms(ours.p50 - base.p50)}  p95 +${ms(ours.p95 - base.p95)}  (goal: at most +2 ms)`);
  console.log(`  overhead over bare + receipts median +${ms(ours.p50 - withReceipts.p50)}  p95 +${ms(ours.p95 - withReceipts.p95)}`);
}

/** Fills `to`'s archive with messages from `from` while `to` is away. */
async function fill(sender: RawClient, to: string, count: number): Promise<void> {
  const batch = 500;
  for (let i = 0; i < count; i += batch) {
    const stanzas = Array.from({ length: Math.min(batch, count - i) }, (_, k) =>
      xml('message', { to, type: 'chat', id: `c${i + k}` }, xml('body', {}, `catch-up message ${i + k} with some ordinary chat text`)),
    );
    await sender.entity.sendMany(stanzas);
    await sender.iqCaller.get(xml('ping', { xmlns: 'urn:xmpp:ping' })); // the server has processed them
  }
}

async function catchUp(server: TestServer): Promise<void> {
  const [a, b] = [await server.register('cu-a', 'pw'), await server.register('cu-b', 'pw')];
  // Heron has been used before: it holds a cursor at the (empty) end of the archive.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-bench-'));
  let alice = await startCore({ server, dataDir });
  const account = await online(alice, a, 'pw', server);
  await alice.core.close();

  const bob = await connectRaw(server, b, 'pw', 'bench');
  // Alice's phone is online meanwhile: the messages go to it and to the archive, not to
  // offline storage (which Prosody rewrites per message and would make this take minutes).
  const phone = await connectRaw(server, a, 'pw', 'phone');
  await phone.send(xml('presence'));
  const filled = performance.now();
  await fill(bob, a, CATCH_UP_MESSAGES);
  await bob.stop();
  await phone.stop();
  console.log(`catch-up: ${CATCH_UP_MESSAGES} messages put in the archive in ${((performance.now() - filled) / 1000).toFixed(1)} s`);

  // Baseline: a bare session pages the same archive with the same page size.
  const bareStart = performance.now();
  const raw = await connectRaw(server, a, 'pw', 'bench-bare');
  let fetched = 0;
  raw.entity.on('stanza', (stanza) => {
    if (stanza.getChild('result', 'urn:xmpp:mam:2')) fetched++;
  });
  let after: string | undefined;
  for (;;) {
    const answer = await raw.iqCaller.request(
      xml('iq', { type: 'set' }, xml('query', { xmlns: 'urn:xmpp:mam:2', queryid: 'b' },
        xml('set', { xmlns: 'http://jabber.org/protocol/rsm' }, xml('max', {}, '250'), after ? xml('after', {}, after) : null))),
      120_000,
    );
    const fin = answer.getChild('fin', 'urn:xmpp:mam:2');
    after = fin?.getChild('set', 'http://jabber.org/protocol/rsm')?.getChildText('last') ?? undefined;
    if (fin?.attrs.complete === 'true' || !after) break;
  }
  const bareMs = performance.now() - bareStart;
  await raw.stop();

  const start = performance.now();
  alice = await startCore({ server, dataDir });
  await alice.waitForState(account.id, (s) => s.connection.state === 'online' && !s.connection.syncing, 300_000);
  const [conversation] = await alice.call('conversations.list', {});
  const heronMs = performance.now() - start;
  const page = await alice.call('messages.page', { conversationId: conversation!.id, limit: 1 });
  await alice.core.close();

  console.log(`catch-up of ${CATCH_UP_MESSAGES} messages from MAM (pages of 250)`);
  console.log(`  bare xmpp.js   ${(bareMs / 1000).toFixed(2)} s to fetch ${fetched}`);
  console.log(`  Heron core     ${(heronMs / 1000).toFixed(2)} s until archived and listed (${conversation?.unread} unread, newest "${page.messages[0]?.body}")`);
  console.log(`  ratio          ${(heronMs / bareMs).toFixed(2)}× (goal: at most 1.3×)`);
}

async function memory(server: TestServer): Promise<void> {
  const users: string[] = [];
  for (let i = 0; i < ACCOUNTS; i++) users.push(await server.register(`mem-${i}`, 'pw'));
  // 1,000 contacts each, set up on the server through bare sessions.
  for (const jid of users) {
    const raw = await connectRaw(server, jid, 'pw', 'setup');
    for (let k = 0; k < CONTACTS; k += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) =>
          raw.iqCaller.set(xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: `contact-${k + j}@example.org`, name: `Contact ${k + j}` }, xml('group', {}, `Group ${(k + j) % 12}`)))),
        ),
      );
    }
    await raw.stop();
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-bench-mem-'));
  const caFile = path.join(server.dir, 'ca.crt');
  const idle = await startHostProcess({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'heron-bench-idle-')), caFile, keychainService: testKeychainService });
  const idleRss = rssOf(idle.pid);
  await idle.stop();
  const host = await startHostProcess({ dataDir, caFile, keychainService: testKeychainService });
  const api = await connectApi(host.url);
  for (const jid of users) await api.invoke('accounts.add', { jid, password: 'pw', host: server.host, port: server.port });
  for (;;) {
    const accounts = await api.invoke('accounts.list', {});
    if (accounts.every((a) => a.connection.state === 'online' && !a.connection.syncing)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const contacts = (await Promise.all((await api.invoke('accounts.list', {})).map((a) => api.invoke('contacts.list', { accountId: a.id })))).flat().length;
  await new Promise((r) => setTimeout(r, 1000));
  const rss = rssOf(host.pid);
  api.close();
  await host.stop();
  console.log(`memory: a core process with ${ACCOUNTS} accounts and ${contacts} contacts online`);
  console.log(`  idle core (no accounts)  ${(idleRss / 1024).toFixed(0)} MB RSS`);
  console.log(`  5 × 1,000 online         ${(rss / 1024).toFixed(0)} MB RSS (goal: under 150 MB)`);
}

/**
 * A server that paces what clients send (Prosody mod_limits at 3 kB/s; ejabberd's default c2s
 * shaper does the like): a catch-up that answered every message with a receipt would queue
 * ~750 kB ahead of the user's next message. Timed from the send until the peer has it, beside
 * a bare session sending the same message on the same paced server.
 */
async function firstMessage(): Promise<void> {
  const server = await startProsody({ storage: 'sql', c2sRate: '3kb/s', unlimitedJids: ['fm-b@heron.test'] });
  try {
    const [a, b] = [await server.register('fm-a', 'pw'), await server.register('fm-b', 'pw')];
    await befriend(server, { jid: a, password: 'pw' }, { jid: b, password: 'pw' });
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-bench-fm-'));
    let alice = await startCore({ server, dataDir });
    const account = await online(alice, a, 'pw', server);
    await alice.core.close();

    const bob = await connectRaw(server, b, 'pw', 'bench');
    await bob.send(xml('presence'));
    let receipts = 0;
    bob.entity.on('stanza', (stanza) => void (stanza.getChild('received', 'urn:xmpp:receipts') && receipts++));
    // Alice's phone is online meanwhile, so the backlog goes to the archive, not offline storage.
    const phone = await connectRaw(server, a, 'pw', 'phone');
    await phone.send(xml('presence', {}, xml('priority', {}, '-1')));
    for (let i = 0; i < FIRST_MESSAGE_BACKLOG; i += 500) {
      await bob.entity.sendMany(
        Array.from({ length: Math.min(500, FIRST_MESSAGE_BACKLOG - i) }, (_, k) =>
          xml('message', { to: a, type: 'chat', id: `fm${i + k}` }, xml('body', {}, `backlog ${i + k}`), xml('request', { xmlns: 'urn:xmpp:receipts' })),
        ),
      );
      await bob.iqCaller.request(xml('iq', { type: 'get' }, xml('ping', { xmlns: 'urn:xmpp:ping' })), 120_000);
    }
    await phone.stop();

    const arrival = (body: string) =>
      new Promise<void>((resolve) => {
        const onStanza = (stanza: import('@xmpp/xml').Element) => {
          if (stanza.getChildText('body') !== body) return;
          bob.entity.off('stanza', onStanza);
          resolve();
        };
        bob.entity.on('stanza', onStanza);
      });
    const bare = await connectRaw(server, a, 'pw', 'bench-bare');
    const bareArrived = arrival('bare hello');
    const bareStart = performance.now();
    await bare.send(xml('message', { to: b, type: 'chat', id: 'bare-hello' }, xml('body', {}, 'bare hello')));
    await bareArrived;
    const bareMs = performance.now() - bareStart;
    await bare.stop();

    alice = await startCore({ server, dataDir });
    await alice.waitForState(account.id, (x) => x.connection.state === 'online' && !x.connection.syncing, 600_000);
    const conversation = (await alice.call('conversations.list', {})).find((c) => c.peer === b)!;
    const arrived = arrival('back now');
    const start = performance.now();
    await alice.call('messages.send', { conversationId: conversation.id, body: 'back now' });
    await arrived;
    const heronMs = performance.now() - start;
    await alice.core.close();
    await bob.stop();
    console.log(`first message after a catch-up of ${FIRST_MESSAGE_BACKLOG} messages asking for receipts, server pacing clients at 3 kB/s`);
    console.log(`  bare xmpp.js   ${ms(bareMs)} until the peer has it`);
    console.log(`  Heron core     ${ms(heronMs)} until the peer has it (${receipts} receipts for the backlog; answering each would be ~${Math.round((FIRST_MESSAGE_BACKLOG * 150) / 1024)} kB, ~${Math.round((FIRST_MESSAGE_BACKLOG * 150) / 3072)} s at that rate)`);
  } finally {
    await server.stop();
  }
}

/** Resident set size of a process in KiB, from the kernel. */
function rssOf(pid: number): number {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line?.match(/\d+/)?.[0] ?? 0);
}

export async function run(args: string[]): Promise<void> {
  const parts = args.length ? args : ['latency', 'catch-up', 'memory', 'first-message'];
  const server = await startProsody({ storage: 'sql' });
  const started = performance.now();
  try {
    if (parts.includes('latency')) await latency(server);
    if (parts.includes('catch-up')) await catchUp(server);
    if (parts.includes('memory')) await memory(server);
  } finally {
    await server.stop();
  }
  if (parts.includes('first-message')) await firstMessage();
  console.log(`sync benchmark done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}
