// The window's state kept by the core: pinned, muted and draft per conversation, and the app
// settings. Through the real command dispatcher, across a restart of the core on the same file.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { createCore, type Core } from '../../main/core/core';
import { DEFAULT_SETTINGS } from '../../main/core/settings';
import type { Vault } from '../../main/core/vault';
import type { CommandName, CommandPayload, CommandResults, EventName } from '../../preload/contract';
import { ACCOUNT, fromPeer, makeArchive, type ArchiveFixture } from './archive-support';

describe('window state in the core', () => {
  let fx: ArchiveFixture;
  let core: Core;
  let events: Array<{ event: EventName; payload: unknown }>;
  const vault: Vault = { setPassword: async () => {}, getPassword: async () => null, deletePassword: async () => {}, setSecret: async () => {}, getSecret: async () => null, deleteSecret: async () => {} };
  const call = <C extends CommandName>(command: C, payload: CommandPayload<C>) => core.handle(command, payload) as Promise<CommandResults[C]>;

  async function startCore() {
    core = await createCore({ dataDir: fx.dir, vault });
    events = [];
    core.onEvent((event, payload) => events.push({ event, payload }));
  }

  beforeEach(async () => {
    fx = makeArchive();
    fx.archive.messages.storeBatch(ACCOUNT, [fromPeer(1)]);
    fx.archive.close();
    // Disabled accounts: the core starts without reaching for a server.
    const db = new Database(fx.file);
    db.prepare('UPDATE accounts SET enabled = 0').run();
    db.close();
    await startCore();
  });
  afterEach(async () => {
    await core.close();
    fx.close();
  });

  it('pins, mutes and keeps a draft across a restart, and tells the window', async () => {
    const [conversation] = await call('conversations.list', {});
    expect(conversation).toMatchObject({ pinned: false, muted: false, draft: '' });
    const pinned = await call('conversations.update', { conversationId: conversation!.id, pinned: true });
    expect(pinned).toMatchObject({ pinned: true, muted: false, draft: '' });
    expect(events).toContainEqual({ event: 'conversation.changed', payload: pinned });
    await call('conversations.update', { conversationId: conversation!.id, muted: true, draft: 'half a thought' });
    await core.close();
    await startCore();
    const [again] = await call('conversations.list', {});
    expect(again).toMatchObject({ pinned: true, muted: true, draft: 'half a thought', unread: conversation!.unread });
    expect((await call('conversations.update', { conversationId: again!.id, draft: '' })).draft).toBe('');
  });

  it('refuses a draft that is too long or a conversation that does not exist', async () => {
    const [conversation] = await call('conversations.list', {});
    await expect(call('conversations.update', { conversationId: conversation!.id, draft: 'x'.repeat(20_001) })).rejects.toMatchObject({
      error: { code: 'invalid-payload', field: 'draft' },
    });
    await expect(call('conversations.update', { conversationId: 999, pinned: true })).rejects.toMatchObject({ error: { code: 'not-found' } });
    expect((await call('conversations.list', {}))[0]?.draft).toBe('');
  });

  it('starts with the defaults and merges a deep-partial change, kept across a restart', async () => {
    expect(await call('settings.get', {})).toEqual(DEFAULT_SETTINGS);
    const changed = await call('settings.update', { theme: 'dark', notifications: { privacy: 'nothing' }, tray: { closeToTray: true } });
    expect(changed).toEqual({
      ...DEFAULT_SETTINGS,
      theme: 'dark',
      notifications: { ...DEFAULT_SETTINGS.notifications, privacy: 'nothing' },
      tray: { ...DEFAULT_SETTINGS.tray, closeToTray: true },
    });
    expect(events).toContainEqual({ event: 'settings.changed', payload: changed });
    await core.close();
    await startCore();
    expect(await call('settings.get', {})).toEqual(changed);
  });

  it('refuses unknown or ill-typed settings and changes nothing', async () => {
    await expect(call('settings.update', { theme: 'neon' } as never)).rejects.toMatchObject({ error: { code: 'invalid-payload', field: 'theme' } });
    await expect(call('settings.update', { notifications: { loud: true } } as never)).rejects.toMatchObject({ error: { code: 'invalid-payload' } });
    await expect(call('settings.update', { fontFamily: 'Comic' } as never)).rejects.toMatchObject({ error: { code: 'invalid-payload' } });
    expect(await call('settings.get', {})).toEqual(DEFAULT_SETTINGS);
    expect(events.filter((e) => e.event === 'settings.changed')).toEqual([]);
  });

  it('reads a damaged stored document value by value, falling back to the defaults', async () => {
    await core.close();
    const db = new Database(fx.file);
    db.prepare("INSERT OR REPLACE INTO settings (key, value) VALUES ('app', ?)").run(JSON.stringify({ theme: 'light', textSize: 42, tray: 'yes' }));
    db.close();
    await startCore();
    expect(await call('settings.get', {})).toEqual({ ...DEFAULT_SETTINGS, theme: 'light' });
    await core.close();
    const db2 = new Database(fx.file);
    db2.prepare("UPDATE settings SET value = '{not json' WHERE key = 'app'").run();
    db2.close();
    await startCore();
    expect(await call('settings.get', {})).toEqual(DEFAULT_SETTINGS);
  });
});
