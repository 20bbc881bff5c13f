// The shell feeds the core sleep/wake and network events (main/shell/main.ts); here they are
// fed by hand. Retries are set ten minutes apart, so anything that comes back online within
// the test did so because of the event, not a timer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProsody, type TestServer } from '../support/prosody';
import { accountFor, startCore, type TestCore } from '../support/cores';
import { countingClock } from '../support/clock';
import type { AccountView } from '../../preload/contract';

describe('sleep, wake and network changes', () => {
  const TEN_MINUTES = 10 * 60_000;
  let server: TestServer;
  let core: TestCore;
  let clock: ReturnType<typeof countingClock>;
  let account: AccountView;

  const isOnline = (a: AccountView) => a.connection.state === 'online' && !a.connection.syncing;

  beforeAll(async () => {
    server = await startProsody();
    const jid = await server.register('dana', 'dana-pw');
    clock = countingClock();
    core = await startCore({ server, clock, backoff: { baseMs: TEN_MINUTES, capMs: TEN_MINUTES } });
    account = await core.call('accounts.add', accountFor(server, jid, 'dana-pw'));
    await core.waitForState(account.id, isOnline);
  });

  afterAll(async () => {
    await core?.core.close();
    await server?.stop();
  });

  it('sleep takes the account offline with no retry pending; waking connects at once', async () => {
    const asleep = core.nextState(account.id, (a) => a.connection.state === 'offline');
    core.core.suspend();
    expect((await asleep).connection).toMatchObject({ state: 'offline', reason: 'Paused while the computer sleeps.' });
    expect(clock.pending()).toBe(0);

    const awake = core.nextState(account.id, isOnline);
    core.core.resume();
    await awake;
  });

  it('a lost network means waiting, without a retry timer or a counted attempt; its return connects at once', async () => {
    const waiting = core.nextState(account.id, (a) => a.connection.state === 'waiting');
    core.core.networkChanged(false);
    const view = await waiting;
    expect(view.connection).toEqual({ state: 'waiting', reason: 'No network connection. Heron reconnects as soon as it is back.', attempt: 0 });
    expect(clock.pending()).toBe(0);

    const back = core.nextState(account.id, isOnline);
    core.core.networkChanged(true);
    await back;
  });

  it('waking and the network coming back cut a pending retry short', async () => {
    for (const event of ['resume', 'network'] as const) {
      const waiting = core.nextState(account.id, (a) => a.connection.state === 'waiting');
      await server.stop();
      const view = await waiting;
      // The server went away: seen as the stream closing, or as a write failing when it came
      // while we were still talking after login (OMEMO publishes its keys then).
      expect(view.connection.reason).toMatch(/^(The connection was lost\.|The network connection failed \((EPIPE|ECONNRESET)\)\.)$/);
      expect(view.connection.retryAt).toBeGreaterThan(Date.now() + 60_000);
      await server.start();

      const back = core.nextState(account.id, isOnline);
      if (event === 'resume') core.core.resume();
      else core.core.networkChanged(true);
      await back;
    }
  });

  it('a network lost while waiting stops the countdown and keeps the count of attempts', async () => {
    const waiting = core.nextState(account.id, (a) => a.connection.state === 'waiting' && a.connection.retryAt !== undefined);
    await server.stop();
    const before = await waiting;
    expect(clock.pending()).toBe(1);

    const paused = core.nextState(account.id, (a) => a.connection.retryAt === undefined);
    core.core.networkChanged(false);
    expect((await paused).connection).toMatchObject({ state: 'waiting', attempt: before.connection.attempt });
    expect(clock.pending()).toBe(0);

    // Back with the server still down: one new attempt, counted once.
    const failedAgain = core.nextState(account.id, (a) => a.connection.state === 'waiting' && a.connection.retryAt !== undefined);
    core.core.networkChanged(true);
    expect((await failedAgain).connection).toMatchObject({ reason: 'The server refused the connection.', attempt: before.connection.attempt + 1 });

    await server.start();
    const back = core.nextState(account.id, isOnline);
    core.core.resume();
    await back;
  });

  it('a wrong password stays as it is through sleep, wake and network changes', async () => {
    const jid = await server.register('eve', 'eve-pw');
    const wrong = await core.call('accounts.add', accountFor(server, jid, 'not-eve-pw'));
    await core.waitForState(wrong.id, (a) => a.connection.state === 'auth-failed');
    const mark = core.events.length;
    const danaBack = core.nextState(account.id, isOnline);
    core.core.suspend();
    core.core.resume();
    core.core.networkChanged(false);
    core.core.networkChanged(true);
    // Each of these acts synchronously: an attempt would already have announced itself.
    const touched = core.events.slice(mark).filter((e) => e.event === 'account.changed' && (e.payload as AccountView).id === wrong.id);
    expect(touched).toEqual([]);
    expect((await core.call('accounts.list', {})).find((a) => a.id === wrong.id)?.connection.state).toBe('auth-failed');
    await danaBack;
  });
});
