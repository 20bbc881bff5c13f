// The archive's queries. Every message write is idempotent and updates the conversation
// summary in the same transaction (DESIGN §3, §6).
import type { Db } from './database';
import type { ContactView, ConversationView, MessageState, MessageView, OwnPresence, PageCursor } from '../../../preload/contract';

export type AccountRecord = {
  id: string;
  jid: string;
  host: string | null;
  port: number | null;
  resource: string;
  enabled: boolean;
};

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

/** A message as the protocol layer hands it over, before it has a local id. */
export type MessageRecord = {
  peer: string;
  direction: 'in' | 'out';
  sender: string;
  messageId?: string;
  originId?: string;
  stanzaId?: { id: string; by: string };
  body: string;
  ts: number;
  state: MessageState;
  /** The sender asked to hear when we display it (XEP-0333). */
  markable?: boolean;
};

export type StoreResult = { message: MessageView; conversation: ConversationView; created: boolean };

/** A contact client's verified features (XEP-0115), keyed by caps node#ver. */
export type CapsRecord = { identities: unknown[]; features: string[] };

/** An incoming message as a read marker needs it. */
export type IncomingRef = { messageId: string | null; stanzaId: string | null; markable: boolean };

/** Where a MAM catch-up of one archive stands; committed together with the page it describes. */
export type MamState = { lastStanzaId: string | null; lastTs: number | null; complete: boolean };

type MessageRow = {
  id: number;
  conversation_id: number;
  account_id: string;
  direction: 'in' | 'out';
  sender: string;
  body: string;
  ts: number;
  state: MessageState;
  error: string | null;
  message_id: string | null;
  origin_id: string | null;
  stanza_id: string | null;
};

type ConversationRow = {
  id: number;
  account_id: string;
  peer: string;
  unread: number;
  last_body: string | null;
  last_ts: number | null;
  last_direction: 'in' | 'out' | null;
};

const MESSAGE_COLUMNS = `m.id, m.conversation_id, c.account_id, m.direction, m.sender, m.body, m.ts, m.state, m.error,
  m.message_id, m.origin_id, m.stanza_id`;
const CONVERSATION_SELECT = `SELECT c.id, c.account_id, c.peer, c.unread, m.body AS last_body, m.ts AS last_ts, m.direction AS last_direction
  FROM conversations c LEFT JOIN messages m ON m.id = c.last_message_id`;

function toMessageView(row: MessageRow): MessageView {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    accountId: row.account_id,
    direction: row.direction,
    from: row.sender,
    body: row.body,
    ts: row.ts,
    state: row.state,
    ...(row.error ? { error: row.error } : {}),
  };
}

function toConversationView(row: ConversationRow): ConversationView {
  return {
    id: row.id,
    accountId: row.account_id,
    peer: row.peer,
    kind: 'chat',
    unread: row.unread,
    ...(row.last_ts !== null && row.last_direction
      ? { last: { body: row.last_body ?? '', ts: row.last_ts, direction: row.last_direction } }
      : {}),
  };
}

export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

export class Archive {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  close(): void {
    this.db.close();
  }

  /** Runs `fn` in one transaction (nested calls become savepoints): all of it commits, or none. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // ── accounts ────────────────────────────────────────────────────────────
  listAccounts(): AccountRecord[] {
    return this.db
      .prepare<[], Omit<AccountRecord, 'enabled'> & { enabled: number }>(
        'SELECT id, jid, host, port, resource, enabled FROM accounts ORDER BY created_at, jid',
      )
      .all()
      .map((row) => ({ ...row, enabled: row.enabled === 1 }));
  }

  getAccount(id: string): AccountRecord {
    const account = this.listAccounts().find((a) => a.id === id);
    if (!account) throw new NotFoundError(`No account ${id}.`);
    return account;
  }

  insertAccount(account: AccountRecord): void {
    this.db
      .prepare('INSERT INTO accounts (id, jid, host, port, resource, enabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(account.id, account.jid, account.host, account.port, account.resource, account.enabled ? 1 : 0, this.now());
  }

  // ── account settings: server override, enabled, trusted certificate, removal ──
  setAccountServer(id: string, host: string | null, port: number | null): void {
    this.db.prepare('UPDATE accounts SET host = ?, port = ? WHERE id = ?').run(host, port, id);
  }

  setAccountEnabled(id: string, enabled: boolean): void {
    this.db.prepare('UPDATE accounts SET enabled = ? WHERE id = ?').run(enabled ? 1 : 0, id);
  }

  /** SHA-256 fingerprint of the certificate the user trusted for this account, if any. */
  certificatePin(accountId: string): string | null {
    return (
      this.db.prepare<[string], { sha256: string }>('SELECT sha256 FROM certificate_pins WHERE account_id = ?').get(accountId)?.sha256 ?? null
    );
  }

