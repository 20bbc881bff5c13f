// Composition root of the core: archive, vault, accounts, and the API: the commands about the
// core itself (accounts, archive, app) are here; every other one is served by the protocol
// module that declares it (features/modules.ts). The shell (Electron) and the headless host
// both drive it through `handle`/`onEvent`.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { promises as dns } from 'node:dns';
import type { ArchiveStatus, EventName, EventPayloads } from '../../preload/contract';
import { Archive, NotFoundError } from './archive/archive';
import { openArchive, watchHealth } from './archive/recovery';
import { exportArchive } from './archive/export';
import type { Vault } from './vault';
import { CommandFailure, createCommandDispatcher } from './api';
import { Account } from './accounts/account';
import { register, registrationForm } from './accounts/registration';
import { systemClock, type Clock, type CommandScope, type Emit, type Log } from './features/feature';
import { FEATURE_MODULES, composeCommands, type CoreCommands } from './features/modules';
import { readSettings, updateSettings } from './settings';
import { csiModule } from './features/csi';
import { mucModule } from './features/muc';
import { createSession, type Session, type SessionOptions } from './xmpp/session';
import type { SrvResolver } from './xmpp/endpoints';
import type { BackoffPolicy } from './accounts/backoff';
import type { KeepalivePolicy } from './features/keepalive';
import { Attention, type AttentionOptions } from './attention/attention';
import { UriInbox } from './uri-inbox';

export type CoreOptions = {
  dataDir: string;
  vault: Vault;
  /** Extra PEM CAs trusted beside the system's; tests use a throwaway CA. */
  trustedCAs?: string[];
  log?: Log;
  clock?: Clock;
  resolveSrv?: SrvResolver;
  openSession?: (options: SessionOptions) => Session;
  /** Retry delays; tests shorten them. */
  backoff?: BackoffPolicy;
  /** When to ping a silent server and how long to wait for its answer; tests shorten it. */
  keepalive?: KeepalivePolicy;
  /** Where notification decisions go (native notifications, the host's recorder); none without. */
  notifications?: AttentionOptions;
};

export interface Core {
  handle(command: string, payload: unknown): Promise<unknown>;
  onEvent(listener: (event: EventName, payload: unknown) => void): () => void;
  networkChanged(online: boolean): void;
  /** Whether the user is looking at a window of ours (XEP-0352); the shell calls it on show and hide. */
  setActive(active: boolean): void;
  suspend(): void;
  resume(): void;
  /** An xmpp: link handed to the app: filed for the window, which asks the user (`uri.opened`). */
  openUri(text: string): void;
  /** Asks the window to show a conversation (a notification was clicked). */
  showConversation(conversationId: number): void;
  close(): Promise<void>;
}

export const ARCHIVE_FILE = 'heron.sqlite';

