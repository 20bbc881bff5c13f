// How the core is composed from its module list: every command of the contract is served
// exactly once, each account gets one feature per module in priority order, and a module
// that emits an event it does not declare is called out.
import { describe, expect, it } from 'vitest';
import { commandNames } from '../../preload/contract';
import type { Archive } from '../../main/core/archive/archive';
import type { CommandScope, Feature, FeatureContext, FeatureModule } from '../../main/core/features/feature';
import { Hooks } from '../../main/core/features/hooks';
import { FEATURE_MODULES, composeCommands, makeFeatures, type CoreCommands } from '../../main/core/features/modules';

const coreCommands = commandNames.filter((name) => /^(accounts|archive|app|registration|settings)\./.test(name));
const own = Object.fromEntries(coreCommands.map((name) => [name, () => name])) as unknown as CoreCommands;
const scope = {} as CommandScope;

function context(logged: string[] = [], emitted: string[] = []): FeatureContext {
  return {
    accountId: 'a',
    bare: 'alice@heron.test',
    archive: { accounts: { getOwnPresence: () => undefined } } as unknown as Archive,
    emit: (event) => void emitted.push(event),
    log: (_level, message) => void logged.push(message),
    clock: { now: () => 0, random: () => 0, setTimeout: () => 0, clearTimeout: () => {} },
    liveSession: () => undefined,
    hooks: new Hooks(() => {}),
  };
}

describe('the module list', () => {
  it('serves every command of the contract, those about the core from the core and the rest from one module each', () => {
    const handlers = composeCommands(own, FEATURE_MODULES, scope, () => {});
    expect(Object.keys(handlers).sort()).toEqual([...commandNames].sort());
    const byModule = FEATURE_MODULES.flatMap((module) => Object.keys(module.commands ?? {}));
    expect(byModule.filter((name) => coreCommands.includes(name as never))).toEqual([]);
  });

  it('refuses a command served twice, or one nobody serves', () => {
    const twice: FeatureModule = { name: 'echo', create: () => ({}), commands: { 'contacts.list': () => [] } };
    expect(() => composeCommands(own, [...FEATURE_MODULES, twice], scope, () => {})).toThrow('contacts.list is served twice (again by the echo module)');
    expect(() => composeCommands(own, FEATURE_MODULES.slice(1), scope, () => {})).toThrow(/no module serves contacts\.list/);
  });

  it('makes one feature per module for an account, in the order of the list', () => {
    const made = makeFeatures(FEATURE_MODULES, context());
    expect([...made.keys()].map((module) => module.name)).toEqual(FEATURE_MODULES.map((module) => module.name));
    expect(new Set(made.values()).size).toBe(FEATURE_MODULES.length);
  });

  it('makes a module another one uses first, once, and refuses a circle', () => {
    const later: FeatureModule<Feature & { tag: string }> = { name: 'later', create: () => ({ tag: 'later' }) };
    const first: FeatureModule<Feature & { uses: string }> = { name: 'first', create: (_ctx, account) => ({ uses: account.use(later).tag }) };
    const made = makeFeatures([first, later], context());
    expect(made.get(first)).toEqual({ uses: 'later' });
    expect([...made.keys()]).toEqual([first, later]);

    const a: FeatureModule = { name: 'a', create: (_ctx, account) => account.use(b) };
    const b: FeatureModule = { name: 'b', create: (_ctx, account) => account.use(a) };
    expect(() => makeFeatures([a, b], context())).toThrow('the a module depends on itself');
  });

  it('logs an event a command emits without its module declaring it, and still delivers it', async () => {
    const logged: string[] = [];
    const emitted: string[] = [];
    const roster = FEATURE_MODULES.find((module) => module.name === 'roster')!;
    const loud: FeatureModule = {
      ...roster,
      commands: {
        ...roster.commands,
        'contacts.list': (_payload, { emit }) => {
          emit('contacts.changed', { accountId: 'a', contacts: [] });
          emit('archive.damaged', { reason: 'x' });
          return [];
        },
      },
    };
    const commandScope = { emit: (event: string) => void emitted.push(event) } as unknown as CommandScope;
    const handlers = composeCommands(own, FEATURE_MODULES.map((module) => (module === roster ? loud : module)), commandScope, (_level, message) => logged.push(message));
    await handlers['contacts.list']({ accountId: 'a' });
    expect(emitted).toEqual(['contacts.changed', 'archive.damaged']);
    expect(logged).toEqual(['the roster module emitted archive.damaged, which it does not declare']);
  });

  it('logs an event a feature emits without its module declaring it, and still delivers it', () => {
    const logged: string[] = [];
    const emitted: string[] = [];
    const loud: FeatureModule = {
      name: 'loud',
      events: ['contacts.changed'],
      create: (ctx) => {
        ctx.emit('contacts.changed', { accountId: 'a', contacts: [] });
        ctx.emit('archive.damaged', { reason: 'x' });
        return {};
      },
    };
    makeFeatures([loud], context(logged, emitted));
    expect(emitted).toEqual(['contacts.changed', 'archive.damaged']);
    expect(logged).toEqual(['the loud module emitted archive.damaged, which it does not declare']);
  });
});
