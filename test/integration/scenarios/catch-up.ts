import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import xml from '@xmpp/xml';
import type { ServerOptions, XmppTestServer } from '../../support/server-kit';
import { accountFor, startCore, type TestCore } from '../../support/cores';
import { befriend, connectRaw } from '../../support/raw-client';
import { until } from '../../support/until';

/**
 * Runs against the server `start` gives (test/integration/catch-up*.test.ts). `holdsWholeBacklog`:
 * the server keeps all 200 waiting messages offline as well as in the archive (Prosody does;
 * Debian's ejabberd keeps 100 and bounces the rest, so the two orders of handover never meet there).
 */
export function catchUpScenario(start: (options?: ServerOptions) => Promise<XmppTestServer>, { holdsWholeBacklog = true } = {}): void {
  describe('catching up after being away', () => {
    let server: XmppTestServer;
    let alice: TestCore | undefined;

    beforeAll(async () => {
      server = await start();
    });

    afterAll(async () => {
      await alice?.core.close();
      await server?.stop();
      // Every stanza the server sent was counted by the time it asked (XEP-0198), on either server.
      if (server) expect(server.ackShortfalls()).toEqual([]);
    });

    it('finds every message sent to and from my other device while the app was closed, once', async () => {
      const aliceJid = await server.register('alice', 'a-pw');
      const bobJid = await server.register('bob', 'b-pw');
      // Contacts: a stranger's chat would wait in message requests, not in the chat list.
      await befriend(server, { jid: aliceJid, password: 'a-pw' }, { jid: bobJid, password: 'b-pw' });
      const carolJid = await server.register('carol', 'c-pw');

      // Alice has used Heron before: it holds a catch-up cursor.
      alice = await startCore({ server });
      const account = await alice.call('accounts.add', accountFor(server, aliceJid, 'a-pw'));
      await alice.waitForState(account.id, (a) => a.connection.state === 'online' && !a.connection.syncing);
      const dataDir = alice.dataDir;
      await alice.core.close();
      alice = undefined;

      // While the app is closed: bob writes 300 messages, alice's phone writes 20 to carol. (Debian's
      // ejabberd keeps 100 of bob's offline and bounces the rest: those come from the archive alone.)
      const bob = await connectRaw(server, bobJid, 'b-pw', 'laptop');
      const phone = await connectRaw(server, aliceJid, 'a-pw', 'phone');
      for (let i = 1; i <= 300; i++) {
        await bob.send(xml('message', { to: aliceJid, type: 'chat', id: `bob-${i}` }, xml('body', {}, `bob says ${i}`)));
      }
      for (let i = 1; i <= 20; i++) {
        await phone.send(xml('message', { to: carolJid, type: 'chat', id: `phone-${i}` }, xml('body', {}, `from my phone ${i}`)));
      }
      // Everything is in the server's archive once a round trip after the last send returns.
      await bob.iqCaller.get(xml('ping', { xmlns: 'urn:xmpp:ping' }));
      await phone.iqCaller.get(xml('ping', { xmlns: 'urn:xmpp:ping' }));
      await bob.stop();
      await phone.stop();

      alice = await startCore({ server, dataDir });
      await alice.waitForState(account.id, (a) => a.connection.state === 'online');
      const list = await until('both conversations caught up', async () => {
        const conversations = await alice!.call('conversations.list', {});
        const total = conversations.length === 2 && conversations.every((c) => c.last);
        return total && conversations.find((c) => c.peer === bobJid)?.last?.body === 'bob says 300' ? conversations : undefined;
      });
      const db = new Database(path.join(dataDir, 'heron.sqlite'), { readonly: true });
      const rows = db
        .prepare('SELECT c.peer, m.direction, m.body FROM messages m JOIN conversations c ON c.id = m.conversation_id ORDER BY m.ts, m.id')
        .all() as Array<{ peer: string; direction: string; body: string }>;
      db.close();

      const fromBob = rows.filter((r) => r.peer === bobJid);
      const toCarol = rows.filter((r) => r.peer === carolJid);
      expect(fromBob).toHaveLength(300);
      expect(new Set(fromBob.map((r) => r.body)).size).toBe(300);
      expect(fromBob.every((r) => r.direction === 'in')).toBe(true);
      expect(fromBob.map((r) => r.body)).toEqual(Array.from({ length: 300 }, (_, i) => `bob says ${i + 1}`));
      expect(toCarol).toHaveLength(20);
      expect(toCarol.every((r) => r.direction === 'out')).toBe(true);
      expect(list.find((c) => c.peer === bobJid)?.unread).toBe(300);
      expect(list.find((c) => c.peer === carolJid)?.unread).toBe(0);
      // Still online: logging in to a backlog did not get the stream closed (DESIGN §5).
      expect((await alice.call('accounts.list', {}))[0]?.connection.state).toBe('online');
    });

    if (holdsWholeBacklog) {
      it('a first login to 200 waiting messages shows them in the order they were sent', async () => {
        // Erin has never used Heron: the server holds frank's messages offline and in her archive.
        const erinJid = await server.register('erin', 'e-pw');
        const frankJid = await server.register('frank', 'f-pw');
        // Contacts, so that the chat list shows frank and not a message request.
        await befriend(server, { jid: erinJid, password: 'e-pw' }, { jid: frankJid, password: 'f-pw' });
        const frank = await connectRaw(server, frankJid, 'f-pw', 'desk');
        for (let i = 0; i < 200; i++) {
          await frank.send(xml('message', { to: erinJid, type: 'chat', id: `backlog-${i}` }, xml('body', {}, `backlog ${i}`)));
        }
        await frank.iqCaller.get(xml('ping', { xmlns: 'urn:xmpp:ping' }));
        await frank.stop();

        await alice?.core.close();
        alice = await startCore({ server });
        const account = await alice.call('accounts.add', accountFor(server, erinJid, 'e-pw'));
        await alice.waitForState(account.id, (a) => a.connection.state === 'online' && !a.connection.syncing);
        const conversation = await until('the backlog stored', async () => {
          const found = (await alice!.call('conversations.list', {})).find((c) => c.peer === frankJid);
          return found?.unread === 200 ? found : undefined;
        });
        const { messages } = await alice.call('messages.page', { conversationId: conversation.id, limit: 200 });
        expect(messages.map((m) => m.body)).toEqual(Array.from({ length: 200 }, (_, i) => `backlog ${i}`));
        expect(messages.every((m) => m.ts <= Date.now())).toBe(true);
      });
    }
  });
}
