// Opening the archive safely. Damage SQLite reports while opening (a bad header, an unreadable
// schema, broken small tables) moves the file aside at once. The full check (PRAGMA
// quick_check reads every page: ~0.3 s at 200k messages) runs in a worker thread on its own
// read-only connection so start-up does not wait for it; damage it finds is noted beside the
// file, reported at once so the user can be told, and acted on at the next start. A damaged
// file is always moved aside with its WAL, never deleted.
import fs from 'node:fs';
import path from 'node:path';
import module from 'node:module';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { openDatabase, type Db } from './database';

export type Recovery = { movedTo: string; reason: string };

export class ArchiveCorruptError extends Error {
  override name = 'ArchiveCorruptError';
}

/** The note the background check leaves beside a damaged file, holding what it found. */
export const damageNote = (file: string) => `${file}.damaged`;

/** SQLite's words for "this file is not a sound database" (codes; only messages survive a worker). */
function isDamage(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (
    error instanceof ArchiveCorruptError ||
    (typeof code === 'string' && /^SQLITE_(CORRUPT|NOTADB)/.test(code)) ||
    (typeof message === 'string' && /disk image is malformed|file is not a database/.test(message))
  );
}

/** The problems `quick_check` reports, none when the file is sound. */
function problems(rows: Array<{ quick_check: string }>): string[] {
  const found = rows.map((row) => row.quick_check);
  return found.length === 1 && found[0] === 'ok' ? [] : found;
}

/** The cheap part of the check, run at open: the small tables and their indexes (where they exist yet). */
function checkSmallTables(db: Db): void {
  const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' AND name IN ('accounts', 'contacts', 'conversations', 'mam_sync')").all();
  for (const { name: table } of tables) {
    const found = problems(db.pragma(`quick_check(${table})`) as Array<{ quick_check: string }>);
    if (found.length > 0) throw new ArchiveCorruptError(`The history file is damaged: ${found.join('; ')}`);
  }
}

/** `file` with the name the damaged copy is kept under. */
export function asideName(file: string, now: number): string {
  return `${file}.damaged-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
}

/** Moves the database, its WAL and shared-memory files and any damage note aside together. */
function moveAside(file: string, now: number): string {
  let target = asideName(file, now);
  for (let n = 2; fs.existsSync(target); n++) target = `${asideName(file, now)}-${n}`;
  for (const suffix of ['', '-wal', '-shm', '.damaged']) {
    if (fs.existsSync(file + suffix)) fs.renameSync(file + suffix, target + (suffix === '.damaged' ? '.reason.txt' : suffix));
  }
  return target;
}

/**
 * Reads the header, the schema and the small tables of an existing file through a read-only
 * connection: unlike a normal one, it never checkpoints or removes the WAL when it closes, so
 * a damaged file is moved aside exactly as it was found.
 */
function probe(file: string): void {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('schema_version');
    checkSmallTables(db);
  } finally {
    db.close();
  }
}

/**
 * Opens the archive at `file`. A file the background check found damaged, or that SQLite
 * reports as damaged while opening or migrating, is moved aside and a fresh one created;
 * anything else (a newer schema, a full disk, no permission) is thrown, since setting the
 * file aside would not help.
 */
export function openArchive(file: string, options: { now?: () => number } = {}): { db: Db; recovered: Recovery | null } {
  let reason: string;
  try {
    if (fs.existsSync(damageNote(file))) throw new ArchiveCorruptError(fs.readFileSync(damageNote(file), 'utf8'));
    if (fs.existsSync(file)) probe(file);
    return { db: openDatabase(file), recovered: null };
  } catch (error) {
    if (!isDamage(error)) throw error;
    reason = (error as Error).message;
  }
  const movedTo = moveAside(file, (options.now ?? Date.now)());
  return { db: openDatabase(file), recovered: { movedTo, reason } };
}

const CHECK_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
try { parentPort.postMessage(db.pragma('quick_check(10)')); } finally { db.close(); }
`;

/**
 * Where better-sqlite3 lives, so the worker loads the same module from whichever bundle runs.
 * (`node:module` is imported whole: the host bundle's banner already declares `createRequire`.)
 */
function betterSqlitePath(): string {
  const resolver = typeof require === 'function' ? require : module.createRequire(path.join(process.cwd(), 'index.js'));
  return resolver.resolve('better-sqlite3');
}

/** Runs the full check on `file` in a worker thread; resolves with the problems found (none when sound). */
export function checkInBackground(file: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(CHECK_WORKER, { eval: true, workerData: { module: betterSqlitePath(), file } });
    worker.unref();
    worker.once('message', (rows: Array<{ quick_check: string }>) => resolve(problems(rows)));
    worker.once('error', (error) => (isDamage(error) ? resolve([error.message]) : reject(error)));
    worker.once('exit', (code) => reject(new Error(`the check stopped early (${code})`)));
  });
}

/**
 * Checks `file` in the background. On damage, notes it beside the file (so the next start moves
 * the file aside) and calls `onDamage` with what was found. Resolves once the check is over.
 */
export async function watchHealth(file: string, onDamage: (reason: string) => void, log: (message: string) => void): Promise<void> {
  try {
    const found = await checkInBackground(file);
    if (found.length === 0) return;
    const reason = `The history file is damaged: ${found.join('; ')}`;
    fs.writeFileSync(damageNote(file), reason);
    onDamage(reason);
  } catch (error) {
    log(`the background check of the history file did not run: ${(error as Error).message}`);
  }
}
