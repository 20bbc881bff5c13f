// Composition root of the core: archive, vault, accounts and the command handlers, wired
// once. The shell (Electron) and the headless host both drive it through `handle`/`onEvent`.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { promises as dns } from 'node:dns';
import type { ArchiveStatus, EventName, EventPayloads } from '../../preload/contract';
import { Archive } from './archive/archive';
import { openArchive, watchHealth } from './archive/recovery';
import { exportArchive } from './archive/export';
import type { Vault } from './vault';
import { CommandFailure, createCommandDispatcher, type CommandHandlers } from './api';
import { Account } from './accounts/account';
import { systemClock, type Clock, type Emit, type Log } from './features/feature';
import { createSession, type Session, type SessionOptions } from './xmpp/session';
import type { SrvResolver } from './xmpp/endpoints';
import type { BackoffPolicy } from './accounts/backoff';
import type { KeepalivePolicy } from './features/keepalive';

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
};

export interface Core {
  handle(command: string, payload: unknown): Promise<unknown>;
  onEvent(listener: (event: EventName, payload: unknown) => void): () => void;
  networkChanged(online: boolean): void;
  /** Whether the user is looking at a window of ours (XEP-0352); the shell calls it on show and hide. */
  setActive(active: boolean): void;
  suspend(): void;
  resume(): void;
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
  const accounts = new Map<string, Account>();
  const removed = archive.removedAccountIds();
  for (const record of archive.listAccounts()) if (!removed.has(record.id)) accounts.set(record.id, new Account(record, accountDeps));
  let networkUp = true;
  const launch = (a: Account) => (networkUp ? a.start() : void a.networkChanged(false));

  const account = (id: string): Account => {
    const found = accounts.get(id);
    if (!found) throw new CommandFailure('not-found', 'That account does not exist.');
    return found;
  };

