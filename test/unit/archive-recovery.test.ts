import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Archive } from '../../main/core/archive/archive';
import { openDatabase } from '../../main/core/archive/database';
import { checkInBackground, damageNote, openArchive, watchHealth } from '../../main/core/archive/recovery';
import { ARCHIVE_FILE, createCore } from '../../main/core/core';
import type { Vault } from '../../main/core/vault';
import type { ArchiveStatus } from '../../preload/contract';
import { ACCOUNT, ME, T0, fromPeer } from './archive-support';

const noVault: Vault = { setPassword: async () => {}, getPassword: async () => null, deletePassword: async () => {}, setSecret: async () => {}, getSecret: async () => null, deleteSecret: async () => {} };

/** A sound archive with enough messages to span many pages. */
function writeHistory(file: string): void {
  const archive = new Archive(openDatabase(file));
  archive.accounts.insert({ id: ACCOUNT, jid: ME, host: null, port: null, resource: 'r', enabled: true });
  for (let page = 0; page < 10; page++) {
    archive.messages.storeBatch(ACCOUNT, Array.from({ length: 300 }, (_, i) => fromPeer(page * 300 + i, { body: `message ${page * 300 + i} `.repeat(8) })));
  }
  archive.close();
}

/** Overwrites the middle of a leaf page of the messages table, as a failing disk might. */
function damageMessages(file: string): void {
  const db = openDatabase(file);
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const { pageno } = db.prepare("SELECT pageno FROM dbstat WHERE name = 'messages' AND pagetype = 'leaf' LIMIT 1 OFFSET 10").get() as { pageno: number };
  db.close();
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.alloc(pageSize / 2, 0xa5), 0, pageSize / 2, (pageno - 1) * pageSize + 8);
  fs.closeSync(fd);
}

describe('archive crash safety', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-recovery-'));
    file = path.join(dir, ARCHIVE_FILE);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('moves a file that is no database aside, keeps it intact, and starts a fresh history', () => {
    const garbage = Buffer.from('this was never an SQLite database '.repeat(200));
    fs.writeFileSync(file, garbage);
    fs.writeFileSync(`${file}-wal`, 'wal bytes');
    const { db, recovered } = openArchive(file, { now: () => T0 });
    try {
      expect(recovered?.movedTo).toBe(`${file}.damaged-2025-01-01T00-00-00-000Z`);
      expect(recovered?.reason).toMatch(/not a database/);
      expect(fs.readFileSync(recovered!.movedTo).equals(garbage)).toBe(true);
      expect(fs.readFileSync(`${recovered!.movedTo}-wal`, 'utf8')).toBe('wal bytes');
      const archive = new Archive(db);
      archive.accounts.insert({ id: ACCOUNT, jid: ME, host: null, port: null, resource: 'r', enabled: true });
      expect(archive.messages.store(ACCOUNT, fromPeer(1)).created).toBe(true);
    } finally {
      db.close();
    }
  });

  it('finds damage deep in the file in the background, and sets the file aside at the next start', async () => {
    writeHistory(file);
    expect(await checkInBackground(file)).toEqual([]);
    damageMessages(file);

    // The quick checks at open pass: the damage is in the big messages table.
    const first = openArchive(file);
    expect(first.recovered).toBeNull();
    const reasons: string[] = [];
    await watchHealth(file, (reason) => reasons.push(reason), () => {});
    first.db.close();
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^The history file is damaged: /);
    expect(fs.readFileSync(damageNote(file), 'utf8')).toBe(reasons[0]);

    const second = openArchive(file, { now: () => T0 });
    second.db.close();
    expect(second.recovered).toEqual({ movedTo: `${file}.damaged-2025-01-01T00-00-00-000Z`, reason: reasons[0] });
    expect(fs.readFileSync(`${second.recovered!.movedTo}.reason.txt`, 'utf8')).toBe(reasons[0]);
    expect(fs.existsSync(damageNote(file))).toBe(false);
    expect(await checkInBackground(file)).toEqual([]);
  });

  it('tells the user through the API what it found and where the old file went', async () => {
    fs.writeFileSync(file, 'not sqlite at all');
    const first = await createCore({ dataDir: dir, vault: noVault });
    const status = (await first.handle('archive.status', {})) as ArchiveStatus;
    await first.close();
    expect(status.recovered?.movedTo).toMatch(/heron\.sqlite\.damaged-/);
    expect(fs.readFileSync(status.recovered!.movedTo, 'utf8')).toBe('not sqlite at all');

    writeHistory(file);
    damageMessages(file);
    const second = await createCore({ dataDir: dir, vault: noVault });
    const damaged = await new Promise<{ reason: string }>((resolve) => {
      second.onEvent((event, payload) => {
        if (event === 'archive.damaged') resolve(payload as { reason: string });
      });
    });
    expect(damaged.reason).toMatch(/damaged/);
    expect(((await second.handle('archive.status', {})) as ArchiveStatus).damaged).toEqual(damaged);
    await second.close();
  });
});
