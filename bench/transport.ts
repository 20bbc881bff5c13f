// `npm run bench -- transport`: the longest event-loop stall while 10 MiB arrive on a session,
// from a stand-in TLS server in the same process, as Heron's session composes it:
//   small elements     10 MiB as 1 KiB nonzas: the baseline, parsing cost that grows linearly
//   one element, off   a single 10 MiB element with the limit lifted: ltx alone, quadratic
//   one element, 1 MiB a single 10 MiB element with Heron's limit: closed with policy-violation
// Each runs ROUNDS times; the figures are the median round's longest stall (the machine's other
// load shows in single rounds) and the main thread's busy time over the whole arrival.
// Goal: the limited case stalls no longer than 50 ms, and not much longer than the baseline.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createSession } from '../main/core/xmpp/session';
import { hugeMessage, startFakeXmppServer, writeAll } from '../test/support/fake-xmpp-server';

const TOTAL = 10 * 1024 * 1024;
const ROUNDS = 3;
const ms = (n: number) => `${n.toFixed(1)} ms`;

function* smallElements(total: number): Generator<string> {
  const ack = `<a xmlns='urn:xmpp:sm:3' h='1'/>`;
  const piece = ack.repeat(Math.ceil(1024 / ack.length));
  const batch = piece.repeat(64);
  for (let sent = 0; sent < total; sent += batch.length) yield batch;
}

/**
 * Opens a session to a stand-in server that sends `pieces` after its stream header, and
 * measures the event loop until `done` says the session is through with them.
 */
async function measure(pieces: () => Iterable<string>, maxElementBytes: number, done: (session: ReturnType<typeof createSession>, finished: Promise<void>) => Promise<string>) {
  let sent!: () => void;
  const finished = new Promise<void>((resolve) => (sent = resolve));
  const fake = await startFakeXmppServer('heron.test', async (socket) => {
    await writeAll(socket, pieces());
    sent();
  });
  const session = createSession({
    jid: { local: 'alice', domain: 'heron.test' },
    password: async () => 'pw',
    // A stand-in server offering PLAIN to an account that never used SCRAM.
    sasl: { policy: () => ({ allowPlain: true }), authenticated: () => {} },
    resource: 'bench',
    endpoint: { host: '127.0.0.1', port: fake.port, directTls: true },
    trustedCAs: [fake.caPem],
    maxElementBytes,
    timeoutMs: 120_000,
  });
  session.entity.on('error', () => {});
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const started = performance.now();
  const utilization = performance.eventLoopUtilization();
  histogram.enable();
  const outcome = await done(session, finished);
  histogram.disable();
  const busy = performance.eventLoopUtilization(utilization).active;
  const elapsed = performance.now() - started;
  session.abort();
  await fake.close();
  return { stall: histogram.max / 1e6, busy, elapsed, outcome };
}

/** The round with the median longest stall, and the worst stall of all rounds. */
async function rounds(once: () => ReturnType<typeof measure>) {
  const results = [];
  for (let i = 0; i < ROUNDS; i++) results.push(await once());
  results.sort((a, b) => a.stall - b.stall);
  return { ...results[Math.floor(ROUNDS / 2)]!, worst: results[ROUNDS - 1]!.stall };
}

export async function run(): Promise<void> {
  const baseline = await rounds(() => measure(() => smallElements(TOTAL), TOTAL, async (session, finished) => {
    let elements = 0;
    session.entity.on('nonza', () => elements++);
    void session.open().catch(() => {});
    await finished;
    // The server wrote everything; wait until the session has parsed it all.
    const expected = Math.floor(TOTAL / 32);
    while (elements < expected * 0.99) await new Promise((resolve) => setImmediate(resolve));
    return `${elements} elements parsed`;
  }));
  const oneElement = (limit: number) =>
    rounds(() =>
      measure(() => hugeMessage(TOTAL), limit, async (session) => {
        const error = await session.open().then(() => undefined, (e: Error) => e);
        return `ended with ${error?.name ?? 'nothing'}`;
      }),
    );
  const unlimited = await oneElement(Number.MAX_SAFE_INTEGER);
  const limited = await oneElement(1024 * 1024);
  const line = (label: string, r: Awaited<ReturnType<typeof rounds>>) =>
    `  ${label.padEnd(26)} stall ${ms(r.stall).padStart(9)} (worst ${ms(r.worst)})  busy ${ms(r.busy).padStart(9)} of ${ms(r.elapsed)}  ${r.outcome}`;
  console.log(`transport: 10 MiB arriving on one session (median of ${ROUNDS} rounds), longest event-loop stall`);
  console.log(line('small elements (baseline)', baseline));
  console.log(line('one element, no limit', unlimited));
  console.log(line('one element, 1 MiB limit', limited));
  console.log(`  limited: stall ${(limited.stall / baseline.stall).toFixed(2)}x the baseline's, busy ${(limited.busy / unlimited.busy).toFixed(3)}x the unlimited's (goal: stall at most 50 ms)`);
}
