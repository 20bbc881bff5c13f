// The crash test of issue 3: the core's process is killed outright while 200 outgoing
// messages are unacknowledged; after a restart every one of them arrives, and only once.
// The server's replies are held back before the sends, so that none of the 200 can have been
// acknowledged when the kill comes, while the server may already have delivered them: the
// restart must resend them all, and the receiving side must store each once.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProsody, type TestServer } from '../support/prosody';
import { startCore, testKeychainService, type TestCore } from '../support/cores';
import { startHostProcess, type HostProcess } from '../support/host-process';
import { connectApi } from '../support/api-client';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { until } from '../support/until';
import { befriend } from '../support/raw-client';

const COUNT = 200;

function rows(dataDir: string, sql: string): Array<Record<string, unknown>> {
  const db = new Database(path.join(dataDir, 'heron.sqlite'), { readonly: true });
  try {
    return db.prepare(sql).all() as Array<Record<string, unknown>>;
  } finally {
    db.close();
  }
}

describe('a crash loses no queued message and doubles none', () => {
  let server: TestServer;
  let bob: TestCore;
  let host: HostProcess | undefined;
  let proxy: TcpProxy;

  beforeAll(async () => {
    server = await startProsody();
    proxy = await startTcpProxy(server.port, server.host);
    bob = await startCore({ server });
  });

  afterAll(async () => {
    await host?.stop();
    await bob?.core.close();
    await proxy?.close();
    await server?.stop();
  });

  it('sends all 200 exactly once after SIGKILL and restart', async () => {
    const aliceJid = await server.register('alice', 'a-pw');
    const bobJid = await server.register('bob', 'b-pw');
    // Contacts: bob's receipts go only to who sees his presence (XEP-0184 §8).
    await befriend(server, { jid: aliceJid, password: 'a-pw' }, { jid: bobJid, password: 'b-pw' });
    const bobAccount = await bob.call('accounts.add', { jid: bobJid, password: 'b-pw', host: server.host, port: server.port });
    await bob.waitForState(bobAccount.id, (a) => a.connection.state === 'online' && !a.connection.syncing);

    const aliceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-crash-'));
    const caFile = path.join(server.dir, 'ca.crt');
    host = await startHostProcess({ dataDir: aliceDir, caFile, keychainService: testKeychainService });
    let api = await connectApi(host.url);
    const account = await api.invoke('accounts.add', { jid: aliceJid, password: 'a-pw', host: '127.0.0.1', port: proxy.port });
    await until('alice online', async () => {
      const [state] = await api.invoke('accounts.list', {});
      return (state?.connection.state === 'online' && !state.connection.syncing) || undefined;
    });
    const conversation = await api.invoke('conversations.open', { accountId: account.id, peer: bobJid });
    expect(proxy.muteReplies()).toBe(1);
    // Queue all 200 as fast as the core takes them, then kill it.
    await Promise.all(Array.from({ length: COUNT }, (_, i) => api.invoke('messages.send', { conversationId: conversation.id, body: `queued ${i}` })));
    await host.stop('SIGKILL');
    api.close();
    const unconfirmed = rows(aliceDir, "SELECT count(*) AS n FROM messages WHERE state = 'pending'")[0]!.n as number;
    const deliveredBefore = bob.events.filter((e) => e.event === 'message.added').length;
    console.log(`crash test: killed with ${unconfirmed} of ${COUNT} messages unacknowledged; bob already had ${deliveredBefore}`);
    expect(unconfirmed).toBe(COUNT);

    host = await startHostProcess({ dataDir: aliceDir, caFile, keychainService: testKeychainService });
    api = await connectApi(host.url);
    let received: Array<Record<string, unknown>> = [];
    await until(
      'all delivered',
      () => {
        received = rows(bob.dataDir, "SELECT body FROM messages WHERE direction = 'in' ORDER BY ts, id");
        const pending = rows(aliceDir, "SELECT count(*) AS n FROM messages WHERE state IN ('pending', 'sent')")[0]!.n;
        return (received.length >= COUNT && pending === 0) || undefined;
      },
      60_000,
    ).catch(() => {
      // The assertions below say what arrived.
    });
    api.close();
    expect(received.map((r) => r.body)).toEqual(Array.from({ length: COUNT }, (_, i) => `queued ${i}`));
    expect(rows(aliceDir, "SELECT state, count(*) AS n FROM messages GROUP BY state")).toEqual([{ state: 'delivered', n: COUNT }]);
  });
});
