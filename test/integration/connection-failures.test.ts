import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startProsody, type TestServer } from '../support/prosody';
import path from 'node:path';
import Database from 'better-sqlite3';
import xml from '@xmpp/xml';
import { omemoPublished, startCore, type TestCore } from '../support/cores';
import { connectRaw } from '../support/raw-client';
import { countingClock } from '../support/clock';
import type { AccountView } from '../../preload/contract';

/** The resource an account binds (the app keeps it across runs). */
function resourceOf(dataDir: string, accountId: string): string {
  const db = new Database(path.join(dataDir, 'heron.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT resource FROM accounts WHERE id = ?').get(accountId) as { resource: string }).resource;
  } finally {
    db.close();
  }
}

describe('connection failures are states a user can see', () => {
  let server: TestServer;
  let core: TestCore;
  let jid: string;

  beforeAll(async () => {
    server = await startProsody();
    jid = await server.register('carol', 'right-pw');
    core = await startCore({ server, backoff: { baseMs: 200, capMs: 10_000 } });
  });

  afterAll(async () => {
    await core?.core.close();
    await server?.stop();
  });

  it('a wrong password ends in "authentication failed" and is not retried', async () => {
    // A core of its own, whose only timers are this account's: none pending means no retry to come.
    const clock = countingClock();
    const lone = await startCore({ server, clock, backoff: { baseMs: 200, capMs: 10_000 } });
    try {
      const account = await lone.call('accounts.add', { jid, password: 'wrong-pw', host: server.host, port: server.port });
      const failed = await lone.waitForState(account.id, (a) => a.connection.state === 'auth-failed');
      expect(failed.connection.reason).toMatch(/^Wrong address or password\./);
      expect(failed.connection.retryAt).toBeUndefined();
      expect(clock.pending()).toBe(0);
      const attempts = lone.events.filter((e) => e.event === 'account.changed' && (e.payload as AccountView).id === account.id && (e.payload as AccountView).connection.state === 'connecting');
      expect(attempts).toHaveLength(1);
      const [listed] = (await lone.call('accounts.list', {})).filter((a) => a.id === account.id);
      expect(listed?.connection.state).toBe('auth-failed');
    } finally {
      await lone.core.close();
    }
  });

  it('a refused connection shows the error and retries with growing delays', async () => {
    const closedPort = await freePort();
    const account = await core.call('accounts.add', { jid: 'dave@heron.test', password: 'pw', host: '127.0.0.1', port: closedPort });
    const waits: Array<{ attempt: number; delay: number }> = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      const waiting = await core.waitForState(account.id, (a) => a.connection.state === 'waiting' && a.connection.attempt === attempt);
      expect(waiting.connection.reason).toBe('The server refused the connection.');
      const at = core.emittedAt((e) => e.payload === waiting)!;
      waits.push({ attempt, delay: waiting.connection.retryAt! - at });
    }
    console.log('retry delays (ms):', waits.map((w) => w.delay).join(', '));
    for (let i = 1; i < waits.length; i++) expect(waits[i]!.delay).toBeGreaterThan(waits[i - 1]!.delay);
  });

  it('an unknown host is reported as not found', async () => {
    const account = await core.call('accounts.add', { jid: 'erin@heron.test', password: 'pw', host: 'no-such-host.invalid', port: 5222 });
    const waiting = await core.waitForState(account.id, (a) => a.connection.state === 'waiting');
    expect(waiting.connection.reason).toMatch(/^Server not found|network connection failed/);
  });

  it('a server certificate from an untrusted CA is rejected with its details, not retried', async () => {
    const untrusting = await startCore(); // no throwaway CA: only the system's roots
    try {
      const account = await untrusting.call('accounts.add', { jid, password: 'right-pw', host: server.host, port: server.port });
      const failed = await untrusting.waitForState(account.id, (a) => a.connection.state === 'cert-rejected');
      expect(failed.connection.reason).toBe("The server's certificate was rejected: it is not signed by an authority this computer trusts.");
      const cert = server.certificate();
      expect(failed.connection.certificate).toEqual({
        subject: 'CN=heron.test',
        issuer: 'CN=Heron throwaway test CA',
        names: ['heron.test', '*.heron.test'],
        validFrom: Date.parse(cert.validFrom),
        validTo: Date.parse(cert.validTo),
        fingerprint: cert.fingerprint256,
        replacesTrusted: false,
      });
      expect(failed.connection.retryAt).toBeUndefined();
    } finally {
      await untrusting.core.close();
    }
  });

  it('another client taking our resource ends the session once: we do not fight back', async () => {
    const frank = await server.register('frank', 'frank-pw');
    const account = await core.call('accounts.add', { jid: frank, password: 'frank-pw', host: server.host, port: server.port });
    await core.waitForState(account.id, (a) => a.connection.state === 'online' && !a.connection.syncing);
    const replaced = core.nextState(account.id, (a) => a.connection.state !== 'online');
    const intruder = await connectRaw(server, frank, 'frank-pw', resourceOf(core.dataDir, account.id));
    try {
      const view = await replaced;
      expect(view.connection.state).toBe('error');
      expect(view.connection.reason).toMatch(/^Another client logged in with the same resource and replaced this connection\./);
      expect(view.connection.retryAt).toBeUndefined();
      // Waking or a network change does not restart it either (both act synchronously).
      const mark = core.events.length;
      core.core.resume();
      core.core.networkChanged(true);
      expect(core.events.slice(mark).filter((e) => (e.payload as AccountView).id === account.id)).toEqual([]);
      // The other client keeps its session: the server still answers it.
      await expect(intruder.iqCaller.get(xml('ping', { xmlns: 'urn:xmpp:ping' }), server.domain)).resolves.toBeUndefined();
    } finally {
      await intruder.stop();
    }
  });

  it('a session the server ends with a stream error waits, then comes back online', async () => {
    const grace = await server.register('grace', 'grace-pw');
    const account = await core.call('accounts.add', { jid: grace, password: 'grace-pw', host: server.host, port: server.port });
    await core.waitForState(account.id, (a) => a.connection.state === 'online' && !a.connection.syncing);
    // Quiet first: a connection closed while we write is reset, and the server's words with it.
    await omemoPublished(core, account.id, grace);
    const waiting = core.nextState(account.id, (a) => a.connection.state === 'waiting');
    const back = core.nextState(account.id, (a) => a.connection.state === 'online');
    await server.closeSessions(grace, 'system-shutdown', 'Restarting for an upgrade');
    expect((await waiting).connection.reason).toBe('The server is shutting down. (Restarting for an upgrade)');
    await back;
  });

  it('bad input from the window gets a clear error and changes nothing', async () => {
    const before = await core.call('accounts.list', {});
    await expect(core.core.handle('accounts.add', { jid: 'not a jid', password: 'x' })).rejects.toMatchObject({
      error: { code: 'invalid-payload' },
    });
    await expect(core.core.handle('accounts.add', { jid, password: 'x', port: 70000 })).rejects.toMatchObject({ error: { code: 'invalid-payload' } });
    await expect(core.core.handle('accounts.add', { jid, password: 'x', extra: 1 })).rejects.toMatchObject({ error: { code: 'invalid-payload' } });
    await expect(core.core.handle('sql.exec', { q: 'DROP TABLE accounts' })).rejects.toMatchObject({ error: { code: 'unknown-command' } });
    await expect(core.core.handle('accounts.add', { jid: before[0]!.jid, password: 'again' })).rejects.toMatchObject({ error: { code: 'conflict' } });
    expect(await core.call('accounts.list', {})).toHaveLength(before.length);
  });
});
