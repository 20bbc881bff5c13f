// OMEMO on ejabberd (Debian's 23.01), whose PEP refuses `max_items` as a publish option and
// keeps one item per node unless configured: devices and bundles are still published (through
// the node's configuration), a second device's bundle does not push the first one's out, and
// two Heron cores write to each other encrypted by default.
import xml from '@xmpp/xml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountView } from '../../preload/contract';
import { startEjabberd } from '../support/ejabberd';
import type { XmppTestServer } from '../support/server-kit';
import { accountFor, startCore, type TestCore } from '../support/cores';
import { befriend, connectRaw } from '../support/raw-client';
import { until } from '../support/until';

const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';

describe('OMEMO through ejabberd', () => {
  let server: XmppTestServer;
  let alice: TestCore;
  let laptop: TestCore;
  let bob: TestCore;
  let aliceJid: string;
  let bobJid: string;

  beforeAll(async () => {
    server = await startEjabberd();
    aliceJid = await server.register('alice', 'alice-pw');
    bobJid = await server.register('bob', 'bob-pw');
    await befriend(server, { jid: aliceJid, password: 'alice-pw' }, { jid: bobJid, password: 'bob-pw' });
    [alice, laptop, bob] = [await startCore({ server }), await startCore({ server }), await startCore({ server })];
  });

  afterAll(async () => {
    for (const core of [alice, laptop, bob]) await core?.core.close();
    await server?.stop();
  });

  it("publishes both of alice's devices; bob writes to both encrypted without touching a switch, and each reads it", async () => {
    const online = (s: AccountView) => s.connection.state === 'online' && !s.connection.syncing;
    const a = await alice.call('accounts.add', accountFor(server, aliceJid, 'alice-pw'));
    const l = await laptop.call('accounts.add', accountFor(server, aliceJid, 'alice-pw'));
    const b = await bob.call('accounts.add', accountFor(server, bobJid, 'bob-pw'));
    for (const [core, id] of [[alice, a.id], [laptop, l.id], [bob, b.id]] as const) await core.waitForState(id, online);

    // Both of alice's OMEMO 2 bundles stay on her node, as anyone fetching them sees.
    const raw = await connectRaw(server, bobJid, 'bob-pw', 'inspector');
    try {
      await until("alice's two bundles on her node", async () => {
        const answer = await raw.iqCaller.get(xml('pubsub', { xmlns: NS_PUBSUB }, xml('items', { node: 'urn:xmpp:omemo:2:bundles' })), aliceJid).catch(() => undefined);
        const items = answer?.getChild('items')?.getChildren('item') ?? [];
        return items.length === 2 ? items : undefined;
      });
    } finally {
      await raw.stop();
    }

    const toAlice = (await bob.call('conversations.open', { accountId: b.id, peer: aliceJid })).id;
    const known = await until("alice's two devices known to bob", async () => {
      const answer = await bob.call('omemo.devices', { conversationId: toAlice });
      return answer.devices.filter((d) => d.version === 'omemo2' && d.active).length === 2 ? answer : undefined;
    });
    expect(known.encryption).toBe('omemo2');
    const sent = await bob.call('messages.send', { conversationId: toAlice, body: 'Both of your devices can read this' });
    expect(sent.encryption).toBe('omemo2');
    for (const core of [alice, laptop]) {
      const got = await core.waitFor('message.added', (m) => m.direction === 'in' && m.from === bobJid);
      expect(got).toMatchObject({ body: 'Both of your devices can read this', encryption: 'omemo2' });
    }
    const toBob = (await alice.call('conversations.open', { accountId: a.id, peer: bobJid })).id;
    await alice.call('messages.send', { conversationId: toBob, body: 'And you can read mine' });
    expect(await bob.waitFor('message.added', (m) => m.direction === 'in' && m.from === aliceJid)).toMatchObject({ body: 'And you can read mine', encryption: 'omemo2' });
  });
});
