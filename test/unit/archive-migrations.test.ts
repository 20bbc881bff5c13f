import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Archive } from '../../main/core/archive/archive';
import { ArchiveVersionError, openDatabase } from '../../main/core/archive/database';
import { migrations } from '../../main/core/archive/migrations';
import { openArchive } from '../../main/core/archive/recovery';
import { ACCOUNT, ME, PEER, T0 } from './archive-support';

const BOB = 'bob@example.org';

/** A history as Heron's first release wrote it (schema 1), with what real use leaves behind. */
function writeSchemaOne(file: string): void {
  const db = openDatabase(file, migrations.slice(0, 1));
  db.prepare("INSERT INTO accounts (id, jid, host, port, resource, enabled, created_at) VALUES (?, ?, NULL, NULL, 'r', 1, 0)").run(ACCOUNT, ME);
  db.prepare("INSERT INTO contacts (account_id, jid, name, subscription, groups_json) VALUES (?, ?, 'Peer', 'both', '[\"Friends\"]')").run(ACCOUNT, PEER);
  db.prepare('INSERT INTO conversations (id, account_id, peer, last_message_id, last_ts, unread) VALUES (1, ?, ?, 4, ?, 2)').run(ACCOUNT, PEER, T0 + 3000);
  db.prepare('INSERT INTO conversations (id, account_id, peer, last_message_id, last_ts, unread) VALUES (2, ?, ?, 5, ?, 0)').run(ACCOUNT, BOB, T0 + 500);
  db.prepare('INSERT INTO conversations (id, account_id, peer) VALUES (3, ?, ?)').run(ACCOUNT, 'nobody@example.org');
  const insert = db.prepare(
    `INSERT INTO messages (id, conversation_id, direction, sender, message_id, origin_id, stanza_id, stanza_id_by, body, ts, received_at, state)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  insert.run(1, 1, 'in', PEER, 'p1', null, 'a1', ME, 'first from peer', T0 + 1000, T0, 'received');
  insert.run(2, 1, 'out', ME, 'm2', 'm2', null, null, 'our answer', T0 + 2000, T0, 'delivered');
  // Fetched later but older, and two at the very same millisecond: time decides, then arrival.
  insert.run(3, 1, 'in', PEER, 'p0', null, 'a0', ME, 'even older', T0 + 500, T0, 'received');
  insert.run(4, 1, 'in', PEER, 'p3', null, 'a3', ME, 'same time, arrived first', T0 + 3000, T0, 'received');
  insert.run(6, 1, 'in', PEER, 'p4', null, 'a4', ME, 'same time, arrived second', T0 + 3000, T0, 'received');
  insert.run(5, 2, 'out', ME, 'm5', 'm5', null, null, 'hi bob 東京', T0 + 500, T0, 'pending');
  db.close();
}

describe('archive schema migrations', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-migrate-'));
    file = path.join(dir, 'heron.sqlite');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('upgrades a populated first-release history to the latest schema, losing nothing', () => {
    writeSchemaOne(file);
    const db = openDatabase(file);
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(() => db.prepare("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')").run()).not.toThrow();
    const archive = new Archive(db);
    try {
      expect(archive.accounts.list()).toEqual([{ id: ACCOUNT, jid: ME, host: null, port: null, resource: 'r', enabled: true }]);
      expect(archive.roster.list(ACCOUNT)).toEqual([{ jid: PEER, name: 'Peer', subscription: 'both', groups: ['Friends'] }]);

      const list = archive.conversations.list();
      expect(list.map((c) => [c.peer, c.unread, c.last?.body])).toEqual([
        [PEER, 2, 'same time, arrived second'],
        [BOB, 0, 'hi bob 東京'],
        ['nobody@example.org', 0, undefined],
      ]);
      const page = archive.messages.pageBefore(1, undefined, 10).messages;
      expect(page.map((m) => m.body)).toEqual(['even older', 'first from peer', 'our answer', 'same time, arrived first', 'same time, arrived second']);
      expect(page.map((m) => m.ts)).toEqual([T0 + 500, T0 + 1000, T0 + 2000, T0 + 3000, T0 + 3000]);

      // Old history is searchable, and its copies are still recognised.
      expect(archive.messages.search({ query: '東京', limit: 5 }).hits.map((h) => h.message.body)).toEqual(['hi bob 東京']);
      expect(archive.messages.store(ACCOUNT, { peer: PEER, direction: 'in', sender: PEER, stanzaId: { id: 'a1', by: ME }, body: 'first from peer', ts: T0 + 1000, state: 'received' }).created).toBe(false);
      expect(archive.messages.pendingOutgoing(ACCOUNT).map((m) => m.messageId)).toEqual(['m5']);
      expect(archive.messages.advanceOutgoing(ACCOUNT, BOB, 'm5', 'sent')?.state).toBe('sent');
      expect(archive.sync.getMamState(ACCOUNT, ME)).toBeNull();
      // Chats from before message requests all stay in the list; whom we wrote to is known.
      expect(archive.conversations.listRequests()).toEqual([]);
      expect([PEER, BOB, 'nobody@example.org'].map((peer) => archive.conversations.wroteTo(ACCOUNT, peer))).toEqual([true, true, false]);
    } finally {
      archive.close();
    }
  });

  it('runs each migration once', () => {
    writeSchemaOne(file);
    openDatabase(file).close();
    const db = openDatabase(file);
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    db.close();
  });

  it('refuses a history written by a newer Heron, and leaves it where it is', () => {
    const db = openDatabase(file);
    db.pragma(`user_version = ${migrations.length + 1}`);
    db.close();
    const before = fs.readFileSync(file);
    expect(() => openDatabase(file)).toThrow(ArchiveVersionError);
    expect(() => openArchive(file)).toThrow(/written by a newer Heron.*Update Heron/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.readdirSync(dir).filter((name) => name.includes('damaged'))).toEqual([]);
  });
});
