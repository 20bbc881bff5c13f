// What a protocol area plugs into the core: a module (`FeatureModule`) that declares the API
// commands it serves and the events it emits, and makes for each account a `Feature` with
// hooks on the session's life and on incoming stanzas. The core composes the modules from one
// list, in priority order (modules.ts); each feature gets its dependencies injected through
// `FeatureContext` and reaches for no global.
import type { Element } from '@xmpp/xml';
import type { AccountView, CommandName, CommandResults, EventName, EventPayloads, ParsedPayload } from '../../../preload/contract';
import type { Archive } from '../archive/archive';
import type { Session } from '../xmpp/session';
import type { Hooks } from './hooks';
import type { KeepalivePolicy } from './keepalive';
import type { Vault } from '../vault';

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
  /** How this account's features hear each other (any number of listeners each). */
  hooks: Hooks;
  /** Ping timing; tests shorten it. */
  keepalive?: KeepalivePolicy;
  /** The OS keychain, for secrets besides the password (OMEMO's sealing key); absent, OMEMO stays off. */
  vault?: Vault;
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

/** What a module's `create` may reach of the account it makes its feature for. */
export type FeatureSet = {
  /** This account's instance of another module, made on first use. */
  use<G extends object>(module: FeatureModule<G>): G;
  /** Everything this account's features advertise (disco#info, caps). */
  advertised(): readonly string[];
};

/** One account as command handlers see it. */
export type AccountScope = {
  /** This account's instance of a module. */
  feature<F extends object>(module: FeatureModule<F>): F;
  view(): AccountView;
};

/** What a module's command handlers may reach: the archive, events and the accounts. */
export type CommandScope = {
  archive: Archive;
  emit: Emit;
  /** The account; an unknown one is a not-found failure. */
  account(accountId: string): AccountScope;
  /** The account, if it is set up (its chats outlive it when it is removed). */
  findAccount(accountId: string): AccountScope | undefined;
  accounts(): AccountScope[];
};

export type CommandHandler<C extends CommandName> = (payload: ParsedPayload<C>, scope: CommandScope) => Promise<CommandResults[C]> | CommandResults[C];
export type ModuleCommands = { readonly [C in CommandName]?: CommandHandler<C> };

/** A protocol area as the core composes it. */
export interface FeatureModule<F extends object = Feature> {
  readonly name: string;
  /** Makes the area's feature for one account. */
  create(ctx: FeatureContext, account: FeatureSet): F;
  /** The API commands it serves; api.ts validates each payload against the contract before the handler runs. */
  readonly commands?: ModuleCommands;
  /** The events its feature and commands emit (an undeclared one is logged as an error). */
  readonly events?: readonly EventName[];
}
