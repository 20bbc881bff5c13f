// Opens the SQLite archive: WAL, foreign keys, the search-text function the index needs,
// migrations in one transaction each, and a clear refusal of a database written by a newer Heron.
import Database from 'better-sqlite3';
import { migrations, type Migration } from './migrations';
import { scopeText, searchText } from './search-text';

export type Db = Database.Database;

export class ArchiveVersionError extends Error {
  constructor(found: number, supported: number) {
    super(`This history was written by a newer Heron (schema ${found}; this version knows up to ${supported}). Update Heron to open it.`);
    this.name = 'ArchiveVersionError';
  }
}

export function openDatabase(file: string, schema: readonly Migration[] = migrations): Db {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL'); // with WAL: durable at checkpoints, never corrupt
    db.pragma('busy_timeout = 5000');
    registerFunctions(db);
    migrate(db, schema);
    db.pragma('foreign_keys = ON');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** The SQL functions the search index reads its content through (see `messages_fts_source`). */
export function registerFunctions(db: Db): void {
  db.function('heron_search_text', { deterministic: true }, (text: unknown) => searchText(String(text)));
  db.function('heron_scope', { deterministic: true, varargs: true }, (conversationId: unknown, sender: unknown, ...ids: unknown[]) =>
    scopeText(Number(conversationId), String(sender), ids.map((id) => (id === null ? null : String(id)))),
  );
}

/**
 * Brings `db` up to `schema.length`. Foreign keys are off while tables are rebuilt (SQLite
 * cannot toggle them inside a transaction) and checked before each migration commits.
 */
export function migrate(db: Db, schema: readonly Migration[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > schema.length) throw new ArchiveVersionError(current, schema.length);
  if (current === schema.length) return;
  db.pragma('foreign_keys = OFF');
  for (let version = current; version < schema.length; version++) {
    const step = schema[version]!;
    db.transaction(() => {
      if (typeof step === 'string') db.exec(step);
      else step(db);
      const broken = db.pragma('foreign_key_check') as unknown[];
      if (broken.length > 0) throw new Error(`Migration ${version + 1} left ${broken.length} broken references.`);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