  const handlers: CommandHandlers = {
    'accounts.list': () => [...accounts.values()].map((a) => a.view()),
    'accounts.add': async ({ jid, password, host, port }) => {
      if ([...accounts.values()].some((a) => a.jid === jid)) {
        throw new CommandFailure('conflict', `${jid} is already set up.`);
      }
      // An address removed earlier with its history kept comes back with that history.
      const previous = archive.listAccounts().find((r) => r.jid === jid);
      // Keychain first: an account we could not store a password for is not created.
      await options.vault.setPassword(jid, password);
      let record;
      if (previous) {
        archive.reattachAccount(previous.id, host || null, port ?? null);
        record = archive.getAccount(previous.id);
      } else {
        record = { id: randomUUID(), jid, host: host || null, port: port ?? null, resource: `heron-${randomUUID().slice(0, 8)}`, enabled: true };
        archive.insertAccount(record);
      }
      const added = new Account(record, accountDeps);
      accounts.set(record.id, added);
      launch(added);
      return added.view();
    },
    'accounts.update': async ({ accountId, password, host, port }) => {
      const changed = account(accountId);
      // Keychain first: if it fails, nothing has changed.
      if (password !== undefined) await options.vault.setPassword(changed.jid, password);
      if (host !== undefined || port !== undefined) {
        const current = changed.view();
        const server = { host: host === undefined ? (current.host ?? null) : host, port: port === undefined ? (current.port ?? null) : port };
        archive.setAccountServer(accountId, server.host, server.port);
        changed.setServer(server.host, server.port);
      }
      changed.reconnect();
      return changed.view();
    },
    'accounts.setEnabled': async ({ accountId, enabled }) => {
      const toggled = account(accountId);
      archive.setAccountEnabled(accountId, enabled);
      await toggled.setEnabled(enabled);
      return toggled.view();
    },
    'accounts.remove': async ({ accountId, deleteHistory }) => {
      const gone = account(accountId);
      await gone.disconnect();
      // Keychain first: if it fails the account stays, and removing it again can finish the job.
      await options.vault.deletePassword(gone.jid);
      if (deleteHistory) archive.removeAccount(accountId);
      else archive.detachAccount(accountId);
      accounts.delete(accountId);
      emit('account.removed', { accountId });
      if (deleteHistory) void archive.purgeDeleted();
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
      archive.setCertificatePin(accountId, fingerprint);
      target.reconnect();
      return target.view();
    },
    'contacts.list': ({ accountId }) => account(accountId).roster.contacts(),
    'conversations.list': () => archive.listConversations(),
    'conversations.open': ({ accountId, peer }) => {
      account(accountId);
      return archive.openConversation(accountId, peer);
    },
    'messages.page': ({ conversationId, before, limit }) => {
      archive.getConversation(conversationId);
      return archive.pageBefore(conversationId, before, limit);
    },
    'messages.send': ({ conversationId, body }) => {
      const conversation = archive.getConversation(conversationId);
      if (!accounts.has(conversation.accountId)) {
        throw new CommandFailure('not-found', 'The account of this chat was removed. Add it again to send from it.');
      }
      return account(conversation.accountId).chat.send(conversation.peer, body);
    },
    'conversations.markRead': ({ conversationId }) => {
      const conversation = account(archive.getConversation(conversationId).accountId).markers.markRead(conversationId);
      emit('conversation.changed', conversation);
      return conversation;
    },
    'presence.set': ({ accountId, show, status }) => {
      const targets = accountId === undefined ? [...accounts.values()] : [account(accountId)];
      return Promise.all(targets.map((a) => a.setPresence({ show, ...(status ? { status } : {}) })));
    },
    'contacts.add': async ({ accountId, jid, name, groups }) => {
      await account(accountId).roster.add(jid, { ...(name !== undefined ? { name } : {}), ...(groups ? { groups } : {}) });
      return { accountId, jid };
    },
    'contacts.update': async ({ accountId, jid, name, groups }) => {
      await account(accountId).roster.update(jid, name, groups);
      return { accountId, jid };
    },
    'contacts.remove': async ({ accountId, jid }) => {
      await account(accountId).roster.remove(jid);
      return { accountId, jid };
    },
    'requests.list': ({ accountId }) => account(accountId).subscriptions.list(),
    'requests.answer': async ({ accountId, jid, answer }) => {
      await account(accountId).subscriptions.answer(jid, answer);
      return { accountId, jid };
    },
    'app.setActive': ({ active }) => {
      setActive(active);
      return { active };
    },
    'messages.pageAfter': ({ conversationId, after, limit }) => {
      archive.getConversation(conversationId);
      return archive.pageAfter(conversationId, after, limit);
    },
    'messages.around': ({ messageId, limit }) => archive.pageAround(messageId, limit),
    'messages.search': (query) => archive.search(query),
    'conversations.delete': ({ conversationId }) => {
      archive.deleteConversation(conversationId);
      emit('conversation.removed', { conversationId });
      void archive.purgeDeleted();
      return { conversationId };
    },
    'archive.export': async ({ conversationId }) => {
      const conversations = conversationId === undefined ? archive.listConversations() : [archive.getConversation(conversationId)];
      const stamp = new Date(clock.now()).toISOString().replace(/[:.]/g, '-');
      const file = path.join(options.dataDir, 'exports', `heron-${conversationId === undefined ? 'all' : `conversation-${conversationId}`}-${stamp}.jsonl`);
      const messages = await exportArchive(archive, file, { accounts: archive.listAccounts(), conversations }, clock.now());
      return { file, messages };
    },
    'archive.status': () => archiveStatus,
  };
  function setActive(active: boolean): void {
    for (const a of accounts.values()) a.csi.setActive(active);
  }
  const handle = createCommandDispatcher(handlers, (message) => log('error', message));

  for (const a of accounts.values()) a.start();
  void archive.purgeDeleted(); // finishes deletions a previous run was interrupted in
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
    async close() {
      await Promise.all([...accounts.values()].map((a) => a.disconnect()));
      listeners.clear();
      archive.close();
    },
  };
}
