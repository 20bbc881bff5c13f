// The app's state: accounts, contacts, conversations and what is selected, kept in step
// with main through `window.heron` events. Collections are `$state.raw` and replaced, never
// mutated, so what we hold is always plain data that could cross the bridge as it is.
import { createContext } from 'svelte';
import type {
  AccountView,
  CommandPayload,
  ContactView,
  ConversationView,
  HeronApi,
} from '../../../preload/contract';
import { errorMessage } from './bridge';
import { presenceRank } from './format';

function upsertBy<T>(list: readonly T[], item: T, same: (a: T) => boolean): T[] {
  const at = list.findIndex(same);
  if (at < 0) return [...list, item];
  const next = list.slice();
  next[at] = item;
  return next;
}

function byPresenceThenName(a: ContactView, b: ContactView): number {
  return (
    presenceRank[a.presence.show] - presenceRank[b.presence.show] ||
    (a.name || a.jid).localeCompare(b.name || b.jid, undefined, { sensitivity: 'base' })
  );
}

export type AddAccountInput = CommandPayload<'accounts.add'>;

export class AppStore {
  accounts: AccountView[] = $state.raw([]);
  /** Roster per account id, sorted: reachable first, then by name. */
  contacts: Record<string, ContactView[]> = $state.raw({});
  conversations: ConversationView[] = $state.raw([]);
  selectedId: number | null = $state(null);
  /** The add-account form was asked for (it also shows whenever there is no account). */
  addingAccount = $state(false);
  ready = $state(false);
  /** Could not load at all; shown instead of the app. */
  loadError: string | null = $state(null);
  /** A failure the user should see but that did not come from a form. */
  notice: string | null = $state(null);

  /** Newest first; a chat without messages counts from when we first saw it. */
  readonly sortedConversations = $derived(
    this.conversations.toSorted((a, b) => this.#activity(b) - this.#activity(a) || b.id - a.id),
  );
  readonly selected = $derived(this.conversations.find((c) => c.id === this.selectedId) ?? null);
  readonly showAddAccount = $derived(this.ready && (this.addingAccount || this.accounts.length === 0));
  readonly totalUnread = $derived(this.conversations.reduce((n, c) => n + c.unread, 0));

  readonly api: HeronApi;
  #markingRead = new Set<number>();
  /** When each conversation first reached us: 0 for those loaded at start, else the time. */
  #firstSeen = new Map<number, number>();

  constructor(api: HeronApi) {
    this.api = api;
  }

  /** Subscribes to events, then loads. Returns the unsubscribe. */
  start(): () => void {
    // Subscribe first so nothing that changes during the initial load is missed; an item an
    // event already delivered is newer than the same item in a list result.
    const offs = [
      this.api.on('account.changed', (a) => {
        const known = this.accounts.some((x) => x.id === a.id);
        this.accounts = upsertBy(this.accounts, a, (x) => x.id === a.id);
        if (!known) void this.#loadContacts(a.id);
      }),
      this.api.on('contacts.changed', ({ accountId, contacts }) => {
        this.contacts = { ...this.contacts, [accountId]: contacts.toSorted(byPresenceThenName) };
      }),
      this.api.on('conversation.changed', (c) => this.#putConversation(c)),
      this.api.on('message.added', (m) => {
        // conversation.changed normally follows; this covers a chat we have never heard of.
        if (!this.conversations.some((c) => c.id === m.conversationId)) {
          this.#loadConversations().catch((err: unknown) => {
            this.notice = `Could not load chats: ${errorMessage(err)}`;
          });
        }
      }),
    ];
    void this.#load();
    return () => offs.forEach((off) => off());
  }