export async function createCore(options: CoreOptions): Promise<Core> {
  fs.mkdirSync(options.dataDir, { recursive: true });
  const log: Log = options.log ?? (() => {});
  const clock = options.clock ?? systemClock;
  const archiveFile = path.join(options.dataDir, ARCHIVE_FILE);
  const opened = openArchive(archiveFile);
  if (opened.recovered) log('error', `archive damaged, moved to ${opened.recovered.movedTo}: ${opened.recovered.reason}`);
  const archiveStatus: ArchiveStatus = { recovered: opened.recovered, damaged: null };
  const archive = new Archive(opened.db, clock.now);
  // The user's settings, read once and kept current by settings.update: the notification policy
  // asks them on every decision (protocol modules read them from the archive, settings.ts).
  let settings = readSettings(archive);
  const listeners = new Set<(event: EventName, payload: unknown) => void>();
  const emit: Emit = <E extends EventName>(event: E, payload: EventPayloads[E]) => {
    for (const listener of listeners) {
      try {
        listener(event, payload);
      } catch (error) {
        log('error', `event listener failed on ${event}: ${(error as Error).message}`);
      }
    }
  };

  const accountDeps = {
    archive,
    vault: options.vault,
    emit,
    log,
    clock,
    resolveSrv: options.resolveSrv ?? ((name: string) => dns.resolveSrv(name)),
    openSession: options.openSession ?? createSession,
    ...(options.trustedCAs ? { trustedCAs: options.trustedCAs } : {}),
    ...(options.backoff ? { backoff: options.backoff } : {}),
    ...(options.keepalive ? { keepalive: options.keepalive } : {}),
  };
  const registrationDeps = { resolveSrv: accountDeps.resolveSrv, ...(options.trustedCAs ? { trustedCAs: options.trustedCAs } : {}) };
  const accounts = new Map<string, Account>();
  const removed = archive.accounts.removedIds();
  for (const record of archive.accounts.list()) if (!removed.has(record.id)) accounts.set(record.id, new Account(record, accountDeps));
  let networkUp = true;
  const launch = (a: Account) => (networkUp ? a.start() : void a.networkChanged(false));

  const account = (id: string): Account => {
    const found = accounts.get(id);
    if (!found) throw new CommandFailure('not-found', 'That account does not exist.');
    return found;
  };

  /** Adds an account whose password we were given (the user's, or the one just registered). */
  async function addAccount({ jid, password, host, port }: { jid: string; password: string; host?: string | undefined; port?: number | undefined }) {
    if ([...accounts.values()].some((a) => a.jid === jid)) {
      throw new CommandFailure('conflict', `${jid} is already set up.`);
    }
    // An address removed earlier with its history kept comes back with that history.
    const previous = archive.accounts.list().find((r) => r.jid === jid);
    // Keychain first: an account we could not store a password for is not created.
    await options.vault.setPassword(jid, password);
    let record;
    if (previous) {
      archive.accounts.reattach(previous.id, host || null, port ?? null);
      record = archive.accounts.get(previous.id);
    } else {
      record = { id: randomUUID(), jid, host: host || null, port: port ?? null, resource: `heron-${randomUUID().slice(0, 8)}`, enabled: true };
      archive.accounts.insert(record);
    }
    const added = new Account(record, accountDeps);
    accounts.set(record.id, added);
    launch(added);
    return added.view();
  }

  const own: CoreCommands = {
    'accounts.list': () => [...accounts.values()].map((a) => a.view()),
    'accounts.add': (payload) => addAccount(payload),
    'accounts.update': async ({ accountId, password, host, port }) => {
      const changed = account(accountId);
      // Keychain first: if it fails, nothing has changed.
      if (password !== undefined) await options.vault.setPassword(changed.jid, password);
      if (host !== undefined || port !== undefined) {
        const current = changed.view();
        const server = { host: host === undefined ? (current.host ?? null) : host, port: port === undefined ? (current.port ?? null) : port };
        archive.accounts.setServer(accountId, server.host, server.port);
        changed.setServer(server.host, server.port);
      }
      changed.reconnect();
      return changed.view();
    },
    'accounts.setEnabled': async ({ accountId, enabled }) => {
      const toggled = account(accountId);
      archive.accounts.setEnabled(accountId, enabled);
      await toggled.setEnabled(enabled);
      return toggled.view();
    },
    'accounts.remove': async ({ accountId, deleteHistory }) => {
      const gone = account(accountId);
      await gone.disconnect();
      // Keychain first: if it fails the account stays, and removing it again can finish the job.
      await options.vault.deletePassword(gone.jid);
      // The key that seals its OMEMO identity: without it, nothing left in the archive can speak for the account.
      await options.vault.deleteSecret('omemo-identity', gone.jid);
      if (deleteHistory) archive.accounts.remove(accountId);
      else archive.accounts.detach(accountId);
      accounts.delete(accountId);
      emit('account.removed', { accountId });
      if (deleteHistory) void archive.purge.run();
      return { accountId };
    },
    'accounts.reconnect': async ({ accountId }) => {
      const target = account(accountId);
      if (!target.enabled) throw new CommandFailure('conflict', 'The account is disabled; enable it to connect.');
      target.reconnect();
      return target.view();
    },
    'accounts.trustCertificate': async ({ accountId, fingerprint }) => {
      const target = account(accountId);
      // Only the certificate the user was just shown may be trusted, never one named from elsewhere.
      if (target.refusedCertificate()?.fingerprint !== fingerprint) {
        throw new CommandFailure('conflict', 'That is not the certificate the server presented. Review it again.');
      }
      archive.accounts.setCertificatePin(accountId, fingerprint);
      target.reconnect();
      return target.view();
    },
    'accounts.allowPlain': async ({ accountId }) => {
      const target = account(accountId);
      // Only after a refusal the user has seen, never ahead of one.
      if (!target.refusedPlain()) throw new CommandFailure('conflict', 'This account was not refused a PLAIN login.');
      archive.accounts.allowPlain(accountId);
      target.reconnect();
      return target.view();
    },
    'app.setActive': ({ active }) => {
      setActive(active);
      return { active };
    },
    'archive.export': async ({ conversationId }) => {
      // Message requests and blocked senders' chats too: an export keeps everything the archive does.
      const conversations = conversationId === undefined ? archive.conversations.listAll() : [archive.conversations.get(conversationId)];
      const stamp = new Date(clock.now()).toISOString().replace(/[:.]/g, '-');
      const file = path.join(options.dataDir, 'exports', `heron-${conversationId === undefined ? 'all' : `conversation-${conversationId}`}-${stamp}.jsonl`);
      const messages = await exportArchive(archive, file, { accounts: archive.accounts.list(), conversations }, clock.now());
      return { file, messages };
    },
    'archive.status': () => archiveStatus,
    'app.setViewing': ({ conversationId }) => {
      attention?.setViewing(conversationId);
      return { conversationId };
    },
    'app.takeUris': () => uris.take(),
    'registration.form': ({ domain, host, port }) => registrationForm({ domain, ...(host ? { host } : {}), ...(port ? { port } : {}) }, registrationDeps),
    'registration.submit': async ({ domain, host, port, values }) => {
      const jid = `${values.username?.trim().toLowerCase() ?? ''}@${domain}`;
      if ([...accounts.values()].some((a) => a.jid === jid)) throw new CommandFailure('conflict', `${jid} is already set up.`, 'username');
      const created = await register({ domain, ...(host ? { host } : {}), ...(port ? { port } : {}) }, values, registrationDeps);
      log('info', `registered ${created.jid}`);
      return addAccount({ ...created, host, port });
    },
    'settings.get': () => settings,
    'settings.update': (patch) => {
      settings = updateSettings(archive, patch);
      emit('settings.changed', settings);
      return settings;
    },
  };
  function setActive(active: boolean): void {
    windowActive = active;
    for (const a of accounts.values()) a.feature(csiModule).setActive(active);
  }
  const uris = new UriInbox();
  // The window is in front when the app starts; app.setActive says when that changes.
  let windowActive = true;
  const attention =
    options.notifications &&
    new Attention({
      ...options.notifications,
      conversations: archive.conversations.listAll(),
      accounts: [...accounts.values()].map((a) => a.view()),
      conversation: (id) => {
        try {
          return archive.conversations.get(id);
        } catch (error) {
          if (error instanceof NotFoundError) return undefined;
          throw error;
        }
      },
      prefs: () => settings.notifications,
      senderName: (accountId, jid) => archive.roster.item(accountId, jid)?.name || jid,
      ownNick: (accountId, room) => accounts.get(accountId)?.feature(mucModule).nickIn(room),
      now: clock.now,
      active: () => windowActive,
    });
  if (attention) listeners.add((event, payload) => attention.hear(event, payload as never));
  const scope: CommandScope = { archive, emit, account, findAccount: (id) => accounts.get(id), accounts: () => [...accounts.values()] };
  const handle = createCommandDispatcher(composeCommands(own, FEATURE_MODULES, scope, log), (message) => log('error', message));

  for (const a of accounts.values()) a.start();
  void archive.purge.run(); // finishes deletions a previous run was interrupted in
  void watchHealth(
    archiveFile,
    (reason) => {
      archiveStatus.damaged = { reason };
      log('error', reason);
      emit('archive.damaged', { reason });
    },
    (message) => log('warn', message),
  );

  return {
    handle,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    setActive,
    networkChanged(online) {
      networkUp = online;
      for (const a of accounts.values()) void a.networkChanged(online);
    },
    suspend() {
      for (const a of accounts.values()) void a.suspend();
    },
    resume() {
      // Connects now, cutting pending retries short; states the user must act on stay.
      for (const a of accounts.values()) a.start();
    },
    openUri(text) {
      emit('uri.opened', uris.put(text, [...accounts.values()].map((a) => ({ id: a.id, jid: a.jid }))));
    },
    showConversation(conversationId) {
      emit('conversation.show', { conversationId });
    },
    async close() {
      await Promise.all([...accounts.values()].map((a) => a.disconnect()));
      listeners.clear();
      archive.close();
    },
  };
}
