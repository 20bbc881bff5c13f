import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerOptions, XmppTestServer } from '../../support/server-kit';
import { accountFor, startCore, type TestCore } from '../../support/cores';
import { befriend } from '../../support/raw-client';

/** Runs against the server `start` gives (test/integration/chat*.test.ts). */
export function chatScenario(start: (options?: ServerOptions) => Promise<XmppTestServer>): void {
  describe('two cores chat through a real server', () => {
    let server: XmppTestServer;
    let alice: TestCore;
    let bob: TestCore;
    let aliceJid: string;
    let bobJid: string;

    beforeAll(async () => {
      server = await start();
      aliceJid = await server.register('alice', 'alice-pw');
      bobJid = await server.register('bob', 'bob-pw');
      // Contacts: receipts go only to who sees our presence (XEP-0184 §8).
      await befriend(server, { jid: aliceJid, password: 'alice-pw' }, { jid: bobJid, password: 'bob-pw' });
      alice = await startCore({ server });
      bob = await startCore({ server });
    });

    afterAll(async () => {
      await alice?.core.close();
      await bob?.core.close();
      await server?.stop();
      // Every stanza the server sent was counted by the time it asked (XEP-0198), on either server.
      if (server) expect(server.ackShortfalls()).toEqual([]);
    });

    it('connects over TLS, exchanges messages, and stores each once', async () => {
      const a = await alice.call('accounts.add', accountFor(server, aliceJid, 'alice-pw'));
      const b = await bob.call('accounts.add', accountFor(server, bobJid, 'bob-pw'));
      // Both signed in and done with the first sync: bob's roster says alice is a contact, so
      // her message is a chat, not a request (which would get no receipt).
      await alice.waitForState(a.id, (s) => s.connection.state === 'online' && !s.connection.syncing);
      await bob.waitForState(b.id, (s) => s.connection.state === 'online' && !s.connection.syncing);

      const toBob = await alice.call('conversations.open', { accountId: a.id, peer: bobJid });
      const sent = await alice.call('messages.send', { conversationId: toBob.id, body: 'Hello Bob <b>not bold</b>' });
      expect(sent.state).toBe('pending');

      const received = await bob.waitFor('message.added', (m) => m.direction === 'in');
      expect(received.body).toBe('Hello Bob <b>not bold</b>');
      expect(received.from).toBe(aliceJid);
      await alice.waitFor('message.updated', (m) => m.id === sent.id && m.state === 'delivered');

      await bob.call('messages.send', { conversationId: received.conversationId, body: 'Hi Alice' });
      const reply = await alice.waitFor('message.added', (m) => m.direction === 'in');
      expect(reply.body).toBe('Hi Alice');

      const alicePage = await alice.call('messages.page', { conversationId: toBob.id, limit: 50 });
      expect(alicePage.messages.map((m) => [m.direction, m.body])).toEqual([
        ['out', 'Hello Bob <b>not bold</b>'],
        ['in', 'Hi Alice'],
      ]);
      const bobPage = await bob.call('messages.page', { conversationId: received.conversationId, limit: 50 });
      expect(bobPage.messages.map((m) => [m.direction, m.body])).toEqual([
        ['in', 'Hello Bob <b>not bold</b>'],
        ['out', 'Hi Alice'],
      ]);
      const list = await alice.call('conversations.list', {});
      expect(list).toMatchObject([{ peer: bobJid, unread: 1, last: { body: 'Hi Alice', direction: 'in' } }]);
    });
  });
}
