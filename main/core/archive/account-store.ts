// Accounts: who they are, their server settings, the certificate the user trusted, which SASL
// mechanisms they may use, the presence the user set, and their removal.
import type { OwnPresence } from '../../../preload/contract';
import { NotFoundError, Store } from './store';

export type AccountRecord = {
  id: string;
  jid: string;
  host: string | null;
  port: number | null;
  resource: string;
  enabled: boolean;
};

export class AccountStore extends Store {
  private readonly jids = new Map<string, string>();

  list(): AccountRecord[] {
    return this.sql<[], Omit<AccountRecord, 'enabled'> & { enabled: number }>(
      'SELECT id, jid, host, port, resource, enabled FROM accounts WHERE removing = 0 ORDER BY created_at, jid',
    )
      .all()
      .map((row) => ({ ...row, enabled: row.enabled === 1 }));
  }

  get(id: string): AccountRecord {
    const account = this.list().find((a) => a.id === id);
    if (!account) throw new NotFoundError(`No account ${id}.`);
    return account;
  }

  insert(account: AccountRecord): void {
    this.sql('INSERT INTO accounts (id, jid, host, port, resource, enabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      account.id,
      account.jid,
      account.host,
      account.port,
      account.resource,
      account.enabled ? 1 : 0,
      this.now(),
    );
  }

  /**
   * Removes an account with all its data. It disappears at once; its messages are deleted in
   * slices by `Purge.run` (which also finishes the job after a restart).
   */
  remove(id: string): void {
    this.transaction(() => {
      if (this.sql('UPDATE accounts SET removing = 1 WHERE id = ? AND removing = 0').run(id).changes === 0) {
        throw new NotFoundError(`No account ${id}.`);
      }
      this.sql('UPDATE conversations SET deleting = 1 WHERE account_id = ?').run(id);
      for (const table of ['contacts', 'mam_sync', 'contact_avatars']) this.sql(`DELETE FROM ${table} WHERE account_id = ?`).run(id);
    });
  }

  setServer(id: string, host: string | null, port: number | null): void {
    this.sql('UPDATE accounts SET host = ?, port = ? WHERE id = ?').run(host, port, id);
  }

  setEnabled(id: string, enabled: boolean): void {
    this.sql('UPDATE accounts SET enabled = ? WHERE id = ?').run(enabled ? 1 : 0, id);
  }

  /** SHA-256 fingerprint of the certificate the user trusted for this account, if any. */
  certificatePin(accountId: string): string | null {
    return (
      this.sql<[string], { sha256: string }>('SELECT sha256 FROM certificate_pins WHERE account_id = ?').get(accountId)?.sha256 ?? null
    );
  }

  setCertificatePin(accountId: string, sha256: string): void {
    this.sql(
        `INSERT INTO certificate_pins (account_id, sha256, trusted_at) VALUES (?, ?, ?)
         ON CONFLICT (account_id) DO UPDATE SET sha256 = excluded.sha256, trusted_at = excluded.trusted_at`,
      )
      .run(accountId, sha256, this.now());
  }

  /** Whether this account may log in with PLAIN: never logged in with SCRAM, or the user allowed it since. */
  plainAllowed(accountId: string): boolean {
    const row = this.sql<[string], { plain_allowed: number }>('SELECT plain_allowed FROM sasl_history WHERE account_id = ?').get(accountId);
    return !row || row.plain_allowed === 1;
  }

  /** A login with SCRAM worked: PLAIN is refused from now on, even if the user allowed it before. */
  noteScramLogin(accountId: string): void {
    this.sql(
      `INSERT INTO sasl_history (account_id, scram_at, plain_allowed) VALUES (?, ?, 0)
       ON CONFLICT (account_id) DO UPDATE SET scram_at = excluded.scram_at, plain_allowed = 0`,
    ).run(accountId, this.now());
  }

  /** The user allows PLAIN for this account although it logged in with SCRAM before. */
  allowPlain(accountId: string): void {
    this.sql('UPDATE sasl_history SET plain_allowed = 1 WHERE account_id = ?').run(accountId);
  }

  /**
   * Removes an account but keeps its chats readable: the row stays (messages hang off it) and is
   * marked removed; the trust decision goes. Adding the same address again brings it back.
   */
  detach(id: string): void {
    this.transaction(() => {
      this.sql('INSERT OR IGNORE INTO removed_accounts (account_id, removed_at) VALUES (?, ?)').run(id, this.now());
      this.sql('DELETE FROM certificate_pins WHERE account_id = ?').run(id);
    });
  }

  removedIds(): Set<string> {
    return new Set(this.sql<[], { account_id: string }>('SELECT account_id FROM removed_accounts').all().map((r) => r.account_id));
  }

  /** Brings back an account removed with its history kept, with the server settings given now. */
  reattach(id: string, host: string | null, port: number | null): void {
    this.transaction(() => {
      this.sql('DELETE FROM removed_accounts WHERE account_id = ?').run(id);
      this.setServer(id, host, port);
      this.setEnabled(id, true);
    });
  }

  /** The account's own bare JID, kept once read: message stores ask it for every write. */
  jid(accountId: string): string {
    let jid = this.jids.get(accountId);
    if (jid === undefined) {
      jid = this.sql<[string], { jid: string }>('SELECT jid FROM accounts WHERE id = ?').get(accountId)?.jid;
      if (jid === undefined) throw new NotFoundError(`No account ${accountId}.`);
      this.jids.set(accountId, jid);
    }
    return jid;
  }

  getOwnPresence(accountId: string): OwnPresence | null {
    const row = this.sql<[string], { show: OwnPresence['show']; status: string | null }>('SELECT show, status FROM own_presence WHERE account_id = ?')
      .get(accountId);
    return row ? { show: row.show, ...(row.status ? { status: row.status } : {}) } : null;
  }

  setOwnPresence(accountId: string, presence: OwnPresence): void {
    this.sql('INSERT OR REPLACE INTO own_presence (account_id, show, status) VALUES (?, ?, ?)')
      .run(accountId, presence.show, presence.status ?? null);
  }
}
