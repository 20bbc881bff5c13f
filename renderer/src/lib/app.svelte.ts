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
  Settings,
  SettingsPatch,
  SubscriptionRequestView,
} from '../../../preload/contract';
import { errorMessage } from './bridge';
import { compareNames, presenceRank } from './format';
import { rememberDraft } from './drafts';
import { t } from './i18n';
import { EncryptionStore } from './encryption.svelte';
import { RoomsStore } from './rooms.svelte';

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
    compareNames(a.name || a.jid, b.name || b.jid)
  );
}

export type AddAccountInput = CommandPayload<'accounts.add'>;

/**
 * Everything one sender outside the chat list asked of one account, shown as one request: a
 * chat they started (a message request), a wish to see our presence, or both.
 */
export type SenderRequest = {
  accountId: string;
  jid: string;
  conversation?: ConversationView;
  subscription?: SubscriptionRequestView;
  /** When they last asked or wrote (ms since epoch): the list is newest first. */
  at: number;
};

export type RequestAction = CommandPayload<'requests.decide'>['action'];

/** Merges message requests and subscription requests by sender, newest first. */
export function senderRequests(conversations: readonly ConversationView[], subscriptions: readonly SubscriptionRequestView[]): SenderRequest[] {
  const bySender = new Map<string, SenderRequest>();
  const key = (accountId: string, jid: string) => `${accountId} ${jid}`;
  for (const c of conversations) bySender.set(key(c.accountId, c.peer), { accountId: c.accountId, jid: c.peer, conversation: c, at: c.last?.ts ?? 0 });
  for (const s of subscriptions) {
    const known = bySender.get(key(s.accountId, s.jid));
    bySender.set(key(s.accountId, s.jid), known ? { ...known, subscription: s, at: Math.max(known.at, s.receivedAt) } : { accountId: s.accountId, jid: s.jid, subscription: s, at: s.receivedAt });
  }
  return [...bySender.values()].sort((a, b) => b.at - a.at || a.jid.localeCompare(b.jid));
}

/** What fills the window beside the account rail. */
export type View = 'chats' | 'contacts' | 'requests' | 'settings';

export class AppStore {
  accounts: AccountView[] = $state.raw([]);
  /** Roster per account id, sorted: reachable first, then by name. */
  contacts: Record<string, ContactView[]> = $state.raw({});
  conversations: ConversationView[] = $state.raw([]);
  /** Chats someone not in the roster started: never in the chat list, never counted as unread. */
  messageRequests: ConversationView[] = $state.raw([]);
  /** Subscription requests waiting for an answer, per account id, oldest first. */
  requests: Record<string, SubscriptionRequestView[]> = $state.raw({});
  selectedId: number | null = $state(null);
  view: View = $state('chats');
  /** The unified inbox (null) or one account's chats. */
  accountFilter: string | null = $state(null);
  /** The contact's details beside the chat. */
  detailsOpen = $state(false);
  /** App settings; null until loaded. */
  settings: Settings | null = $state.raw(null);
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

