// One account's connection lifecycle (DESIGN §3) as a pure state machine: what happens
// (the user, the machine, the connection attempt) goes in as an event, the next state and
// what to do about it come out as effects, which the account (account.ts) performs. Nothing
// here touches a socket or a timer, so every transition is tested as a table
// (test/unit/lifecycle.test.ts).
import type { AccountConnection, CertificateView } from '../../../preload/contract';
import type { Endpoint } from '../xmpp/endpoints';
import { backoffDelay, type BackoffPolicy } from './backoff';
import type { Failure } from './failures';

export const NO_NETWORK = 'No network connection. Heron reconnects as soon as it is back.';
export const SLEEPING = 'Paused while the computer sleeps.';

export type Phase =
  | 'disabled'
  | 'offline'
  | 'connecting'
  /** Reconnecting to ask the server to resume a dropped session (XEP-0198); shown as connecting. */
  | 'resuming'
  | 'online'
  /** Waiting to retry after a failure, a timer set. */
  | 'waiting'
  /** The machine has no network: nothing is attempted until it is back; shown as waiting. */
  | 'no-network'
  | 'auth-failed'
  | 'cert-rejected'
  | 'error';

export type LifecycleState = {
  phase: Phase;
  /** Consecutive failed attempts since the last success. */
  attempt: number;
  reason?: string;
  retryAt?: number;
  certificate?: CertificateView;
  /** In auth-failed: Heron refused PLAIN after SCRAM (see preload/contract.ts). */
  plainRefused?: true;
  /** Online and still catching up. */
  syncing?: boolean;
  via?: Endpoint;
  enabled: boolean;
  /** The machine reports no network; kept apart from the phase, which may be one the user must act on. */
  networkDown: boolean;
  /** A dropped session the server may let us resume until `until` (ms), reached through `via`. */
  suspended?: { until: number; via: Endpoint };
  /** Numbers the current connection attempt; what an abandoned attempt reports carries an older one. */
  run: number;
};

export type LifecycleEvent =
  /** Start-up, wake from sleep, "try now": connects unless up, under way, or the user must act first. */
  | { type: 'start' }
  | { type: 'retry-timer' }
  | { type: 'network-down' }
  | { type: 'network-up' }
  /** The computer goes to sleep. */
  | { type: 'sleep' }
  | { type: 'disable' }
  | { type: 'enable' }
  /** The user asked to connect now, whatever the state. */
  | { type: 'reconnect' }
  /** Go offline and stay there until started. */
  | { type: 'disconnect' }
  /** The attempt `run` opened a session and its online hooks ran. */
  | { type: 'connected'; run: number; via: Endpoint }
  /** The catch-up after `connected` is over. */
  | { type: 'synced'; run: number }
  | { type: 'resumed'; run: number; via: Endpoint }
  /** The server could not resume the session; the new stream carries a new one. */
  | { type: 'resume-refused'; run: number }
  /**
   * The attempt `run` failed. `neverConnected`: no connection was made at all, which leaves a
   * suspended session fit for another try. `random` in [0, 1) is the jitter of the next delay.
   */
  | { type: 'failed'; run: number; failure: Failure; neverConnected: boolean; random: number }
  /** The live session dropped; `resumableUntil` when the server gave it an id for resumption. */
  | { type: 'dropped'; failure: Failure; resumableUntil?: number; random: number };

export type Effect =
  /** Tell the window (and the log) the new state. */
  | { type: 'announce' }
  | { type: 'connect'; run: number }
  | { type: 'resume'; run: number }
  /** End the session or attempt under way and any suspended session; features hear `offline` once. */
  | { type: 'stop'; how: 'close' | 'abort' }
  | { type: 'schedule-retry'; delay: number }
  | { type: 'cancel-retry' }
  /** Keep the dropped session for resumption; features hear `suspended`. */
  | { type: 'keep-suspended' }
  /** The dropped session is over; features hear `offline`. */
  | { type: 'end-session' }
  /** The suspended session will not be resumed; features hear `offline`. */
  | { type: 'give-up-resumption' }
  /** Send what waits in the outbox (a resumed session runs no `ready` hooks). */
  | { type: 'flush-outbox' };

export type Transition = { state: LifecycleState; effects: Effect[] };
export type Environment = { now: number; backoff: BackoffPolicy };

