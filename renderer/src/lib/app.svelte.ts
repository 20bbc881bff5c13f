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
  OwnPresence,
  SubscriptionRequestView,
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
  /** Subscription requests waiting for an answer, per account id, oldest first. */
  requests: Record<string, SubscriptionRequestView[]> = $state.raw({});
  selectedId: number | null = $state(null);
  /** The add-account form was asked for (it also shows whenever there is no account). */
  addingAccount = $state(false);
  /** The account whose settings are open in the main pane. */
  editingAccountId: string | null = $state(null);
  /** Refused certificates the user closed the prompt for, as `accountId fingerprint`. */
  dismissedCertificates: ReadonlySet<string> = $state.raw(new Set());
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
  readonly allRequests = $derived(this.accounts.flatMap((a) => this.requests[a.id] ?? []));
  /** The presence every account shows, or null when they differ. */
  readonly sharedPresence = $derived.by((): OwnPresence | null => {
    const [first, ...rest] = this.accounts.map((a) => a.presence);
    if (!first) return null;
    return rest.every((p) => p.show === first.show && (p.status ?? '') === (first.status ?? '')) ? first : null;
  });
  readonly editingAccount = $derived(this.accounts.find((a) => a.id === this.editingAccountId) ?? null);
  /** The first account waiting for a decision on a certificate the user has not put aside. */
  readonly certificatePrompt = $derived.by(() => {
    for (const account of this.accounts) {
      const certificate = account.connection.state === 'cert-rejected' ? account.connection.certificate : undefined;
      if (certificate && !this.dismissedCertificates.has(`${account.id} ${certificate.fingerprint}`)) return { account, certificate };
    }
    return null;
  });

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
        if (!known) void this.#loadAccountLists(a.id);
      }),
      this.api.on('account.removed', ({ accountId }) => this.#forgetAccount(accountId)),
      this.api.on('contacts.changed', ({ accountId, contacts }) => {
        this.contacts = { ...this.contacts, [accountId]: contacts.toSorted(byPresenceThenName) };
      }),
      this.api.on('requests.changed', ({ accountId, requests }) => {
        this.requests = { ...this.requests, [accountId]: requests };
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
      await Promise.all([this.#loadConversations(), ...this.accounts.map((a) => this.#loadAccountLists(a.id))]);
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

  async #loadAccountLists(accountId: string): Promise<void> {
    try {
      const [contacts, requests] = await Promise.all([
        this.api.invoke('contacts.list', { accountId }),
        this.api.invoke('requests.list', { accountId }),
      ]);
      if (!(accountId in this.contacts)) {
        this.contacts = { ...this.contacts, [accountId]: contacts.toSorted(byPresenceThenName) };
      }
      if (!(accountId in this.requests)) this.requests = { ...this.requests, [accountId]: requests };
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
    if (!known) void this.#loadAccountLists(account.id);
    return account;
  }

  /** Sets our presence on one account, or on all without `accountId`. Throws. */
  async setPresence(presence: OwnPresence, accountId?: string): Promise<void> {
    const views = await this.api.invoke('presence.set', { ...(accountId ? { accountId } : {}), ...presence });
    for (const view of views) this.accounts = upsertBy(this.accounts, view, (x) => x.id === view.id);
  }

  /** Opens an account's settings in the main pane. */
  editAccount(id: string | null): void {
    this.editingAccountId = id;
    if (id !== null) this.addingAccount = false;
  }

  #putAccount(account: AccountView): AccountView {
    this.accounts = upsertBy(this.accounts, account, (x) => x.id === account.id);
    return account;
  }

  /** Changes password and/or server; the password goes straight to main. Throws. */
  async updateAccount(input: CommandPayload<'accounts.update'>): Promise<AccountView> {
    return this.#putAccount(await this.api.invoke('accounts.update', input));
  }

  async setAccountEnabled(accountId: string, enabled: boolean): Promise<AccountView> {
    return this.#putAccount(await this.api.invoke('accounts.setEnabled', { accountId, enabled }));
  }

  async reconnectAccount(accountId: string): Promise<AccountView> {
    return this.#putAccount(await this.api.invoke('accounts.reconnect', { accountId }));
  }

  async trustCertificate(accountId: string, fingerprint: string): Promise<AccountView> {
    return this.#putAccount(await this.api.invoke('accounts.trustCertificate', { accountId, fingerprint }));
  }

  /** Puts the certificate prompt aside for this certificate; the account stays refused. */
  dismissCertificate(accountId: string, fingerprint: string): void {
    this.dismissedCertificates = new Set(this.dismissedCertificates).add(`${accountId} ${fingerprint}`);
  }

  /** Brings the prompt back for a certificate put aside. */
  reviewCertificate(accountId: string, fingerprint: string): void {
    const next = new Set(this.dismissedCertificates);
    next.delete(`${accountId} ${fingerprint}`);
    this.dismissedCertificates = next;
  }

  async removeAccount(accountId: string, deleteHistory: boolean): Promise<void> {
    await this.api.invoke('accounts.remove', { accountId, deleteHistory });
    await this.#forgetAccount(accountId);
  }

  /** Drops an account that main removed, and reloads the chats (its history may be gone with it). */
  async #forgetAccount(accountId: string): Promise<void> {
    if (!this.accounts.some((a) => a.id === accountId)) return;
    this.accounts = this.accounts.filter((a) => a.id !== accountId);
    const { [accountId]: _gone, ...contacts } = this.contacts;
    this.contacts = contacts;
    const { [accountId]: _asked, ...requests } = this.requests;
    this.requests = requests;
    if (this.editingAccountId === accountId) this.editingAccountId = null;
    try {
      const list = await this.api.invoke('conversations.list', {});
      this.conversations = list;
      if (this.selectedId !== null && !list.some((c) => c.id === this.selectedId)) this.selectedId = null;
    } catch (err) {
      this.notice = `Could not load chats: ${errorMessage(err)}`;
    }
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
    this.editingAccountId = null;
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