  setCertificatePin(accountId: string, sha256: string): void {
    this.db
      .prepare(
        `INSERT INTO certificate_pins (account_id, sha256, trusted_at) VALUES (?, ?, ?)
         ON CONFLICT (account_id) DO UPDATE SET sha256 = excluded.sha256, trusted_at = excluded.trusted_at`,
      )
      .run(accountId, sha256, this.now());
  }

  /**
   * Removes an account but keeps its chats readable: the row stays (messages hang off it) and is
   * marked removed; the trust decision goes. Adding the same address again brings it back.
   */
  detachAccount(id: string): void {
    this.transaction(() => {
      this.db.prepare('INSERT OR IGNORE INTO removed_accounts (account_id, removed_at) VALUES (?, ?)').run(id, this.now());
      this.db.prepare('DELETE FROM certificate_pins WHERE account_id = ?').run(id);
    });
  }

  removedAccountIds(): Set<string> {
    return new Set(this.db.prepare<[], { account_id: string }>('SELECT account_id FROM removed_accounts').all().map((r) => r.account_id));
  }

  /** Brings back an account removed with its history kept, with the server settings given now. */
  reattachAccount(id: string, host: string | null, port: number | null): void {
    this.transaction(() => {
      this.db.prepare('DELETE FROM removed_accounts WHERE account_id = ?').run(id);
      this.setAccountServer(id, host, port);
      this.setAccountEnabled(id, true);
    });
  }

  /** Removes an account with everything stored for it (rows cascade from the account). */
  removeAccount(id: string): void {
    this.db.prepare('DELETE FROM accounts WHERE id = ?').run(id);
  }

