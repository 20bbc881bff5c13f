// Test helpers around a real Heron core: a data dir per core, the real keychain under a
// per-run service name, and waiting for events or states without sleeping.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createCore, fileLog, keytarVault, type BackoffPolicy, type Core, type CoreOptions, type KeepalivePolicy } from '../../main/core';
import type { AccountView, CommandName, CommandPayload, CommandResults, EventName, EventPayloads } from '../../preload/contract';
import type { XmppTestServer as TestServer } from './server-kit';
import { befriend } from './raw-client';
import { until } from './until';

export type TestCore = {
  core: Core;
  dataDir: string;
  events: Array<{ event: EventName; payload: unknown; at: number }>;
  call<C extends CommandName>(command: C, payload: CommandPayload<C>): Promise<CommandResults[C]>;
  waitFor<E extends EventName>(event: E, predicate: (payload: EventPayloads[E]) => boolean, timeoutMs?: number, fromIndex?: number): Promise<EventPayloads[E]>;
  waitForState(accountId: string, predicate: (account: AccountView) => boolean, timeoutMs?: number): Promise<AccountView>;
  /** Like `waitFor`, but only for an event emitted from now on. */
  nextEvent<E extends EventName>(event: E, predicate: (payload: EventPayloads[E]) => boolean, timeoutMs?: number): Promise<EventPayloads[E]>;
  /** Like `waitForState`, but only for a state reached from now on. */
  nextState(accountId: string, predicate: (account: AccountView) => boolean, timeoutMs?: number): Promise<AccountView>;
  /** When the first event matching `predicate` was emitted. */
  emittedAt(predicate: (e: { event: EventName; payload: unknown }) => boolean): number | undefined;
  logs: string[];
};

/** One keychain service name per test process, so runs never see each other's secrets. */
export const testKeychainService = `Heron-test-${randomUUID().slice(0, 8)}`;

export async function startCore(
  options: {
    /** Trusts this server's throwaway CA; without it, only the system's roots. */
    server?: TestServer;
    dataDir?: string;
    keychainService?: string;
    backoff?: BackoffPolicy;
    resolveSrv?: CoreOptions['resolveSrv'];
    clock?: CoreOptions['clock'];
    keepalive?: KeepalivePolicy;
  } = {},
): Promise<TestCore> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'heron-core-'));
  const logs: string[] = [];
  const core = await createCore({
    dataDir,
    vault: keytarVault(options.keychainService ?? testKeychainService),
    ...(options.server ? { trustedCAs: [options.server.caPem] } : {}),
    log: fileLog(dataDir, (line) => logs.push(line)),
    ...(options.backoff ? { backoff: options.backoff } : {}),
    ...(options.resolveSrv ? { resolveSrv: options.resolveSrv } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.keepalive ? { keepalive: options.keepalive } : {}),
  });
  const events: TestCore['events'] = [];
  const waiters = new Set<() => void>();
  core.onEvent((event, payload) => {
    events.push({ event, payload, at: Date.now() });
    for (const check of [...waiters]) check();
  });
  const waitFor: TestCore['waitFor'] = (event, predicate, timeoutMs = 20_000, fromIndex = 0) =>
    new Promise((resolve, reject) => {
      const seen = () => events.slice(fromIndex).find((e) => e.event === event && predicate(e.payload as never));
      const check = () => {
        const hit = seen();
        if (!hit) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(hit.payload as never);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${event}; last events: ${JSON.stringify(events.slice(-5))}; logs: ${logs.slice(-5).join(' | ')}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return {
    core,
    dataDir,
    events,
    logs,
    call: (command, payload) => core.handle(command, payload) as never,
    emittedAt: (predicate) => events.find(predicate)?.at,
    waitFor,
    nextEvent: (event, predicate, timeoutMs) => waitFor(event, predicate, timeoutMs, events.length),
    waitForState: (accountId, predicate, timeoutMs) =>
      waitFor('account.changed', (a) => a.id === accountId && predicate(a), timeoutMs),
    nextState: (accountId, predicate, timeoutMs) =>
      waitFor('account.changed', (a) => a.id === accountId && predicate(a), timeoutMs, events.length),
  };
}

/**
 * Waits until the account's own device is in its device lists of both OMEMO versions, as the
 * server's pushes told it: its publishing after login is over and it is quiet. A server that
 * closes the connection while we still write resets it, and what it said last is lost.
 */
export async function omemoPublished(core: TestCore, accountId: string, jid: string): Promise<void> {
  const { id } = await core.call('conversations.open', { accountId, peer: jid });
  await until(`${jid}'s OMEMO devices published`, async () => {
    const { deviceId, own } = await core.call('omemo.devices', { conversationId: id });
    return own.filter((d) => d.deviceId === deviceId && d.active).length === 2 ? true : undefined;
  });
}

export function accountFor(server: TestServer, jid: string, password: string) {
  return { jid, password, host: server.host, port: server.port };
}

const isOnline = (a: AccountView) => a.connection.state === 'online' && !a.connection.syncing;

/**
 * Alice and bob, mutual contacts on `server`, each signed in on a Heron core of their own and
 * done with the first sync. Close both cores when done.
 */
export async function twoFriends(server: TestServer) {
  const aliceJid = await server.register('alice', 'a-pw');
  const bobJid = await server.register('bob', 'b-pw');
  await befriend(server, { jid: aliceJid, password: 'a-pw' }, { jid: bobJid, password: 'b-pw' });
  const alice = await startCore({ server });
  const bob = await startCore({ server });
  const aliceAccount = await alice.call('accounts.add', accountFor(server, aliceJid, 'a-pw'));
  const bobAccount = await bob.call('accounts.add', accountFor(server, bobJid, 'b-pw'));
  await alice.waitForState(aliceAccount.id, isOnline);
  await bob.waitForState(bobAccount.id, isOnline);
  return { alice, bob, aliceJid, bobJid, aliceAccount, bobAccount };
}
