// Every transition of the connection lifecycle, as a table: from a state, on an event, to a
// state with effects. Any (state, event) pair of the base states not in the table must leave
// the state as it is and do nothing.
import { describe, expect, it } from 'vitest';
import {
  NO_NETWORK,
  SLEEPING,
  connectionView,
  initialState,
  transition,
  type Effect,
  type LifecycleEvent,
  type LifecycleState,
  type Phase,
} from '../../main/core/accounts/lifecycle';
import type { Failure } from '../../main/core/accounts/failures';

const NOW = 1_000;
const ENV = { now: NOW, backoff: { baseMs: 1_000, capMs: 60_000 } };
const RUN = 5;
const via = { host: 'xmpp.example.org', port: 5222, directTls: false };
const certificate = {
  subject: 'CN=example.org',
  issuer: 'CN=example.org',
  names: ['example.org'],
  validFrom: 0,
  validTo: 1,
  fingerprint: 'AA',
  replacesTrusted: false,
};

const state = (phase: Phase, fields: Partial<LifecycleState> = {}): LifecycleState => ({
  phase,
  attempt: 0,
  enabled: true,
  networkDown: false,
  run: RUN,
  ...fields,
});

/** One state per phase, as the lifecycle leaves them. */
const base: Record<string, LifecycleState> = {
  disabled: state('disabled', { enabled: false }),
  offline: state('offline'),
  connecting: state('connecting', { attempt: 2 }),
  resuming: state('resuming', { attempt: 1, suspended: { until: 5_000, via } }),
  online: state('online', { via }),
  'online, syncing': state('online', { syncing: true, via }),
  waiting: state('waiting', { attempt: 2, reason: 'The server refused the connection.', retryAt: 900 }),
  'no network': state('no-network', { attempt: 1, networkDown: true }),
  'auth failed': state('auth-failed', { attempt: 1, reason: 'Wrong address or password.' }),
  'certificate rejected': state('cert-rejected', { attempt: 1, reason: 'Untrusted.', certificate }),
  error: state('error', { attempt: 1, reason: 'Another client logged in.' }),
};

/** Variants that matter for a few events only. */
const variant: Record<string, LifecycleState> = {
  'offline, suspended session': state('offline', { suspended: { until: 5_000, via } }),
  'offline, suspended session expired': state('offline', { suspended: { until: NOW, via } }),
  'offline, no network': state('offline', { networkDown: true, reason: SLEEPING }),
  'offline, account disabled': state('offline', { enabled: false }),
  'connecting, no network': state('connecting', { attempt: 2, networkDown: true }),
  'disabled, no network': state('disabled', { enabled: false, networkDown: true }),
  'auth failed, no network': state('auth-failed', { attempt: 1, reason: 'Wrong address or password.', networkDown: true }),
};
const fixtures = { ...base, ...variant };

const networkFailure: Failure = { state: 'error', reason: 'The network connection failed (ECONNRESET).', retry: true };
const wrongPassword: Failure = { state: 'auth-failed', reason: 'Wrong address or password.', retry: false };
const badCertificate: Failure = { state: 'cert-rejected', reason: 'Untrusted.', retry: false, certificate };
const replaced: Failure = { state: 'error', reason: 'Another client logged in.', retry: false };
const plainAfterScram: Failure = { state: 'auth-failed', reason: 'PLAIN refused after SCRAM.', retry: false, plainRefused: true };