  // ── roster ──────────────────────────────────────────────────────────────
  replaceRoster(accountId: string, items: RosterItem[]): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM contacts WHERE account_id = ?').run(accountId);
      for (const item of items) this.upsertContact(accountId, item);
    })();
  }

  upsertContact(accountId: string, item: RosterItem): void {
    this.db
      .prepare(
        `INSERT INTO contacts (account_id, jid, name, subscription, groups_json, ask, approved) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (account_id, jid) DO UPDATE SET name = excluded.name, subscription = excluded.subscription,
           groups_json = excluded.groups_json, ask = excluded.ask, approved = excluded.approved`,
      )
      .run(accountId, item.jid, item.name ?? null, item.subscription, JSON.stringify(item.groups), item.ask ? 1 : 0, item.approved ? 1 : 0);
  }

  removeContact(accountId: string, jid: string): void {
    this.db.prepare('DELETE FROM contacts WHERE account_id = ? AND jid = ?').run(accountId, jid);
  }

  listRoster(accountId: string): RosterItem[] {
    return this.db
      .prepare<
        [string],
        { jid: string; name: string | null; subscription: RosterItem['subscription']; groups_json: string; ask: number; approved: number }
      >('SELECT jid, name, subscription, groups_json, ask, approved FROM contacts WHERE account_id = ? ORDER BY coalesce(name, jid)')
      .all(accountId)
      .map((row) => ({
        jid: row.jid,
        ...(row.name ? { name: row.name } : {}),
        subscription: row.subscription,
        groups: JSON.parse(row.groups_json) as string[],
        ...(row.ask ? { ask: true as const } : {}),
        ...(row.approved ? { approved: true as const } : {}),
      }));
  }

  // ── conversations ───────────────────────────────────────────────────────
  openConversation(accountId: string, peer: string): ConversationView {
    this.db.prepare('INSERT INTO conversations (account_id, peer) VALUES (?, ?) ON CONFLICT DO NOTHING').run(accountId, peer);
    const row = this.db
      .prepare<[string, string], ConversationRow>(`${CONVERSATION_SELECT} WHERE c.account_id = ? AND c.peer = ?`)
      .get(accountId, peer);
    return toConversationView(row!);
  }

  getConversation(id: number): ConversationView {
    const row = this.db.prepare<[number], ConversationRow>(`${CONVERSATION_SELECT} WHERE c.id = ?`).get(id);
    if (!row) throw new NotFoundError(`No conversation ${id}.`);
    return toConversationView(row);
  }

  /** All conversations, most recent first, with last message and unread count: one indexed query. */
  listConversations(): ConversationView[] {
    return this.db
      .prepare<[], ConversationRow>(`${CONVERSATION_SELECT} ORDER BY c.last_ts DESC NULLS LAST, c.id DESC`)
      .all()
      .map(toConversationView);
  }

  markRead(conversationId: number): ConversationView {
    this.db.prepare('UPDATE conversations SET unread = 0 WHERE id = ?').run(conversationId);
    return this.getConversation(conversationId);
  }

  // ── messages ────────────────────────────────────────────────────────────
  /**
   * Stores a message once, whichever way it arrives (live, carbon, archive, our own resend):
   * matched by the archive's stanza-id, else origin-id, else sender + message id.
   * A later copy fills in the ids the first one lacked.
   */
  storeMessage(accountId: string, record: MessageRecord): StoreResult {
    return this.db.transaction((): StoreResult => {
      const conversation = this.openConversation(accountId, record.peer);
      const existing = this.findDuplicate(conversation.id, record);
      if (existing) {
        if (record.stanzaId && !existing.stanza_id) {
          this.db
            .prepare('UPDATE messages SET stanza_id = ?, stanza_id_by = ? WHERE id = ?')
            .run(record.stanzaId.id, record.stanzaId.by, existing.id);
        }
        return { message: toMessageView(existing), conversation, created: false };
      }
      const inserted = this.db
        .prepare(
          `INSERT INTO messages (conversation_id, direction, sender, message_id, origin_id, stanza_id, stanza_id_by, body, ts, received_at, state, markable)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          conversation.id,
          record.direction,
          record.sender,
          record.messageId ?? null,
          record.originId ?? null,
          record.stanzaId?.id ?? null,
          record.stanzaId?.by ?? null,
          record.body,
          record.ts,
          this.now(),
          record.state,
          record.markable ? 1 : 0,
        );
      const id = Number(inserted.lastInsertRowid);
      // Only a newer message becomes the preview; history fetched later must not.
      this.db
        .prepare(
          `UPDATE conversations SET
             last_message_id = CASE WHEN last_ts IS NULL OR ? >= last_ts THEN ? ELSE last_message_id END,
             last_ts = max(coalesce(last_ts, 0), ?),
             unread = unread + ?
           WHERE id = ?`,
        )
        .run(record.ts, id, record.ts, record.direction === 'in' ? 1 : 0, conversation.id);
      return { message: this.getMessage(id), conversation: this.getConversation(conversation.id), created: true };
    })();
  }

  /** Stores a batch (a MAM page) in one transaction, each record as `storeMessage` would. */
  storeMessages(accountId: string, records: MessageRecord[]): StoreResult[] {
    return this.transaction(() => records.map((record) => this.storeMessage(accountId, record)));
  }

  // ── MAM sync state ──────────────────────────────────────────────────────
  getMamState(accountId: string, archiveJid: string): MamState | null {
    const row = this.db
      .prepare<[string, string], { last_stanza_id: string | null; last_ts: number | null; complete: number }>(
        'SELECT last_stanza_id, last_ts, complete FROM mam_sync WHERE account_id = ? AND archive_jid = ?',
      )
      .get(accountId, archiveJid);
    return row ? { lastStanzaId: row.last_stanza_id, lastTs: row.last_ts, complete: row.complete === 1 } : null;
  }

  setMamState(accountId: string, archiveJid: string, state: MamState): void {
    this.db
      .prepare(
        `INSERT INTO mam_sync (account_id, archive_jid, last_stanza_id, last_ts, complete) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (account_id, archive_jid) DO UPDATE SET
           last_stanza_id = excluded.last_stanza_id, last_ts = excluded.last_ts, complete = excluded.complete`,
      )
      .run(accountId, archiveJid, state.lastStanzaId, state.lastTs, state.complete ? 1 : 0);
  }

  private findDuplicate(conversationId: number, record: MessageRecord): MessageRow | undefined {
    const select = `SELECT ${MESSAGE_COLUMNS} FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.conversation_id = ?`;
    if (record.stanzaId) {
      const row = this.db
        .prepare<[number, string, string], MessageRow>(`${select} AND m.stanza_id_by = ? AND m.stanza_id = ?`)
        .get(conversationId, record.stanzaId.by, record.stanzaId.id);
      if (row) return row;
    }
    if (record.originId) {
      const row = this.db
        .prepare<[number, string, string], MessageRow>(`${select} AND m.sender = ? AND m.origin_id = ?`)
        .get(conversationId, record.sender, record.originId);
      if (row) return row;
    }
    if (record.messageId) {
      return this.db
        .prepare<[number, string, string], MessageRow>(`${select} AND m.sender = ? AND m.message_id = ?`)
        .get(conversationId, record.sender, record.messageId);
    }
    return undefined;
  }

  getMessage(id: number): MessageView {
    const row = this.db
      .prepare<[number], MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.id = ?`)
      .get(id);
    if (!row) throw new NotFoundError(`No message ${id}.`);
    return toMessageView(row);
  }

  /** Newest-first keyset page before `before`, returned oldest-first for display. */
  pageBefore(conversationId: number, before: PageCursor | undefined, limit: number): { messages: MessageView[]; hasMoreBefore: boolean } {
    const cursor = before ?? { ts: Number.MAX_SAFE_INTEGER, id: Number.MAX_SAFE_INTEGER };
    const rows = this.db
      .prepare<[number, number, number, number], MessageRow>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages m JOIN conversations c ON c.id = m.conversation_id
         WHERE m.conversation_id = ? AND (m.ts, m.id) < (?, ?)
         ORDER BY m.ts DESC, m.id DESC LIMIT ?`,
      )
      .all(conversationId, cursor.ts, cursor.id, limit + 1);
    const hasMoreBefore = rows.length > limit;
    return { messages: rows.slice(0, limit).reverse().map(toMessageView), hasMoreBefore };
  }

  /** Moves an outgoing message on (pending → sent → delivered → read); never backwards. */
  advanceOutgoing(accountId: string, peer: string, messageId: string, state: MessageState, error?: string): MessageView | undefined {
    const order: MessageState[] = ['pending', 'sent', 'delivered', 'read'];
    const row = this.db
      .prepare<[string, string, string], { id: number; state: MessageState }>(
        `SELECT m.id, m.state FROM messages m JOIN conversations c ON c.id = m.conversation_id
         WHERE c.account_id = ? AND c.peer = ? AND m.direction = 'out' AND m.message_id = ?`,
      )
      .get(accountId, peer, messageId);
    if (!row) return undefined;
    // A late server ack must not hide an error that came first; a receipt or marker still may.
    if (state === 'sent' && row.state === 'failed') return undefined;
    const forward = state === 'failed' ? row.state === 'pending' || row.state === 'sent' : order.indexOf(state) > order.indexOf(row.state);
    if (!forward) return undefined;
    this.db.prepare('UPDATE messages SET state = ?, error = ? WHERE id = ?').run(state, error ?? null, row.id);
    return this.getMessage(row.id);
  }

  /** Outgoing messages not yet acknowledged by the server, oldest first: the outbox. */
  pendingOutgoing(accountId: string): Array<MessageView & { peer: string; messageId: string }> {
    return this.db
      .prepare<[string], MessageRow & { peer: string }>(
        `SELECT ${MESSAGE_COLUMNS}, c.peer FROM messages m JOIN conversations c ON c.id = m.conversation_id
         WHERE m.state = 'pending' AND c.account_id = ? ORDER BY m.id`,
      )
      .all(accountId)
      .map((row) => ({ ...toMessageView(row), peer: row.peer, messageId: row.message_id ?? String(row.id) }));
  }

  /** Time of the newest message from `sender` in this conversation: the floor for the next one from the server. */
  newestTsFrom(accountId: string, peer: string, sender: string): number | null {
    const row = this.db
      .prepare<[string, string, string], { ts: number }>(
        `SELECT m.ts FROM conversations c JOIN messages m ON m.conversation_id = c.id
         WHERE c.account_id = ? AND c.peer = ? AND m.sender = ? ORDER BY m.ts DESC, m.id DESC LIMIT 1`,
      )
      .get(accountId, peer, sender);
    return row?.ts ?? null;
  }

  // ── contacts: roster version, own presence, subscription requests ──────
  /** The roster version (XEP-0237) the cached roster matches; null when none is known. */
  getRosterVersion(accountId: string): string | null {
    return this.db.prepare<[string], { ver: string }>('SELECT ver FROM roster_versions WHERE account_id = ?').get(accountId)?.ver ?? null;
  }

  setRosterVersion(accountId: string, ver: string | null): void {
    if (ver === null) this.db.prepare('DELETE FROM roster_versions WHERE account_id = ?').run(accountId);
    else this.db.prepare('INSERT OR REPLACE INTO roster_versions (account_id, ver) VALUES (?, ?)').run(accountId, ver);
  }

  getOwnPresence(accountId: string): OwnPresence | null {
    const row = this.db
      .prepare<[string], { show: OwnPresence['show']; status: string | null }>('SELECT show, status FROM own_presence WHERE account_id = ?')
      .get(accountId);
    return row ? { show: row.show, ...(row.status ? { status: row.status } : {}) } : null;
  }

  setOwnPresence(accountId: string, presence: OwnPresence): void {
    this.db
      .prepare('INSERT OR REPLACE INTO own_presence (account_id, show, status) VALUES (?, ?, ?)')
      .run(accountId, presence.show, presence.status ?? null);
  }

  listSubscriptionRequests(accountId: string): SubscriptionRequestRecord[] {
    return this.db
      .prepare<[string], { jid: string; nick: string | null; status: string | null; received_at: number }>(
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
      this.db
        .prepare(
          `INSERT INTO subscription_requests (account_id, jid, nick, status, received_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (account_id, jid) DO UPDATE SET nick = excluded.nick, status = excluded.status
           WHERE nick IS NOT excluded.nick OR status IS NOT excluded.status`,
        )
        .run(accountId, request.jid, request.nick ?? null, request.status ?? null, request.receivedAt).changes > 0
    );
  }

  /** True when there was such a request. */
  removeSubscriptionRequest(accountId: string, jid: string): boolean {
    return this.db.prepare('DELETE FROM subscription_requests WHERE account_id = ? AND jid = ?').run(accountId, jid).changes > 0;
  }

  // ── read state (XEP-0333 markers, XEP-0490 synchronization) ─────────────
  /** The newest `limit` incoming messages of a conversation, newest first: what a read covers. */
  recentIncoming(conversationId: number, limit: number): IncomingRef[] {
    return this.db
      .prepare<[number, number], { message_id: string | null; stanza_id: string | null; markable: number }>(
        `SELECT message_id, stanza_id, markable FROM messages WHERE conversation_id = ? AND direction = 'in'
         ORDER BY ts DESC, id DESC LIMIT ?`,
      )
      .all(conversationId, limit)
      .map((row) => ({ messageId: row.message_id, stanzaId: row.stanza_id, markable: row.markable === 1 }));
  }

  /**
   * The peer displayed our messages up to `messageId` (our id): it and the ones before it
   * that were sent or delivered become read. Never backwards: stops at one already read.
   */
  readOutgoingUpTo(accountId: string, peer: string, messageId: string): MessageView[] {
    return this.transaction(() => {
      const target = this.db
        .prepare<[string, string, string], { id: number; ts: number; conversation_id: number }>(
          `SELECT m.id, m.ts, m.conversation_id FROM messages m JOIN conversations c ON c.id = m.conversation_id
           WHERE c.account_id = ? AND c.peer = ? AND m.direction = 'out' AND m.message_id = ?`,
        )
        .get(accountId, peer, messageId);
      if (!target) return [];
      const older = this.db
        .prepare<[number, number, number], { id: number; state: MessageState }>(
          `SELECT id, state FROM messages WHERE conversation_id = ? AND direction = 'out' AND (ts, id) <= (?, ?)
           ORDER BY ts DESC, id DESC`,
        )
        .iterate(target.conversation_id, target.ts, target.id);
      const ids: number[] = [];
      for (const row of older) {
        if (row.state === 'read') break;
        // The marked message itself was evidently received, even if our server's ack is still out.
        if (row.state === 'sent' || row.state === 'delivered' || (row.id === target.id && row.state === 'pending')) ids.push(row.id);
      }
      const update = this.db.prepare("UPDATE messages SET state = 'read', error = NULL WHERE id = ?");
      for (const id of ids) update.run(id);
      return ids.reverse().map((id) => this.getMessage(id));
    });
  }

  /**
   * One of my devices displayed the chat with `peer` up to a message (by the peer's message id
   * or our archive's stanza-id): only what came after it stays unread. Never raises the count,
   * never creates a conversation; undefined when nothing changed.
   */
  readIncomingUpTo(accountId: string, peer: string, ref: { messageId: string } | { stanzaId: string }): ConversationView | undefined {
    return this.transaction(() => {
      const conversation = this.db
        .prepare<[string, string], { id: number; unread: number }>('SELECT id, unread FROM conversations WHERE account_id = ? AND peer = ?')
        .get(accountId, peer);
      if (!conversation || conversation.unread === 0) return undefined;
      const target =
        'messageId' in ref
          ? this.db
              .prepare<[number, string, string], { id: number; ts: number }>(
                `SELECT id, ts FROM messages WHERE conversation_id = ? AND direction = 'in' AND sender = ? AND message_id = ?`,
              )
              .get(conversation.id, peer, ref.messageId)
          : this.db
              .prepare<[number, string, string], { id: number; ts: number }>(
                'SELECT m.id, m.ts FROM messages m WHERE m.conversation_id = ? AND m.stanza_id_by = ? AND m.stanza_id = ?',
              )
              .get(conversation.id, this.getAccount(accountId).jid, ref.stanzaId);
      if (!target) return undefined;
      const { after } = this.db
        .prepare<[number, number, number], { after: number }>(
          `SELECT count(*) AS after FROM messages WHERE conversation_id = ? AND direction = 'in' AND (ts, id) > (?, ?)`,
        )
        .get(conversation.id, target.ts, target.id)!;
      if (after >= conversation.unread) return undefined;
      this.db.prepare('UPDATE conversations SET unread = ? WHERE id = ?').run(after, conversation.id);
      return this.getConversation(conversation.id);
    });
  }

  // ── caps cache (XEP-0115) ───────────────────────────────────────────────
  getCaps(nodeVer: string): CapsRecord | null {
    const row = this.db
      .prepare<[string], { identities_json: string; features_json: string }>('SELECT identities_json, features_json FROM caps_cache WHERE node_ver = ?')
      .get(nodeVer);
    return row ? { identities: JSON.parse(row.identities_json) as unknown[], features: JSON.parse(row.features_json) as string[] } : null;
  }

  putCaps(nodeVer: string, caps: CapsRecord): void {
    this.db
      .prepare('INSERT OR REPLACE INTO caps_cache (node_ver, identities_json, features_json, fetched_at) VALUES (?, ?, ?, ?)')
      .run(nodeVer, JSON.stringify(caps.identities), JSON.stringify(caps.features), this.now());
  }
}