  async #load(): Promise<void> {
    try {
      const accounts = await this.api.invoke('accounts.list', {});
      const known = new Set(this.accounts.map((a) => a.id));
      this.accounts = [...this.accounts, ...accounts.filter((a) => !known.has(a.id))];
      await Promise.all([this.#loadConversations(), ...this.accounts.map((a) => this.#loadContacts(a.id))]);
      this.ready = true;
    } catch (err) {
      this.loadError = errorMessage(err);
    }
  }

  async #loadConversations(): Promise<void> {
    const list = await this.api.invoke('conversations.list', {});
    for (const c of list) if (!this.#firstSeen.has(c.id)) this.#firstSeen.set(c.id, 0);
    const known = new Set(this.conversations.map((c) => c.id));
    this.conversations = [...this.conversations, ...list.filter((c) => !known.has(c.id))];
  }

  async #loadContacts(accountId: string): Promise<void> {
    try {
      const list = await this.api.invoke('contacts.list', { accountId });
      if (!(accountId in this.contacts)) {
        this.contacts = { ...this.contacts, [accountId]: list.toSorted(byPresenceThenName) };
      }
    } catch (err) {
      this.notice = `Could not load contacts: ${errorMessage(err)}`;
    }
  }

  #activity(c: ConversationView): number {
    return c.last?.ts ?? this.#firstSeen.get(c.id) ?? 0;
  }

  #putConversation(c: ConversationView): void {
    if (!this.#firstSeen.has(c.id)) this.#firstSeen.set(c.id, Date.now());
    this.conversations = upsertBy(this.conversations, c, (x) => x.id === c.id);
    if (c.id === this.selectedId && c.unread > 0) this.markSelectedRead();
  }

  account(id: string): AccountView | undefined {
    return this.accounts.find((a) => a.id === id);
  }

  contact(accountId: string, jid: string): ContactView | undefined {
    return this.contacts[accountId]?.find((c) => c.jid === jid);
  }

  displayName(accountId: string, jid: string): string {
    return this.contact(accountId, jid)?.name || jid;
  }

  /** Adds an account. The password goes straight to main and is not kept here. Throws. */
  async addAccount(input: AddAccountInput): Promise<AccountView> {
    const account = await this.api.invoke('accounts.add', input);
    const known = this.accounts.some((a) => a.id === account.id);
    this.accounts = upsertBy(this.accounts, account, (x) => x.id === account.id);
    this.addingAccount = false;
    if (!known) void this.#loadContacts(account.id);
    return account;
  }

  /** Opens (creating if needed) the chat with `peer` and selects it. Throws. */
  async openChat(accountId: string, peer: string): Promise<ConversationView> {
    const conversation = await this.api.invoke('conversations.open', { accountId, peer });
    this.#putConversation(conversation);
    this.select(conversation.id);
    return conversation;
  }

  select(id: number | null): void {
    this.selectedId = id;
    this.addingAccount = false;
    this.markSelectedRead();
  }

  /** Marks the open chat read, if it has unread messages and the user can see it. */
  markSelectedRead(): void {
    const c = this.selected;
    if (!c || c.unread === 0 || this.#markingRead.has(c.id)) return;
    if (document.visibilityState !== 'visible' || !document.hasFocus()) return;
    this.#markingRead.add(c.id);
    this.api
      .invoke('conversations.markRead', { conversationId: c.id })
      .then((updated) => this.#putConversation(updated))
      .catch((err: unknown) => {
        this.notice = `Could not mark the chat read: ${errorMessage(err)}`;
      })
      .finally(() => this.#markingRead.delete(c.id));
  }

  /** Tells main whether the user can see us, so servers may hold back what is not urgent. */
  setActive(active: boolean): void {
    // Best effort: a lost update only costs a little battery or a later presence update.
    this.api.invoke('app.setActive', { active }).catch(() => {});
  }

  /** The account a new chat starts from by default: the open chat's, else the first online. */
  defaultAccountId(): string | undefined {
    return (
      this.selected?.accountId ??
      this.accounts.find((a) => a.connection.state === 'online')?.id ??
      this.accounts.find((a) => a.enabled)?.id ??
      this.accounts[0]?.id
    );
  }
}

const [getApp, setApp] = createContext<AppStore>();
export { getApp, setApp };