const events: Record<string, LifecycleEvent> = {
  start: { type: 'start' },
  'retry timer': { type: 'retry-timer' },
  'network up': { type: 'network-up' },
  'network down': { type: 'network-down' },
  sleep: { type: 'sleep' },
  disable: { type: 'disable' },
  enable: { type: 'enable' },
  reconnect: { type: 'reconnect' },
  disconnect: { type: 'disconnect' },
  connected: { type: 'connected', run: RUN, via },
  'connected, stale': { type: 'connected', run: RUN - 1, via },
  synced: { type: 'synced', run: RUN },
  'synced, stale': { type: 'synced', run: RUN - 1 },
  resumed: { type: 'resumed', run: RUN, via },
  'resumed, stale': { type: 'resumed', run: RUN - 1, via },
  'resume refused': { type: 'resume-refused', run: RUN },
  'resume refused, stale': { type: 'resume-refused', run: RUN - 1 },
  'failed, network': { type: 'failed', run: RUN, failure: networkFailure, neverConnected: false, random: 0 },
  'failed, never connected': { type: 'failed', run: RUN, failure: networkFailure, neverConnected: true, random: 0 },
  'failed, wrong password': { type: 'failed', run: RUN, failure: wrongPassword, neverConnected: false, random: 0 },
  'failed, bad certificate': { type: 'failed', run: RUN, failure: badCertificate, neverConnected: false, random: 0 },
  'failed, PLAIN refused': { type: 'failed', run: RUN, failure: plainAfterScram, neverConnected: false, random: 0 },
  'failed, stale': { type: 'failed', run: RUN - 1, failure: networkFailure, neverConnected: false, random: 0 },
  'dropped, resumable': { type: 'dropped', failure: networkFailure, resumableUntil: 9_000, random: 0 },
  'dropped, not resumable': { type: 'dropped', failure: networkFailure, random: 0 },
  'dropped, replaced': { type: 'dropped', failure: replaced, resumableUntil: 9_000, random: 0 },
};

type Row = [from: string, event: string, to: LifecycleState, effects: Effect[]];

const announce: Effect = { type: 'announce' };
const cancelRetry: Effect = { type: 'cancel-retry' };
const stop = (how: 'close' | 'abort'): Effect => ({ type: 'stop', how });
/** The pending retry is cancelled when the waiting state is left other than by its timer. */
const leaving = (from: string): Effect[] => (fixtures[from]!.phase === 'waiting' ? [cancelRetry] : []);
const { suspended: _none, ...withoutSession } = fixtures.resuming!;
/** A state after a stop: a new run, no suspended session. */
const afterStop = (from: string, fields: Partial<LifecycleState>): LifecycleState => {
  const { enabled, networkDown, attempt } = fixtures[from]!;
  return { phase: 'offline', attempt, enabled, networkDown, run: RUN + 1, ...fields };
};
const everyBase = Object.keys(base);
/** Where sleep and a lost network stop what is under way: not where the user must act or the account is off. */
const pausable = ['offline', 'connecting', 'resuming', 'online', 'online, syncing', 'waiting', 'no network'];

