// The archive's commands as the window reaches them: through the core, payloads validated.
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../main/core/core';
import type { Vault } from '../../main/core/vault';
import type { CommandName, CommandPayload, CommandResults, EventName } from '../../preload/contract';
import { ACCOUNT, ME, PEER, fromPeer, makeArchive, type ArchiveFixture } from './archive-support';

describe('archive commands', () => {
  let fx: ArchiveFixture;
  let core: Core;
  let events: Array<{ event: EventName; payload: unknown }>;
  const deleted: string[] = [];
  const vault: Vault = { setPassword: async () => {}, getPassword: async () => null, deletePassword: async (jid) => void deleted.push(jid), setSecret: async () => {}, getSecret: async () => null, deleteSecret: async () => {} };
  const call = <C extends CommandName>(command: C, payload: CommandPayload<C>) => core.handle(command, payload) as Promise<CommandResults[C]>;

  beforeEach(async () => {
    fx = makeArchive();
    fx.archive.messages.storeBatch(ACCOUNT, Array.from({ length: 40 }, (_, i) => fromPeer(i + 1, { body: `note ${i + 1} about kiwis` })));
    fx.archive.close();
    // Disabled accounts: the core starts without reaching for a server.
    const db = new (await import('better-sqlite3')).default(fx.file);
    db.prepare('UPDATE accounts SET enabled = 0').run();
    db.close();
    core = await createCore({ dataDir: fx.dir, vault });
    events = [];
    core.onEvent((event, payload) => events.push({ event, payload }));
  });
  afterEach(async () => {
    await core.close();
    fx.close();
  });

  it('searches, jumps to a hit and pages from it', async () => {
    const { hits, nextBefore } = await call('messages.search', { query: 'kiwis "note 3', limit: 5 });
    expect(hits.map((h) => h.message.body)).toEqual(['note 3 about kiwis']); // the quote left open runs to the end
    expect(nextBefore).toBeUndefined();
    const kiwis = await call('messages.search', { query: 'KIWIS', limit: 3, order: 'relevance' });
    expect(kiwis.hits).toHaveLength(3);
    const around = await call('messages.around', { messageId: kiwis.hits[0]!.message.id, limit: 5 });
    expect(around.messages.map((m) => m.id)).toContain(kiwis.hits[0]!.message.id);
    const after = await call('messages.pageAfter', { conversationId: around.conversationId, after: around.messages[0]!, limit: 2 });
    expect(after.messages).toEqual(around.messages.slice(1, 3));
  });

  it('rejects malformed search requests with a clear error', async () => {
    await expect(call('messages.search', { query: 'x', limit: 0 })).rejects.toMatchObject({ error: { code: 'invalid-payload', field: 'limit' } });
    await expect(call('messages.search', { query: 'x'.repeat(1001), limit: 5 })).rejects.toMatchObject({ error: { code: 'invalid-payload', field: 'query' } });
    await expect(call('messages.around', { messageId: 12345, limit: 5 })).rejects.toMatchObject({ error: { code: 'not-found' } });
  });

  it('deletes a conversation and tells the window', async () => {
    const [conversation] = await call('conversations.list', {});
    await call('conversations.delete', { conversationId: conversation!.id });
    expect(events).toContainEqual({ event: 'conversation.removed', payload: { conversationId: conversation!.id } });
    expect(await call('conversations.list', {})).toEqual([]);
    await expect(call('messages.page', { conversationId: conversation!.id, limit: 10 })).rejects.toMatchObject({ error: { code: 'not-found' } });
    expect((await call('messages.search', { query: 'kiwis', limit: 5 })).hits).toEqual([]);
  });

  it('exports into the data folder', async () => {
    const { file, messages } = await call('archive.export', {});
    expect(messages).toBe(40);
    expect(file.startsWith(fx.dir)).toBe(true);
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { type?: string; peer?: string });
    expect(lines.filter((l) => l.type === 'message')).toHaveLength(40);
    expect(lines.find((l) => l.type === 'conversation')?.peer).toBe(PEER);
  });

  it('removes an account, its password and its history', async () => {
    await call('accounts.remove', { accountId: ACCOUNT, deleteHistory: true });
    expect(deleted).toEqual([ME]);
    expect(events).toContainEqual({ event: 'account.removed', payload: { accountId: ACCOUNT } });
    expect((await call('accounts.list', {})).map((a) => a.id)).not.toContain(ACCOUNT);
    expect(await call('conversations.list', {})).toEqual([]);
    await expect(call('accounts.remove', { accountId: ACCOUNT, deleteHistory: true })).rejects.toMatchObject({ error: { code: 'not-found' } });
  });
});
