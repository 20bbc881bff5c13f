// One open chat: its messages, paged backwards from the archive and kept live by events.
import type { HeronApi, MessageView } from '../../../preload/contract';
import { errorMessage } from './bridge';
import { cursorBefore, mergeMessages } from './messages';

export const PAGE_SIZE = 50;

export class ChatStore {
  /** Sorted oldest first; replaced on every change. */
  messages: MessageView[] = $state.raw([]);
  hasMoreBefore = $state(false);
  loaded = $state(false);
  loadingOlder = $state(false);
  /** Paging failed; shown in the list with a way to retry. */
  error: string | null = $state(null);

  readonly conversationId: number;
  readonly #api: HeronApi;

  constructor(api: HeronApi, conversationId: number) {
    this.#api = api;
    this.conversationId = conversationId;
  }

  /** Follows live messages of this chat. Returns the unsubscribe. */
  follow(): () => void {
    const offAdded = this.#api.on('message.added', (m) => {
      if (m.conversationId === this.conversationId) this.messages = mergeMessages(this.messages, [m]);
    });
    const offUpdated = this.#api.on('message.updated', (m) => {
      if (m.conversationId === this.conversationId) this.messages = mergeMessages(this.messages, [m], true);
    });
    return () => {
      offAdded();
      offUpdated();
    };
  }

  /** Loads the newest page, or the page before the oldest message held. */
  async loadOlder(): Promise<void> {
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

  /** Sends `body`; the message appears at once as pending. Throws with a user-facing message. */
  async send(body: string): Promise<void> {
    const m = await this.#api.invoke('messages.send', { conversationId: this.conversationId, body });
    this.messages = mergeMessages(this.messages, [m]);
  }
}
