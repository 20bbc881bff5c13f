// Reconnect delays: exponential with jitter so that many clients cut off together do not
// come back in lockstep; capped so a long outage still retries every few minutes.
export type BackoffPolicy = { baseMs: number; capMs: number };

export const defaultBackoff: BackoffPolicy = { baseMs: 1_000, capMs: 5 * 60_000 };

/** Delay before attempt `attempt` (1 = first retry); `random` in [0, 1). Lies in [ceiling/2, ceiling). */
export function backoffDelay(attempt: number, random: number, policy: BackoffPolicy = defaultBackoff): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}
