// One open chat: a window of its messages from the archive, paged either way and kept live by
// events. The window is the latest messages until the reader jumps into the past (a search
// hit, a reply's quote); then it holds the rows around that message until it reaches the
// latest again.
import type { HeronApi, MessageView } from '../../../preload/contract';
import { errorMessage } from './bridge';
import { compareMessages, cursorBefore, mergeMessages } from './messages';

export const PAGE_SIZE = 100;

/** What the list should scroll to next: the latest messages, or one message in the middle. */
export type ScrollRequest = { to: 'latest' } | { to: 'message'; id: number };

// Open chats by conversation, so a search hit or a notification can jump into one.
const openChats = new Map<number, ChatStore>();
// Jumps asked for before the chat was open: its first load goes there instead of the latest.
const pendingJumps = new Map<number, number>();

/**
 * Shows message `messageId` of conversation `conversationId` in context, the rows around it
 * loaded. Call it before or after selecting that conversation.
 */
export function jumpToMessage(conversationId: number, messageId: number): void {
  const chat = openChats.get(conversationId);
  if (chat?.loaded) void chat.jumpTo(messageId);
  else pendingJumps.set(conversationId, messageId);
}

export class ChatStore {
  /** The window, sorted oldest first; replaced on every change. */
  messages: MessageView[] = $state.raw([]);
  hasMoreBefore = $state(false);
  /** The window stops short of the latest message (after a jump into the past). */
  hasMoreAfter = $state(false);
  loaded = $state(false);
  loadingOlder = $state(false);
  loadingNewer = $state(false);
  /** Paging failed; shown in the list with a way to retry. */
  error: string | null = $state(null);
  /** Long messages the reader opened with "Show more" (kept while their rows scroll away). */
  expanded: ReadonlySet<number> = $state.raw(new Set());
  /** Live messages that arrived while the window was in the past. */
  missedLive = $state(0);
  /** Where the list should go; a new object each time, so asking twice scrolls twice. */
  scrollRequest: ScrollRequest | null = $state.raw(null);

  readonly conversationId: number;
  readonly #api: HeronApi;

  /** Messages of the window by id (for reply quotes). */
  readonly byId = $derived(new Map(this.messages.map((m) => [m.id, m])));

  constructor(api: HeronApi, conversationId: number) {
    this.#api = api;
    this.conversationId = conversationId;
  }