export function initialState(enabled: boolean): LifecycleState {
  return { phase: enabled ? 'offline' : 'disabled', attempt: 0, enabled, networkDown: false, run: 0 };
}

/** What the user sees of a state (preload/contract.ts). */
export function connectionView(state: LifecycleState): AccountConnection {
  const { phase, attempt, reason, retryAt, certificate, plainRefused, syncing, via } = state;
  switch (phase) {
    case 'connecting':
    case 'resuming':
      return { state: 'connecting', attempt };
    case 'online':
      return { state: 'online', attempt, ...(syncing ? { syncing } : {}), ...(via ? { via } : {}) };
    case 'no-network':
      return { state: 'waiting', reason: NO_NETWORK, attempt };
    case 'waiting':
      return { state: 'waiting', ...(reason ? { reason } : {}), ...(retryAt !== undefined ? { retryAt } : {}), attempt };
    default:
      return { state: phase, ...(reason ? { reason } : {}), attempt, ...(certificate ? { certificate } : {}), ...(plainRefused ? { plainRefused } : {}) };
  }
}

/** States the user must act on: sleep and a lost network leave them as they are. */
const MUST_ACT: ReadonlySet<Phase> = new Set(['auth-failed', 'cert-rejected', 'error']);

const unchanged = (state: LifecycleState): Transition => ({ state, effects: [] });

/** A state of `phase` that keeps the flags and the suspended session, and drops what belonged to the previous phase. */
function enter(state: LifecycleState, phase: Phase, fields: Partial<LifecycleState> = {}): LifecycleState {
  const { enabled, networkDown, suspended, run } = state;
  return { phase, attempt: state.attempt, enabled, networkDown, ...(suspended ? { suspended } : {}), run, ...fields };
}

/** A pending retry is cancelled whenever the waiting phase is left other than by its timer. */
const leaveWaiting = (state: LifecycleState): Effect[] => (state.phase === 'waiting' ? [{ type: 'cancel-retry' }] : []);

/** Ends what is under way (a new run, so its late reports are ignored) and any suspended session. */
function stopped(state: LifecycleState, how: 'close' | 'abort'): Transition {
  const { suspended: _gone, ...rest } = state;
  return { state: { ...rest, run: state.run + 1 }, effects: [...leaveWaiting(state), { type: 'stop', how }] };
}

/** A new attempt, resuming the suspended session while the server still keeps it. */
function connect(state: LifecycleState, env: Environment, before: Effect[] = []): Transition {
  const run = state.run + 1;
  const live = state.suspended && state.suspended.until > env.now ? state.suspended : undefined;
  const next = enter({ ...state, run }, live ? 'resuming' : 'connecting');
  if (!live) delete next.suspended;
  const effects: Effect[] = [...before, { type: 'announce' }];
  if (state.suspended && !live) effects.push({ type: 'give-up-resumption' });
  effects.push(live ? { type: 'resume', run } : { type: 'connect', run });
  return { state: next, effects };
}

/** After a failure: a state the user must act on, a wait for the network, or a retry after a backoff. */
function fail(state: LifecycleState, failure: Failure, attempt: number, random: number, env: Environment, before: Effect[] = []): Transition {
  if (!failure.retry) {
    const { state: phase, reason, certificate, plainRefused } = failure;
    const fields = { reason, attempt: attempt + 1, ...(certificate ? { certificate } : {}), ...(plainRefused ? { plainRefused } : {}) };
    return { state: enter(state, phase, fields), effects: [...before, { type: 'announce' }] };
  }
  // Without a network every attempt would fail: wait for it, and count nothing.
  if (state.networkDown) return { state: enter(state, 'no-network', { attempt }), effects: [...before, { type: 'announce' }] };
  const next = attempt + 1;
  const delay = backoffDelay(next, random, env.backoff);
  return {
    state: enter(state, 'waiting', { reason: failure.reason, retryAt: env.now + delay, attempt: next }),
    effects: [...before, { type: 'announce' }, { type: 'schedule-retry', delay }],
  };
}

/** Stops for a reason that is no failure of ours (sleep, no network); states the user must act on stay. */
function pause(state: LifecycleState, phase: 'offline' | 'no-network', how: 'close' | 'abort'): Transition {
  if (!state.enabled || MUST_ACT.has(state.phase)) return unchanged(state);
  const { state: stoppedState, effects } = stopped(state, how);
  return { state: enter(stoppedState, phase, phase === 'offline' ? { reason: SLEEPING } : {}), effects: [...effects, { type: 'announce' }] };
}

