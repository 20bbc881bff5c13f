// Messages and what hangs off them: storing each once whichever way it arrives, corrections,
// retractions and reactions, the outbox, delivery and read states, pages for the window,
// export and search. Every message write is idempotent and updates the conversation summary in
// the same transaction (DESIGN §3, §6). Message ids follow time (see `timeKey`), so every hot
// read walks an index in order and stops after the rows it returns.
import type { AttachmentView, ConversationView, MessageState, MessageView, PageCursor, SearchHit, SearchResult } from '../../../preload/contract';
import type { AccountStore } from './account-store';
import type { ConversationStore } from './conversation-store';
import { HIT_CLOSE, HIT_OPEN, ftsMatch, parseSnippet, scopeMatch } from './fts-query';
import { rankByRelevance } from './ranking';
import type { IndexedRow, SearchIndex } from './search-index';
import { refToken } from './search-text';
import { NotFoundError, Statements, Store } from './store';

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

const MESSAGES_FROM = 'messages m JOIN conversations c ON c.id = m.conversation_id';

/** Search results: CROSS JOIN keeps the index walk outermost, so MATCH and its rowid order drive the query. */
const FTS_FROM = 'messages_fts f CROSS JOIN messages m ON m.id = f.rowid CROSS JOIN conversations c ON c.id = m.conversation_id';

type EventRow = { id: number; target_id: number | null; kind: 'correction' | 'retraction' | 'reaction'; sender: string; occupant_id: string | null; ts: number; payload: string };

type AttachmentRow = { message_id: number; url: string; name: string | null; mime: string | null; size: number | null; width: number | null; height: number | null };

/** What one `storeBatch` call has learnt so far: conversation ids by peer, and what it added to each. */
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

/** The ids a stanza carries, as the dedupe lookups need them. */
type StanzaIds = { sender: string; messageId?: string; originId?: string; stanzaId?: { id: string; by: string } };

