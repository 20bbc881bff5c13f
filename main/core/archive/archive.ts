// The archive's queries. Every message write is idempotent and updates the conversation
// summary in the same transaction (DESIGN §3, §6). Message ids follow time (see `timeKey`), so
// every hot read walks an index in order and stops after the rows it returns.
import type Database from 'better-sqlite3';
import type { Db } from './database';
import { OmemoArchive } from './omemo-store';
import type {
  AttachmentView,
  ContactView,
  ConversationView,
  MessageState,
  MessageView,
  OwnPresence,
  PageCursor,
  SearchHit,
  SearchResult,
} from '../../../preload/contract';
import { HIT_CLOSE, HIT_OPEN, ftsMatch, parseSnippet, scopeMatch } from './fts-query';
import { refToken, scopeText, searchText } from './search-text';
import { nextSliceSize, yieldToEventLoop } from './slices';
import { rankByRelevance } from './ranking';

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

export type AttachmentRecord = AttachmentView;

/** A message as the protocol layer hands it over, before it has a local id. */
export type MessageRecord = {
  peer: string;
  direction: 'in' | 'out';
  sender: string;
  /** XEP-0421, in rooms: who the sender is across nick changes. */
  occupantId?: string;
  messageId?: string;
  originId?: string;
  stanzaId?: { id: string; by: string };
  body: string;
  ts: number;
  state: MessageState;
  /** XEP-0308: this message corrects the sender's message with this id. */
  replaces?: string;
  /** XEP-0461: the message this one answers. */
  replyTo?: { id: string; to?: string };
  attachments?: AttachmentRecord[];
  /** The sender asked to hear when we display it (XEP-0333). */
  markable?: boolean;
  /** From someone not in our roster: a conversation this message opens waits in message requests. */
  stranger?: boolean;
  /** OMEMO (XEP-0384): `omemo` the legacy 0.3, `omemo2` OMEMO 2; the sending device's id. */
  encryption?: 'omemo' | 'omemo2';
  senderDevice?: number;
  /** Encrypted, but it could not be decrypted: the body says why. */
  undecryptable?: true;
};

/** Where each record of a batch goes in time, given what was stored before it (features/ordering.ts ArchiveOrder). */
export type Placement = {
  place(record: MessageRecord): number;
  stored(record: MessageRecord, ts: number): void;
};

/** A retraction (XEP-0424) or a sender's set of reactions (XEP-0444) naming an earlier message. */
export type MessageEventRecord = {
  kind: 'retraction' | 'reaction';
  peer: string;
  sender: string;
  occupantId?: string;
  /** The id the event names: the message's stanza-id, origin-id or id. */
  target: string;
  messageId?: string;
  originId?: string;
  stanzaId?: { id: string; by: string };
  ts: number;
  /** Reactions: the sender's whole current set (an empty set takes them all back). */
  emojis?: string[];
  /** A retraction the room itself announces for a moderator (XEP-0425): it applies whoever wrote the message. */
  moderated?: true;
  /** One we send: it waits in the outbox until the server acknowledges it. */
  pending?: boolean;
};

/** A correction, reaction or retraction of ours the server has not acknowledged yet: the outbox's relations. */
export type PendingEvent = {
  kind: 'correction' | 'reaction' | 'retraction';
  peer: string;
  /** Our id for the event stanza. */
  id: string;
  /** The id it names (see MessageEventRecord.target). */
  target: string;
  /** Corrections: the new text; reactions: the emojis, as JSON. Empty for a correction of a since-retracted message. */
  payload: string;
};

/** A stored message's ids and place, for naming it in a relation we send. */
export type MessageRefs = {
  accountId: string;
  conversationId: number;
  peer: string;
  direction: 'in' | 'out';
  sender: string;
  messageId?: string;
  originId?: string;
  retracted: boolean;
  notice: boolean;
};

/** A room the user is in (or wants to be in again after a reconnect or a restart). */
export type RoomRecord = { jid: string; nick: string; subject?: string };

/**
 * `created`: a new message was stored. `updated`: an earlier message changed (a correction was
 * applied); `message` is then that earlier message as it now reads.
 */
export type StoreResult = { message: MessageView; conversation: ConversationView; created: boolean; updated: boolean };

/** `message`: the message the event applied to, as it now reads; null while it has not arrived. */
export type EventResult = { message: MessageView | null; conversation: ConversationView; created: boolean };

/** A message with all it carries, for an export. */
export type ExportedMessage = MessageView & {
  receivedAt: number;
  messageId?: string;
  originId?: string;
  stanzaId?: { id: string; by: string };
  occupantId?: string;
  /** The first version of a corrected message. */
  originalBody?: string;
  corrections?: Array<{ ts: number; body: string }>;
};

/** Where a MAM catch-up of one archive stands; committed together with the page it describes. */
export type MamState = { lastStanzaId: string | null; lastTs: number | null; complete: boolean };

export type CapsRecord = { identities: unknown[]; features: string[] };

/** An incoming message as a read marker needs it. */
export type IncomingRef = { messageId: string | null; stanzaId: string | null; markable: boolean };

export type SearchQuery = {
  query: string;
  accountId?: string;
  conversationId?: number;
  sender?: string;
  /** Inclusive lower and exclusive upper bound, ms since epoch. */
  from?: number;
  to?: number;
  order?: 'newest' | 'relevance';
  /** From a previous result's `nextBefore` (newest order only). */
  before?: number;
  limit: number;
};

// ── time-ordered ids ────────────────────────────────────────────────────────
/** Ids per millisecond: a message's id is ts * ID_SLOTS + n. */
const ID_SLOTS = 2048;
/** The largest storable time (year 2109): (MAX_TS + 1) * ID_SLOTS is 2^53, still exact in a JS number. */
const MAX_TS = 2 ** 42 - 1;

export function clampTs(ts: number): number {
  return Math.min(Math.max(Math.trunc(ts), 0), MAX_TS);
}

/** The first id a message at `ts` can have; ids below it are older. */
export function timeKey(ts: number): number {
  return clampTs(ts) * ID_SLOTS;
}

/** Relevance ranking looks at this many newest matches at most (DESIGN §6; ranking.ts). */
export const RANK_WINDOW = 1000;

// ── rows ────────────────────────────────────────────────────────────────────
type MessageRow = {
  id: number;
  conversation_id: number;
  account_id: string;
  peer: string;
  direction: 'in' | 'out';
  sender: string;
  occupant_id: string | null;
  body: string;
  ts: number;
  state: MessageState;
  error: string | null;
  message_id: string | null;
  origin_id: string | null;
  stanza_id: string | null;
  edited_at: number | null;
  retracted_at: number | null;
  reply_to_ref: string | null;
  reply_to_sender: string | null;
  kind: 'chat' | 'gap';
  gap_until: number | null;
  encryption: 'omemo' | 'omemo2' | null;
  sender_device: number | null;
  undecryptable: number;
};

/** Message columns; the queries join `conversations c` for the account and peer. */
const MESSAGE_COLUMNS = `m.id, m.conversation_id, c.account_id, c.peer, m.direction, m.sender, m.occupant_id, m.body, m.ts, m.state, m.error,
  m.message_id, m.origin_id, m.stanza_id, m.edited_at, m.retracted_at, m.reply_to_ref, m.reply_to_sender, m.kind, m.gap_until,
  m.encryption, m.sender_device, m.undecryptable`;

type ConversationRow = {
  id: number;
  account_id: string;
  peer: string;
  unread: number;
  last_body: string | null;
  last_ts: number | null;
  last_direction: 'in' | 'out' | null;
  request: RequestState;
  kind: 'chat' | 'groupchat';
  pinned: number;
  muted: number;
  draft: string;
};

/** conversations.request: 0 in the chat list, 1 waiting in message requests, 2 turned away (hidden, kept). */
type RequestState = 0 | 1 | 2;
const REQUEST_STATES = { accepted: 0, waiting: 1, declined: 2 } as const;
export type RequestDecision = keyof typeof REQUEST_STATES;

const MESSAGES_FROM = 'messages m JOIN conversations c ON c.id = m.conversation_id';
/** Search results: CROSS JOIN keeps the index walk outermost, so MATCH and its rowid order drive the query. */
const FTS_FROM = 'messages_fts f CROSS JOIN messages m ON m.id = f.rowid CROSS JOIN conversations c ON c.id = m.conversation_id';
const CONVERSATION_SELECT = `SELECT c.id, c.account_id, c.peer, c.unread, m.body AS last_body, m.ts AS last_ts, m.direction AS last_direction, c.request, c.kind,
  c.pinned, c.muted, c.draft
  FROM conversations c LEFT JOIN messages m ON m.id = c.last_message_id`;

