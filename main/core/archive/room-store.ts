// The rooms an account is in (XEP-0045), with the nick it uses and the subject last seen.
import { Store } from './store';

/** A room the user is in (or wants to be in again after a reconnect or a restart). */
export type RoomRecord = { jid: string; nick: string; subject?: string };

export class RoomStore extends Store {
  list(accountId: string): RoomRecord[] {
    return this.sql<[string], { jid: string; nick: string; subject: string | null }>('SELECT jid, nick, subject FROM rooms WHERE account_id = ? ORDER BY jid')
      .all(accountId)
      .map((row) => ({ jid: row.jid, nick: row.nick, ...(row.subject !== null ? { subject: row.subject } : {}) }));
  }

  put(accountId: string, room: RoomRecord): void {
    this.sql(
      `INSERT INTO rooms (account_id, jid, nick, subject) VALUES (?, ?, ?, ?)
       ON CONFLICT (account_id, jid) DO UPDATE SET nick = excluded.nick, subject = excluded.subject`,
    ).run(accountId, room.jid, room.nick, room.subject ?? null);
  }

  remove(accountId: string, jid: string): void {
    this.sql('DELETE FROM rooms WHERE account_id = ? AND jid = ?').run(accountId, jid);
  }
}
