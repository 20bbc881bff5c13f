// Every hot query is backed by an index: the test records the statements the Archive really
// runs (SQL and parameters) for each operation, and reads SQLite's plan for each of them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Archive, RANK_WINDOW } from '../../main/core/archive/archive';
import { openDatabase, type Db } from '../../main/core/archive/database';
import { placeLive } from '../../main/core/features/ordering';
import { ACCOUNT, ME, PEER, fromPeer, toPeer } from './archive-support';

type Executed = { sql: string; args: unknown[] };

/** Wraps `db.prepare` so that every statement execution is recorded. */
function recordStatements(db: Db): Executed[] {
  const executed: Executed[] = [];
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    const statement = prepare(sql) as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const method of ['run', 'get', 'all', 'iterate']) {
      const original = statement[method]!.bind(statement);
      statement[method] = (...args: unknown[]) => {
        executed.push({ sql, args });
        return original(...args);
      };
    }
    return statement;
  }) as unknown as Db['prepare'];
  return executed;
}

describe('archive query plans', () => {
  let dir: string;
  let db: Db;
  let archive: Archive;
  let executed: Executed[];
  let plan: (sql: string, args: unknown[]) => string[];
  let conversationId: number;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-plans-'));
    db = openDatabase(path.join(dir, 'a.sqlite'));
    const explain = db.prepare.bind(db);
    plan = (sql, args) => (explain(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>).map((row) => row.detail);
    executed = recordStatements(db);
    archive = new Archive(db);
    archive.accounts.insert({ id: ACCOUNT, jid: ME, host: null, port: null, resource: 'r', enabled: true });
    conversationId = archive.messages.storeBatch(ACCOUNT, Array.from({ length: 20 }, (_, i) => fromPeer(i + 1))).at(0)!.conversation.id;
    archive.messages.store(ACCOUNT, toPeer(30));
  });
  afterAll(() => {
    archive.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The plans of every statement `operation` runs that touches `table`. */
  function plansOf(operation: () => unknown, table: RegExp): string[][] {
    executed.length = 0;
    operation();
    const relevant = executed.filter((e) => table.test(e.sql) && !/^\s*(INSERT|SAVEPOINT|RELEASE|BEGIN|COMMIT)/i.test(e.sql));
    expect(relevant.length).toBeGreaterThan(0);
    return relevant.map((e) => plan(e.sql, e.args));
  }

  /** No full scan of a big table, and no sort of rows the index could have given in order. */
  function expectIndexed(plans: string[][], options: { sortAllowed?: boolean } = {}): void {
    for (const lines of plans) {
      for (const line of lines) {
        expect(line, lines.join(' | ')).not.toMatch(/^SCAN (m|messages|message_events|message_attachments)\b(?! USING)/);
        expect(line, lines.join(' | ')).not.toMatch(/^SCAN (c|conversations)$/);
        if (!options.sortAllowed) expect(line, lines.join(' | ')).not.toMatch(/TEMP B-TREE/);
      }
    }
  }

  const flat = (plans: string[][]) => plans.flat().join(' | ');

  it('lists conversations from the summary, newest first, without a sort', () => {
    const plans = plansOf(() => archive.conversations.list(), /conversations/);
    expectIndexed(plans);
    expect(flat(plans)).toMatch(/SCAN c USING INDEX conversations_recent/);
    expect(flat(plans)).toMatch(/SEARCH m USING INTEGER PRIMARY KEY/);
  });

  it('pages before and after a cursor along the conversation index', () => {
    const page = archive.messages.pageBefore(conversationId, undefined, 5);
    const cursor = page.messages[0]!;
    for (const operation of [() => archive.messages.pageBefore(conversationId, cursor, 5), () => archive.messages.pageAfter(conversationId, cursor, 5)]) {
      const plans = plansOf(operation, /messages/);
      expectIndexed(plans);
      expect(flat(plans)).toMatch(/SEARCH m USING INDEX messages_page \(conversation_id=\? AND rowid[<>]\?\)/);
    }
  });

  it('jumps to a message by its id, then pages around it', () => {
    const target = archive.messages.pageBefore(conversationId, undefined, 10).messages[3]!;
    const plans = plansOf(() => archive.messages.pageAround(target.id, 9), /messages/);
    expectIndexed(plans);
    expect(flat(plans)).toMatch(/SEARCH m USING INTEGER PRIMARY KEY \(rowid=\?\)/);
    expect(flat(plans)).toMatch(/messages_page \(conversation_id=\? AND rowid<\?\)/);
    expect(flat(plans)).toMatch(/messages_page \(conversation_id=\? AND rowid>\?\)/);
  });

  it('keeps unread counts and marks read by key', () => {
    expectIndexed(plansOf(() => archive.conversations.markRead(conversationId), /conversations/));
    // Our reply moves the read marker: the unread count after it walks the conversation index.
    const plans = plansOf(() => archive.messages.store(ACCOUNT, toPeer(40)), /count\(\*\)/);
    expectIndexed(plans);
    expect(flat(plans)).toMatch(/messages_page \(conversation_id=\? AND rowid>\?\)/);
  });

  it('stores a message with indexed lookups only', () => {
    // With an origin-id; without one but with the archive's stanza-id; with neither.
    const records = [fromPeer(50), toPeer(51), fromPeer(52, { originId: undefined }), fromPeer(53, { originId: undefined, stanzaId: undefined })];
    const plans = plansOf(() => archive.messages.storeBatch(ACCOUNT, records), /FROM messages m|conversations|max\(id\)/);
    expectIndexed(plans);
    const all = flat(plans);
    expect(all).toMatch(/messages_by_stanza_id \(conversation_id=\? AND stanza_id=\?\)/);
    expect(all).toMatch(/messages_by_origin_id \(conversation_id=\? AND sender=\? AND origin_id=\?\)/);
    expect(all).toMatch(/messages_by_message_id \(conversation_id=\? AND sender=\? AND message_id=\?\)/);
    expect(all).toMatch(/conversations_peer \(account_id=\? AND peer=\?\)/);
    expect(all).toMatch(/SEARCH messages USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)/); // next free time-ordered id
  });

  it('stores a live message, its place after the conversation\'s newest included, by key lookups that do not grow with the chat', () => {
    // What each statement may do: find one row by a key, or walk a range bounded by a key or a LIMIT.
    const bounded = [
      /^SEARCH (c|conversations) USING (COVERING )?INDEX conversations_peer \(account_id=\? AND peer=\?\)$/,
      /^SEARCH (c|m|conversations) USING INTEGER PRIMARY KEY \(rowid=\?\)( LEFT-JOIN)?$/,
      /^SEARCH messages USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)$/, // the free ids of one millisecond
      /^SEARCH m USING INDEX messages_by_(origin_id|stanza_id|message_id) \(conversation_id=\? AND (sender=\? AND )?\w+=\?\)$/,
      /^SEARCH messages USING INDEX messages_page \(conversation_id=\? AND rowid>\?\)$/, // unread after our reply: what came after it
      /^SCAN message_events USING INDEX message_events_waiting$/, // LIMIT 1: is anything waiting at all
      /^SCAN f VIRTUAL TABLE INDEX/, // a client id through the search index, LIMIT 50
    ];
    const live = [fromPeer(70, { stanzaId: undefined }), fromPeer(71, { originId: undefined }), fromPeer(72, { originId: undefined, stanzaId: undefined }), toPeer(73)];
    for (const record of live) {
      const plans = plansOf(() => archive.messages.store(ACCOUNT, placeLive(archive, ACCOUNT, record)), /messages|conversations/);
      for (const line of plans.flat()) expect(bounded.some((shape) => shape.test(line)), `${line} (${record.body})`).toBe(true);
    }
    expect(flat(plansOf(() => archive.conversations.newestTs(ACCOUNT, PEER), /conversations/))).toMatch(
      /conversations_peer \(account_id=\? AND peer=\?\) \| SEARCH m USING INTEGER PRIMARY KEY \(rowid=\?\)/,
    );
  });

  it('applies a receipt by reading only the messages still undelivered, not the conversation', () => {
    archive.messages.store(ACCOUNT, toPeer(61, { state: 'sent' }));
    const plans = plansOf(() => archive.messages.deliverOutgoingUpTo(ACCOUNT, PEER, 'mine-61'), /messages/);
    expectIndexed(plans);
    expect(flat(plans)).toMatch(/SEARCH messages USING INDEX messages_undelivered \(conversation_id=\? AND rowid<\?\)/);
  });

  it('finds an archived message by its client id through the search index', () => {
    // Sent from another device of ours whose client gives an origin-id other than the id.
    archive.messages.store(ACCOUNT, toPeer(60, { originId: 'other-origin-60', stanzaId: { id: 'arch-mine-60', by: ME } }));
    const plans = plansOf(() => archive.messages.advanceOutgoing(ACCOUNT, PEER, 'mine-60', 'delivered'), /messages/);
    expectIndexed(plans);
    expect(flat(plans)).toMatch(/SCAN f VIRTUAL TABLE INDEX/);
  });

  it('searches newest first in index order, filters included', () => {
    for (const query of [
      { query: 'message', limit: 5 },
      { query: 'message', conversationId, sender: PEER, from: 0, to: Date.now(), limit: 5 },
      { query: 'message', accountId: ACCOUNT, limit: 5 },
    ]) {
      const plans = plansOf(() => archive.messages.search(query), /messages_fts/);
      expectIndexed(plans);
      expect(plans[0]![0]).toMatch(/^SCAN f VIRTUAL TABLE INDEX/);
      expect(flat(plans)).toMatch(/SEARCH m USING INTEGER PRIMARY KEY/);
    }
  });

  it('ranks by relevance only within a bounded window of the newest matches, read in index order', () => {
    executed.length = 0;
    archive.messages.search({ query: 'message', order: 'relevance', limit: 5 });
    expect(executed.some((e) => /bm25/.test(e.sql))).toBe(false); // FTS5's bm25 reads each term's whole doclist
    const window = executed.find((e) => e.sql.includes('SELECT m.id, m.body'))!;
    expect(window.args.at(-1)).toBe(RANK_WINDOW);
    const lines = plan(window.sql, window.args);
    expect(lines[0]).toMatch(/^SCAN f VIRTUAL TABLE INDEX/);
    expectIndexed([lines]);
  });

  it('deletes a conversation along its index', () => {
    archive.conversations.delete(conversationId);
    const plans = plansOf(() => archive.purge.step(100), /messages/);
    expectIndexed(plans);
    expect(flat(plans)).toMatch(/messages_page \(conversation_id=\?\)/);
  });
});
