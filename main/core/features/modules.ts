// The one list of protocol areas the core is made of, and how it is composed: each account
// gets every module's feature, and the API gets every module's commands.
import { commandNames, type CommandName, type EventName } from '../../../preload/contract';
import type { CommandHandlers } from '../api';
import type { CommandHandler, CommandScope, Emit, Feature, FeatureContext, FeatureModule, FeatureSet, Log } from './feature';
import { rosterModule } from './roster';
import { chatModule } from './chat';
import { subscriptionsModule } from './subscriptions';
import { discoModule } from './disco';
import { presenceModule } from './presence';
import { csiModule } from './csi';
import { keepaliveModule } from './keepalive';
import { mamModule } from './mam';
import { mdsModule } from './mds';
import { markersModule } from './markers';
import { versionModule } from './version';
import { requestsModule } from './requests';
import { chatStatesModule } from './chat-states';
import { relationsModule } from './relations';
import { blocklistModule } from './blocklist';
import { mucModule } from './muc';
import { bookmarksModule } from './bookmarks';
import { omemoModule } from './omemo';

/**
 * In priority order: an incoming stanza is offered to each feature in turn until one takes it,
 * and the session hooks (`wire`, `online`, `ready`) run in this order. Roster before presence
 * (RFC 6121 §2.2); chat states before chat (a state rides on chat messages too, and chat takes
 * those); chat (with carbons on), then the relations it stores (their acks); subscription answers before availability; disco
 * before presence (it notes the caps in presence that the presence feature then takes); then,
 * once online, the outbox, what our server offers, initial presence, the archive catch-up
 * (which orders itself around what arrives live meanwhile: see ordering.ts), and after it the
 * read positions of my other devices, which point at the messages it brings. Message requests
 * and the block list have no session hooks: they come last.
 * Rooms (muc) come before chat and chat states: a room's presences, messages and private
 * messages come from room@service/nick, which chat would file under the room's bare JID as a
 * one-to-one chat; their `ready` only starts the rejoins, so nothing after them waits.
 * Bookmarks after muc, whose rooms they join.
 * OMEMO before chat: it takes the device-list pushes (PEP headlines) and lends chat, the
 * catch-up and rooms (muc `use`s it) its decryptor and sealing, so a decrypted message is
 * parsed, stored and sent back by their own paths; its `online` loads the keys before any
 * message can arrive (and before muc's `ready` rejoins rooms).
 */
export const FEATURE_MODULES: readonly FeatureModule<object>[] = [
  rosterModule,
  mucModule,
  bookmarksModule,
  omemoModule,
  chatStatesModule,
  chatModule,
  relationsModule,
  subscriptionsModule,
  discoModule,
  presenceModule,
  csiModule,
  keepaliveModule,
  mamModule,
  mdsModule,
  markersModule,
  versionModule,
  requestsModule,
  blocklistModule,
];

/**
 * Makes one account's features from `modules`, each once, in the order their dependencies
 * need (a module's `create` may `use` another); returns them in the list's order.
 */
export function makeFeatures(modules: readonly FeatureModule<object>[], ctx: FeatureContext): Map<FeatureModule<object>, Feature> {
  const made = new Map<FeatureModule<object>, Feature>();
  const making = new Set<FeatureModule<object>>();
  let all: Feature[] = [];
  const account: FeatureSet = {
    use<G extends object>(module: FeatureModule<G>): G {
      const existing = made.get(module);
      if (existing) return existing as G;
      if (!modules.includes(module)) throw new Error(`the ${module.name} module is not in the list`);
      if (making.has(module)) throw new Error(`the ${module.name} module depends on itself`);
      making.add(module);
      const feature = module.create({ ...ctx, emit: declaredEmit(module, ctx.emit, ctx.log) }, account);
      making.delete(module);
      made.set(module, feature as Feature);
      return feature;
    },
    advertised: () => all.flatMap((feature) => feature.discoFeatures ?? []),
  };
  for (const module of modules) account.use(module);
  const ordered = new Map(modules.map((module) => [module, made.get(module)!]));
  all = [...ordered.values()];
  return ordered;
}

/** Emits as the core does, and says so when a module emits an event it does not declare. */
function declaredEmit(module: FeatureModule<object>, emit: Emit, log: Log): Emit {
  const declared = new Set<EventName>(module.events ?? []);
  return (event, payload) => {
    if (!declared.has(event)) log('error', `the ${module.name} module emitted ${event}, which it does not declare`);
    emit(event, payload);
  };
}

/** The core's own commands: only those about the core itself (registration creates an account; settings are the app's, not an account's). */
export type CoreCommand = Extract<CommandName, `accounts.${string}` | `archive.${string}` | `app.${string}` | `registration.${string}` | `settings.${string}`>;
export type CoreCommands = { [C in CoreCommand]: CommandHandlers[C] };

/** Every command of the contract, served once: by the core or by exactly one module. */
export function composeCommands(own: CoreCommands, modules: readonly FeatureModule<object>[], scope: CommandScope, log: Log): CommandHandlers {
  const handlers = new Map<CommandName, (payload: never) => unknown>(Object.entries(own) as Array<[CommandName, (payload: never) => unknown]>);
  for (const module of modules) {
    const moduleScope: CommandScope = { ...scope, emit: declaredEmit(module, scope.emit, log) };
    for (const [name, handler] of Object.entries(module.commands ?? {}) as Array<[CommandName, CommandHandler<CommandName>]>) {
      if (handlers.has(name)) throw new Error(`${name} is served twice (again by the ${module.name} module)`);
      handlers.set(name, (payload) => handler(payload, moduleScope));
    }
  }
  const missing = commandNames.filter((name) => !handlers.has(name));
  if (missing.length > 0) throw new Error(`no module serves ${missing.join(', ')}`);
  return Object.fromEntries(handlers) as CommandHandlers;
}
