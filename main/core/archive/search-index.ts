// The full-text index of messages (FTS5, DESIGN §6). Every store that adds, changes or
// deletes a message keeps the index in step through these two.
import { scopeText, searchText } from './search-text';
import { Store } from './store';

/** What the index holds of a message: its text, and the scope (conversation, sender, ids) searches filter on. */
export type IndexedRow = {
  id: number;
  conversation_id: number;
  sender: string;
  body: string;
  origin_id: string | null;
  message_id: string | null;
  stanza_id: string | null;
};

export class SearchIndex extends Store {
  /** Adds a message to the search index; every store that writes messages keeps the index in step. */
  index(row: IndexedRow): void {
    this.sql('INSERT INTO messages_fts (rowid, body, scope) VALUES (?, ?, ?)').run(
      row.id,
      searchText(row.body),
      scopeText(row.conversation_id, row.sender, [row.origin_id, row.message_id, row.stanza_id]),
    );
  }

  /** Takes a message out of the search index; FTS5 needs exactly what was indexed. */
  unindex(row: IndexedRow): void {
    this.sql("INSERT INTO messages_fts (messages_fts, rowid, body, scope) VALUES ('delete', ?, ?, ?)").run(
      row.id,
      searchText(row.body),
      scopeText(row.conversation_id, row.sender, [row.origin_id, row.message_id, row.stanza_id]),
    );
  }
}
