// `npm run bench -- rooms [join] [catch-up] [--occupants N] [--rounds R] [--messages M]`: group chats at
// scale, each figure beside a bare xmpp.js session against the same test Prosody in the same run.
//   join      joining a room of N occupants (5,000) until Heron's occupant list is complete and
//             the core is idle, with the longest event-loop stall meanwhile (median of 3 rounds);
//             and the same join in the window, Chromium through the headless host
//             (bench/rooms-window.ts; needs the build)
//   catch-up  M room messages (5,000) waiting in the room's archive, from the core's start until
//             all are archived (median of 3 rounds, each from a copy of the same data folder)
// The occupants are bots of an external component (XEP-0114, bots.heron.test), seated in the
// room through Prosody's admin console: joining them one by one costs the server a presence per
// pair of occupants (n²; 500 protocol joins took 33 s here, 5,000 would take most of an hour).
// What a client joining the room receives is the same either way: the server's occupant list.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import xml, { type Element } from '@xmpp/xml';
import type { AccountView } from '../preload/contract';
import { startProsody, type TestServer } from '../test/support/prosody';
import { startCore, type TestCore } from '../test/support/cores';
import { connectRaw, type RawClient } from '../test/support/raw-client';
import { connectComponent, escapeXml, type Component } from '../test/support/component';
import { launchBrowser } from './window';
import { windowRound } from './rooms-window';
import { printTable } from './stats';

const BOTS = 'bots.heron.test';
const SECRET = 'bench-component-secret';
const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MAM = 'urn:xmpp:mam:2';

const arg = (args: string[], name: string, fallback: number) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

const botJid = (i: number) => `bot${i}@${BOTS}/b`;
const botJoin = (room: string, i: number) =>
  `<presence from='${botJid(i)}' to='${room}/bot${i}'><x xmlns='${NS_MUC}'><history maxstanzas='0'/></x></presence>`;

/** A bot makes the room (an instant room, §10.1.2) and stays in it as its owner. */
async function makeRoom(bots: Component, room: string): Promise<void> {
  await bots.send([botJoin(room, 0)]);
  await bots.barrier(botJid(0), room);
  await bots.send([`<iq type='set' id='instant' from='${botJid(0)}' to='${room}'><query xmlns='${NS_MUC}#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`]);
  await bots.barrier(botJid(0), room);
}

/**
 * Seats bots 1…count-1 in the room as participants in one admin console call, as Prosody does
 * when it restores a room with its occupants; bot0 joined by protocol and gives the occupant type.
 */
async function seatBots(server: TestServer, room: string, count: number): Promise<void> {
  const [node, service] = room.split('@') as [string, string];
  const lua = [
    `>local room = prosody.hosts["${service}"].modules.muc.get_room_from_jid("${room}")`,
    `local mt = getmetatable(room:get_occupant_by_nick("${room}/bot0"))`,
    `local st = require "util.stanza"`,
    `for i = 1, ${count - 1} do`,
    `local real = "bot"..i.."@${BOTS}/b"`,
    `local o = setmetatable({ bare_jid = "bot"..i.."@${BOTS}", nick = "${room}/bot"..i, sessions = {}, role = "participant" }, mt)`,
    `o:set_session(real, st.presence({ from = real }), true)`,
    `room:save_occupant(o)`,
    `end`,
    `local n = 0 for _ in room:each_occupant() do n = n + 1 end return "${node}: "..n`,
  ].join(' ');
  const said = await server.shell(lua);
  if (!said.includes(`${node}: ${count}`)) throw new Error(`seating bots in ${room} failed: ${said}`);
}

async function online(core: TestCore, jid: string, server: TestServer): Promise<AccountView> {
  const account = await core.call('accounts.add', { jid, password: 'pw', host: server.host, port: server.port });
  await core.waitForState(account.id, (a) => a.connection.state === 'online' && !a.connection.syncing, 120_000);
  return account;
}

/** The event loop's longest stall (and its 99th percentile) while `work` runs. */
async function stalls<T>(work: () => Promise<T>): Promise<{ result: T; maxMs: number; p99Ms: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  try {
    const result = await work();
    return { result, maxMs: histogram.max / 1e6, p99Ms: histogram.percentile(99) / 1e6 };
  } finally {
    histogram.disable();
  }
}

