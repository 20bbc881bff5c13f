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
};

export interface Core {
  handle(command: string, payload: unknown): Promise<unknown>;
  onEvent(listener: (event: EventName, payload: unknown) => void): () => void;
  networkChanged(online: boolean): void;
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
  };
  const accounts = new Map<string, Account>();
  for (const record of archive.listAccounts()) accounts.set(record.id, new Account(record, accountDeps));

  const account = (id: string): Account => {
    const found = accounts.get(id);
    if (!found) throw new CommandFailure('not-found', 'That account does not exist.');
    return found;
  };

  const handlers: CommandHandlers = {
    'accounts.list': () => [...accounts.values()].map((a) => a.view()),
    'accounts.add': async ({ jid, password, host, port }) => {
      if ([...accounts.values()].some((a) => a.view().jid === jid)) {
        throw new CommandFailure('conflict', `${jid} is already set up.`);
      }
      const record = { id: randomUUID(), jid, host: host || null, port: port ?? null, resource: `heron-${randomUUID().slice(0, 8)}`, enabled: true };
      // Keychain first: an account we could not store a password for is not created.
      await options.vault.setPassword(jid, password);
      archive.insertAccount(record);
      const added = new Account(record, accountDeps);
      accounts.set(record.id, added);
      added.connect();
      return added.view();
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
      return account(conversation.accountId).chat.send(conversation.peer, body);
    },
    'conversations.markRead': ({ conversationId }) => {
      const conversation = archive.markRead(conversationId);
      emit('conversation.changed', conversation);
      return conversation;
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
    'accounts.remove': async ({ accountId }) => {
      const removed = account(accountId);
      await removed.disconnect();
      // Keychain first: if it fails the account stays, and removing it again can finish the job.
      await options.vault.deletePassword(removed.view().jid);
      archive.removeAccount(accountId);
      accounts.delete(accountId);
      emit('account.removed', { accountId });
      void archive.purgeDeleted();
      return { accountId };
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
  const handle = createCommandDispatcher(handlers, (message) => log('error', message));

  for (const a of accounts.values()) a.connect();
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
    networkChanged(online) {
      for (const a of accounts.values()) {
        if (online) a.connect();
      }
    },
    suspend() {
      for (const a of accounts.values()) void a.disconnect();
    },
    resume() {
      for (const a of accounts.values()) a.connect();
    },
    async close() {
      await Promise.all([...accounts.values()].map((a) => a.disconnect()));
      listeners.clear();
      archive.close();
    },
  };
}
