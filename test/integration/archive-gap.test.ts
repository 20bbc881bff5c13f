// When the server has dropped the last message we hold from its archive, catch-up takes what
// it still has and says in the conversation which stretch may be missing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProsody, type TestServer } from '../support/prosody';
import { accountFor, startCore, type TestCore } from '../support/cores';
import { befriend } from '../support/raw-client';
import { expireThroughCursor, nextSecond, sendChats } from '../support/server-archive';

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

  it('says which messages may be missing, in place, and still catches up the rest', async () => {
    const aliceJid = await server.register('alice', 'a-pw');
    const bobJid = await server.register('bob', 'b-pw');
    const bob = { jid: bobJid, password: 'b-pw' };
    // Contacts: a stranger's chat would wait in message requests, not in the chat list.
    await befriend(server, { jid: aliceJid, password: 'a-pw' }, bob);
    await sendChats(server, bob, aliceJid, ['before 1', 'before 2']);

    alice = await startCore({ server });
    const account = await alice.call('accounts.add', accountFor(server, aliceJid, 'a-pw'));
    await alice.waitForState(account.id, (a) => a.connection.state === 'online' && !a.connection.syncing);
    const dataDir = alice.dataDir;
    await alice.core.close();
    alice = undefined;

    await nextSecond();
    await sendChats(server, bob, aliceJid, ['after 1', 'after 2']);
    // The server forgets everything up to and including the last message Alice holds.
    expect(expireThroughCursor(server, 'alice', dataDir)).toBe(2);

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