type EventRow = { id: number; target_id: number | null; kind: 'correction' | 'retraction' | 'reaction'; sender: string; occupant_id: string | null; ts: number; payload: string };

type AttachmentRow = { message_id: number; url: string; name: string | null; mime: string | null; size: number | null; width: number | null; height: number | null };

/** What one `storeMessages` call has learnt so far: conversation ids by peer, and what it added to each. */
type Batch = { accountId: string; conversations: Map<string, number>; added: Map<number, Added>; eventsWaiting: boolean };
type Added = { maxId: number; incoming: number[]; maxOut: number };

/** What the search index holds of a message. */
function encryptionView(encryption: 'omemo' | 'omemo2' | null, senderDevice: number | null, undecryptable: number): Partial<MessageView> {
  return {
    ...(encryption ? { encryption } : {}),
    ...(senderDevice !== null ? { senderDevice } : {}),
    ...(undecryptable ? { undecryptable: true as const } : {}),
  };
}

type IndexedRow = Pick<MessageRow, 'id' | 'conversation_id' | 'sender' | 'body' | 'origin_id' | 'message_id' | 'stanza_id'>;

/** The ids a stanza carries, as the dedupe lookups need them. */
type StanzaIds = { sender: string; messageId?: string; originId?: string; stanzaId?: { id: string; by: string } };

/** A stanza's ids as the columns sender, occupant_id, message_id, origin_id, stanza_id, stanza_id_by take them. */
function idValues(ids: StanzaIds & { occupantId?: string | undefined }): Array<string | null> {
  return [ids.sender, ids.occupantId ?? null, ids.messageId ?? null, ids.originId ?? null, ids.stanzaId?.id ?? null, ids.stanzaId?.by ?? null];
}

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

function toConversationView(row: ConversationRow): ConversationView {
  return {
    id: row.id,
    accountId: row.account_id,
    peer: row.peer,
    // A private message from a room occupant has the occupant's room JID (room@service/nick) as its peer.
    kind: row.kind === 'groupchat' ? 'groupchat' : row.peer.includes('/') ? 'private' : 'chat',
    unread: row.unread,
    pinned: row.pinned === 1,
    muted: row.muted === 1,
    draft: row.draft,
    ...(row.request === 1 ? { request: 'waiting' as const } : row.request === 2 ? { request: 'declined' as const } : {}),
    ...(row.last_ts !== null && row.last_direction
      ? { last: { body: row.last_body ?? '', ts: row.last_ts, direction: row.last_direction } }
      : {}),
  };
}

function toAttachmentView(row: AttachmentRow): AttachmentView {
  return {
    url: row.url,
    ...(row.name !== null ? { name: row.name } : {}),
    ...(row.mime !== null ? { mime: row.mime } : {}),
    ...(row.size !== null ? { size: row.size } : {}),
    ...(row.width !== null ? { width: row.width } : {}),
    ...(row.height !== null ? { height: row.height } : {}),
  };
}

/**
 * Current reactions from the latest reaction event of each reacting person: a sender, and in
 * rooms its occupant-id (a nick can change hands; the one who took it has reactions of its own).
 */
export function summarizeReactions(events: Array<{ sender: string; occupant_id: string | null; ts: number; payload: string }>): MessageView['reactions'] {
  const latest = new Map<string, { sender: string; ts: number; emojis: string[] }>();
  for (const event of events) {
    const key = `${event.sender}\u0000${event.occupant_id ?? ''}`;
    const seen = latest.get(key);
    if (!seen || event.ts >= seen.ts) latest.set(key, { sender: event.sender, ts: event.ts, emojis: JSON.parse(event.payload) as string[] });
  }
  const byEmoji = new Map<string, string[]>();
  for (const { sender, emojis } of latest.values()) {
    for (const emoji of new Set(emojis)) byEmoji.set(emoji, [...(byEmoji.get(emoji) ?? []), sender]);
  }
  return [...byEmoji].map(([emoji, from]) => ({ emoji, from: [...new Set(from)].sort() }));
}

export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

export class Archive {
  private readonly statements = new Map<string, Database.Statement>();
  private readonly accountJids = new Map<string, string>();
  private purging: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  /** OMEMO's keys, sessions, devices and per-conversation switch (omemo-store.ts). */
  omemo(): OmemoArchive {
    return (this.omemoArchive ??= new OmemoArchive(this.db));
  }
  private omemoArchive: OmemoArchive | undefined;

  /** A prepared statement, compiled once per SQL text. */
  private sql<P extends unknown[] = unknown[], R = unknown>(text: string): Database.Statement<P, R> {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement as unknown as Database.Statement<P, R>;
  }

  close(): void {
    this.db.close();
  }

  /** Runs `fn` in one transaction (nested calls become savepoints): all of it commits, or none. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // ── accounts ────────────────────────────────────────────────────────────
  listAccounts(): AccountRecord[] {
    return this.sql<[], Omit<AccountRecord, 'enabled'> & { enabled: number }>(
      'SELECT id, jid, host, port, resource, enabled FROM accounts WHERE removing = 0 ORDER BY created_at, jid',
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
   * slices by `purgeDeleted` (which also finishes the job after a restart).
   */
  removeAccount(id: string): void {
    this.transaction(() => {
      if (this.sql('UPDATE accounts SET removing = 1 WHERE id = ? AND removing = 0').run(id).changes === 0) {
        throw new NotFoundError(`No account ${id}.`);
      }
      this.sql('UPDATE conversations SET deleting = 1 WHERE account_id = ?').run(id);
      for (const table of ['contacts', 'mam_sync', 'contact_avatars']) this.sql(`DELETE FROM ${table} WHERE account_id = ?`).run(id);
    });
  }

  // ── account settings: server override, enabled, trusted certificate, removal ──
  setAccountServer(id: string, host: string | null, port: number | null): void {
    this.sql('UPDATE accounts SET host = ?, port = ? WHERE id = ?').run(host, port, id);
  }

