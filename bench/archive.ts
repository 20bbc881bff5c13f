// The archive benchmark (`npm run bench -- archive [--messages N]`): seeds a realistic corpus
// through the Archive and, beside each figure, runs the same query shape on bare SQLite
// (prepared statements on the same file, no Archive code) in the same run. The ratio is what
// our layers cost.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { Archive, RANK_WINDOW, timeKey, type MessageRecord, type SearchQuery } from '../main/core/archive/archive';
import { openDatabase, registerFunctions } from '../main/core/archive/database';
import { openArchive } from '../main/core/archive/recovery';
import { exportArchive } from '../main/core/archive/export';
import { ftsMatch, scopeMatch } from '../main/core/archive/fts-query';
import { scopeText, searchText } from '../main/core/archive/search-text';
import { makeCorpus, prng, START_TS, uuid } from './corpus';
import { placeLive } from '../main/core/features/ordering';
import { percentile, printTable } from './stats';

const BATCH = 250; // a MAM page
const FRAME_MS = 16;

const now = () => performance.now();

/** Times every synchronous archive call, keeping the longest of each kind: what would stall the main process. */
class Stalls {
  readonly longest = new Map<string, number>();
  time<T>(what: string, fn: () => T): { value: T; ms: number } {
    const start = now();
    const value = fn();
    const ms = now() - start;
    const kind = what.replace(/ \(.*\)$/, '');
    this.longest.set(kind, Math.max(ms, this.longest.get(kind) ?? 0));
    return { value, ms };
  }
}

type Row = { metric: string; ours: string; bare: string; ratio: string; goal: string; met: string };

const fmt = (ms: number) => (ms < 1 ? ms.toFixed(3) : ms < 100 ? ms.toFixed(2) : ms.toFixed(0));

function row(metric: string, ours: number, bare: number | null, unit: string, goal?: { limit: number; atMost: boolean; text: string }): Row {
  return {
    metric,
    ours: `${unit === '/s' ? Math.round(ours).toLocaleString('en') : fmt(ours)} ${unit}`,
    bare: bare === null ? '—' : `${unit === '/s' ? Math.round(bare).toLocaleString('en') : fmt(bare)} ${unit}`,
    ratio: bare === null ? '—' : `${(unit === '/s' ? bare / ours : ours / bare).toFixed(2)}×`,
    goal: goal?.text ?? '—',
    met: goal ? ((goal.atMost ? ours <= goal.limit : ours >= goal.limit) ? 'yes' : 'NO') : '—',
  };
}

function print(rows: Row[]): void {
  printTable<Row>({ metric: 'figure', ours: 'Heron', bare: 'bare SQLite', ratio: 'ratio', goal: 'goal', met: 'met' }, rows);
}