const rows: Row[] = [
  // Starting: from offline, a pending retry, or a suspended session (resumed while the server keeps it).
  ['offline', 'start', state('connecting', { run: RUN + 1 }), [announce, { type: 'connect', run: RUN + 1 }]],
  ['waiting', 'start', state('connecting', { attempt: 2, run: RUN + 1 }), [cancelRetry, announce, { type: 'connect', run: RUN + 1 }]],
  ['offline, suspended session', 'start', state('resuming', { run: RUN + 1, suspended: { until: 5_000, via } }), [announce, { type: 'resume', run: RUN + 1 }]],
  [
    'offline, suspended session expired',
    'start',
    state('connecting', { run: RUN + 1 }),
    [announce, { type: 'give-up-resumption' }, { type: 'connect', run: RUN + 1 }],
  ],
  ['offline, no network', 'start', fixtures['offline, no network']!, []],
  ['offline, account disabled', 'start', fixtures['offline, account disabled']!, []],
  ['waiting', 'retry timer', state('connecting', { attempt: 2, run: RUN + 1 }), [announce, { type: 'connect', run: RUN + 1 }]],

  // The network comes back: what start does, once the flag is down.
  ['offline', 'network up', state('connecting', { run: RUN + 1 }), [announce, { type: 'connect', run: RUN + 1 }]],
  ['waiting', 'network up', state('connecting', { attempt: 2, run: RUN + 1 }), [cancelRetry, announce, { type: 'connect', run: RUN + 1 }]],
  ['no network', 'network up', state('connecting', { attempt: 1, run: RUN + 1 }), [announce, { type: 'connect', run: RUN + 1 }]],
  ['offline, no network', 'network up', state('connecting', { run: RUN + 1 }), [announce, { type: 'connect', run: RUN + 1 }]],
  ['auth failed, no network', 'network up', { ...fixtures['auth failed, no network']!, networkDown: false }, []],
  ['disabled, no network', 'network up', fixtures.disabled!, []],

  // The network goes: the socket is dropped, attempts are not counted; states to act on stay.
  ...pausable.map((from): Row => [from, 'network down', afterStop(from, { phase: 'no-network', networkDown: true }), [...leaving(from), stop('abort'), announce]]),
  ['disabled', 'network down', { ...fixtures.disabled!, networkDown: true }, []],
  ['auth failed', 'network down', { ...fixtures['auth failed']!, networkDown: true }, []],
  ['certificate rejected', 'network down', { ...fixtures['certificate rejected']!, networkDown: true }, []],
  ['error', 'network down', { ...fixtures.error!, networkDown: true }, []],

  // Sleep: closed politely, shown offline with the reason, attempts kept.
  ...pausable.map((from): Row => [from, 'sleep', afterStop(from, { reason: SLEEPING }), [...leaving(from), stop('close'), announce]]),

  // The user's switches.
  ...everyBase.map((from): Row => [from, 'disable', afterStop(from, { phase: 'disabled', enabled: false, attempt: 0 }), [...leaving(from), stop('close'), announce]]),
  ['disabled', 'enable', state('connecting', { run: RUN + 1 }), [announce, announce, { type: 'connect', run: RUN + 1 }]],
  ['disabled, no network', 'enable', state('no-network', { networkDown: true }), [announce]],
  ['offline, account disabled', 'enable', state('offline'), []],
  ...everyBase
    .filter((from) => from !== 'disabled')
    .map((from): Row => [
      from,
      'reconnect',
      // Asked to connect now, it tries even without a network.
      state('connecting', { networkDown: fixtures[from]!.networkDown, run: RUN + 2 }),
      [...leaving(from), stop('close'), announce, { type: 'connect', run: RUN + 2 }],
    ]),
  ['disabled', 'reconnect', { ...fixtures.disabled!, run: RUN + 1 }, [stop('close')]],
  ...everyBase.map((from): Row => [from, 'disconnect', afterStop(from, { attempt: 0 }), [...leaving(from), stop('close'), announce]]),

  // What the attempt under way reports.
  ['connecting', 'connected', state('online', { syncing: true, via }), [announce]],
  ['online, syncing', 'synced', state('online', { via }), [announce]],
  ['resuming', 'resumed', state('online', { via }), [announce, { type: 'flush-outbox' }]],
  ['resuming', 'resume refused', { ...withoutSession, phase: 'connecting' }, [{ type: 'give-up-resumption' }]],
  [
    'connecting',
    'failed, network',
    state('waiting', { attempt: 3, reason: networkFailure.reason, retryAt: NOW + 2_000 }),
    [announce, { type: 'schedule-retry', delay: 2_000 }],
  ],
  [
    'connecting',
    'failed, never connected',
    state('waiting', { attempt: 3, reason: networkFailure.reason, retryAt: NOW + 2_000 }),
    [announce, { type: 'schedule-retry', delay: 2_000 }],
  ],
  ['connecting', 'failed, wrong password', state('auth-failed', { attempt: 3, reason: wrongPassword.reason }), [announce]],
  ['connecting', 'failed, bad certificate', state('cert-rejected', { attempt: 3, reason: badCertificate.reason, certificate }), [announce]],
  // The user is shown why, and may allow PLAIN for this account (accounts.allowPlain).
  ['connecting', 'failed, PLAIN refused', state('auth-failed', { attempt: 3, reason: plainAfterScram.reason, plainRefused: true }), [announce]],
  ['connecting, no network', 'failed, network', state('no-network', { attempt: 2, networkDown: true }), [announce]],
  ['connecting, no network', 'failed, wrong password', state('auth-failed', { attempt: 3, reason: wrongPassword.reason, networkDown: true }), [announce]],
  // A connection that never opened keeps the suspended session for the next try; any other failure ends it.
  [
    'resuming',
    'failed, never connected',
    state('waiting', { attempt: 2, reason: networkFailure.reason, retryAt: NOW + 1_000, suspended: { until: 5_000, via } }),
    [announce, { type: 'schedule-retry', delay: 1_000 }],
  ],
  [
    'resuming',
    'failed, network',
    state('waiting', { attempt: 2, reason: networkFailure.reason, retryAt: NOW + 1_000 }),
    [{ type: 'give-up-resumption' }, announce, { type: 'schedule-retry', delay: 1_000 }],
  ],
  ['resuming', 'failed, wrong password', state('auth-failed', { attempt: 2, reason: wrongPassword.reason }), [{ type: 'give-up-resumption' }, announce]],
  [
    'resuming',
    'failed, PLAIN refused',
    state('auth-failed', { attempt: 2, reason: plainAfterScram.reason, plainRefused: true }),
    [{ type: 'give-up-resumption' }, announce],
  ],
  [
    'resuming',
    'failed, bad certificate',
    state('cert-rejected', { attempt: 2, reason: badCertificate.reason, certificate }),
    [{ type: 'give-up-resumption' }, announce],
  ],

  // The live session drops: retried from the first backoff step, kept for resumption where it can be.
  [
    'online',
    'dropped, resumable',
    state('waiting', { attempt: 1, reason: networkFailure.reason, retryAt: NOW + 500, suspended: { until: 9_000, via } }),
    [{ type: 'keep-suspended' }, announce, { type: 'schedule-retry', delay: 500 }],
  ],
  [
    'online',
    'dropped, not resumable',
    state('waiting', { attempt: 1, reason: networkFailure.reason, retryAt: NOW + 500 }),
    [{ type: 'end-session' }, announce, { type: 'schedule-retry', delay: 500 }],
  ],
  ['online', 'dropped, replaced', state('error', { attempt: 1, reason: replaced.reason }), [{ type: 'end-session' }, announce]],
  // Still catching up: a resumed session would not run the catch-up again, so it is not kept.
  [
    'online, syncing',
    'dropped, resumable',
    state('waiting', { attempt: 1, reason: networkFailure.reason, retryAt: NOW + 500 }),
    [{ type: 'end-session' }, announce, { type: 'schedule-retry', delay: 500 }],
  ],
  [
    'online, syncing',
    'dropped, not resumable',
    state('waiting', { attempt: 1, reason: networkFailure.reason, retryAt: NOW + 500 }),
    [{ type: 'end-session' }, announce, { type: 'schedule-retry', delay: 500 }],
  ],
  ['online, syncing', 'dropped, replaced', state('error', { attempt: 1, reason: replaced.reason }), [{ type: 'end-session' }, announce]],
];