/** A bare session joins and collects the room's presences up to its own (status 110, §7.2.3). */
async function bareJoin(raw: RawClient, room: string, nick: string): Promise<number> {
  let presences = 0;
  const joined = new Promise<void>((resolve) => {
    const onStanza = (stanza: Element) => {
      if (!stanza.is('presence') || !stanza.attrs.from?.startsWith(`${room}/`)) return;
      presences++;
      const self = stanza.getChild('x', `${NS_MUC}#user`)?.getChildren('status').some((s) => s.attrs.code === '110');
      if (!self) return;
      raw.entity.off('stanza', onStanza);
      resolve();
    };
    raw.entity.on('stanza', onStanza);
  });
  await raw.send(xml('presence', { to: `${room}/${nick}` }, xml('x', { xmlns: NS_MUC }, xml('history', { maxstanzas: '0' }))));
  await joined;
  return presences;
}

/** Waits until the core has logged `line` and then emitted nothing for `quietMs`; returns when it last did either. */
async function idleAfter(core: TestCore, line: string, since: number, quietMs = 500): Promise<number> {
  let loggedAt: number | undefined;
  for (;;) {
    if (loggedAt === undefined && core.logs.some((l) => l.includes(line))) loggedAt = Date.now();
    const last = Math.max(core.events.at(-1)?.at ?? since, loggedAt ?? since);
    if (loggedAt !== undefined && Date.now() - last >= quietMs) return last;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One bare join, until the session has the room's presences; then it leaves. */
async function bareRound(server: TestServer, user: string, room: string) {
  const raw = await connectRaw(server, user, 'pw', 'bench');
  const start = performance.now();
  const { result: presences, maxMs } = await stalls(() => bareJoin(raw, room, 'bare'));
  const ms = performance.now() - start;
  await raw.send(xml('presence', { to: `${room}/bare`, type: 'unavailable' }));
  await raw.stop();
  return { ms, maxMs, presences };
}

/** One Heron join with a fresh core (its first join of the room), until listed and idle; then the core closes. */
async function heronRound(server: TestServer, user: string, room: string) {
  const heron = await startCore({ server });
  const account = await online(heron, user, server);
  const startedAt = Date.now();
  const measured = await stalls(async () => {
    await heron.call('rooms.join', { accountId: account.id, room, nick: 'heron' });
    const listed = (await heron.call('rooms.occupants', { accountId: account.id, room })).length;
    return { listed, idleAt: await idleAfter(heron, `caught up ${room} from its archive`, startedAt) };
  });
  const batches = heron.events.filter((e) => e.event === 'room.occupants' && e.at >= startedAt).length;
  await heron.core.close();
  return { ms: measured.result.idleAt - startedAt, maxMs: measured.maxMs, listed: measured.result.listed, batches };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function join(server: TestServer, bots: Component, occupants: number, rounds: number): Promise<void> {
  const room = `big@conference.${server.domain}`;
  await makeRoom(bots, room);
  const seated = performance.now();
  await seatBots(server, room, occupants);
  console.log(`join: ${occupants} occupants seated in ${room} in ${seconds(performance.now() - seated)}`);

  const [bareUser, heronUser, windowUser] = [await server.register('join-bare', 'pw'), await server.register('join-heron', 'pw'), await server.register('join-window', 'pw')];
  const browser = await launchBrowser();
  const bare: Array<Awaited<ReturnType<typeof bareRound>>> = [];
  const heron: Array<Awaited<ReturnType<typeof heronRound>>> = [];
  const windows: Array<Awaited<ReturnType<typeof windowRound>>> = [];
  const screenshot = path.join(os.tmpdir(), 'heron-bench-rooms-window.png');
  try {
    // Taken in turns, so that a busier moment of the shared machine falls on all three.
    for (let i = 0; i < rounds; i++) {
      bare.push(await bareRound(server, bareUser, room));
      heron.push(await heronRound(server, heronUser, room));
      windows.push(await windowRound(server, browser, windowUser, room, occupants + 1, i === 0 ? screenshot : undefined));
      const [b, h, w] = [bare.at(-1)!, heron.at(-1)!, windows.at(-1)!];
      console.log(
        `  round ${i + 1}: bare ${seconds(b.ms)}, stall ${b.maxMs.toFixed(1)} ms; Heron core ${seconds(h.ms)}, stall ${h.maxMs.toFixed(1)} ms; ` +
          `window room shown ${seconds(w.shownMs)}, listed ${seconds(w.listedMs)}, idle ${seconds(w.idleMs)}, longest task ${w.longestTaskMs.toFixed(0)} ms (${w.longTasks} long tasks), host stall ${w.hostStallMs.toFixed(1)} ms, ${w.domRows} occupant rows in the DOM, "${w.people}"`,
      );
      if (h.listed !== occupants + 1) throw new Error(`Heron lists ${h.listed} occupants, expected ${occupants + 1}`);
    }
  } finally {
    await browser.close();
  }
  console.log(`(the window's first round: ${screenshot})`);
  const mid = (values: number[]) => median(values);
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  const spread = (values: number[]) => `${ms(mid(values))} / ${ms(Math.max(...values))}`;
  const [bareMs, heronMs, windowMs] = [mid(bare.map((r) => r.ms)), mid(heron.map((r) => r.ms)), mid(windows.map((r) => r.idleMs))];
  const ratio = (v: number) => `${(v / bareMs).toFixed(2)}×`;
  console.log(`\njoining a room of ${occupants} occupants (median of ${rounds} rounds; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})\n`);
  type Row = { figure: string; bare: string; core: string; window: string };
  printTable<Row>({ figure: 'figure', bare: 'bare xmpp.js', core: 'Heron core', window: 'Heron window (host + Chromium)' }, [
    {
      figure: 'join until the occupant list is complete (core: and idle; window: shown, painted and the page idle)',
      bare: `${seconds(bareMs)} for ${bare[0]!.presences} presences`,
      core: `${seconds(heronMs)} (${ratio(heronMs)}), ${heron[0]!.batches} occupant batches`,
      window: `${seconds(windowMs)} (${ratio(windowMs)}); room shown at ${seconds(mid(windows.map((r) => r.shownMs)))}, listed at ${seconds(mid(windows.map((r) => r.listedMs)))}`,
    },
    {
      figure: 'longest event-loop stall, median / worst round (window: the host process)',
      bare: spread(bare.map((r) => r.maxMs)),
      core: spread(heron.map((r) => r.maxMs)),
      window: spread(windows.map((r) => r.hostStallMs)),
    },
    { figure: 'longest long task in the page, median / worst round', bare: '—', core: '—', window: spread(windows.map((r) => r.longestTaskMs)) },
    { figure: 'long tasks in the page (median)', bare: '—', core: '—', window: String(mid(windows.map((r) => r.longTasks))) },
    { figure: 'occupant rows in the DOM', bare: '—', core: '—', window: `${windows[0]!.domRows} of ${occupants + 1}` },
  ]);
}

async function catchUp(server: TestServer, bots: Component, messages: number, rounds: number): Promise<void> {
  const room = `history@conference.${server.domain}`;
  await makeRoom(bots, room);
  const say = (id: string, body: string) => `<message type='groupchat' from='${botJid(0)}' to='${room}' id='${id}'><body>${escapeXml(body)}</body></message>`;
  await bots.send([say('seed', 'before Heron was last here')]);
  await bots.barrier(botJid(0), room);

  // Heron has been in the room before: it holds the room's archive up to the seed message.
  const heronUser = await server.register('cu-heron', 'pw');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-bench-rooms-'));
  const heron = await startCore({ server, dataDir });
  const account = await online(heron, heronUser, server);
  const view = await heron.call('rooms.join', { accountId: account.id, room, nick: 'heron' });
  await idleAfter(heron, `caught up ${room} from its archive`, Date.now());
  await heron.core.close();

  const filled = performance.now();
  for (let i = 0; i < messages; i += 500) {
    await bots.send(Array.from({ length: Math.min(500, messages - i) }, (_, k) => say(`m${i + k}`, `room message ${i + k} with some ordinary chat text`)));
    await bots.barrier(botJid(0), room);
  }
  console.log(`catch-up: ${messages} messages put in the room's archive in ${seconds(performance.now() - filled)}`);

  const bareUser = await server.register('cu-bare', 'pw');
  const phases = (r: { online: number; joined: number; ms: number }) =>
    `online at ${seconds(r.online)}, in the room at ${seconds(r.joined)}, then history ${seconds(r.ms - r.joined)}`;
  const bare: Array<Awaited<ReturnType<typeof bareCatchUpRound>>> = [];
  const ours: Array<Awaited<ReturnType<typeof heronCatchUpRound>>> = [];
  // Each Heron round starts from a copy of the data folder as it was when Heron left the room.
  for (let i = 0; i < rounds; i++) {
    bare.push(await bareCatchUpRound(server, bareUser, room));
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-bench-rooms-round-'));
    fs.cpSync(dataDir, copy, { recursive: true });
    ours.push(await heronCatchUpRound(server, copy, room, view.conversationId, messages));
    console.log(`  round ${i + 1}: bare ${phases(bare.at(-1)!)}; Heron ${phases(ours.at(-1)!)}`);
  }
  const middle = <R extends { ms: number }>(rows: R[]) => [...rows].sort((a, b) => a.ms - b.ms)[Math.floor(rows.length / 2)]!;
  const [b, h] = [middle(bare), middle(ours)];
  console.log(`catch-up of ${messages} room messages from the room's archive, pages of 250 (median of ${rounds} rounds: ${bare.map((r) => seconds(r.ms)).join(', ')} bare; ${ours.map((r) => seconds(r.ms)).join(', ')} Heron)`);
  console.log(`  bare xmpp.js   ${seconds(b.ms)} to connect, join and fetch ${b.fetched} (${phases(b)})`);
  console.log(`  Heron core     ${seconds(h.ms)} from start until all archived (${phases(h)}; newest "${h.newest}"); longest stall ${h.maxMs.toFixed(1)} ms`);
  console.log(`  ratio          ${(h.ms / b.ms).toFixed(2)}× (goal: at most 1.3×)`);
}

/** Baseline: a bare session joins the room (no history) and pages its archive, 250 at a time, as Heron does. */
async function bareCatchUpRound(server: TestServer, user: string, room: string) {
  const start = performance.now();
  const raw = await connectRaw(server, user, 'pw', 'bench');
  const online = performance.now() - start;
  await bareJoin(raw, room, 'bare');
  const joined = performance.now() - start;
  let fetched = 0;
  raw.entity.on('stanza', (stanza: Element) => void (stanza.getChild('result', NS_MAM) && fetched++));
  let after: string | undefined;
  for (;;) {
    const answer = await raw.iqCaller.request(
      xml('iq', { type: 'set', to: room }, xml('query', { xmlns: NS_MAM, queryid: 'b' },
        xml('set', { xmlns: 'http://jabber.org/protocol/rsm' }, xml('max', {}, '250'), after ? xml('after', {}, after) : null))),
      120_000,
    );
    const fin = answer.getChild('fin', NS_MAM);
    after = fin?.getChild('set', 'http://jabber.org/protocol/rsm')?.getChildText('last') ?? undefined;
    if (fin?.attrs.complete === 'true' || !after) break;
  }
  const ms = performance.now() - start;
  await raw.send(xml('presence', { to: `${room}/bare`, type: 'unavailable' }));
  await raw.stop();
  return { ms, online, joined, fetched };
}

/** Heron starts on `dataDir`, rejoins the room and catches up, until `messages` new ones are archived. */
async function heronCatchUpRound(server: TestServer, dataDir: string, room: string, conversationId: number, messages: number) {
  const startedAt = Date.now();
  const start = performance.now();
  let heron: TestCore | undefined;
  const measured = await stalls(async () => {
    heron = await startCore({ server, dataDir });
    // Announced only once committed: each one is in the archive. Counted here, not by searching
    // the test core's event list at every event (that would cost more than what is measured).
    const isOurs = (event: string, payload: unknown) => event === 'message.added' && (payload as { conversationId: number }).conversationId === conversationId;
    let added = heron.events.filter((e) => isOurs(e.event, e.payload)).length;
    await new Promise<void>((resolve) => {
      if (added >= messages) resolve();
      const stop = heron!.core.onEvent((event, payload) => {
        if (isOurs(event, payload) && ++added >= messages) (stop(), resolve());
      });
    });
    return performance.now() - start;
  });
  const core = heron!;
  const page = await core.call('messages.page', { conversationId, limit: 1 });
  await idleAfter(core, `caught up ${room} from its archive`, startedAt);
  await core.core.close();
  const at = (predicate: (e: { event: string; payload: unknown }) => boolean) => (core.emittedAt(predicate as never) ?? Number.NaN) - startedAt;
  return {
    ms: measured.result,
    maxMs: measured.maxMs,
    online: at((e) => e.event === 'account.changed' && (e.payload as AccountView).connection.state === 'online'),
    joined: at((e) => e.event === 'room.changed' && (e.payload as { jid: string; state: string }).jid === room && (e.payload as { state: string }).state === 'joined'),
    newest: page.messages[0]?.body,
  };
}

export async function run(args: string[]): Promise<void> {
  const named = args.filter((a) => !a.startsWith('--') && !/^\d+$/.test(a));
  const parts = named.length ? named : ['join', 'catch-up'];
  const occupants = arg(args, '--occupants', 5_000);
  const rounds = arg(args, '--rounds', 3);
  const messages = arg(args, '--messages', 5_000);
  const server = await startProsody({ storage: 'sql', muc: true, component: { domain: BOTS, secret: SECRET } });
  const started = performance.now();
  const bots = await connectComponent(server.componentPort!, BOTS, SECRET);
  try {
    if (parts.includes('join')) await join(server, bots, occupants, rounds);
    if (parts.includes('catch-up')) await catchUp(server, bots, messages, rounds);
  } finally {
    await bots.close().catch(() => {});
    await server.stop();
  }
  console.log(`rooms benchmark done in ${((performance.now() - started) / 1000).toFixed(0)} s (load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})`);
}