  /** Follows live messages of this chat. Returns the unsubscribe. */
  follow(): () => void {
    openChats.set(this.conversationId, this);
    const offAdded = this.#api.on('message.added', (m) => {
      if (m.conversationId !== this.conversationId) return;
      // A window in the past does not take the live end: that would leave a hole between.
      if (this.hasMoreAfter) this.missedLive++;
      else this.messages = mergeMessages(this.messages, [m]);
    });
    const offUpdated = this.#api.on('message.updated', (m) => {
      if (m.conversationId !== this.conversationId || !this.#holds(m)) return;
      this.messages = mergeMessages(this.messages, [m], true);
    });
    return () => {
      if (openChats.get(this.conversationId) === this) openChats.delete(this.conversationId);
      offAdded();
      offUpdated();
    };
  }

  /** Whether `m` belongs inside the window (an update of an older message must not open a hole). */
  #holds(m: MessageView): boolean {
    if (this.byId.has(m.id)) return true;
    const first = this.messages[0];
    const last = this.messages.at(-1);
    if (!first || !last) return !this.hasMoreBefore;
    return (compareMessages(m, first) > 0 || !this.hasMoreBefore) && (compareMessages(m, last) < 0 || !this.hasMoreAfter);
  }

  /** Loads the newest page (or a pending jump's rows) first, then the page before the oldest held. */
  async loadOlder(): Promise<void> {
    if (!this.loaded) {
      const jump = pendingJumps.get(this.conversationId);
      if (jump !== undefined) {
        pendingJumps.delete(this.conversationId);
        return this.jumpTo(jump);
      }
    }
    if (this.loadingOlder || (this.loaded && !this.hasMoreBefore)) return;
    this.loadingOlder = true;
    this.error = null;
    try {
      const before = this.loaded ? cursorBefore(this.messages) : undefined;
      const page = await this.#api.invoke('messages.page', {
        conversationId: this.conversationId,
        limit: PAGE_SIZE,
        ...(before ? { before } : {}),
      });
      this.messages = mergeMessages(this.messages, page.messages);
      this.hasMoreBefore = page.hasMoreBefore && page.messages.length > 0;
      this.loaded = true;
    } catch (err) {
      this.error = errorMessage(err);
    } finally {
      this.loadingOlder = false;
    }
  }

  /** Loads the page after the newest held, when the window is in the past. */
  async loadNewer(): Promise<void> {
    const last = this.messages.at(-1);
    if (this.loadingNewer || !this.hasMoreAfter || !last) return;
    this.loadingNewer = true;
    this.error = null;
    try {
      const page = await this.#api.invoke('messages.pageAfter', {
        conversationId: this.conversationId,
        after: { ts: last.ts, id: last.id },
        limit: PAGE_SIZE,
      });
      this.messages = mergeMessages(this.messages, page.messages);
      this.hasMoreAfter = page.hasMoreAfter && page.messages.length > 0;
      if (!this.hasMoreAfter) this.missedLive = 0;
    } catch (err) {
      this.error = errorMessage(err);
    } finally {
      this.loadingNewer = false;
    }
  }

  /** Replaces the window with the rows around `messageId` and asks the list to show it. */
  async jumpTo(messageId: number): Promise<void> {
    if (this.byId.has(messageId)) {
      this.scrollRequest = { to: 'message', id: messageId };
      return;
    }
    this.error = null;
    try {
      const around = await this.#api.invoke('messages.around', { messageId, limit: PAGE_SIZE });
      if (around.conversationId !== this.conversationId) return;
      this.messages = around.messages;
      this.hasMoreBefore = around.hasMoreBefore;
      this.hasMoreAfter = around.hasMoreAfter;
      this.missedLive = 0;
      this.loaded = true;
      this.scrollRequest = { to: 'message', id: messageId };
    } catch (err) {
      this.error = errorMessage(err);
    }
  }

  /** Back to the latest messages: reloads them when the window is in the past. */
  async jumpToLatest(): Promise<void> {
    if (this.hasMoreAfter) {
      this.messages = [];
      this.loaded = false;
      this.hasMoreAfter = false;
      this.hasMoreBefore = false;
      this.missedLive = 0;
      await this.loadOlder();
    }
    this.scrollRequest = { to: 'latest' };
  }

  toggleExpanded(id: number): void {
    const next = new Set(this.expanded);
    if (!next.delete(id)) next.add(id);
    this.expanded = next;
  }

  /** Sends `body` (answering message `replyTo`); it appears at once as pending. Throws with a user-facing message. */
  async send(body: string, replyTo?: number): Promise<void> {
    const m = await this.#api.invoke('messages.send', { conversationId: this.conversationId, body, ...(replyTo !== undefined ? { replyTo } : {}) });
    if (this.hasMoreAfter) await this.jumpToLatest();
    this.messages = mergeMessages(this.messages, [m]);
    this.scrollRequest = { to: 'latest' };
  }

  // Corrections, deletions and reactions show through the `message.updated` event the core
  // emits before it sends them. These throw with a user-facing message.
  async correct(messageId: number, body: string): Promise<void> {
    await this.#api.invoke('messages.correct', { messageId, body });
  }

  async retract(messageId: number): Promise<void> {
    await this.#api.invoke('messages.retract', { messageId });
  }

  async react(messageId: number, emojis: string[]): Promise<void> {
    await this.#api.invoke('messages.react', { messageId, emojis });
  }
}
