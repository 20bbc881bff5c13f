import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startProsody, type TestServer } from '../support/prosody';
import { startCore, type TestCore } from '../support/cores';
import type { AccountView } from '../../preload/contract';

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
    const account = await core.call('accounts.add', { jid, password: 'wrong-pw', host: server.host, port: server.port });
    const failed = await core.waitForState(account.id, (a) => a.connection.state === 'auth-failed');
    expect(failed.connection.reason).toMatch(/^Wrong address or password\./);
    // Give a retry loop ample time to show itself: no further attempt may start.
    await new Promise((r) => setTimeout(r, 1500));
    const attempts = core.events.filter((e) => e.event === 'account.changed' && (e.payload as AccountView).id === account.id && (e.payload as AccountView).connection.state === 'connecting');
    expect(attempts).toHaveLength(1);
    const [listed] = (await core.call('accounts.list', {})).filter((a) => a.id === account.id);
    expect(listed?.connection.state).toBe('auth-failed');
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

  it('a server certificate from an untrusted CA is rejected, not retried', async () => {
    const untrusting = await startCore(); // no throwaway CA: only the system's roots
    try {
      const account = await untrusting.call('accounts.add', { jid, password: 'right-pw', host: server.host, port: server.port });
      const failed = await untrusting.waitForState(account.id, (a) => a.connection.state === 'error');
      expect(failed.connection.reason).toMatch(/certificate was rejected/);
    } finally {
      await untrusting.core.close();
    }
  });

  it('bad input from the window gets a clear error and changes nothing', async () => {
    const before = await core.call('accounts.list', {});
    await expect(core.core.handle('accounts.add', { jid: 'not a jid', password: 'x' })).rejects.toMatchObject({
      error: { code: 'invalid-payload' },
    });
    await expect(core.core.handle('accounts.add', { jid, password: 'x', port: 70000 })).rejects.toMatchObject({ error: { code: 'invalid-payload' } });
    await expect(core.core.handle('accounts.add', { jid, password: 'x', extra: 1 })).rejects.toMatchObject({ error: { code: 'invalid-payload' } });
    await expect(core.core.handle('sql.exec', { q: 'DROP TABLE accounts' })).rejects.toMatchObject({ error: { code: 'unknown-command' } });
    await expect(core.core.handle('accounts.add', { jid, password: 'again' })).rejects.toMatchObject({ error: { code: 'conflict' } });
    expect(await core.call('accounts.list', {})).toHaveLength(before.length);
  });
});
