// The archive's kill test (issue 4): the app is killed outright (SIGKILL) in the middle of
// catching up 10,000 messages from the server archive (MAM). On restart the database passes
// PRAGMA integrity_check, the catch-up resumes from the last committed page, and every one of
// the 10,000 messages is there exactly once, in order.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import xml from '@xmpp/xml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../main/core/archive/database';
import { startProsody, type TestServer } from '../support/prosody';
import { testKeychainService } from '../support/cores';
import { startHostProcess, type HostProcess } from '../support/host-process';
import { connectApi, type ApiClient } from '../support/api-client';
import { befriend, connectRaw } from '../support/raw-client';
import { until } from '../support/until';

const COUNT = 10_000;

/** Reads the archive file the app is writing, through a connection of our own. */
function query<T>(dataDir: string, sql: string): T[] {
  const file = path.join(dataDir, 'heron.sqlite');
  if (!fs.existsSync(file)) return [];
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } catch {
    return []; // not created yet
  } finally {
    db.close();
  }
}

const storedFromBob = (dataDir: string) => query<{ n: number }>(dataDir, "SELECT count(*) AS n FROM messages WHERE direction = 'in'")[0]?.n ?? 0;

describe('killed in the middle of a 10,000-message catch-up', () => {
  let server: TestServer;
  let host: HostProcess | undefined;
  let api: ApiClient | undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-kill-'));

  beforeAll(async () => {
    server = await startProsody({ storage: 'sql' });
  });
  afterAll(async () => {
    api?.close();
    await host?.stop();
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function startApp(): Promise<ApiClient> {
    host = await startHostProcess({ dataDir, caFile: path.join(server.dir, 'ca.crt'), keychainService: testKeychainService });
    api = await connectApi(host.url);
    return api;
  }

  it('resumes after the restart with every message once and the database sound', async () => {
    const aliceJid = await server.register('alice', 'a-pw');
    const bobJid = await server.register('bob', 'b-pw');
    // Contacts: a stranger's chat would wait in message requests, not in the chat list.
    await befriend(server, { jid: aliceJid, password: 'a-pw' }, { jid: bobJid, password: 'b-pw' });

    // Alice has used Heron before: it holds a catch-up cursor for her archive.
    let app = await startApp();
    const account = await app.invoke('accounts.add', { jid: aliceJid, password: 'a-pw', host: server.host, port: server.port });
    await until('first sync', async () => {
      const [state] = await app.invoke('accounts.list', {});
      return state?.connection.state === 'online' && !state.connection.syncing ? true : undefined;
    }, 30_000);
    api?.close();
    await host!.stop();

    // While the app is closed, bob writes 10,000 messages. Alice's phone is online, so they go
    // to the phone and into her archive, not into offline storage.
    const phone = await connectRaw(server, aliceJid, 'a-pw', 'phone');
    await phone.send(xml('presence'));
    const bob = await connectRaw(server, bobJid, 'b-pw', 'laptop');
    for (let i = 0; i < COUNT; i++) await bob.send(xml('message', { to: aliceJid, type: 'chat', id: `bob-${i}` }, xml('body', {}, `bob says ${i}`)));
    // A round trip after the last message: everything before it has been archived. Prosody
    // stores them one by one; alone that takes about a minute, beside the rest of the suite on
    // two cores it has taken over four.
    await bob.iqCaller.request(xml('iq', { type: 'get' }, xml('ping', { xmlns: 'urn:xmpp:ping' })), 480_000);
    await bob.stop();
    await phone.stop();

    // Start the app and kill it once the catch-up is well under way.
    app = await startApp();
    const atKill = await until('catch-up under way', () => (storedFromBob(dataDir) >= 1_500 ? storedFromBob(dataDir) : undefined), 120_000);
    await host!.stop('SIGKILL');
    api?.close();
    const afterKill = storedFromBob(dataDir);
    console.log(`archive kill test: killed with ${afterKill} of ${COUNT} messages stored`);
    expect(afterKill).toBeLessThan(COUNT); // it really was interrupted
    expect(afterKill).toBeGreaterThanOrEqual(atKill);

    // Sound after the kill, before anything else touches it; and the cursor matches what is stored.
    const db = openDatabase(path.join(dataDir, 'heron.sqlite'));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(() => db.prepare("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)").run()).not.toThrow();
    const cursor = db.prepare('SELECT last_stanza_id, complete FROM mam_sync').get() as { last_stanza_id: string | null; complete: number };
    const newestStored = db.prepare("SELECT stanza_id FROM messages WHERE direction = 'in' ORDER BY id DESC LIMIT 1").get() as { stanza_id: string };
    expect(cursor).toEqual({ last_stanza_id: newestStored.stanza_id, complete: 0 });
    db.close();

    // Restart: the catch-up resumes and completes.
    app = await startApp();
    await until('catch-up complete', async () => {
      const [state] = await app.invoke('accounts.list', {});
      return state?.connection.state === 'online' && !state.connection.syncing && storedFromBob(dataDir) >= COUNT ? true : undefined;
    }, 180_000);
    const [conversation] = await app.invoke('conversations.list', {});
    expect(conversation).toMatchObject({ accountId: account.id, peer: bobJid, unread: COUNT, last: { body: `bob says ${COUNT - 1}` } });
    api?.close();
    await host!.stop();

    const bodies = query<{ body: string }>(dataDir, "SELECT body FROM messages WHERE direction = 'in' ORDER BY id").map((r) => r.body);
    expect(bodies).toEqual(Array.from({ length: COUNT }, (_, i) => `bob says ${i}`));
    const check = openDatabase(path.join(dataDir, 'heron.sqlite'));
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    check.close();
  }, 780_000);
});