/** A stanza's ids as the columns sender, occupant_id, message_id, origin_id, stanza_id, stanza_id_by take them. */
function idValues(ids: StanzaIds & { occupantId?: string | undefined }): Array<string | null> {
  return [ids.sender, ids.occupantId ?? null, ids.messageId ?? null, ids.originId ?? null, ids.stanzaId?.id ?? null, ids.stanzaId?.by ?? null];
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

export class MessageStore extends Store {
  constructor(
    statements: Statements,
    private readonly accounts: AccountStore,
    private readonly conversations: ConversationStore,
    private readonly searchIndex: SearchIndex,
  ) {
    super(statements);
  }

  /**
   * Stores a message once, whichever way it arrives (live, carbon, archive, our own resend):
   * matched by the archive's stanza-id, else origin-id, else sender + message id.
   * A later copy fills in the ids the first one lacked.
   */
  store(accountId: string, record: MessageRecord): StoreResult {
    return this.storeBatch(accountId, [record])[0]!;
  }

  /**
   * Stores a batch (a MAM page) in one transaction, each record as `store` would; the
   * conversation summaries are updated once per conversation, in the same transaction.
   * With `placement`, each record is stored at the time it gives, knowing what was stored
   * (new, or the copy already held) for the records before it.
   */
  storeBatch(accountId: string, records: MessageRecord[], placement?: Placement): StoreResult[] {
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
          conversation = this.conversations.get(message.conversationId);
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
      conversationId = this.conversations.idFor(accountId, record.peer, record.direction === 'in' && record.stranger === true);
      batch.conversations.set(record.peer, conversationId);
    }
    if (record.replaces !== undefined) {
      const corrected = this.applyCorrection(accountId, conversationId, record, record.replaces);
      // A correction of a message we do not have is kept as a message of its own (XEP-0308).
      if (corrected) return corrected;
    }
    const existing = this.findCopy(conversationId, record);
    if (existing?.undecryptable && !record.undecryptable && record.encryption) {
      // A copy that could be decrypted of one that could not: it is the message, as it reads.
      this.searchIndex.unindex(existing);
      this.sql('UPDATE messages SET body = ?, encryption = ?, sender_device = ?, undecryptable = 0 WHERE id = ?').run(record.body, record.encryption, record.senderDevice ?? null, existing.id);
      this.searchIndex.index({ ...existing, body: record.body });
      return { message: this.get(existing.id), created: false, updated: true };
    }
    if (existing) {
      if (record.stanzaId && !existing.stanza_id) {
        // The archive's copy of a message we stored first (our own, or a carbon): learn its stanza-id.
        this.searchIndex.unindex(existing);
        this.sql('UPDATE messages SET stanza_id = ?, stanza_id_by = ? WHERE id = ?').run(record.stanzaId.id, record.stanzaId.by, existing.id);
        this.searchIndex.index({ ...existing, stanza_id: record.stanzaId.id });
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
    this.searchIndex.index({
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
      return { message: this.get(id), created: true, updated: false };
    }
    return { message: this.viewOfNew(accountId, conversationId, id, ts, record), created: true, updated: false };
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
    const senders = sender !== undefined ? [sender] : [peer, this.accounts.jid(accountId)];
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
    if (seen?.target_id) return { message: this.get(seen.target_id), created: false, updated: false };
    const original = this.findTarget(accountId, conversationId, record.peer, target, record.sender);
    if (!original || !this.sameAuthor(original, record)) return undefined;
    // A correction in clear of an encrypted message would show unencrypted words under its lock
    // (anyone on the path can write one): it stays a message of its own, marked as in clear.
    if (record.direction === 'in' && original.encryption !== null && !record.encryption) return undefined;
    this.insertEvent(conversationId, 'correction', target, original.id, record, record.body, record.direction === 'out' && record.state === 'pending');
    const ts = clampTs(record.ts);
    // Corrections can arrive out of order (history is fetched newest first): the latest wins.
    const applied = this.sql(
      `UPDATE messages SET original_body = coalesce(original_body, body), body = ?, edited_at = ?
       WHERE id = ? AND retracted_at IS NULL AND coalesce(edited_at, 0) <= ?`,
    ).run(record.body, ts, original.id, ts).changes;
    if (applied > 0) {
      this.searchIndex.unindex(original);
      this.searchIndex.index({ ...original, body: record.body });
    }
    return { message: this.get(original.id), created: false, updated: applied > 0 };
  }

  /**
   * Stores a retraction or a reaction once. It applies to the message it names as soon as that
   * message is here; until then it waits (history arrives newest page first).
   */
  storeEvent(accountId: string, event: MessageEventRecord): EventResult {
    return this.transaction(() => {
      const conversationId = this.conversations.idFor(accountId, event.peer);
      const result = (message: MessageView | null, created: boolean): EventResult => ({
        message,
        conversation: this.conversations.get(conversationId),
        created,
      });
      const seen = this.findEventCopy(conversationId, event);
      if (seen) return result(seen.target_id ? this.get(seen.target_id) : null, false);
      const byAuthor = event.kind === 'retraction' && !event.moderated;
      const target = this.findTarget(accountId, conversationId, event.peer, event.target, byAuthor ? event.sender : undefined);
      const applicable = target && (!byAuthor || this.sameAuthor(target, event));
      const payload = event.kind === 'reaction' ? JSON.stringify([...new Set(event.emojis ?? [])]) : '';
      this.insertEvent(conversationId, event.kind, event.target, applicable ? target.id : null, event, payload, event.pending);
      if (!applicable) return result(null, true);
      this.applyEvent(target.id, event.kind, event.sender, event.occupantId ?? null, clampTs(event.ts));
      return result(this.get(target.id), true);
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
    this.searchIndex.unindex(row);
    this.searchIndex.index({ ...row, body: '' });
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

  /** The archive's stanza-id of a message (a room's id, by which moderators name it), if it has one. */
  stanzaIdOf(id: number): string | undefined {
    return this.sql<[number], { stanza_id: string | null }>('SELECT stanza_id FROM messages WHERE id = ?').get(id)?.stanza_id ?? undefined;
  }

  get(id: number): MessageView {
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
    const target = this.get(messageId);
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
    const own = this.accounts.jid(accountId);
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
    return this.get(row.id);
  }

  /** My failed message back in the outbox: pending, its error gone. Undefined when it had not failed. */
  retryOutgoing(id: number): MessageView | undefined {
    const changed = this.sql(
      `UPDATE messages SET state = 'pending', error = NULL WHERE id = ? AND direction = 'out' AND state = 'failed'
         AND sender = (SELECT a.jid FROM conversations c JOIN accounts a ON a.id = c.account_id WHERE c.id = messages.conversation_id)`,
    ).run(id).changes;
    return changed > 0 ? this.get(id) : undefined;
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
      ).run(this.accounts.jid(accountId), id, accountId, peer).changes > 0
    );
  }

  /** The ids and place of a stored message. */
  refs(id: number): MessageRefs {
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

  /** The newest `limit` incoming messages of a conversation, newest first: what a read covers. */
  recentIncoming(conversationId: number, limit: number): IncomingRef[] {
    return this.sql<[number, number], { message_id: string | null; stanza_id: string | null; markable: number }>(
      `SELECT message_id, stanza_id, markable FROM messages WHERE conversation_id = ? AND direction = 'in' AND kind = 'chat' ORDER BY id DESC LIMIT ?`,
    )
      .all(conversationId, limit)
      .map((row) => ({ messageId: row.message_id, stanzaId: row.stanza_id, markable: row.markable === 1 }));
  }

  /** Our message `messageId` to `peer`, and what we sent them up to it, newest first. */
  private outgoingUpTo(accountId: string, peer: string, messageId: string) {
    const conversation = this.conversations.live(accountId, peer);
    if (!conversation) return undefined;
    const target = this.findTarget(accountId, conversation.id, peer, messageId, this.accounts.jid(accountId));
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
      const conversation = this.conversations.live(accountId, peer);
      if (!conversation) return [];
      const target = this.findTarget(accountId, conversation.id, peer, messageId, this.accounts.jid(accountId));
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
      return ids.reverse().map((id) => this.get(id));
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
      return ids.reverse().map((id) => this.get(id));
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
      return this.conversations.get(conversation.id);
    });
  }

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
        this.searchIndex.index({ id, conversation_id: conversationId, sender: '', body: '', origin_id: null, message_id: null, stanza_id: null });
        return this.get(id);
      });
    });
  }
}