  /** Pinned first, then newest first; a chat without messages counts from when we first saw it. */
  readonly sortedConversations = $derived(
    this.conversations.toSorted((a, b) => Number(b.pinned) - Number(a.pinned) || this.#activity(b) - this.#activity(a) || b.id - a.id),
  );
  /** The chat list as shown: every account's (the unified inbox) or the filtered account's. */
  readonly inbox = $derived(
    this.accountFilter === null ? this.sortedConversations : this.sortedConversations.filter((c) => c.accountId === this.accountFilter),
  );
  readonly selected = $derived(
    this.conversations.find((c) => c.id === this.selectedId) ?? this.messageRequests.find((c) => c.id === this.selectedId) ?? null,
  );
  readonly showAddAccount = $derived(this.ready && (this.addingAccount || this.accounts.length === 0));
  /** Unread messages in chats that are not muted (the window title's count). */
  readonly totalUnread = $derived(this.conversations.reduce((n, c) => n + (c.muted ? 0 : c.unread), 0));
  /** Unread messages per account id, muted chats left out (the rail's badges). */
  readonly unreadByAccount = $derived(
    this.conversations.reduce<Record<string, number>>((by, c) => {
      if (!c.muted && c.unread > 0) by[c.accountId] = (by[c.accountId] ?? 0) + c.unread;
      return by;
    }, {}),
  );
  readonly allRequests = $derived(this.accounts.flatMap((a) => this.requests[a.id] ?? []));
  /** Message and subscription requests, one per sender and account, newest first. */
  readonly senderRequests = $derived(
    senderRequests(
      this.messageRequests.filter((c) => this.accounts.some((a) => a.id === c.accountId)),
      this.allRequests,
    ),
  );
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
  readonly rooms: RoomsStore;
  readonly encryption: EncryptionStore;
  #markingRead = new Set<number>();
  /** When each conversation first reached us: 0 for those loaded at start, else the time. */
  #firstSeen = new Map<number, number>();

  constructor(api: HeronApi) {
    this.api = api;
    this.rooms = new RoomsStore(api);
    this.encryption = new EncryptionStore(api);
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
      this.api.on('requests.changed', ({ accountId, added, removed }) => {
        const gone = new Set([...removed, ...added.map((r) => r.jid)]);
        const kept = (this.requests[accountId] ?? []).filter((r) => !gone.has(r.jid));
        this.requests = { ...this.requests, [accountId]: [...kept, ...added].toSorted((a, b) => a.receivedAt - b.receivedAt) };
      }),
      this.api.on('conversation.changed', (c) => this.#putConversation(c)),
      this.api.on('settings.changed', (settings) => (this.settings = settings)),
      this.api.on('message.changeNotSent', ({ peer, kind, reason }) => {
        this.notice = `Your ${kind === 'correction' ? 'edit' : 'reaction'} in the chat with ${peer} was not sent: it could not be encrypted (${reason}). Heron tries again when it reconnects.`;
      }),
      this.api.on('message.added', (m) => {
        // conversation.changed normally follows; this covers a chat we have never heard of.
        if (!this.conversations.some((c) => c.id === m.conversationId) && !this.messageRequests.some((c) => c.id === m.conversationId)) {
          this.#loadConversations().catch((err: unknown) => {
            this.notice = `Could not load chats: ${errorMessage(err)}`;
          });
        }
      }),
    ];
    offs.push(this.rooms.start(), this.encryption.start());
    void this.#load();
    return () => offs.forEach((off) => off());
  }

  async #load(): Promise<void> {
    try {
      const [accounts, settings] = await Promise.all([this.api.invoke('accounts.list', {}), this.api.invoke('settings.get', {})]);
      this.settings ??= settings;
      const known = new Set(this.accounts.map((a) => a.id));
      this.accounts = [...this.accounts, ...accounts.filter((a) => !known.has(a.id))];
      await Promise.all([this.#loadConversations(), ...this.accounts.map((a) => this.#loadAccountLists(a.id))]);
      this.ready = true;
    } catch (err) {
      this.loadError = errorMessage(err);
    }
  }

  async #loadConversations(): Promise<void> {
    const [list, waiting] = await Promise.all([this.api.invoke('conversations.list', {}), this.api.invoke('messageRequests.list', {})]);
    const knownRequests = new Set(this.messageRequests.map((c) => c.id));
    this.messageRequests = [...this.messageRequests, ...waiting.filter((c) => !knownRequests.has(c.id))];
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
    // A request is never in the chat list; an accepted one moves into it, a declined one goes.
    this.messageRequests =
      c.request === 'waiting' ? upsertBy(this.messageRequests, c, (x) => x.id === c.id) : this.messageRequests.filter((x) => x.id !== c.id);
    if (c.request) {
      this.conversations = this.conversations.filter((x) => x.id !== c.id);
      if (c.request === 'declined' && this.selectedId === c.id) this.selectedId = null;
    } else {
    if (!this.#firstSeen.has(c.id)) this.#firstSeen.set(c.id, Date.now());
    this.conversations = upsertBy(this.conversations, c, (x) => x.id === c.id);
    }
    // Reading a request tells the stranger nothing (no marker goes to them), so it is read as any chat.
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
    return this.#accountAdded(await this.api.invoke('accounts.add', input));
  }

  /** Creates an account on its server by in-band registration and adds it. Throws. */
  async registerAccount(input: CommandPayload<'registration.submit'>): Promise<AccountView> {
    return this.#accountAdded(await this.api.invoke('registration.submit', input));
  }

  #accountAdded(account: AccountView): AccountView {
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
    if (id !== null) {
      this.addingAccount = false;
      this.view = 'settings';
    }
  }

  /** Shows a view beside the rail; leaves the add-account form and an account's settings. */
  show(view: View): void {
    this.view = view;
    this.addingAccount = false;
    this.editingAccountId = null;
  }

  /** Shows the unified inbox (null) or one account's chats. */
  filterAccount(accountId: string | null): void {
    this.accountFilter = accountId;
    this.show('chats');
  }

  /** Changes settings (only what is given). Throws. */
  async updateSettings(patch: SettingsPatch): Promise<Settings> {
    this.settings = await this.api.invoke('settings.update', patch);
    return this.settings;
  }

  /** Pins, mutes or keeps a draft for a chat. Throws. */
  async updateConversation(change: CommandPayload<'conversations.update'>): Promise<ConversationView> {
    const updated = await this.api.invoke('conversations.update', change);
    this.#putConversation(updated);
    return updated;
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

  /** Lets the account log in with PLAIN after Heron refused it (it had used SCRAM before). */
  async allowPlain(accountId: string): Promise<AccountView> {
    return this.#putAccount(await this.api.invoke('accounts.allowPlain', { accountId }));
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

  /** Settles what the given senders asked (see `requests.decide`). Throws. */
  async decideRequests(items: ReadonlyArray<{ accountId: string; jid: string }>, action: RequestAction): Promise<{ reported: boolean }> {
    const { reported } = await this.api.invoke('requests.decide', { items: items.map(({ accountId, jid }) => ({ accountId, jid })), action });
    return { reported };
  }

  /** Opens (creating if needed) the chat with `peer` and selects it, with `composerText` in its message box. Throws. */
  async openChat(accountId: string, peer: string, composerText?: string): Promise<ConversationView> {
    const conversation = await this.api.invoke('conversations.open', { accountId, peer });
    this.#putConversation(conversation);
    if (composerText) rememberDraft(conversation.id, composerText);
    this.select(conversation.id);
    return conversation;
  }

  /** Accepts an invitation: joins the room with the account's name as nick, and opens it. Throws. */
  async acceptInvite(invite: { accountId: string; room: string }): Promise<void> {
    const nick = this.account(invite.accountId)?.jid.split('@')[0];
    if (!nick) throw new Error('The account of this invitation is gone.');
    const room = await this.rooms.join(invite.accountId, invite.room, nick);
    await this.selectNew(room.conversationId);
  }

  /** Selects a conversation main just made (a room joined), loading it first if no event brought it yet. Throws. */
  async selectNew(id: number): Promise<void> {
    if (!this.conversations.some((c) => c.id === id)) await this.#loadConversations();
    this.select(id);
  }

  select(id: number | null): void {
    this.selectedId = id;
    this.addingAccount = false;
    this.editingAccountId = null;
    if (this.view === 'settings') this.view = 'chats';
    this.markSelectedRead();
  }

  /** Sends my failed message again (it shows pending, then how it went); a refusal is the notice. */
  async retryMessage(messageId: number): Promise<void> {
    try {
      await this.api.invoke('messages.retry', { messageId });
    } catch (err) {
      this.notice = t('chat.retryFailed', { reason: errorMessage(err) });
    }
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
