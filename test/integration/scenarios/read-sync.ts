// Read positions shared by my devices (XEP-0490) on a real server: reading two chats here
// leaves a position for each in my account's node, where my phone finds both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import xml from '@xmpp/xml';
import type { ServerOptions, XmppTestServer } from '../../support/server-kit';
import { accountFor, startCore, type TestCore } from '../../support/cores';
import { befriend, connectRaw } from '../../support/raw-client';
import { until } from '../../support/until';

const NS_MDS = 'urn:xmpp:mds:displayed:0';

/** Runs against the server `start` gives (test/integration/read-sync*.test.ts). */
export function readSyncScenario(start: (options?: ServerOptions) => Promise<XmppTestServer>): void {
  describe('read positions shared with my other devices', () => {
    let server: XmppTestServer;
    let alice: TestCore;

    beforeAll(async () => {
      server = await start();
    });

    afterAll(async () => {
      await alice?.core.close();
      await server?.stop();
      if (server) expect(server.ackShortfalls()).toEqual([]);
    });

    it('reading two chats here keeps a position for each, which my phone finds', async () => {
      const [aliceJid, bobJid, carolJid] = [await server.register('alice', 'a-pw'), await server.register('bob', 'b-pw'), await server.register('carol', 'c-pw')];
      for (const [jid, pw] of [
        [bobJid, 'b-pw'],
        [carolJid, 'c-pw'],
      ] as const) {
        await befriend(server, { jid: aliceJid, password: 'a-pw' }, { jid, password: pw });
      }
      alice = await startCore({ server });
      const account = await alice.call('accounts.add', accountFor(server, aliceJid, 'a-pw'));
      await alice.waitForState(account.id, (a) => a.connection.state === 'online' && !a.connection.syncing);

      for (const [jid, pw] of [
        [bobJid, 'b-pw'],
        [carolJid, 'c-pw'],
      ] as const) {
        const arrived = alice.waitFor('message.added', (m) => m.from === jid);
        const client = await connectRaw(server, jid, pw);
        await client.send(xml('message', { to: aliceJid, type: 'chat', id: `from-${jid}` }, xml('body', {}, `hello from ${jid}`)));
        await client.stop();
        expect((await alice.call('conversations.markRead', { conversationId: (await arrived).conversationId })).unread).toBe(0);
      }

      const phone = await connectRaw(server, aliceJid, 'a-pw', 'phone');
      try {
        const positions = await until('both read positions on the server', async () => {
          const answer = await phone.iqCaller.get(xml('pubsub', { xmlns: 'http://jabber.org/protocol/pubsub' }, xml('items', { node: NS_MDS })), aliceJid).catch(() => undefined);
          const items = answer?.getChild('items')?.getChildren('item') ?? [];
          return items.length === 2 ? items : undefined;
        });
        expect(positions.map((i) => i.attrs.id).sort()).toEqual([bobJid, carolJid].sort());
        for (const item of positions) expect(item.getChild('displayed', NS_MDS)?.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.by).toBe(aliceJid);
      } finally {
        await phone.stop();
      }
    });
  });
}
