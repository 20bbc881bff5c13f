// What the archive's stores share: one database handle, one cache of prepared statements, one
// clock. Each store is one area's tables (ARCHITECTURE.md, "The archive").
import type Database from 'better-sqlite3';
import type { Db } from './database';

export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

/** The database handle and its prepared statements, shared by every store. */
export class Statements {
  private readonly cache = new Map<string, Database.Statement>();

  constructor(
    readonly db: Db,
    readonly now: () => number,
  ) {}

  /** A prepared statement, compiled once per SQL text. */
  sql<P extends unknown[] = unknown[], R = unknown>(text: string): Database.Statement<P, R> {
    let statement = this.cache.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.cache.set(text, statement);
    }
    return statement as unknown as Database.Statement<P, R>;
  }

  /** Runs `fn` in one transaction (nested calls become savepoints): all of it commits, or none. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}

/** One area's tables, reached through the shared statements. */
export abstract class Store {
  constructor(protected readonly statements: Statements) {}

  protected sql<P extends unknown[] = unknown[], R = unknown>(text: string): Database.Statement<P, R> {
    return this.statements.sql<P, R>(text);
  }

  protected transaction<T>(fn: () => T): T {
    return this.statements.transaction(fn);
  }

  protected now(): number {
    return this.statements.now();
  }
}