export async function run(args: string[]): Promise<void> {
  const flag = args.indexOf('--messages');
  const total = flag >= 0 ? Number(args[flag + 1]) : 1_000_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-bench-'));
  const started = now();
  const stalls = new Stalls();
  const rows: Row[] = [];
  const corpus = makeCorpus(total);
  const log = (text: string) => console.error(`[${((now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}`);
  log(`seeding ${total.toLocaleString('en')} messages, 3 accounts, 1,000 conversations in ${dir}`);

  try {
    // ── bulk insert: messages.storeBatch per MAM-sized batch vs plain INSERTs ──
    const file = path.join(dir, 'heron.sqlite');
    const opened = openArchive(file);
    let archive = new Archive(opened.db);
    corpus.accounts.forEach((a, i) => archive.accounts.insert({ id: a.id, jid: a.jid, host: null, port: null, resource: `r${i}`, enabled: true }));
    let insertMs = 0;
    const batchSamples: number[] = [];
    for (const batch of corpus.batches(BATCH)) {
      const { ms } = stalls.time(`storeBatch, ${BATCH} a call`, () => archive.messages.storeBatch(corpus.accounts[batch.account]!.id, batch.records));
      insertMs += ms;
      batchSamples.push(ms);
    }
    log(`stored through Archive in ${(insertMs / 1000).toFixed(1)} s`);

    const bareFile = path.join(dir, 'bare.sqlite');
    const bareInsertMs = bareInsert(bareFile, corpus);
    fs.rmSync(bareFile);
    fs.rmSync(`${bareFile}-wal`, { force: true });
    fs.rmSync(`${bareFile}-shm`, { force: true });
    log(`stored bare in ${(bareInsertMs / 1000).toFixed(1)} s`);
    rows.push(row(`bulk insert (batches of ${BATCH}, FTS included)`, (total / insertMs) * 1000, (total / bareInsertMs) * 1000, '/s', { limit: 50_000, atMost: false, text: '≥ 50,000/s' }));
    archive.close();

    // ── cold open: open, check schema, first conversation list and page ──
    const openStart = now();
    const reopened = openArchive(file);
    archive = new Archive(reopened.db);
    const list = archive.conversations.list();
    archive.messages.pageBefore(list[0]!.id, undefined, 50);
    const openMs = now() - openStart;
    const bareOpenStart = now();
    const bare = new Database(file);
    registerFunctions(bare); // snippets read the text through them
    bare.prepare(BARE_LIST).all();
    bare.prepare(BARE_PAGE).all(list[0]!.id, Number.MAX_SAFE_INTEGER, 51);
    const bareOpenMs = now() - bareOpenStart;
    rows.push(row('cold open (open, schema check, list, first page)', openMs, bareOpenMs, 'ms', { limit: 200, atMost: true, text: '≤ 200 ms' }));
    // Informational: what start-up would wait for if the full check ran on the main thread.
    const check = { ms: timeOf(() => reopened.db.pragma('quick_check')) };
    log(`quick_check ${check.ms.toFixed(0)} ms`);

    // ── conversation list ──
    const listSamples = Array.from({ length: 30 }, () => stalls.time('listConversations', () => archive.conversations.list()).ms);
    const bareList = bare.prepare(BARE_LIST);
    const bareListSamples = Array.from({ length: 30 }, () => timeOf(() => bareList.all()));
    rows.push(row('conversation list (1,000, last message + unread)', percentile(listSamples, 95), percentile(bareListSamples, 95), 'ms p95', { limit: 10, atMost: true, text: '≤ 10 ms' }));

    // ── pages: keyset before a cursor, after it, and around a message ──
    const random = prng(7);
    const bounds = bare.prepare<[number], { lo: number; hi: number }>('SELECT min(id) AS lo, max(id) AS hi FROM messages WHERE conversation_id = ?');
    const sizes = bare.prepare<[], { conversation_id: number; n: number }>('SELECT conversation_id, count(*) AS n FROM messages GROUP BY conversation_id ORDER BY n DESC').all();
    const cursors = Array.from({ length: 300 }, () => {
      const conversation = sizes[Math.floor(random() ** 2 * sizes.length)]!.conversation_id; // biased to big chats
      const { lo, hi } = bounds.get(conversation)!;
      return { conversation, id: Math.floor(lo + random() * (hi - lo)) };
    });
    const pageSamples: number[] = [];
    const barePageSamples: number[] = [];
    const barePage = bare.prepare(BARE_PAGE);
    const barePageAfter = bare.prepare('SELECT * FROM messages WHERE conversation_id = ? AND id > ? ORDER BY id LIMIT ?');
    for (const c of cursors) {
      pageSamples.push(stalls.time('pageBefore', () => archive.messages.pageBefore(c.conversation, { ts: 0, id: c.id }, 50)).ms);
      pageSamples.push(stalls.time('pageAfter', () => archive.messages.pageAfter(c.conversation, { ts: 0, id: c.id }, 50)).ms);
      barePageSamples.push(timeOf(() => barePage.all(c.conversation, c.id, 51)));
      barePageSamples.push(timeOf(() => barePageAfter.all(c.conversation, c.id, 51)));
    }
    rows.push(row('page of 50 before/after a cursor', percentile(pageSamples, 50), percentile(barePageSamples, 50), 'ms p50'));
    rows.push(row('page of 50 before/after a cursor', percentile(pageSamples, 95), percentile(barePageSamples, 95), 'ms p95', { limit: 2, atMost: true, text: '≤ 2 ms' }));
    const anchors = cursors.slice(0, 100).map((c) => barePage.get(c.conversation, c.id, 1) as { id: number } | undefined).filter((m) => m !== undefined);
    const aroundSamples = anchors.map((m) => stalls.time('pageAround', () => archive.messages.pageAround(m.id, 50)).ms);
    const bareAroundSamples = anchors.map((m) => {
      const conversation = (bare.prepare('SELECT conversation_id FROM messages WHERE id = ?').get(m.id) as { conversation_id: number }).conversation_id;
      return timeOf(() => {
        barePage.all(conversation, m.id, 25);
        barePageAfter.all(conversation, m.id - 1, 26);
      });
    });
    rows.push(row('page of 50 around a message', percentile(aroundSamples, 95), percentile(bareAroundSamples, 95), 'ms p95', { limit: 2, atMost: true, text: '≤ 2 ms' }));

    // ── search ──
    const big = sizes[0]!.conversation_id;
    const small = sizes[Math.min(400, sizes.length - 1)]!.conversation_id; // a smaller chat, also in a small --messages run
    const bigPeer = bare.prepare<[number], { peer: string; account_id: string }>('SELECT peer, account_id FROM conversations WHERE id = ?').get(big)!;
    const rare = corpus.words[3000]!;
    const month = { from: START_TS + 400 * 86_400_000, to: START_TS + 430 * 86_400_000 };
    const queries: Array<Omit<SearchQuery, 'limit'>> = [
      { query: rare },
      { query: 'meeting' },
      { query: 'the' },
      { query: 'dinner tomorrow' },
      { query: '"see you"' },
      { query: 'meet*' },
      { query: 'coffee -tea' },
      { query: 'pizza OR sushi' },
      { query: '东京' },
      { query: '🎉' },
      { query: 'the', order: 'relevance' },
      { query: 'lunch coffee', order: 'relevance' },
      { query: rare, conversationId: big },
      { query: 'the', conversationId: big },
      { query: 'the', conversationId: small },
      { query: 'good', sender: bigPeer.peer },
      { query: 'time', accountId: corpus.accounts[2]!.id },
      { query: 'work', ...month },
      { query: 'ok', conversationId: big, ...month },
      { query: '"unclosed AND -* OR café' },
    ];
    const searchSamples: number[] = [];
    const bareSearchSamples: number[] = [];
    const perQuery: string[] = [];
    for (const q of queries) {
      const bareSearch = bareSearchFor(bare, q);
      const mine: number[] = [];
      let hits = 0;
      for (let i = 0; i < 5; i++) {
        const { value, ms } = stalls.time(`search ${JSON.stringify(q.query)}`, () => archive.messages.search({ ...q, limit: 50 }));
        mine.push(ms);
        hits = value.hits.length;
        bareSearchSamples.push(timeOf(bareSearch));
      }
      searchSamples.push(...mine);
      const { query, ...filters } = q;
      perQuery.push(`${fmt(percentile(mine, 50)).padStart(7)} ms  ${String(hits).padStart(2)} hits  ${JSON.stringify(query)} ${Object.keys(filters).join(', ')}`);
    }
    rows.push(row('search, 20 queries (50 hits, snippets)', percentile(searchSamples, 50), percentile(bareSearchSamples, 50), 'ms p50'));
    rows.push(row('search, 20 queries (50 hits, snippets)', percentile(searchSamples, 95), percentile(bareSearchSamples, 95), 'ms p95', { limit: 10, atMost: true, text: '≤ 10 ms' }));

    // ── unread and mark-read ──
    const readSamples = sizes.slice(0, 100).map((s) => stalls.time('markRead', () => archive.conversations.markRead(s.conversation_id)).ms);
    const bareRead = bare.prepare('UPDATE conversations SET unread = 0, read_up_to = coalesce(last_message_id, 0) WHERE id = ?');
    const bareReadSamples = sizes.slice(0, 100).map((s) => timeOf(() => bareRead.run(s.conversation_id)));
    rows.push(row('mark read', percentile(readSamples, 95), percentile(bareReadSamples, 95), 'ms p95'));

    // ── export and delete the second-largest conversation, in slices, watching the event loop ──
    // Time each slice the background jobs run, as well as the event loop around them.
    const purgeStep = archive.purge.step.bind(archive.purge);
    const exportPage = archive.messages.exportPage.bind(archive.messages);
    archive.purge.step = (size) => stalls.time(`purge slice (${size})`, () => purgeStep(size)).value;
    archive.messages.exportPage = (id, after, size) => stalls.time(`export slice (${size})`, () => exportPage(id, after, size)).value;
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const victim = archive.conversations.get(sizes[1]!.conversation_id);
    const exportStart = now();
    const exported = await exportArchive(archive, path.join(dir, 'export.jsonl'), { accounts: archive.accounts.list(), conversations: [victim] });
    const exportMs = now() - exportStart;
    archive.conversations.delete(victim.id);
    const purgeStart = now();
    await archive.purge.run();
    const purgeMs = now() - purgeStart;
    loop.disable();
    log(`exported ${exported} messages in ${exportMs.toFixed(0)} ms; deleted them in ${purgeMs.toFixed(0)} ms`);
    rows.push(row(`export a ${exported.toLocaleString('en')}-message chat (JSON Lines)`, exportMs, null, 'ms'));
    rows.push(row('delete that chat', purgeMs, null, 'ms'));

    // Smaller MAM pages: what each call costs with 100 messages (50,000 more, older history).
    const smaller: number[] = [];
    const backfill = makeCorpus(50_000, 7);
    for (const batch of backfill.batches(100)) {
      smaller.push(stalls.time('storeBatch, 100 a call', () => archive.messages.storeBatch(backfill.accounts[batch.account]!.id, batch.records)).ms);
    }

    rows.push(...liveMessages(path.join(dir, 'live.sqlite'), log));

    const size = ['', '-wal'].reduce((sum, suffix) => sum + (fs.existsSync(file + suffix) ? fs.statSync(file + suffix).size : 0), 0);
    rows.push({ metric: 'database size', ours: `${(size / 2 ** 20).toFixed(0)} MiB`, bare: '—', ratio: '—', goal: '—', met: '—' });
    rows.push(row('full quick_check (in a worker at start)', check.ms, null, 'ms'));
    for (const [what, ms] of [...stalls.longest].sort((x, y) => y[1] - x[1]).slice(0, 4)) {
      rows.push(row(`longest call: ${what}`, ms, null, 'ms', { limit: FRAME_MS, atMost: true, text: `≤ ${FRAME_MS} ms` }));
    }
    rows.push(row('event loop delay during export + delete, max', loop.max / 1e6, null, 'ms'));
    bare.close();
    archive.close();
    console.log(`\nArchive benchmark: ${total.toLocaleString('en')} messages, 3 accounts, 1,000 conversations (largest ${sizes[0]!.n.toLocaleString('en')}), ${os.cpus().length} cores, SQLite ${sqliteVersion()}, Node ${process.version}\n`);
    print(rows);
    const perCall = (samples: number[], n: number) =>
      `storeBatch of ${n}: p50 ${fmt(percentile(samples, 50))} ms, p95 ${fmt(percentile(samples, 95))} ms, ` +
      `${samples.filter((ms) => ms > FRAME_MS).length} of ${samples.length} calls over ${FRAME_MS} ms`;
    console.log(`\n${perCall(batchSamples, BATCH)}\n${perCall(smaller, 100)}`);
    console.log(`relevance ranks the newest ${RANK_WINDOW} matches; total ${((now() - started) / 1000).toFixed(0)} s`);
    console.log(`\nsearch, median of 5 runs each (hits of 50 asked):\n${perQuery.join('\n')}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const LIVE_SIZES = [1_000, 10_000, 100_000, 1_000_000];
const LIVE_SAMPLES = 1_000;
const LIVE_WARM_UP = 50;

/**
 * A live message into chats of 1k to 1M messages, through the path one takes (the ordering
 * floor, then the store), beside the store alone in the same chat: what the floor costs
 * must not grow with the chat (goal: p95 within 2× of the store alone).
 */
function liveMessages(file: string, log: (text: string) => void): Row[] {
  const archive = new Archive(openArchive(file).db);
  const account = { id: '00000000-0000-4000-8000-0000000000aa', jid: 'me@live.example' };
  archive.accounts.insert({ id: account.id, jid: account.jid, host: null, port: null, resource: 'r', enabled: true });
  const random = prng(11);
  const record = (peer: string, ts: number, out: boolean): MessageRecord => {
    const id = uuid(random);
    return {
      peer,
      direction: out ? 'out' : 'in',
      sender: out ? account.jid : peer,
      messageId: id,
      originId: id,
      stanzaId: { id: uuid(random), by: account.jid },
      body: `live message ${id.slice(0, 8)} about lunch tomorrow`,
      ts,
      state: out ? 'sent' : 'received',
    };
  };
  const rows: Row[] = [];
  let liveTs = START_TS + 4 * 365 * 86_400_000; // after every seeded message
  // The first chat warms the code paths up (JIT, statement cache) and is not reported.
  for (const [n, size] of [LIVE_SIZES[0]!, ...LIVE_SIZES].entries()) {
    const peer = `chat${n}-${size}@live.example`;
    const span = 3 * 365 * 86_400_000;
    for (let start = 0; start < size; start += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, size - start) }, (_, k) => record(peer, START_TS + Math.floor(((start + k) / size) * span), random() < 0.45));
      archive.messages.storeBatch(account.id, batch);
    }
    log(`live messages: seeded a chat of ${size.toLocaleString('en')}`);
    const alone: number[] = [];
    const live: number[] = [];
    const storeAlone = () => {
      const plain = record(peer, (liveTs += 7), false);
      return timeOf(() => archive.messages.store(account.id, plain));
    };
    const floors: number[] = [];
    const storeLive = () => {
      const incoming = record(peer, (liveTs += 7), false);
      const start = now();
      const placed = placeLive(archive, account.id, incoming);
      floors.push(now() - start);
      archive.messages.store(account.id, placed);
      return now() - start;
    };
    for (let i = -LIVE_WARM_UP; i < LIVE_SAMPLES; i++) {
      // In a random order each time (seeded), so both see the same cache and the same growing
      // chat, and a cost that comes every so many writes (an FTS merge, a WAL checkpoint) does
      // not keep landing on the same one of the pair, as a fixed alternation lets it.
      let aloneMs: number;
      let liveMs: number;
      if (random() < 0.5) {
        aloneMs = storeAlone();
        liveMs = storeLive();
      } else {
        liveMs = storeLive();
        aloneMs = storeAlone();
      }
      if (i < 0) continue; // warming the statement cache and the pages of this chat
      alone.push(aloneMs);
      live.push(liveMs);
    }
    if (n === 0) continue;
    const label = size >= 1_000_000 ? `${size / 1_000_000}M` : `${size / 1_000}k`;
    const storeP95 = percentile(alone, 95);
    rows.push(row(`store alone, ${label}-message chat`, storeP95, null, 'ms p95'));
    const liveP95 = percentile(live, 95);
    rows.push({
      ...row(`live message (floor + store), ${label}-message chat`, liveP95, null, 'ms p95', { limit: 2 * storeP95, atMost: true, text: '≤ 2× store alone' }),
      ratio: `${(liveP95 / storeP95).toFixed(2)}× store`,
    });
    rows.push(row(`  of which the ordering floor, ${label}-message chat`, percentile(floors.slice(LIVE_WARM_UP), 95), null, 'ms p95'));
  }
  archive.close();
  return rows;
}

function timeOf(fn: () => unknown): number {
  const start = now();
  fn();
  return now() - start;
}

function sqliteVersion(): string {
  const db = new Database(':memory:');
  const { v } = db.prepare('SELECT sqlite_version() AS v').get() as { v: string };
  db.close();
  return v;
}

const BARE_LIST = `SELECT c.*, m.body, m.ts, m.direction FROM conversations c LEFT JOIN messages m ON m.id = c.last_message_id
  WHERE c.deleting = 0 ORDER BY c.last_message_id DESC`;
const BARE_PAGE = 'SELECT * FROM messages WHERE conversation_id = ? AND id < ? ORDER BY id DESC LIMIT ?';

/** The same records as plain INSERTs into the same schema and its FTS index, ids computed up front. */
function bareInsert(file: string, corpus: ReturnType<typeof makeCorpus>): number {
  const db = openDatabase(file);
  corpus.accounts.forEach((a, i) => db.prepare('INSERT INTO accounts (id, jid, resource, created_at) VALUES (?, ?, ?, 0)').run(a.id, a.jid, `r${i}`));
  const conversationIds = new Map<string, number>();
  const addConversation = db.prepare('INSERT INTO conversations (account_id, peer) VALUES (?, ?)');
  for (const c of corpus.conversations) conversationIds.set(c.peer, Number(addConversation.run(corpus.accounts[c.account]!.id, c.peer).lastInsertRowid));
  const insert = db.prepare(
    `INSERT INTO messages (id, conversation_id, direction, sender, message_id, origin_id, stanza_id, stanza_id_by, body, ts, received_at, state, reply_to_ref)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const index = db.prepare('INSERT INTO messages_fts (rowid, body, scope) VALUES (?, ?, ?)');
  let last = 0;
  let ms = 0;
  for (const batch of corpus.batches(BATCH)) {
    ms += timeOf(() =>
      db.transaction(() => {
        for (const r of batch.records) {
          last = Math.max(last + 1, timeKey(r.ts));
          const conversation = conversationIds.get(r.peer)!;
          insert.run(last, conversation, r.direction, r.sender, r.messageId ?? null, r.originId ?? null, r.stanzaId?.id ?? null, r.stanzaId?.by ?? null, r.body, r.ts, r.ts, r.state, r.replyTo?.id ?? null);
          index.run(last, searchText(r.body), scopeText(conversation, r.sender, [r.originId ?? null, r.messageId ?? null, r.stanzaId?.id ?? null]));
        }
      })(),
    );
  }
  db.close();
  return ms;
}

/** The search's core statement as one prepared query on the same file: match, order, limit, snippet. */
function bareSearchFor(db: Database.Database, q: Omit<SearchQuery, 'limit'>): () => unknown {
  const text = ftsMatch(q.query);
  if (text === null) return () => [];
  const scope = [...(q.conversationId !== undefined ? [scopeMatch(`c${q.conversationId}`)] : []), ...(q.sender ? [scopeMatch(q.sender)] : [])];
  const match = scope.length ? `(${text}) AND ${scope.join(' AND ')}` : text;
  const lo = q.from !== undefined ? timeKey(q.from) : 0;
  const hi = q.to !== undefined ? timeKey(q.to) - 1 : Number.MAX_SAFE_INTEGER;
  const snippet = "snippet(messages_fts, 0, '[', ']', '…', 24)";
  const account = q.accountId ? 'CROSS JOIN messages m ON m.id = f.rowid CROSS JOIN conversations c ON c.id = m.conversation_id' : '';
  const where = q.accountId ? 'c.account_id = ? AND' : '';
  const params = q.accountId ? [q.accountId] : [];
  if (q.order === 'relevance') {
    const floor = db.prepare('SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? AND rowid BETWEEN ? AND ? ORDER BY rowid DESC LIMIT 1 OFFSET ?');
    const ranked = db.prepare(
      `SELECT f.rowid, ${snippet} FROM messages_fts f ${account} WHERE ${where} messages_fts MATCH ? AND f.rowid BETWEEN ? AND ? ORDER BY bm25(messages_fts, 1.0, 0.0) LIMIT 50`,
    );
    return () => {
      const from = (floor.get(match, lo, hi, RANK_WINDOW - 1) as { rowid: number } | undefined)?.rowid ?? lo;
      return ranked.all(...params, match, from, hi);
    };
  }
  const newest = db.prepare(`SELECT f.rowid, ${snippet} FROM messages_fts f ${account} WHERE ${where} messages_fts MATCH ? AND f.rowid BETWEEN ? AND ? ORDER BY f.rowid DESC LIMIT 50`);
  return () => newest.all(...params, match, lo, hi);
}
