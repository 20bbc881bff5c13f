// Where each sync with the server stands: the roster version (XEP-0237) and, per archive, the
// last message caught up from it (XEP-0313).
import { Store } from './store';

/** Where a MAM catch-up of one archive stands; committed together with the page it describes. */
export type MamState = { lastStanzaId: string | null; lastTs: number | null; complete: boolean };

export class SyncStore extends Store {
  /** The roster version (XEP-0237) the cached roster matches; null when none is known. */
  getRosterVersion(accountId: string): string | null {
    return this.sql<[string], { ver: string }>('SELECT ver FROM roster_versions WHERE account_id = ?').get(accountId)?.ver ?? null;
  }

  setRosterVersion(accountId: string, ver: string | null): void {
    if (ver === null) this.sql('DELETE FROM roster_versions WHERE account_id = ?').run(accountId);
    else this.sql('INSERT OR REPLACE INTO roster_versions (account_id, ver) VALUES (?, ?)').run(accountId, ver);
  }

  getMamState(accountId: string, archiveJid: string): MamState | null {
    const row = this.sql<[string, string], { last_stanza_id: string | null; last_ts: number | null; complete: number }>(
      'SELECT last_stanza_id, last_ts, complete FROM mam_sync WHERE account_id = ? AND archive_jid = ?',
    ).get(accountId, archiveJid);
    return row ? { lastStanzaId: row.last_stanza_id, lastTs: row.last_ts, complete: row.complete === 1 } : null;
  }

  setMamState(accountId: string, archiveJid: string, state: MamState): void {
    this.sql(
      `INSERT INTO mam_sync (account_id, archive_jid, last_stanza_id, last_ts, complete) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (account_id, archive_jid) DO UPDATE SET
         last_stanza_id = excluded.last_stanza_id, last_ts = excluded.last_ts, complete = excluded.complete`,
    ).run(accountId, archiveJid, state.lastStanzaId, state.lastTs, state.complete ? 1 : 0);
  }
}
