// The archive: one SQLite database (DESIGN §3, §6) behind stores by area, sharing one handle,
// one cache of prepared statements and one clock. A module reaches for the stores it uses
// (`archive.roster`, `archive.messages`, …); `transaction` spans stores.
import type { Db } from './database';
import { AccountStore } from './account-store';
import { CacheStore } from './cache-store';
import { ConversationStore } from './conversation-store';
import { MessageStore } from './message-store';
import { OmemoArchive } from './omemo-store';
import { Purge } from './purge';
import { RoomStore } from './room-store';
import { RosterStore } from './roster-store';
import { SearchIndex } from './search-index';
import { SettingsStore } from './settings-store';
import { Statements } from './store';
import { SyncStore } from './sync-store';

export type { AccountRecord } from './account-store';
export type { CapsRecord } from './cache-store';
export type { RequestDecision } from './conversation-store';
export type {
  AttachmentRecord,
  EventResult,
  ExportedMessage,
  IncomingRef,
  MessageEventRecord,
  MessageRecord,
  MessageRefs,
  PendingEvent,
  Placement,
  SearchQuery,
  StoreResult,
} from './message-store';
export { RANK_WINDOW, clampTs, summarizeReactions, timeKey } from './message-store';
export type { RoomRecord } from './room-store';
export type { RosterItem, SubscriptionRequestRecord } from './roster-store';
export { NotFoundError } from './store';
export type { MamState } from './sync-store';

export class Archive {
  private readonly statements: Statements;
  readonly accounts: AccountStore;
  readonly roster: RosterStore;
  readonly sync: SyncStore;
  readonly rooms: RoomStore;
  readonly caches: CacheStore;
  readonly settings: SettingsStore;
  readonly conversations: ConversationStore;
  readonly messages: MessageStore;
  readonly purge: Purge;
  /** OMEMO's keys, sessions, devices and per-conversation switch (omemo-store.ts). */
  readonly omemo: OmemoArchive;

  constructor(db: Db, now: () => number = Date.now) {
    this.statements = new Statements(db, now);
    const searchIndex = new SearchIndex(this.statements);
    this.accounts = new AccountStore(this.statements);
    this.roster = new RosterStore(this.statements);
    this.sync = new SyncStore(this.statements);
    this.rooms = new RoomStore(this.statements);
    this.caches = new CacheStore(this.statements);
    this.settings = new SettingsStore(this.statements);
    this.conversations = new ConversationStore(this.statements);
    this.messages = new MessageStore(this.statements, this.accounts, this.conversations, searchIndex);
    this.purge = new Purge(this.statements, searchIndex);
    this.omemo = new OmemoArchive(db);
  }

  /** Runs `fn` in one transaction (nested calls become savepoints): all of it commits, or none. */
  transaction<T>(fn: () => T): T {
    return this.statements.transaction(fn);
  }

  close(): void {
    this.statements.db.close();
  }
}
