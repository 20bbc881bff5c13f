// Several accounts at once, on two virtual hosts of one server: each is set up, changed,
// switched off, broken and removed on its own, and the others do not notice.
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerOptions, XmppTestServer } from '../../support/server-kit';
import { accountFor, startCore, testKeychainService, type TestCore } from '../../support/cores';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy';
import { until } from '../../support/until';
import { keytarVault } from '../../../main/core';
import type { AccountView } from '../../../preload/contract';

/** Runs against the server `start` gives (test/integration/accounts*.test.ts). */
export function accountsScenario(start: (options?: ServerOptions) => Promise<XmppTestServer>): void {
  describe('several accounts at once', () => {
    let server: XmppTestServer;
    let core: TestCore;
    let proxy: TcpProxy;
    const ids: Record<'alice' | 'bob' | 'carol', string> = { alice: '', bob: '', carol: '' };
    const jids = { alice: '', bob: '', carol: '' };

    const isOnline = (a: AccountView) => a.connection.state === 'online' && !a.connection.syncing;
    const state = async (id: string) => (await core.call('accounts.list', {})).find((a) => a.id === id)?.connection.state;

    /** Runs `act` and checks that no account but `target` changed meanwhile, and all others are still online. */
    async function onlyTouches<T>(target: string, act: () => Promise<T>): Promise<T> {
      const mark = core.events.length;
      const result = await act();
      const others = core.events
        .slice(mark)
        .filter((e) => e.event === 'account.changed' && (e.payload as AccountView).id !== target)
        .map((e) => e.payload);
      expect(others).toEqual([]);
      for (const id of Object.values(ids)) if (id !== target) expect(await state(id)).toBe('online');
      return result;
    }

    beforeAll(async () => {
      server = await start({ domains: ['heron.test', 'other.test'] });
      jids.alice = await server.register('alice', 'alice-pw');
      jids.bob = await server.register('bob', 'bob-pw');
      jids.carol = await server.register('carol', 'carol-pw', 'other.test');
      proxy = await startTcpProxy(server.port);
      core = await startCore({ server, backoff: { baseMs: 100, capMs: 1_000 } });
      ids.alice = (await core.call('accounts.add', accountFor(server, jids.alice, 'alice-pw'))).id;
      ids.bob = (await core.call('accounts.add', accountFor(server, jids.bob, 'bob-pw'))).id;
      // carol reaches the server through a proxy that the test can pull away.
      ids.carol = (await core.call('accounts.add', { jid: jids.carol, password: 'carol-pw', host: '127.0.0.1', port: proxy.port })).id;
      for (const id of Object.values(ids)) await core.waitForState(id, isOnline);
    });

    afterAll(async () => {
      await core?.core.close();
      await proxy?.cut();
      await server?.stop();
      // Every stanza the server sent was counted by the time it asked (XEP-0198), on either server.
      if (server) expect(server.ackShortfalls()).toEqual([]);
    });

    it('three accounts on two domains are online together, and a message goes from one to another', async () => {
      expect((await core.call('accounts.list', {})).map((a) => [a.jid, a.connection.state])).toEqual([
        [jids.alice, 'online'],
        [jids.bob, 'online'],
        [jids.carol, 'online'],
      ]);
      const chat = await core.call('conversations.open', { accountId: ids.alice, peer: jids.bob });
      await core.call('messages.send', { conversationId: chat.id, body: 'Hi Bob, from the same app' });
      const received = await core.waitFor('message.added', (m) => m.accountId === ids.bob && m.direction === 'in');
      expect(received).toMatchObject({ from: jids.alice, body: 'Hi Bob, from the same app' });
    });

    it('disabling one leaves the others untouched; enabling it connects it again', async () => {
      const disabled = await onlyTouches(ids.bob, async () => {
        const view = await core.call('accounts.setEnabled', { accountId: ids.bob, enabled: false });
        await expect(core.call('accounts.reconnect', { accountId: ids.bob })).rejects.toMatchObject({
          error: { code: 'conflict', message: 'The account is disabled; enable it to connect.' },
        });
        return view;
      });
      expect(disabled).toMatchObject({ enabled: false, connection: { state: 'disabled' } });

      const back = core.nextState(ids.bob, isOnline);
      await onlyTouches(ids.bob, () => core.call('accounts.setEnabled', { accountId: ids.bob, enabled: true }));
      await back;
    });

    it('a wrong password on one leaves the others untouched; entering the right one brings it online', async () => {
      await onlyTouches(ids.bob, async () => {
        const failed = core.nextState(ids.bob, (a) => a.connection.state === 'auth-failed');
        await core.call('accounts.update', { accountId: ids.bob, password: 'not-bob-pw' });
        expect((await failed).connection.reason).toMatch(/^Wrong address or password\./);
      });
      const online = core.nextState(ids.bob, isOnline);
      await core.call('accounts.update', { accountId: ids.bob, password: 'bob-pw' });
      await online;
    });

    it('losing its server leaves the others untouched, and it comes back on its own with the server', async () => {
      await onlyTouches(ids.carol, async () => {
        const waiting = core.nextState(ids.carol, (a) => a.connection.state === 'waiting');
        await proxy.cut();
        expect((await waiting).connection.retryAt).toBeDefined();
      });
      const online = core.nextState(ids.carol, isOnline);
      await proxy.restore();
      await online;
    });

    it('a new server address is used at once', async () => {
      const online = core.nextState(ids.carol, isOnline);
      const updated = await onlyTouches(ids.carol, () =>
        core.call('accounts.update', { accountId: ids.carol, host: server.host, port: server.port }),
      );
      expect(updated).toMatchObject({ host: server.host, port: server.port });
      expect((await online).connection.via).toEqual({ host: server.host, port: server.port, directTls: false });
    });

    it('removing an account forgets its password and keeps its chats; adding it again brings them back', async () => {
      const chat = await core.call('conversations.open', { accountId: ids.bob, peer: jids.alice });
      await onlyTouches(ids.bob, () => core.call('accounts.remove', { accountId: ids.bob, deleteHistory: false }));
      expect(await core.waitFor('account.removed', (e) => e.accountId === ids.bob)).toEqual({ accountId: ids.bob });
      expect((await core.call('accounts.list', {})).map((a) => a.jid)).toEqual([jids.alice, jids.carol]);
      expect(await keytarVault(testKeychainService).getPassword(jids.bob)).toBeNull();

      const page = await core.call('messages.page', { conversationId: chat.id, limit: 10 });
      expect(page.messages.map((m) => m.body)).toEqual(['Hi Bob, from the same app']);
      await expect(core.call('messages.send', { conversationId: chat.id, body: 'still there?' })).rejects.toMatchObject({
        error: { code: 'not-found', message: 'The account of this chat was removed. Add it again to send from it.' },
      });

      const again = await core.call('accounts.add', accountFor(server, jids.bob, 'bob-pw'));
      expect(again.id).toBe(ids.bob);
      await core.nextState(ids.bob, isOnline);
      expect((await core.call('conversations.list', {})).some((c) => c.id === chat.id && c.accountId === ids.bob)).toBe(true);
    });

    it('removing an account with its history deletes its chats and messages', async () => {
      const chat = await core.call('conversations.open', { accountId: ids.bob, peer: jids.alice });
      await onlyTouches(ids.bob, () => core.call('accounts.remove', { accountId: ids.bob, deleteHistory: true }));
      expect((await core.call('conversations.list', {})).filter((c) => c.accountId === ids.bob)).toEqual([]);
      await expect(core.call('messages.page', { conversationId: chat.id, limit: 10 })).rejects.toMatchObject({ error: { code: 'not-found' } });
      const db = new Database(path.join(core.dataDir, 'heron.sqlite'), { readonly: true });
      try {
        // The rows go in slices, in the background, so a long history never stalls the app.
        const accountRows = () => (db.prepare('SELECT count(*) AS n FROM accounts WHERE jid = ?').get(jids.bob) as { n: number }).n;
        await until('the account rows purged', () => (accountRows() === 0 ? true : undefined), 10_000);
        expect(db.prepare('SELECT count(*) AS n FROM messages WHERE sender = ?').get(jids.alice)).toEqual({ n: 1 }); // alice's own copy stays
      } finally {
        db.close();
      }
    });
  });
}