  setAccountEnabled(id: string, enabled: boolean): void {
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
  detachAccount(id: string): void {
    this.transaction(() => {
      this.sql('INSERT OR IGNORE INTO removed_accounts (account_id, removed_at) VALUES (?, ?)').run(id, this.now());
      this.sql('DELETE FROM certificate_pins WHERE account_id = ?').run(id);
    });
  }

  removedAccountIds(): Set<string> {
    return new Set(this.sql<[], { account_id: string }>('SELECT account_id FROM removed_accounts').all().map((r) => r.account_id));
  }

  /** Brings back an account removed with its history kept, with the server settings given now. */
  reattachAccount(id: string, host: string | null, port: number | null): void {
    this.transaction(() => {
      this.sql('DELETE FROM removed_accounts WHERE account_id = ?').run(id);
      this.setAccountServer(id, host, port);
      this.setAccountEnabled(id, true);
    });
  }

  private accountJid(accountId: string): string {
    let jid = this.accountJids.get(accountId);
    if (jid === undefined) {
      jid = this.sql<[string], { jid: string }>('SELECT jid FROM accounts WHERE id = ?').get(accountId)?.jid;
      if (jid === undefined) throw new NotFoundError(`No account ${accountId}.`);
      this.accountJids.set(accountId, jid);
    }
    return jid;
  }

  // ── roster ──────────────────────────────────────────────────────────────
  replaceRoster(accountId: string, items: RosterItem[]): void {
    this.transaction(() => {
      this.sql('DELETE FROM contacts WHERE account_id = ?').run(accountId);
      for (const item of items) this.upsertContact(accountId, item);
    });
  }

  upsertContact(accountId: string, item: RosterItem): void {
    this.sql(
      `INSERT INTO contacts (account_id, jid, name, subscription, groups_json, ask, approved) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (account_id, jid) DO UPDATE SET name = excluded.name, subscription = excluded.subscription,
         groups_json = excluded.groups_json, ask = excluded.ask, approved = excluded.approved`,
    ).run(accountId, item.jid, item.name ?? null, item.subscription, JSON.stringify(item.groups), item.ask ? 1 : 0, item.approved ? 1 : 0);
  }

  /** One roster item by JID: an indexed lookup, cheap enough for every incoming stanza. */
  rosterItem(accountId: string, jid: string): RosterItem | undefined {
    const row = this.sql<[string, string], ContactRow>(`SELECT ${CONTACT_COLUMNS} FROM contacts WHERE account_id = ? AND jid = ?`).get(accountId, jid);
    return row ? toRosterItem(row) : undefined;
  }

  removeContact(accountId: string, jid: string): void {
    this.sql('DELETE FROM contacts WHERE account_id = ? AND jid = ?').run(accountId, jid);
  }

  listRoster(accountId: string): RosterItem[] {
    return this.sql<[string], ContactRow>(`SELECT ${CONTACT_COLUMNS} FROM contacts WHERE account_id = ? ORDER BY coalesce(name, jid)`)
      .all(accountId)
      .map(toRosterItem);
  }

  // ── conversations ───────────────────────────────────────────────────────
  /** The conversation with `peer`, created (as a message request when `request`) if there is none. */
  private conversationId(accountId: string, peer: string, request = false): number {
    const find = this.sql<[string, string], { id: number }>('SELECT id FROM conversations WHERE account_id = ? AND peer = ? AND deleting = 0');
    const found = find.get(accountId, peer);
    if (found) return found.id;
    return Number(this.sql('INSERT INTO conversations (account_id, peer, request) VALUES (?, ?, ?)').run(accountId, peer, request ? 1 : 0).lastInsertRowid);
  }

  /** A room's conversation (a one-to-one chat of the same address becomes the room's: rooms have no one-to-one chats). */
  openRoomConversation(accountId: string, room: string): ConversationView {
    const id = this.conversationId(accountId, room);
    this.sql("UPDATE conversations SET kind = 'groupchat', request = 0 WHERE id = ? AND (kind != 'groupchat' OR request != 0)").run(id);
    return this.getConversation(id);
  }

  /** The user opens a chat with `peer`: asking for it by name accepts it, if it waited as a request. */
  openConversation(accountId: string, peer: string): ConversationView {
    const id = this.conversationId(accountId, peer);
    this.sql('UPDATE conversations SET request = 0 WHERE id = ? AND request != 0').run(id);
    return this.getConversation(id);
  }

  /** Every conversation kept, requests and turned-away ones included: what an export holds. */
  listAllConversations(): ConversationView[] {
    return this.sql<[], ConversationRow>(`${CONVERSATION_SELECT} WHERE c.deleting = 0 ORDER BY c.last_message_id DESC`)
      .all()
      .map(toConversationView);
  }

  /** Message requests waiting for the user, most recent first. */
  listMessageRequests(): ConversationView[] {
    return this.sql<[], ConversationRow>(`${CONVERSATION_SELECT} WHERE c.deleting = 0 AND c.request = 1 ORDER BY c.last_message_id DESC`)
      .all()
      .map(toConversationView);
  }

  /** Accepts a message request into the chat list, or turns it away; the messages stay. Undefined when there is no conversation. */
  decideRequest(accountId: string, peer: string, decision: RequestDecision): ConversationView | undefined {
    const row = this.sql<[string, string], { id: number; request: RequestState }>(
      'SELECT id, request FROM conversations WHERE account_id = ? AND peer = ? AND deleting = 0',
    ).get(accountId, peer);
    if (!row) return undefined;
    const state = REQUEST_STATES[decision];
    // Declining concerns requests only: a chat already in the list is not hidden by it.
    if (row.request === state || (decision === 'declined' && row.request === 0)) return undefined;
    this.sql('UPDATE conversations SET request = ? WHERE id = ?').run(state, row.id);
    return this.getConversation(row.id);
  }

  /** Whether we wrote to `peer` from this account (any device): they may hear receipts and markers from us. */
  wroteTo(accountId: string, peer: string): boolean {
    return (
      this.sql<[string, string], { we_wrote: number }>('SELECT we_wrote FROM conversations WHERE account_id = ? AND peer = ? AND deleting = 0').get(
        accountId,
        peer,
      )?.we_wrote === 1
    );
  }

  getConversation(id: number): ConversationView {
    const row = this.sql<[number], ConversationRow>(`${CONVERSATION_SELECT} WHERE c.id = ? AND c.deleting = 0`).get(id);
    if (!row) throw new NotFoundError(`No conversation ${id}.`);
    return toConversationView(row);
  }

  /** All conversations, most recent first, with last message and unread count: one indexed query. */
  listConversations(): ConversationView[] {
    return this.sql<[], ConversationRow>(`${CONVERSATION_SELECT} WHERE c.deleting = 0 AND c.request = 0 ORDER BY c.last_message_id DESC`)
      .all()
      .map(toConversationView);
  }

  /** Marks everything in the conversation as seen. */
  markRead(conversationId: number): ConversationView {
    this.sql('UPDATE conversations SET unread = 0, read_up_to = coalesce(last_message_id, 0) WHERE id = ? AND deleting = 0').run(conversationId);
    return this.getConversation(conversationId);
  }

  /** Sets what is given of the window's state of a conversation. */
  updateConversation(id: number, change: { pinned?: boolean | undefined; muted?: boolean | undefined; draft?: string | undefined }): ConversationView {
    const current = this.getConversation(id);
    this.sql('UPDATE conversations SET pinned = ?, muted = ?, draft = ? WHERE id = ?').run(
      Number(change.pinned ?? current.pinned),
      Number(change.muted ?? current.muted),
      change.draft ?? current.draft,
      id,
    );
    return this.getConversation(id);
  }

  /** A stored settings document (JSON text), or undefined when never saved. */
  getSetting(key: string): string | undefined {
    return this.sql<[string], { value: string }>('SELECT value FROM settings WHERE key = ?').get(key)?.value;
  }

  putSetting(key: string, value: string): void {
    this.sql('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** Deletes a conversation's history: hidden at once, purged in slices by `purgeDeleted`. */
  deleteConversation(id: number): void {
    if (this.sql('UPDATE conversations SET deleting = 1 WHERE id = ? AND deleting = 0').run(id).changes === 0) {
      throw new NotFoundError(`No conversation ${id}.`);
    }
  }

  // ── storing messages ────────────────────────────────────────────────────
  /**
   * Stores a message once, whichever way it arrives (live, carbon, archive, our own resend):
   * matched by the archive's stanza-id, else origin-id, else sender + message id.
   * A later copy fills in the ids the first one lacked.
   */
  storeMessage(accountId: string, record: MessageRecord): StoreResult {
    return this.storeMessages(accountId, [record])[0]!;
  }

  /**
   * Stores a batch (a MAM page) in one transaction, each record as `storeMessage` would; the
   * conversation summaries are updated once per conversation, in the same transaction.
   * With `placement`, each record is stored at the time it gives, knowing what was stored
   * (new, or the copy already held) for the records before it.
   */
  storeMessages(accountId: string, records: MessageRecord[], placement?: Placement): StoreResult[] {
    return this.transaction(() => {
      const batch: Batch = {
        accountId,
        conversations: new Map(),
        added: new Map(),
        eventsWaiting: this.sql('SELECT 1 FROM message_events WHERE target_id IS NULL LIMIT 1').get() !== undefined,
      };
      const stored = records.map((record) => {
        if (!placement) return this.storeOne(batch, record);
        const one = this.storeOne(batch, { ...record, ts: placement.place(record) });
        placement.stored(record, one.message.ts);
        return one;
      });
      for (const [conversationId, added] of batch.added) this.summarize(conversationId, added);
      const conversations = new Map<number, ConversationView>();
      return stored.map(({ message, created, updated }) => {
        let conversation = conversations.get(message.conversationId);
        if (!conversation) {
          conversation = this.getConversation(message.conversationId);
          conversations.set(conversation.id, conversation);
        }
        return { message, conversation, created, updated };
      });
    });
  }

  private storeOne(batch: Batch, record: MessageRecord): Omit<StoreResult, 'conversation'> {
    const { accountId } = batch;
    let conversationId = batch.conversations.get(record.peer);
    if (conversationId === undefined) {
      conversationId = this.conversationId(accountId, record.peer, record.direction === 'in' && record.stranger === true);
      batch.conversations.set(record.peer, conversationId);
    }
    if (record.replaces !== undefined) {
      const corrected = this.applyCorrection(accountId, conversationId, record, record.replaces);
      // A correction of a message we do not have is kept as a message of its own (XEP-0308).
      if (corrected) return corrected;
    }
    const existing = this.findCopy(conversationId, record);
    if (existing) {
      if (record.stanzaId && !existing.stanza_id) {
        // The archive's copy of a message we stored first (our own, or a carbon): learn its stanza-id.
        this.unindex(existing);
        this.sql('UPDATE messages SET stanza_id = ?, stanza_id_by = ? WHERE id = ?').run(record.stanzaId.id, record.stanzaId.by, existing.id);
        this.index({ ...existing, stanza_id: record.stanzaId.id });
      }
      return { message: this.withRelations([existing])[0]!, created: false, updated: false };
    }
    const ts = clampTs(record.ts);
    const id = this.freeId(ts);
    this.sql(
      `INSERT INTO messages (id, conversation_id, direction, sender, occupant_id, message_id, origin_id, stanza_id, stanza_id_by,
         body, ts, received_at, state, reply_to_ref, reply_to_sender, markable, encryption, sender_device, undecryptable)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      id,
      conversationId,
      record.direction,
      ...idValues(record),
      record.body,
      ts,
      this.now(),
      record.state,
      record.replyTo?.id ?? null,
      record.replyTo?.to ?? null,
      record.markable ? 1 : 0,
      record.encryption ?? null,
      record.senderDevice ?? null,
      record.undecryptable ? 1 : 0,
    );
    this.index({
      id,
      conversation_id: conversationId,
      sender: record.sender,
      body: record.body,
      origin_id: record.originId ?? null,
      message_id: record.messageId ?? null,
      stanza_id: record.stanzaId?.id ?? null,
    });
    for (const [position, a] of (record.attachments ?? []).entries()) {
      this.sql('INSERT INTO message_attachments (message_id, position, url, name, mime, size, width, height) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
        id,
        position,
        a.url,
        a.name ?? null,
        a.mime ?? null,
        a.size ?? null,
        a.width ?? null,
        a.height ?? null,
      );
    }
    const added = batch.added.get(conversationId) ?? { maxId: 0, incoming: [], maxOut: 0 };
    added.maxId = Math.max(added.maxId, id);
    if (record.direction === 'in') added.incoming.push(id);
    else added.maxOut = Math.max(added.maxOut, id);
    batch.added.set(conversationId, added);
    if (batch.eventsWaiting && this.adoptWaitingEvents(conversationId, id, record)) {
      return { message: this.getMessage(id), created: true, updated: false };
    }
    return { message: this.viewOfNew(accountId, conversationId, id, ts, record), created: true, updated: false };
  }

  /** Adds a message to the search index; the Archive keeps the index in step with every change to it. */
  private index(row: IndexedRow): void {
    this.sql('INSERT INTO messages_fts (rowid, body, scope) VALUES (?, ?, ?)').run(
      row.id,
      searchText(row.body),
      scopeText(row.conversation_id, row.sender, [row.origin_id, row.message_id, row.stanza_id]),
    );
  }

  /** Takes a message out of the search index; FTS5 needs exactly what was indexed. */
  private unindex(row: IndexedRow): void {
    this.sql("INSERT INTO messages_fts (messages_fts, rowid, body, scope) VALUES ('delete', ?, ?, ?)").run(
      row.id,
      searchText(row.body),
      scopeText(row.conversation_id, row.sender, [row.origin_id, row.message_id, row.stanza_id]),
    );
  }

  /** The smallest unused id at or after `ts`'s first slot: later arrivals with the same time sort after. */
  private freeId(ts: number): number {
    const top = this.sql<[number, number], { top: number | null }>('SELECT max(id) AS top FROM messages WHERE id >= ? AND id < ?');
    let slot = Math.max(ts * ID_SLOTS, 1); // ids are positive
    for (;;) {
      const used = top.get(slot, slot + ID_SLOTS)!.top;
      if (used === null) return slot;
      if (used + 1 < slot + ID_SLOTS) return used + 1;
      slot += ID_SLOTS; // 2048 messages in one millisecond: borrow the next one
    }
  }

  /**
   * Keeps the conversation summary in the same write: the newest message is the preview, an
   * incoming message after the read marker is unread, and one we sent (from any device) means
   * the user has read everything before it.
   */
  private summarize(conversationId: number, added: Added): void {
    const { read_up_to: readUpTo } = this.sql<[number], { read_up_to: number }>('SELECT read_up_to FROM conversations WHERE id = ?').get(conversationId)!;
    const marker = Math.max(readUpTo, added.maxOut);
    const unread =
      marker > readUpTo
        ? this.sql<[number, number], { n: number }>("SELECT count(*) AS n FROM messages WHERE conversation_id = ? AND id > ? AND direction = 'in' AND kind = 'chat'").get(
            conversationId,
            marker,
          )!.n
        : null;
    // A message we sent (from any device) also accepts a request: we answered them.
    this.sql(
      `UPDATE conversations SET last_message_id = max(coalesce(last_message_id, 0), @maxId), read_up_to = @marker,
         unread = coalesce(@unread, unread + @more),
         we_wrote = max(we_wrote, @wrote), request = CASE WHEN @wrote = 1 THEN 0 ELSE request END WHERE id = @conversationId`,
    ).run({ maxId: added.maxId, marker, unread, more: added.incoming.filter((id) => id > marker).length, wrote: added.maxOut > 0 ? 1 : 0, conversationId });
  }

  private viewOfNew(accountId: string, conversationId: number, id: number, ts: number, record: MessageRecord): MessageView {
    return {
      id,
      conversationId,
      accountId,
      direction: record.direction,
      from: record.sender,
      body: record.body,
      ts,
      state: record.state,
      ...(record.replyTo ? { replyTo: this.replyView(accountId, conversationId, record.peer, record.replyTo.id, record.replyTo.to ?? null) } : {}),
      ...(record.attachments?.length ? { attachments: record.attachments } : {}),
      ...encryptionView(record.encryption ?? null, record.senderDevice ?? null, record.undecryptable ? 1 : 0),
    };
  }

  /**
   * The stored copy of a message (DESIGN §3). Every copy of a stanza carries its origin-id, so
   * that comes first: a message resent after a cut may be archived twice, under two stanza-ids.
   * Without one, the archive's stanza-id, then sender + message id.
   */
  private findCopy(conversationId: number, record: MessageRecord): MessageRow | undefined {
    const { originId, stanzaId, messageId, sender } = record;
    if (originId !== undefined) return this.indexed(conversationId, 'origin_id', originId, [sender]);
    const found =
      (stanzaId ? this.indexed(conversationId, 'stanza_id', stanzaId.id) : undefined) ??
      (messageId !== undefined ? this.indexed(conversationId, 'message_id', messageId, [sender]) : undefined);
    if (found) return found;
    // What those indexes do not hold: a copy stored with a stanza-id this one lacks, or the same
    // message archived twice under two stanza-ids.
    const ref = messageId ?? stanzaId?.id;
    if (ref === undefined) return undefined;
    return this.byIdToken(conversationId, ref, (row) => row.sender === sender && (row.message_id === ref || row.stanza_id === ref));
  }

  /**
   * A message looked up by one of its ids in the index that holds it: origin-ids for every
   * message that has one; stanza-ids and message ids only for messages without an origin-id
   * (and message ids only until the archive's stanza-id is known). Each message is in one of
   * these random-key indexes, which are what a write costs most (see migration 3).
   */
  private indexed(conversationId: number, column: 'origin_id' | 'stanza_id' | 'message_id', ref: string, senders?: string[]): MessageRow | undefined {
    const where = {
      origin_id: 'm.sender = ? AND m.origin_id = ?',
      stanza_id: 'm.stanza_id = ? AND m.origin_id IS NULL',
      message_id: 'm.sender = ? AND m.message_id = ? AND m.origin_id IS NULL AND m.stanza_id IS NULL',
    }[column];
    const lookup = this.sql<unknown[], MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM ${MESSAGES_FROM} WHERE m.conversation_id = ? AND ${where}`);
    if (column === 'stanza_id') return lookup.get(conversationId, ref);
    for (const sender of senders ?? []) {
      const row = lookup.get(conversationId, sender, ref);
      if (row) return row;
    }
    return undefined;
  }

  /**
   * The newest message of the conversation that carries `ref` as any of its ids and passes
   * `accept`, found through the id tokens in the search index (`scopeText`): the path for the
   * ids the B-tree indexes above leave out.
   */
  private byIdToken(conversationId: number, ref: string, accept: (row: MessageRow) => boolean): MessageRow | undefined {
    return this.sql<[string], MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM ${FTS_FROM} WHERE messages_fts MATCH ? ORDER BY f.rowid DESC LIMIT 50`)
      .all(scopeMatch(refToken(ref)))
      .find((row) => row.conversation_id === conversationId && accept(row));
  }

  /** The stored copy of an event (a correction, retraction or reaction), matched like a message. */
  private findEventCopy(conversationId: number, ids: StanzaIds): { target_id: number | null } | undefined {
    const select = 'SELECT target_id FROM message_events WHERE conversation_id = ?';
    if (ids.stanzaId) {
      const row = this.sql<[number, string, string], { target_id: number | null }>(`${select} AND stanza_id_by = ? AND stanza_id = ?`).get(
        conversationId,
        ids.stanzaId.by,
        ids.stanzaId.id,
      );
      if (row) return row;
    }
    for (const [column, value] of [
      ['origin_id', ids.originId],
      ['message_id', ids.messageId],
    ] as const) {
      if (value === undefined) continue;
      const row = this.sql<[number, string, string], { target_id: number | null }>(`${select} AND sender = ? AND ${column} = ?`).get(
        conversationId,
        ids.sender,
        value,
      );
      if (row) return row;
    }
    return undefined;
  }

  /**
   * The message an event or a reply names by `ref`. Rooms name messages by the stanza-id the
   * room gave them; one-to-one chats by the sender's origin-id or id. `sender`, when given,
   * must be the message's sender (only the author may correct or retract).
   */
  private findTarget(accountId: string, conversationId: number, peer: string, ref: string, sender?: string): MessageRow | undefined {
    const senders = sender !== undefined ? [sender] : [peer, this.accountJid(accountId)];
    const byStanza = this.indexed(conversationId, 'stanza_id', ref);
    return (
      this.indexed(conversationId, 'origin_id', ref, senders) ??
      (byStanza && (sender === undefined || byStanza.sender === sender) ? byStanza : undefined) ??
      this.indexed(conversationId, 'message_id', ref, senders) ??
      this.byIdToken(
        conversationId,
        ref,
        (row) => (sender === undefined || row.sender === sender) && (row.origin_id === ref || row.message_id === ref || row.stanza_id === ref),
      )
    );
  }

  private sameAuthor(message: MessageRow, event: { sender: string; occupantId?: string | undefined }): boolean {
    // In rooms a nick can change hands; the occupant-id, where both carry one, must agree too.
    return message.sender === event.sender && (!message.occupant_id || !event.occupantId || message.occupant_id === event.occupantId);
  }

  private insertEvent(
    conversationId: number,
    kind: EventRow['kind'],
    target: string,
    targetId: number | null,
    event: StanzaIds & { occupantId?: string | undefined; ts: number },
    payload: string,
    pending = false,
  ): void {
    this.sql(
      `INSERT INTO message_events (conversation_id, kind, target_ref, target_id, sender, occupant_id, message_id, origin_id, stanza_id, stanza_id_by, ts, payload, pending)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      conversationId,
      kind,
      target,
      targetId,
      ...idValues(event),
      clampTs(event.ts),
      payload,
      pending ? 1 : 0,
    );
  }

  private applyCorrection(accountId: string, conversationId: number, record: MessageRecord, target: string): Omit<StoreResult, 'conversation'> | undefined {
    const seen = this.findEventCopy(conversationId, record);
    if (seen?.target_id) return { message: this.getMessage(seen.target_id), created: false, updated: false };
    const original = this.findTarget(accountId, conversationId, record.peer, target, record.sender);
    if (!original || !this.sameAuthor(original, record)) return undefined;
    this.insertEvent(conversationId, 'correction', target, original.id, record, record.body, record.direction === 'out' && record.state === 'pending');
    const ts = clampTs(record.ts);
    // Corrections can arrive out of order (history is fetched newest first): the latest wins.
    const applied = this.sql(
      `UPDATE messages SET original_body = coalesce(original_body, body), body = ?, edited_at = ?
       WHERE id = ? AND retracted_at IS NULL AND coalesce(edited_at, 0) <= ?`,
    ).run(record.body, ts, original.id, ts).changes;
    if (applied > 0) {
      this.unindex(original);
      this.index({ ...original, body: record.body });
    }
    return { message: this.getMessage(original.id), created: false, updated: applied > 0 };
  }

  /**
   * Stores a retraction or a reaction once. It applies to the message it names as soon as that
   * message is here; until then it waits (history arrives newest page first).
   */
  storeEvent(accountId: string, event: MessageEventRecord): EventResult {
    return this.transaction(() => {
      const conversationId = this.conversationId(accountId, event.peer);
      const result = (message: MessageView | null, created: boolean): EventResult => ({
        message,
        conversation: this.getConversation(conversationId),
        created,
      });
      const seen = this.findEventCopy(conversationId, event);
      if (seen) return result(seen.target_id ? this.getMessage(seen.target_id) : null, false);
      const byAuthor = event.kind === 'retraction' && !event.moderated;
      const target = this.findTarget(accountId, conversationId, event.peer, event.target, byAuthor ? event.sender : undefined);
      const applicable = target && (!byAuthor || this.sameAuthor(target, event));
      const payload = event.kind === 'reaction' ? JSON.stringify([...new Set(event.emojis ?? [])]) : '';
      this.insertEvent(conversationId, event.kind, event.target, applicable ? target.id : null, event, payload, event.pending);
      if (!applicable) return result(null, true);
      this.applyEvent(target.id, event.kind, event.sender, event.occupantId ?? null, clampTs(event.ts));
      return result(this.getMessage(target.id), true);
    });
  }

  private applyEvent(messageId: number, kind: 'retraction' | 'reaction', sender: string, occupantId: string | null, ts: number): void {
    if (kind === 'reaction') {
      // Each reaction event replaces the sender's set: only their newest one is worth keeping.
      // In rooms, only the set of the same occupant (as sameAuthor: where both carry an occupant-id).
      const same = `target_id = @messageId AND kind = 'reaction' AND sender = @sender
        AND (@occupantId IS NULL OR occupant_id IS NULL OR occupant_id = @occupantId)`;
      this.sql(`DELETE FROM message_events WHERE ${same} AND id != (SELECT id FROM message_events WHERE ${same} ORDER BY ts DESC, id DESC LIMIT 1)`).run({
        messageId,
        sender,
        occupantId,
      });
      return;
    }
    // A retraction takes the content away everywhere we keep it: text, earlier versions, files.
    const row = this.sql<[number], IndexedRow>(
      'SELECT id, conversation_id, sender, body, origin_id, message_id, stanza_id FROM messages WHERE id = ? AND retracted_at IS NULL',
    ).get(messageId);
    if (!row) return;
    this.unindex(row);
    this.index({ ...row, body: '' });
    this.sql("UPDATE messages SET body = '', original_body = NULL, retracted_at = ? WHERE id = ?").run(ts, messageId);
    this.sql("UPDATE message_events SET payload = '' WHERE target_id = ? AND kind = 'correction'").run(messageId);
    this.sql('DELETE FROM message_attachments WHERE message_id = ?').run(messageId);
  }

  /** Applies the events that named a message before it arrived. Returns whether there were any. */
  private adoptWaitingEvents(conversationId: number, id: number, record: MessageRecord): boolean {
    const refs = [record.stanzaId?.id, record.originId, record.messageId].map((ref) => ref ?? null);
    const waiting = this.sql<[number, string | null, string | null, string | null], EventRow>(
      `SELECT id, target_id, kind, sender, occupant_id, ts, payload FROM message_events
       WHERE conversation_id = ? AND target_id IS NULL AND target_ref IN (?, ?, ?) ORDER BY ts`,
    ).all(conversationId, ...(refs as [string | null, string | null, string | null]));
    let adopted = false;
    for (const event of waiting) {
      if (event.kind !== 'reaction' && !(event.sender === record.sender && (!record.occupantId || !event.occupant_id || record.occupantId === event.occupant_id))) continue;
      this.sql('UPDATE message_events SET target_id = ? WHERE id = ?').run(id, event.id);
      if (event.kind === 'correction') continue; // corrections never wait (see storeOne)
      this.applyEvent(id, event.kind, event.sender, event.occupant_id, event.ts);
      adopted = true;
    }
    return adopted;
  }

  // ── reading messages ────────────────────────────────────────────────────
  /** The archive's stanza-id of a message (a room's id, by which moderators name it), if it has one. */
  stanzaIdOf(id: number): string | undefined {
    return this.sql<[number], { stanza_id: string | null }>('SELECT stanza_id FROM messages WHERE id = ?').get(id)?.stanza_id ?? undefined;
  }

  getMessage(id: number): MessageView {
    const row = this.sql<[number], MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM ${MESSAGES_FROM} WHERE m.id = ? AND c.deleting = 0`).get(id);
    if (!row) throw new NotFoundError(`No message ${id}.`);
    return this.withRelations([row])[0]!;
  }

  /** Views of `rows` with their reactions, attachments and reply targets: two queries for all rows. */
  private withRelations(rows: MessageRow[]): MessageView[] {
    if (rows.length === 0) return [];
    const ids = JSON.stringify(rows.map((row) => row.id));
    const reactions = new Map<number, Array<{ sender: string; occupant_id: string | null; ts: number; payload: string }>>();
    for (const event of this.sql<[string], { target_id: number; sender: string; occupant_id: string | null; ts: number; payload: string }>(
      `SELECT target_id, sender, occupant_id, ts, payload FROM message_events WHERE target_id IN (SELECT value FROM json_each(?)) AND kind = 'reaction'`,
    ).iterate(ids)) {
      reactions.set(event.target_id, [...(reactions.get(event.target_id) ?? []), event]);
    }
    const attachments = new Map<number, AttachmentView[]>();
    for (const row of this.sql<[string], AttachmentRow>(
      `SELECT message_id, url, name, mime, size, width, height FROM message_attachments
       WHERE message_id IN (SELECT value FROM json_each(?)) ORDER BY message_id, position`,
    ).iterate(ids)) {
      attachments.set(row.message_id, [...(attachments.get(row.message_id) ?? []), toAttachmentView(row)]);
    }
    return rows.map((row) => {
      const summary = reactions.has(row.id) ? summarizeReactions(reactions.get(row.id)!) : [];
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
        ...(row.edited_at !== null ? { editedAt: row.edited_at } : {}),
        ...(row.retracted_at !== null ? { retractedAt: row.retracted_at } : {}),
        ...(summary?.length ? { reactions: summary } : {}),
        ...(row.reply_to_ref !== null
          ? { replyTo: this.replyView(row.account_id, row.conversation_id, row.peer, row.reply_to_ref, row.reply_to_sender) }
          : {}),
        ...(attachments.has(row.id) ? { attachments: attachments.get(row.id)! } : {}),
        ...(row.kind === 'gap' ? { gap: { from: row.ts, to: row.gap_until ?? row.ts } } : {}),
        ...encryptionView(row.encryption, row.sender_device, row.undecryptable),
      };
    });
  }

  private replyView(accountId: string, conversationId: number, peer: string, ref: string, to: string | null): NonNullable<MessageView['replyTo']> {
    const target = this.findTarget(accountId, conversationId, peer, ref, to ?? undefined);
    return { ref, ...(to !== null ? { to } : {}), ...(target ? { id: target.id } : {}) };
  }

  /** Newest-first keyset page before `before`, returned oldest-first for display. Ids order by time. */
  pageBefore(conversationId: number, before: PageCursor | undefined, limit: number): { messages: MessageView[]; hasMoreBefore: boolean } {
    const rows = this.sql<[number, number, number], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM ${MESSAGES_FROM} WHERE m.conversation_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?`,
    ).all(conversationId, before?.id ?? Number.MAX_SAFE_INTEGER, limit + 1);
    const hasMoreBefore = rows.length > limit;
    return { messages: this.withRelations(rows.slice(0, limit).reverse()), hasMoreBefore };
  }

  /** Oldest-first keyset page after `after`: scrolling down from a jump into history. */
  pageAfter(conversationId: number, after: PageCursor, limit: number): { messages: MessageView[]; hasMoreAfter: boolean } {
    const rows = this.sql<[number, number, number], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM ${MESSAGES_FROM} WHERE m.conversation_id = ? AND m.id > ? ORDER BY m.id LIMIT ?`,
    ).all(conversationId, after.id, limit + 1);
    return { messages: this.withRelations(rows.slice(0, limit)), hasMoreAfter: rows.length > limit };
  }

  /** A page with `messageId` in the middle: for jumping to a search hit or a replied message. */
  pageAround(messageId: number, limit: number): { conversationId: number; messages: MessageView[]; hasMoreBefore: boolean; hasMoreAfter: boolean } {
    const target = this.getMessage(messageId);
    const cursor = { ts: target.ts, id: target.id };
    const before = this.pageBefore(target.conversationId, cursor, Math.floor((limit - 1) / 2));
    const after = this.pageAfter(target.conversationId, cursor, limit - 1 - before.messages.length);
    return {
      conversationId: target.conversationId,
      messages: [...before.messages, target, ...after.messages],
      hasMoreBefore: before.hasMoreBefore,
      hasMoreAfter: after.hasMoreAfter,
    };
  }

  /** Moves an outgoing message on (pending → sent → archived → delivered → read); never backwards. */
  advanceOutgoing(accountId: string, peer: string, messageId: string, state: MessageState, error?: string): MessageView | undefined {
    const order: MessageState[] = ['pending', 'sent', 'archived', 'delivered', 'read'];
    const conversation = this.sql<[string, string], { id: number }>('SELECT id FROM conversations WHERE account_id = ? AND peer = ? AND deleting = 0').get(
      accountId,
      peer,
    );
    if (!conversation) return undefined;
    const own = this.accountJid(accountId);
    const byOrigin = this.indexed(conversation.id, 'origin_id', messageId, [own]);
    const row =
      (byOrigin?.message_id === messageId ? byOrigin : undefined) ??
      this.indexed(conversation.id, 'message_id', messageId, [own]) ??
      this.byIdToken(conversation.id, messageId, (r) => r.sender === own && r.message_id === messageId);
    if (!row || row.direction !== 'out') return undefined;
    // A late server ack must not hide an error that came first; a receipt or marker still may.
    if (state === 'sent' && row.state === 'failed') return undefined;
    const forward = state === 'failed' ? row.state === 'pending' || row.state === 'sent' : order.indexOf(state) > order.indexOf(row.state);
    if (!forward) return undefined;
    this.sql('UPDATE messages SET state = ?, error = ? WHERE id = ?').run(state, error ?? null, row.id);
    return this.getMessage(row.id);
  }

  /** My failed message back in the outbox: pending, its error gone. Undefined when it had not failed. */
  retryOutgoing(id: number): MessageView | undefined {
    const changed = this.sql(
      `UPDATE messages SET state = 'pending', error = NULL WHERE id = ? AND direction = 'out' AND state = 'failed'
         AND sender = (SELECT a.jid FROM conversations c JOIN accounts a ON a.id = c.account_id WHERE c.id = messages.conversation_id)`,
    ).run(id).changes;
    return changed > 0 ? this.getMessage(id) : undefined;
  }

  /** Our corrections, reactions and retractions not yet acknowledged by the server, oldest first. */
  pendingEvents(accountId: string): PendingEvent[] {
    return this.sql<[string], PendingEvent>(
      `SELECT e.kind, c.peer, coalesce(e.message_id, e.origin_id) AS id, e.target_ref AS target, e.payload FROM message_events e
       JOIN conversations c ON c.id = e.conversation_id WHERE e.pending = 1 AND c.account_id = ? AND c.deleting = 0 ORDER BY e.id`,
    ).all(accountId);
  }

  /** The server acknowledged our event `id` to `peer`: it leaves the outbox. Returns whether one did. */
  eventSent(accountId: string, peer: string, id: string): boolean {
    return (
      this.sql(
        `UPDATE message_events SET pending = 0 WHERE pending = 1 AND sender = ? AND message_id = ?
           AND conversation_id = (SELECT id FROM conversations WHERE account_id = ? AND peer = ? AND deleting = 0)`,
      ).run(this.accountJid(accountId), id, accountId, peer).changes > 0
    );
  }

  /** The ids and place of a stored message. */
  messageRefs(id: number): MessageRefs {
    const row = this.sql<[number], MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM ${MESSAGES_FROM} WHERE m.id = ? AND c.deleting = 0`).get(id);
    if (!row) throw new NotFoundError(`No message ${id}.`);
    return {
      accountId: row.account_id,
      conversationId: row.conversation_id,
      peer: row.peer,
      direction: row.direction,
      sender: row.sender,
      ...(row.message_id !== null ? { messageId: row.message_id } : {}),
      ...(row.origin_id !== null ? { originId: row.origin_id } : {}),
      retracted: row.retracted_at !== null,
      notice: row.kind !== 'chat',
    };
  }

