// Deleting conversations and removed accounts in short slices, so a large history goes without
// blocking the main process; it resumes after a restart.
import type { IndexedRow, SearchIndex } from './search-index';
import { nextSliceSize, yieldToEventLoop } from './slices';
import { Statements, Store } from './store';

export class Purge extends Store {
  private running: Promise<void> | undefined;

  constructor(
    statements: Statements,
    private readonly searchIndex: SearchIndex,
  ) {
    super(statements);
  }

  /**
   * Deletes up to `slice` messages of deleted conversations, then the emptied conversations
   * and removed accounts. One short transaction; returns whether work remains.
   */
  step(slice: number): boolean {
    return this.transaction(() => {
      const doomed = this.sql<[], { id: number; account_id: string }>('SELECT id, account_id FROM conversations WHERE deleting = 1 LIMIT 1').get();
      if (doomed) {
        const rows = this.sql<[number, number], IndexedRow>(
          'SELECT id, conversation_id, sender, body, origin_id, message_id, stanza_id FROM messages WHERE conversation_id = ? LIMIT ?',
        ).all(doomed.id, slice);
        const remove = this.sql('DELETE FROM messages WHERE id = ?');
        for (const row of rows) {
          this.searchIndex.unindex(row);
          remove.run(row.id);
        }
        if (rows.length < slice) {
          this.sql('DELETE FROM conversations WHERE id = ?').run(doomed.id);
          // What OMEMO decrypted is kept a while for copies of it (omemo_opened): not past a
          // deletion. It does not say which chat it came from, so the account's go.
          this.sql('DELETE FROM omemo_opened WHERE account_id = ?').run(doomed.account_id);
        }
        return true;
      }
      this.sql(
        'DELETE FROM accounts WHERE removing = 1 AND NOT EXISTS (SELECT 1 FROM conversations WHERE account_id = accounts.id)',
      ).run();
      return false;
    });
  }

  /** Runs `step` until nothing is left, in slices sized to stay short, yielding in between. */
  run(): Promise<void> {
    this.running ??= this.inSlices().finally(() => (this.running = undefined));
    return this.running;
  }

  private async inSlices(): Promise<void> {
    for (let size = 100; this.statements.db.open; ) {
      const started = performance.now();
      if (!this.step(size)) return;
      size = nextSliceSize(size, performance.now() - started);
      await yieldToEventLoop();
    }
  }
}