describe('connection lifecycle', () => {
  it.each(rows)('%s, on %s', (from, event, to, effects) => {
    expect(transition(fixtures[from]!, events[event]!, ENV)).toEqual({ state: to, effects });
  });

  const listed = new Set(rows.map(([from, event]) => `${from}\n${event}`));
  const ignored = everyBase.flatMap((from) => Object.keys(events).filter((event) => !listed.has(`${from}\n${event}`)).map((event) => [from, event]));

  it.each(ignored)('%s, on %s: nothing happens', (from, event) => {
    expect(transition(fixtures[from]!, events[event]!, ENV)).toEqual({ state: fixtures[from], effects: [] });
  });

  it('lists each transition once', () => {
    expect(listed.size).toBe(rows.length);
  });
});

describe('what the user sees', () => {
  it('shows resuming as connecting and a lost network as waiting for it', () => {
    expect(connectionView(base.resuming!)).toEqual({ state: 'connecting', attempt: 1 });
    expect(connectionView(base['no network']!)).toEqual({ state: 'waiting', reason: NO_NETWORK, attempt: 1 });
    expect(connectionView(base['online, syncing']!)).toEqual({ state: 'online', attempt: 0, syncing: true, via });
    expect(connectionView(base.waiting!)).toEqual({ state: 'waiting', reason: 'The server refused the connection.', retryAt: 900, attempt: 2 });
    expect(connectionView(base['certificate rejected']!)).toEqual({ state: 'cert-rejected', reason: 'Untrusted.', attempt: 1, certificate });
    expect(connectionView(state('auth-failed', { attempt: 1, reason: 'PLAIN refused.', plainRefused: true }))).toEqual({
      state: 'auth-failed',
      reason: 'PLAIN refused.',
      attempt: 1,
      plainRefused: true,
    });
  });

  it('starts disabled or offline as the account is', () => {
    expect(connectionView(initialState(false))).toEqual({ state: 'disabled', attempt: 0 });
    expect(connectionView(initialState(true))).toEqual({ state: 'offline', attempt: 0 });
  });
});
