// When the server has dropped the last message we hold from its archive, catch-up takes what
// it still has and says in the conversation which stretch may be missing.
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import xml from '@xmpp/xml';
import { startProsody, type TestServer } from '../support/prosody';
import { accountFor, startCore, type TestCore } from '../support/cores';
import { connectRaw } from '../support/raw-client';

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('history the server no longer keeps', () => {
  let server: TestServer;
  let alice: TestCore | undefined;

  beforeAll(async () => {
    server = await startProsody({ storage: 'sql' });
  });

  afterAll(async () => {
    await alice?.core.close();
    await server?.stop();
  });

  async function bobSays(bobJid: string, aliceJid: string, bodies: string[]): Promise<void> {
    const bob = await connectRaw(server, bobJid, 'b-pw', 'laptop');
    for (const body of bodies) await bob.send(xml('message', { to: aliceJid, type: 'chat', id: body }, xml('body', {}, body)));
    // Everything is in the server's archive once a round trip after the last send returns.
    await bob.iqCaller.get(xml('ping', { xmlns: 'urn:xmpp:ping' }));
    await bob.stop();
  }

  it('says which messages may be missing, in place, and still catches up the rest', async () => {
    const aliceJid = await server.register('alice', 'a-pw');
    const bobJid = await server.register('bob', 'b-pw');
    await bobSays(bobJid, aliceJid, ['before 1', 'before 2']);

    alice = await startCore({ server });
    const account = await alice.call('accounts.add', accountFor(server, aliceJid, 'a-pw'));
    await alice.waitForState(account.id, (a) => a.connection.state === 'online' && !a.connection.syncing);
    const dataDir = alice.dataDir;
    await alice.core.close();
    alice = undefined;

    // The server stamps its archive in whole seconds: start the later messages in a new one, so
    // they cannot share a time with the last message Alice holds.
    const second = Math.ceil(Date.now() / 1000) * 1000;
    await new Promise((r) => setTimeout(r, second - Date.now() + 10));
    await bobSays(bobJid, aliceJid, ['after 1', 'after 2']);

    // The server forgets everything up to and including the last message Alice holds.
    const heron = new Database(path.join(dataDir, 'heron.sqlite'), { readonly: true });
    const { last_stanza_id: cursor } = heron.prepare('SELECT last_stanza_id FROM mam_sync').get() as { last_stanza_id: string };
    heron.close();
    const prosody = new Database(path.join(server.dir, 'prosody.sqlite'));
    const { sort_id: upTo } = prosody.prepare("SELECT sort_id FROM prosodyarchive WHERE store = 'archive' AND user = 'alice' AND key = ?").get(cursor) as {
      sort_id: number;
    };
    expect(prosody.prepare("DELETE FROM prosodyarchive WHERE store = 'archive' AND user = 'alice' AND sort_id <= ?").run(upTo).changes).toBe(2);
    prosody.close();

    alice = await startCore({ server, dataDir });
    await alice.waitForState(account.id, (a) => a.connection.state === 'online' && !a.connection.syncing);
    const conversation = (await alice.call('conversations.list', {})).find((c) => c.peer === bobJid)!;
    const { messages } = await alice.call('messages.page', { conversationId: conversation.id, limit: 50 });
    expect(messages.map((m) => (m.gap ? 'notice' : m.body))).toEqual(['before 1', 'before 2', 'notice', 'after 1', 'after 2']);
    const notice = messages[2]!.gap!;
    expect(notice.from).toBe(messages[1]!.ts);
    expect(notice.to).toBe(messages[3]!.ts);
    // The notice is no unread message and not the preview.
    expect(conversation).toMatchObject({ unread: 4, last: { body: 'after 2' } });
  });
});
