// The roster (RFC 6121) as last received, and the subscription requests waiting for the user.
import type { ContactView } from '../../../preload/contract';
import { Store } from './store';

export type RosterItem = {
  jid: string;
  name?: string;
  subscription: ContactView['subscription'];
  groups: string[];
  /** We asked to see their presence; no answer yet. */
  ask?: true;
  /** We pre-approved their request to see ours (RFC 6121 §3.4). */
  approved?: true;
};

export type SubscriptionRequestRecord = { jid: string; nick?: string; status?: string; receivedAt: number };

type ContactRow = { jid: string; name: string | null; subscription: RosterItem['subscription']; groups_json: string; ask: number; approved: number };

const CONTACT_COLUMNS = 'jid, name, subscription, groups_json, ask, approved';

function toRosterItem(row: ContactRow): RosterItem {
  return {
    jid: row.jid,
    ...(row.name ? { name: row.name } : {}),
    subscription: row.subscription,
    groups: JSON.parse(row.groups_json) as string[],
    ...(row.ask ? { ask: true as const } : {}),
    ...(row.approved ? { approved: true as const } : {}),
  };
}

export class RosterStore extends Store {
  replace(accountId: string, items: RosterItem[]): void {
    this.transaction(() => {
      this.sql('DELETE FROM contacts WHERE account_id = ?').run(accountId);
      for (const item of items) this.upsert(accountId, item);
    });
  }

  upsert(accountId: string, item: RosterItem): void {
    this.sql(
      `INSERT INTO contacts (account_id, jid, name, subscription, groups_json, ask, approved) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (account_id, jid) DO UPDATE SET name = excluded.name, subscription = excluded.subscription,
         groups_json = excluded.groups_json, ask = excluded.ask, approved = excluded.approved`,
    ).run(accountId, item.jid, item.name ?? null, item.subscription, JSON.stringify(item.groups), item.ask ? 1 : 0, item.approved ? 1 : 0);
  }

  /** One roster item by JID: an indexed lookup, cheap enough for every incoming stanza. */
  item(accountId: string, jid: string): RosterItem | undefined {
    const row = this.sql<[string, string], ContactRow>(`SELECT ${CONTACT_COLUMNS} FROM contacts WHERE account_id = ? AND jid = ?`).get(accountId, jid);
    return row ? toRosterItem(row) : undefined;
  }

  remove(accountId: string, jid: string): void {
    this.sql('DELETE FROM contacts WHERE account_id = ? AND jid = ?').run(accountId, jid);
  }

  list(accountId: string): RosterItem[] {
    return this.sql<[string], ContactRow>(`SELECT ${CONTACT_COLUMNS} FROM contacts WHERE account_id = ? ORDER BY coalesce(name, jid)`)
      .all(accountId)
      .map(toRosterItem);
  }

  listSubscriptionRequests(accountId: string): SubscriptionRequestRecord[] {
    return this.sql<[string], { jid: string; nick: string | null; status: string | null; received_at: number }>(
        'SELECT jid, nick, status, received_at FROM subscription_requests WHERE account_id = ? ORDER BY received_at, jid',
      )
      .all(accountId)
      .map((row) => ({
        jid: row.jid,
        ...(row.nick ? { nick: row.nick } : {}),
        ...(row.status ? { status: row.status } : {}),
        receivedAt: row.received_at,
      }));
  }

  /** Stores a request; one that repeats (servers re-deliver pending ones at login) keeps its first time. True when anything changed. */
  putSubscriptionRequest(accountId: string, request: SubscriptionRequestRecord): boolean {
    return (
      this.sql(
          `INSERT INTO subscription_requests (account_id, jid, nick, status, received_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (account_id, jid) DO UPDATE SET nick = excluded.nick, status = excluded.status
           WHERE nick IS NOT excluded.nick OR status IS NOT excluded.status`,
        )
        .run(accountId, request.jid, request.nick ?? null, request.status ?? null, request.receivedAt).changes > 0
    );
  }

  countSubscriptionRequests(accountId: string): number {
    return this.sql<[string], { n: number }>('SELECT count(*) AS n FROM subscription_requests WHERE account_id = ?').get(accountId)!.n;
  }

  /** True when there was such a request. */
  removeSubscriptionRequest(accountId: string, jid: string): boolean {
    return this.sql('DELETE FROM subscription_requests WHERE account_id = ? AND jid = ?').run(accountId, jid).changes > 0;
  }
}