/** Connects if nothing is under way, the network is up, and the user need not act first; cuts a pending retry short. */
function start(state: LifecycleState, env: Environment): Transition {
  if (!state.enabled || state.networkDown) return unchanged(state);
  if (state.phase !== 'offline' && state.phase !== 'waiting' && state.phase !== 'no-network') return unchanged(state);
  return connect(state, env, leaveWaiting(state));
}

export function transition(state: LifecycleState, event: LifecycleEvent, env: Environment): Transition {
  switch (event.type) {
    case 'start':
      return start(state, env);
    case 'retry-timer':
      return state.phase === 'waiting' ? connect(state, env) : unchanged(state);
    case 'network-up':
      return start({ ...state, networkDown: false }, env);
    case 'network-down':
      // Without a network the stream cannot be closed politely: drop the socket.
      return pause({ ...state, networkDown: true }, 'no-network', 'abort');
    case 'sleep':
      return pause(state, 'offline', 'close');
    case 'disable': {
      const { state: next, effects } = stopped({ ...state, enabled: false }, 'close');
      return { state: enter(next, 'disabled', { attempt: 0 }), effects: [...effects, { type: 'announce' }] };
    }
    case 'enable': {
      if (state.phase !== 'disabled') return { state: { ...state, enabled: true }, effects: [] };
      const enabled = enter({ ...state, enabled: true }, state.networkDown ? 'no-network' : 'offline', { attempt: 0 });
      const started = start(enabled, env);
      return { state: started.state, effects: [{ type: 'announce' }, ...started.effects] };
    }
    case 'reconnect': {
      // The old session closes alongside; the new attempt does not wait for it.
      const { state: next, effects } = stopped(state, 'close');
      if (!state.enabled) return { state: next, effects };
      return connect(enter(next, 'offline', { attempt: 0 }), env, effects);
    }
    case 'disconnect': {
      const { state: next, effects } = stopped(state, 'close');
      return { state: enter(next, 'offline', { attempt: 0 }), effects: [...effects, { type: 'announce' }] };
    }
    case 'connected':
      if (event.run !== state.run || state.phase !== 'connecting') return unchanged(state);
      return { state: enter(state, 'online', { attempt: 0, syncing: true, via: event.via }), effects: [{ type: 'announce' }] };
    case 'synced':
      if (event.run !== state.run || state.phase !== 'online' || !state.syncing) return unchanged(state);
      return { state: enter(state, 'online', { attempt: 0, ...(state.via ? { via: state.via } : {}) }), effects: [{ type: 'announce' }] };
    case 'resumed': {
      if (event.run !== state.run || state.phase !== 'resuming') return unchanged(state);
      const next = enter(state, 'online', { attempt: 0, via: event.via });
      delete next.suspended;
      return { state: next, effects: [{ type: 'announce' }, { type: 'flush-outbox' }] };
    }
    case 'resume-refused': {
      if (event.run !== state.run || state.phase !== 'resuming') return unchanged(state);
      const next = enter(state, 'connecting');
      delete next.suspended;
      return { state: next, effects: [{ type: 'give-up-resumption' }] };
    }
    case 'failed': {
      if (event.run !== state.run || (state.phase !== 'connecting' && state.phase !== 'resuming')) return unchanged(state);
      // Only a connection that never opened leaves the suspended session fit for another try.
      if (state.phase === 'resuming' && !event.neverConnected) {
        const { suspended: _gone, ...rest } = state;
        return fail(rest, event.failure, state.attempt, event.random, env, [{ type: 'give-up-resumption' }]);
      }
      return fail(state, event.failure, state.attempt, event.random, env);
    }
    case 'dropped': {
      if (state.phase !== 'online') return unchanged(state);
      // Resumable when the server gave the stream an id and the catch-up is over (its hooks
      // would not run again on a resumed session).
      const { resumableUntil } = event;
      if (resumableUntil !== undefined && event.failure.retry && !state.syncing && state.via) {
        const kept = { ...state, suspended: { until: resumableUntil, via: state.via } };
        return fail(kept, event.failure, 0, event.random, env, [{ type: 'keep-suspended' }]);
      }
      return fail(state, event.failure, 0, event.random, env, [{ type: 'end-session' }]);
    }
  }
}
