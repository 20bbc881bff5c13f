// Conversations and their summaries: the chat list and message requests, read position,
// unread count, pin, mute and draft. Message writes keep the summary (message-store.ts).
import type { ConversationView } from '../../../preload/contract';
import { NotFoundError, Store } from './store';

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

const CONVERSATION_SELECT = `SELECT c.id, c.account_id, c.peer, c.unread, m.body AS last_body, m.ts AS last_ts, m.direction AS last_direction, c.request, c.kind,
  c.pinned, c.muted, c.draft
  FROM conversations c LEFT JOIN messages m ON m.id = c.last_message_id`;

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

export class ConversationStore extends Store {
  /** The conversation with `peer`, created (as a message request when `request`) if there is none. */
  idFor(accountId: string, peer: string, request = false): number {
    const found = this.live(accountId, peer);
    if (found) return found.id;
    return Number(this.sql('INSERT INTO conversations (account_id, peer, request) VALUES (?, ?, ?)').run(accountId, peer, request ? 1 : 0).lastInsertRowid);
  }

  /** A room's conversation (a one-to-one chat of the same address becomes the room's: rooms have no one-to-one chats). */
  openRoom(accountId: string, room: string): ConversationView {
    const id = this.idFor(accountId, room);
    this.sql("UPDATE conversations SET kind = 'groupchat', request = 0 WHERE id = ? AND (kind != 'groupchat' OR request != 0)").run(id);
    return this.get(id);
  }

  /** The user opens a chat with `peer`: asking for it by name accepts it, if it waited as a request. */
  open(accountId: string, peer: string): ConversationView {
    const id = this.idFor(accountId, peer);
    this.sql('UPDATE conversations SET request = 0 WHERE id = ? AND request != 0').run(id);
    return this.get(id);
  }

  /** Every conversation kept, requests and turned-away ones included: what an export holds. */
  listAll(): ConversationView[] {
    return this.sql<[], ConversationRow>(`${CONVERSATION_SELECT} WHERE c.deleting = 0 ORDER BY c.last_message_id DESC`)
      .all()
      .map(toConversationView);
  }

  /** Message requests waiting for the user, most recent first. */
  listRequests(): ConversationView[] {
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
    return this.get(row.id);
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

  get(id: number): ConversationView {
    const row = this.sql<[number], ConversationRow>(`${CONVERSATION_SELECT} WHERE c.id = ? AND c.deleting = 0`).get(id);
    if (!row) throw new NotFoundError(`No conversation ${id}.`);
    return toConversationView(row);
  }

  /** All conversations, most recent first, with last message and unread count: one indexed query. */
  list(): ConversationView[] {
    return this.sql<[], ConversationRow>(`${CONVERSATION_SELECT} WHERE c.deleting = 0 AND c.request = 0 ORDER BY c.last_message_id DESC`)
      .all()
      .map(toConversationView);
  }

  /** Marks everything in the conversation as seen. */
  markRead(conversationId: number): ConversationView {
    this.sql('UPDATE conversations SET unread = 0, read_up_to = coalesce(last_message_id, 0) WHERE id = ? AND deleting = 0').run(conversationId);
    return this.get(conversationId);
  }

  /** Sets what is given of the window's state of a conversation. */
  update(id: number, change: { pinned?: boolean | undefined; muted?: boolean | undefined; draft?: string | undefined }): ConversationView {
    const current = this.get(id);
    this.sql('UPDATE conversations SET pinned = ?, muted = ?, draft = ? WHERE id = ?').run(
      Number(change.pinned ?? current.pinned),
      Number(change.muted ?? current.muted),
      change.draft ?? current.draft,
      id,
    );
    return this.get(id);
  }

  /** Deletes a conversation's history: hidden at once, purged in slices by `Purge.run`. */
  delete(id: number): void {
    if (this.sql('UPDATE conversations SET deleting = 1 WHERE id = ? AND deleting = 0').run(id).changes === 0) {
      throw new NotFoundError(`No conversation ${id}.`);
    }
  }

  /** The conversation with `peer`, if there is one; unlike `openConversation`, never makes one. */
  find(accountId: string, peer: string): ConversationView | undefined {
    const row = this.sql<[string, string], ConversationRow>(`${CONVERSATION_SELECT} WHERE c.account_id = ? AND c.peer = ? AND c.deleting = 0`).get(accountId, peer);
    return row ? toConversationView(row) : undefined;
  }

  /** The id of the conversation with `peer` that is not being deleted, if there is one. */
  live(accountId: string, peer: string): { id: number } | undefined {
    return this.sql<[string, string], { id: number }>('SELECT id FROM conversations WHERE account_id = ? AND peer = ? AND deleting = 0').get(accountId, peer);
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
