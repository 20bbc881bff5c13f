// What a protocol feature plugs into an account: hooks on the session's life and on
// incoming stanzas. The account composes them in priority order (see account.ts); each
// feature gets its dependencies injected through `FeatureContext` and reaches for no global.
import type { Element } from '@xmpp/xml';
import type { EventName, EventPayloads } from '../../../preload/contract';
import type { Archive } from '../archive/archive';
import type { Session } from '../xmpp/session';

export type Emit = <E extends EventName>(event: E, payload: EventPayloads[E]) => void;
export type Log = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

export type Clock = {
  now(): number;
  random(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
};

export const systemClock: Clock = {
  now: () => Date.now(),
  random: () => Math.random(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export type FeatureContext = {
  accountId: string;
  /** Our bare JID. */
  bare: string;
  archive: Archive;
  emit: Emit;
  log: Log;
  clock: Clock;
  /** The session while it is online (after `online` hooks ran), else undefined. */
  liveSession(): Session | undefined;
};

export interface Feature {
  /** What this feature lets us do, advertised in our disco#info and caps (XEP-0030, XEP-0115). */
  readonly discoFeatures?: readonly string[];
  /** Registers IQ handlers and listeners on a new session, before it opens. */
  wire?(session: Session): void;
  /** Takes an incoming stanza of the live session; true when it was this feature's. */
  stanza?(stanza: Element, session: Session): boolean;
  /** Runs in order once the session is open, before the account shows as online. A throw fails the attempt. */
  online?(session: Session): Promise<void>;
  /** Runs after the account shows as online (catch-up, outbox); a throw is logged, not fatal. */
  ready?(session: Session): Promise<void>;
  /**
   * The stream dropped but the server may let us resume the session (XEP-0198): stop what
   * needs the connection, keep what the session knows. `resumed` or `offline` follows.
   */
  suspended?(): void;
  /** The dropped session was resumed: nothing of it was lost, no online hooks run again. */
  resumed?(session: Session): void;
  /** The session ended (closed, or dropped for good). */
  offline?(): void;
}
