// What is fetched once and kept: entity capabilities (XEP-0115) by their hash, and avatars
// (XEP-0084, XEP-0153) by theirs, with which contact shows which.
import { Store } from './store';

export type CapsRecord = { identities: unknown[]; features: string[] };

export class CacheStore extends Store {
  getCaps(nodeVer: string): CapsRecord | null {
    const row = this.sql<[string], { identities_json: string; features_json: string }>(
      'SELECT identities_json, features_json FROM caps_cache WHERE node_ver = ?',
    ).get(nodeVer);
    return row ? { identities: JSON.parse(row.identities_json) as unknown[], features: JSON.parse(row.features_json) as string[] } : null;
  }

  putCaps(nodeVer: string, caps: CapsRecord): void {
    this.sql('INSERT OR REPLACE INTO caps_cache (node_ver, identities_json, features_json, fetched_at) VALUES (?, ?, ?, ?)').run(
      nodeVer,
      JSON.stringify(caps.identities),
      JSON.stringify(caps.features),
      this.now(),
    );
  }

  /** Records which avatar (by hash) a contact shows; the image itself may follow later. */
  setContactAvatar(accountId: string, jid: string, hash: string | null): void {
    if (hash === null) this.sql('DELETE FROM contact_avatars WHERE account_id = ? AND jid = ?').run(accountId, jid);
    else this.sql('INSERT OR REPLACE INTO contact_avatars (account_id, jid, hash) VALUES (?, ?, ?)').run(accountId, jid, hash);
  }

  putAvatar(hash: string, mime: string, data: Buffer): void {
    this.sql('INSERT OR IGNORE INTO avatars (hash, mime, data, fetched_at) VALUES (?, ?, ?, ?)').run(hash, mime, data, this.now());
  }

  /** A contact's avatar: its hash, and the image when we have it. */
  getContactAvatar(accountId: string, jid: string): { hash: string; image?: { mime: string; data: Buffer } } | null {
    const row = this.sql<[string, string], { hash: string; mime: string | null; data: Buffer | null }>(
      `SELECT ca.hash, a.mime, a.data FROM contact_avatars ca LEFT JOIN avatars a ON a.hash = ca.hash WHERE ca.account_id = ? AND ca.jid = ?`,
    ).get(accountId, jid);
    if (!row) return null;
    return { hash: row.hash, ...(row.mime !== null && row.data !== null ? { image: { mime: row.mime, data: row.data } } : {}) };
  }
}
