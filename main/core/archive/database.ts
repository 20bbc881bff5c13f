// Opens the SQLite archive: WAL, foreign keys, migrations in one transaction each,
// and a clear refusal of a database written by a newer Heron.
import Database from 'better-sqlite3';
import { migrations } from './migrations';

export type Db = Database.Database;

export class ArchiveVersionError extends Error {
  constructor(found: number, supported: number) {
    super(`This history was written by a newer Heron (schema ${found}; this version knows up to ${supported}). Update Heron to open it.`);
    this.name = 'ArchiveVersionError';
  }
}

export function openDatabase(file: string, schema: readonly string[] = migrations): Db {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL'); // with WAL: durable at checkpoints, never corrupt
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, schema);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

export function migrate(db: Db, schema: readonly string[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > schema.length) throw new ArchiveVersionError(current, schema.length);
  for (let version = current; version < schema.length; version++) {
    db.transaction(() => {
      db.exec(schema[version]!);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
