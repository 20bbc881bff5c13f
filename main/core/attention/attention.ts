// Feeds the notification policy from the core's events and hands its decisions to a sink:
// native notifications and the dock badge in the shell, a recorder in the headless host.
// It keeps what the policy asks about: the conversations (unread, mute, request), each
// account's own presence and catch-up, and what the window shows.
import { mentionsNick, type AccountView, type ConversationView, type EventName, type EventPayloads, type MessageView } from '../../../preload/contract';
import {
  badgeCount,
  catchUpSummary,
  conversationGroup,
  decide,
  DEFAULT_ROOM_NOTIFY,
  type CaughtUp,
  type Decision,
  type NotificationPrefs,
  type Notice,
  type Throttle,
} from './policy';

export interface NotificationSink {
  show(notice: Notice): void;
  /** The notices of this group are no longer news (the conversation was read). */
  dismiss(group: string): void;
  badge(count: number): void;
  /** Every decision, shown or not: the host records them for tests. */
  decided?(decision: Decision, message: Pick<MessageView, 'id' | 'conversationId'>): void;
}

export type AttentionOptions = {
  sink: NotificationSink;
  /** Whether our window has the focus; without it, whether the window said it is visible (app.setActive). */
  windowFocused?: () => boolean;
};

type Deps = AttentionOptions & {
  /** The user's notification settings as they are now (the core's settings). */
  prefs(): NotificationPrefs;
  conversations: readonly ConversationView[];
  accounts: readonly AccountView[];
  /** From the archive: a message's conversation may be new, its conversation.changed still to come. */
  conversation(id: number): ConversationView | undefined;
  senderName(accountId: string, jid: string): string;
  /** Our nick in a room we are in, to tell a mention. */
  ownNick(accountId: string, room: string): string | undefined;
  now(): number;
  active(): boolean;
};

const isMuted = (c: ConversationView): boolean => c.muted;

export class Attention {
  #conversations = new Map<number, ConversationView>();
  #accounts = new Map<string, AccountView>();
  #throttle: Throttle = new Map();
  /** Per account catching up: per conversation, messages that arrived during it and the latest text. */
  #caughtUp = new Map<string, Map<number, { count: number; latest: string; sender: string }>>();
  #viewing: number | null = null;
  #lastBadge = -1;

  constructor(private readonly deps: Deps) {
    for (const c of deps.conversations) this.#conversations.set(c.id, c);
    for (const a of deps.accounts) this.#accounts.set(a.id, a);
    this.#updateBadge();
  }

  setViewing(conversationId: number | null): void {
    this.#viewing = conversationId;
  }

  hear<E extends EventName>(event: E, payload: EventPayloads[E]): void {
    switch (event) {
      case 'message.added':
        this.#message(payload as MessageView);
        break;
      case 'conversation.changed': {
        const c = payload as ConversationView;
        const before = this.#conversations.get(c.id);
        this.#conversations.set(c.id, c);
        if (c.unread === 0 && (before?.unread ?? 0) > 0) {
          // Read (here or on another device): what was held back is no news any more.
          this.#throttle.delete(c.id);
          this.deps.sink.dismiss(conversationGroup(c.id));
        }
        this.#updateBadge();
        break;
      }
      case 'conversation.removed':
        this.#conversations.delete((payload as EventPayloads['conversation.removed']).conversationId);
        this.#updateBadge();
        break;
      case 'account.changed':
        this.#account(payload as AccountView);
        break;
      case 'account.removed':
        this.#accounts.delete((payload as EventPayloads['account.removed']).accountId);
        break;
    }
  }

  #catchingUp(accountId: string): boolean {
    return this.#accounts.get(accountId)?.connection.syncing === true;
  }

  #message(message: MessageView): void {
    if (message.direction !== 'in' || message.gap || message.retractedAt !== undefined) return;
    const conversation = this.#conversations.get(message.conversationId) ?? this.deps.conversation(message.conversationId);
    if (conversation) this.#conversations.set(conversation.id, conversation);
    const inRoom = conversation?.kind === 'groupchat';
    // In a room the sender is room/nick: the nick is who wrote.
    const sender = inRoom ? `${message.from.slice(message.from.indexOf('/') + 1)} (${conversation.peer})` : this.deps.senderName(message.accountId, message.from);
    const nick = inRoom ? this.deps.ownNick(message.accountId, conversation.peer) : undefined;
    const catchingUp = this.#catchingUp(message.accountId);
    const decision = decide(
      { conversationId: message.conversationId, accountId: message.accountId, sender, body: message.body },
      {
        windowFocused: this.deps.windowFocused?.() ?? this.deps.active(),
        viewing: this.#viewing,
        muted: conversation ? isMuted(conversation) : false,
        request: conversation?.request !== undefined,
        dnd: this.#accounts.get(message.accountId)?.presence.show === 'dnd',
        catchingUp,
        ...(inRoom ? { room: { notify: DEFAULT_ROOM_NOTIFY, mention: nick !== undefined && mentionsNick(message.body, nick) } } : {}),
        prefs: this.deps.prefs(),
        now: this.deps.now(),
      },
      this.#throttle,
    );
    this.deps.sink.decided?.(decision, message);
    if (decision.kind === 'notify') {
      this.deps.sink.show(decision.notice);
    } else if (decision.reason === 'catch-up') {
      const perConversation = this.#caughtUp.get(message.accountId) ?? new Map();
      const entry = perConversation.get(message.conversationId) ?? { count: 0, latest: '', sender };
      perConversation.set(message.conversationId, { count: entry.count + 1, latest: message.body, sender });
      this.#caughtUp.set(message.accountId, perConversation);
    }
  }

  #account(account: AccountView): void {
    const wasCatchingUp = this.#catchingUp(account.id);
    this.#accounts.set(account.id, account);
    if (!wasCatchingUp || account.connection.syncing === true) return;
    const collected = this.#caughtUp.get(account.id);
    this.#caughtUp.delete(account.id);
    if (!collected) return;
    const caught: CaughtUp[] = [...collected].map(([conversationId, entry]) => ({
      conversationId,
      accountId: account.id,
      sender: entry.sender,
      // What was read meanwhile (on another device, or here) is no news.
      count: Math.min(entry.count, this.#conversations.get(conversationId)?.unread ?? 0),
      latest: entry.latest,
    }));
    const notice = catchUpSummary(caught, this.deps.prefs());
    if (notice) this.deps.sink.show(notice);
  }

  #updateBadge(): void {
    const count = badgeCount(
      [...this.#conversations.values()].map((c) => ({ unread: c.unread, muted: isMuted(c), request: c.request !== undefined })),
    );
    if (count === this.#lastBadge) return;
    this.#lastBadge = count;
    this.deps.sink.badge(count);
  }
}