  /** The conversation with `peer`, if there is one; unlike `openConversation`, never makes one. */
  findConversation(accountId: string, peer: string): ConversationView | undefined {
    const row = this.sql<[string, string], ConversationRow>(`${CONVERSATION_SELECT} WHERE c.account_id = ? AND c.peer = ? AND c.deleting = 0`).get(accountId, peer);
    return row ? toConversationView(row) : undefined;
  }

  /** Outgoing messages not yet acknowledged by the server, oldest first: the outbox. */
  pendingOutgoing(accountId: string, kind: 'chat' | 'groupchat' = 'chat'): Array<MessageView & { peer: string; messageId: string }> {
    // Room messages wait for their room to be joined (features/muc.ts), one-to-one ones only for the session.
    const rows = this.sql<[string, string], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM ${MESSAGES_FROM} WHERE m.state = 'pending' AND c.account_id = ? AND c.deleting = 0 AND c.kind = ? ORDER BY m.id`,
    ).all(accountId, kind);
    const views = this.withRelations(rows);
    return rows.map((row, i) => ({ ...views[i]!, peer: row.peer, messageId: row.message_id ?? String(row.id) }));
  }

  /** A conversation's messages after `afterId`, oldest first, with everything an export keeps. */
  exportPage(conversationId: number, afterId: number, limit: number): ExportedMessage[] {
    type Row = MessageRow & { received_at: number; stanza_id_by: string | null; original_body: string | null };
    const rows = this.sql<[number, number, number], Row>(
      `SELECT ${MESSAGE_COLUMNS}, m.received_at, m.stanza_id_by, m.original_body FROM ${MESSAGES_FROM}
       WHERE m.conversation_id = ? AND m.id > ? ORDER BY m.id LIMIT ?`,
    ).all(conversationId, afterId, limit);
    const corrections = new Map<number, Array<{ ts: number; body: string }>>();
    for (const event of this.sql<[string], { target_id: number; ts: number; payload: string }>(
      `SELECT target_id, ts, payload FROM message_events WHERE target_id IN (SELECT value FROM json_each(?)) AND kind = 'correction' ORDER BY ts`,
    ).iterate(JSON.stringify(rows.map((row) => row.id)))) {
      corrections.set(event.target_id, [...(corrections.get(event.target_id) ?? []), { ts: event.ts, body: event.payload }]);
    }
    const views = this.withRelations(rows);
    return rows.map((row, i) => ({
      ...views[i]!,
      receivedAt: row.received_at,
      ...(row.message_id !== null ? { messageId: row.message_id } : {}),
      ...(row.origin_id !== null ? { originId: row.origin_id } : {}),
      ...(row.stanza_id !== null ? { stanzaId: { id: row.stanza_id, by: row.stanza_id_by ?? '' } } : {}),
      ...(row.occupant_id !== null ? { occupantId: row.occupant_id } : {}),
      ...(row.original_body !== null ? { originalBody: row.original_body } : {}),
      ...(corrections.has(row.id) ? { corrections: corrections.get(row.id)! } : {}),
    }));
  }

  // ── search ──────────────────────────────────────────────────────────────
  /**
   * Full-text search across all accounts. Newest first by default (the index is in time
   * order, so this stops after `limit` hits); by relevance, BM25 ranks the newest
   * RANK_WINDOW matches. Any input is a valid query; one that can match nothing finds nothing.
   */
  search(query: SearchQuery): SearchResult {
    const text = ftsMatch(query.query);
    if (text === null) return { hits: [] };
    const scope = [
      ...(query.conversationId !== undefined ? [scopeMatch(`c${query.conversationId}`)] : []),
      ...(query.sender !== undefined ? [scopeMatch(query.sender)] : []),
    ];
    const match = scope.length > 0 ? `(${text}) AND ${scope.join(' AND ')}` : text;
    const lo = query.from !== undefined ? timeKey(query.from) : 0;
    const hi = query.to !== undefined ? timeKey(query.to) - 1 : Number.MAX_SAFE_INTEGER;
    // The scope tokens narrow the index walk; these exact checks rule out look-alike tokens.
    // What strangers wrote is found only within their conversation until it is accepted.
    const filters = `c.deleting = 0 AND m.kind = 'chat' AND (c.request = 0 OR @conversation IS NOT NULL) AND (@account IS NULL OR c.account_id = @account)
      AND (@conversation IS NULL OR m.conversation_id = @conversation) AND (@sender IS NULL OR m.sender = @sender)`;
    const params = {
      match,
      lo,
      hi,
      account: query.accountId ?? null,
      conversation: query.conversationId ?? null,
      sender: query.sender ?? null,
      limit: query.limit,
    };
    type Hit = MessageRow & { snippet: string };
    const snippet = `snippet(messages_fts, 0, '${HIT_OPEN}', '${HIT_CLOSE}', '…', 24)`;
    const select = `SELECT ${MESSAGE_COLUMNS}, ${snippet} AS snippet FROM ${FTS_FROM}`;

    if (query.order !== 'relevance') {
      if (query.before !== undefined) params.hi = Math.min(hi, query.before - 1);
      const rows = this.sql<[typeof params], Hit>(
        `${select} WHERE messages_fts MATCH @match AND f.rowid BETWEEN @lo AND @hi AND ${filters} ORDER BY f.rowid DESC LIMIT @limit`,
      ).all(params);
      return { hits: this.toHits(rows), ...(rows.length === query.limit ? { nextBefore: rows.at(-1)!.id } : {}) };
    }
    // The newest matches, ranked here (see ranking.ts); the remaining filters and the snippets
    // are then applied to the best few, fetched with room to spare.
    const window = this.sql<[string, number, number, number], { id: number; body: string }>(
      `SELECT m.id, m.body FROM messages_fts f CROSS JOIN messages m ON m.id = f.rowid
       WHERE messages_fts MATCH ? AND f.rowid BETWEEN ? AND ? ORDER BY f.rowid DESC LIMIT ?`,
    ).all(match, lo, hi, RANK_WINDOW);
    const best = rankByRelevance(query.query, window).slice(0, query.limit * (query.accountId !== undefined ? 4 : 1) + 10);
    if (best.length === 0) return { hits: [] };
    // The same newest-first walk of the index again, with snippets for the chosen ids only.
    // Letting the IN list drive the index re-runs the match once per id (measured 8x slower);
    // and the walk needs the window's exact length as LIMIT, as FTS5 goes on down a common
    // word's doclist past the lower bound (70x slower at 1M).
    const rows = this.sql<[typeof params & { ids: string; window: number }], Hit>(
      `SELECT ${MESSAGE_COLUMNS}, w.snippet FROM (
         SELECT f.rowid AS id, CASE WHEN f.rowid IN (SELECT value FROM json_each(@ids)) THEN ${snippet} END AS snippet
         FROM messages_fts f WHERE messages_fts MATCH @match AND f.rowid BETWEEN @lo AND @hi ORDER BY f.rowid DESC LIMIT @window
       ) w CROSS JOIN messages m ON m.id = w.id CROSS JOIN conversations c ON c.id = m.conversation_id
       WHERE w.snippet IS NOT NULL AND ${filters}`,
    ).all({ ...params, lo: window.at(-1)!.id, hi: window[0]!.id, ids: JSON.stringify(best), window: window.length });
    const order = new Map(best.map((id, i) => [id, i]));
    return { hits: this.toHits(rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!).slice(0, query.limit)) };
  }

  private toHits(rows: Array<MessageRow & { snippet: string }>): SearchHit[] {
    const messages = this.withRelations(rows);
    return rows.map((row, i) => ({ message: messages[i]!, peer: row.peer, snippet: parseSnippet(row.snippet) }));
  }

  // ── contacts: roster version, own presence, subscription requests ──────
  /** The roster version (XEP-0237) the cached roster matches; null when none is known. */
  getRosterVersion(accountId: string): string | null {
    return this.sql<[string], { ver: string }>('SELECT ver FROM roster_versions WHERE account_id = ?').get(accountId)?.ver ?? null;
  }

  setRosterVersion(accountId: string, ver: string | null): void {
    if (ver === null) this.sql('DELETE FROM roster_versions WHERE account_id = ?').run(accountId);
    else this.sql('INSERT OR REPLACE INTO roster_versions (account_id, ver) VALUES (?, ?)').run(accountId, ver);
  }

  getOwnPresence(accountId: string): OwnPresence | null {
    const row = this.sql<[string], { show: OwnPresence['show']; status: string | null }>('SELECT show, status FROM own_presence WHERE account_id = ?')
      .get(accountId);
    return row ? { show: row.show, ...(row.status ? { status: row.status } : {}) } : null;
  }

  setOwnPresence(accountId: string, presence: OwnPresence): void {
    this.db
      .prepare('INSERT OR REPLACE INTO own_presence (account_id, show, status) VALUES (?, ?, ?)')
      .run(accountId, presence.show, presence.status ?? null);
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

  // ── read state (XEP-0333 markers, XEP-0490 synchronization) ─────────────
  /** The newest `limit` incoming messages of a conversation, newest first: what a read covers. */
  recentIncoming(conversationId: number, limit: number): IncomingRef[] {
    return this.sql<[number, number], { message_id: string | null; stanza_id: string | null; markable: number }>(
      `SELECT message_id, stanza_id, markable FROM messages WHERE conversation_id = ? AND direction = 'in' AND kind = 'chat' ORDER BY id DESC LIMIT ?`,
    )
      .all(conversationId, limit)
      .map((row) => ({ messageId: row.message_id, stanzaId: row.stanza_id, markable: row.markable === 1 }));
  }

  private liveConversation(accountId: string, peer: string): { id: number } | undefined {
    return this.sql<[string, string], { id: number }>('SELECT id FROM conversations WHERE account_id = ? AND peer = ? AND deleting = 0').get(accountId, peer);
  }

  /** Our message `messageId` to `peer`, and what we sent them up to it, newest first. */
  private outgoingUpTo(accountId: string, peer: string, messageId: string) {
    const conversation = this.liveConversation(accountId, peer);
    if (!conversation) return undefined;
    const target = this.findTarget(accountId, conversation.id, peer, messageId, this.accountJid(accountId));
    if (!target || target.direction !== 'out') return undefined;
    const older = this.sql<[number, number], { id: number; state: MessageState }>(
      `SELECT id, state FROM messages WHERE conversation_id = ? AND direction = 'out' AND id <= ? ORDER BY id DESC`,
    ).iterate(conversation.id, target.id);
    return { target, older };
  }

  /**
   * A delivery receipt from `peer` for one of our messages: it and what we sent them before it
   * that is still only sent (or waiting in their archive) count as delivered. A client that
   * catches up from its archive answers only the newest few (features/receipts.ts), and it got
   * the earlier ones in the same catch-up. Earlier ones still pending (resent after a cut) are
   * covered by the next receipt once the server has taken them, even past messages already
   * delivered: the walk reads only the undelivered (messages_undelivered), not the
   * conversation. Failed messages stay failed.
   */
  deliverOutgoingUpTo(accountId: string, peer: string, messageId: string): MessageView[] {
    return this.transaction(() => {
      const conversation = this.liveConversation(accountId, peer);
      if (!conversation) return [];
      const target = this.findTarget(accountId, conversation.id, peer, messageId, this.accountJid(accountId));
      if (!target || target.direction !== 'out') return [];
      const ids = this.sql<[number, number], { id: number }>(
        `SELECT id FROM messages INDEXED BY messages_undelivered
          WHERE conversation_id = ? AND direction = 'out' AND state IN ('sent', 'archived') AND id <= ? ORDER BY id DESC`,
      )
        .all(conversation.id, target.id)
        .map((row) => row.id);
      // The receipted message itself evidently arrived, even if our server's ack is still out.
      // A bounce from one of their devices does not outweigh a receipt for the same message.
      if (target.state === 'pending' || target.state === 'failed') ids.unshift(target.id);
      const update = this.sql("UPDATE messages SET state = 'delivered', error = NULL WHERE id = ?");
      for (const id of ids) update.run(id);
      return ids.reverse().map((id) => this.getMessage(id));
    });
  }

  /**
   * The peer displayed our messages up to `messageId` (our id): it and the ones before it
   * that were sent or delivered become read. Never backwards: stops at one already read.
   */
  readOutgoingUpTo(accountId: string, peer: string, messageId: string): MessageView[] {
    return this.transaction(() => {
      const found = this.outgoingUpTo(accountId, peer, messageId);
      if (!found) return [];
      const { target, older } = found;
      const ids: number[] = [];
      for (const row of older) {
        if (row.state === 'read') break;
        // The marked message itself was evidently received, even if our server's ack is still out.
        if (row.state === 'sent' || row.state === 'archived' || row.state === 'delivered' || (row.id === target.id && row.state === 'pending')) ids.push(row.id);
      }
      const update = this.sql("UPDATE messages SET state = 'read', error = NULL WHERE id = ?");
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
      const conversation = this.sql<[string, string], { id: number; unread: number }>(
        'SELECT id, unread FROM conversations WHERE account_id = ? AND peer = ? AND deleting = 0',
      ).get(accountId, peer);
      if (!conversation || conversation.unread === 0) return undefined;
      const target =
        'messageId' in ref
          ? this.findTarget(accountId, conversation.id, peer, ref.messageId, peer)
          : this.findTarget(accountId, conversation.id, peer, ref.stanzaId);
      if (!target || target.direction !== 'in') return undefined;
      const { after } = this.sql<[number, number], { after: number }>(
        `SELECT count(*) AS after FROM messages WHERE conversation_id = ? AND direction = 'in' AND kind = 'chat' AND id > ?`,
      ).get(conversation.id, target.id)!;
      if (after >= conversation.unread) return undefined;
      this.sql('UPDATE conversations SET unread = ?, read_up_to = max(read_up_to, ?) WHERE id = ?').run(after, target.id, conversation.id);
      return this.getConversation(conversation.id);
    });
  }

  // ── MAM sync state ──────────────────────────────────────────────────────
  /**
   * Marks history the server archive no longer holds (from `from` to `to`) in each conversation
   * of the account with messages from before it, placed right after them. The notice is indexed
   * with no text, so search never finds it, and it is no part of the preview or unread count.
   */
  addGapNotices(accountId: string, from: number, to: number, room?: string): MessageView[] {
    return this.transaction(() => {
      // Our own archive holds the one-to-one chats; a room's archive, that room alone.
      const conversations = this.sql<[string, number, string | null, string | null], { id: number }>(
        `SELECT id FROM conversations c WHERE account_id = ? AND deleting = 0
           AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.id < ?)
           AND (CASE WHEN ? IS NULL THEN kind = 'chat' ELSE peer = ? END)`,
      ).all(accountId, timeKey(clampTs(from) + 1), room ?? null, room ?? null);
      const ts = clampTs(from);
      return conversations.map(({ id: conversationId }) => {
        const id = this.freeId(ts);
        this.sql(
          `INSERT INTO messages (id, conversation_id, direction, sender, body, ts, received_at, state, kind, gap_until)
           VALUES (?, ?, 'in', '', '', ?, ?, 'received', 'gap', ?)`,
        ).run(id, conversationId, ts, this.now(), clampTs(to));
        this.index({ id, conversation_id: conversationId, sender: '', body: '', origin_id: null, message_id: null, stanza_id: null });
        return this.getMessage(id);
      });
    });
  }

  // ── rooms ───────────────────────────────────────────────────────────────
  listRooms(accountId: string): RoomRecord[] {
    return this.sql<[string], { jid: string; nick: string; subject: string | null }>('SELECT jid, nick, subject FROM rooms WHERE account_id = ? ORDER BY jid')
      .all(accountId)
      .map((row) => ({ jid: row.jid, nick: row.nick, ...(row.subject !== null ? { subject: row.subject } : {}) }));
  }

  putRoom(accountId: string, room: RoomRecord): void {
    this.sql(
      `INSERT INTO rooms (account_id, jid, nick, subject) VALUES (?, ?, ?, ?)
       ON CONFLICT (account_id, jid) DO UPDATE SET nick = excluded.nick, subject = excluded.subject`,
    ).run(accountId, room.jid, room.nick, room.subject ?? null);
  }

  removeRoom(accountId: string, jid: string): void {
    this.sql('DELETE FROM rooms WHERE account_id = ? AND jid = ?').run(accountId, jid);
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

  // ── caps and avatar caches ──────────────────────────────────────────────
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

  // ── deletion in slices ──────────────────────────────────────────────────
  /**
   * Deletes up to `slice` messages of deleted conversations, then the emptied conversations
   * and removed accounts. One short transaction; returns whether work remains.
   */
  purgeStep(slice: number): boolean {
    return this.transaction(() => {
      const doomed = this.sql<[], { id: number }>('SELECT id FROM conversations WHERE deleting = 1 LIMIT 1').get();
      if (doomed) {
        const rows = this.sql<[number, number], IndexedRow>(
          'SELECT id, conversation_id, sender, body, origin_id, message_id, stanza_id FROM messages WHERE conversation_id = ? LIMIT ?',
        ).all(doomed.id, slice);
        const remove = this.sql('DELETE FROM messages WHERE id = ?');
        for (const row of rows) {
          this.unindex(row);
          remove.run(row.id);
        }
        if (rows.length < slice) this.sql('DELETE FROM conversations WHERE id = ?').run(doomed.id);
        return true;
      }
      this.sql(
        'DELETE FROM accounts WHERE removing = 1 AND NOT EXISTS (SELECT 1 FROM conversations WHERE account_id = accounts.id)',
      ).run();
      return false;
    });
  }

  /** Runs `purgeStep` until nothing is left, in slices sized to stay short, yielding in between. */
  purgeDeleted(): Promise<void> {
    this.purging ??= this.purgeInSlices().finally(() => (this.purging = undefined));
    return this.purging;
  }

  private async purgeInSlices(): Promise<void> {
    for (let size = 100; this.db.open; ) {
      const started = performance.now();
      if (!this.purgeStep(size)) return;
      size = nextSliceSize(size, performance.now() - started);
      await yieldToEventLoop();
    }
  }

  /**
   * Time of the conversation's newest message: the floor for the next one that arrives live.
   * Read from the summary (`last_message_id`, kept in the same write), so it costs two key
   * lookups whatever the conversation's size.
   */
  newestTs(accountId: string, peer: string): number | null {
    const row = this.sql<[string, string], { ts: number }>(
      `SELECT m.ts FROM conversations c JOIN messages m ON m.id = c.last_message_id
       WHERE c.account_id = ? AND c.peer = ? AND c.deleting = 0`,
    ).get(accountId, peer);
    return row?.ts ?? null;
  }
}
