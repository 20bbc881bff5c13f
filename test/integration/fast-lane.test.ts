// A quiet catch-up on a server that paces its clients (Prosody mod_limits at 3 kB/s, as busy
// public servers and ejabberd's default shaper do): back to 2,000 messages that asked for
// receipts, Heron answers a handful, not 1,000 (~150 kB, some 50 s at that rate), and what
// the user writes next reaches the peer without waiting behind them. The time is printed,
// not asserted (DESIGN §4: tests never assert on wall-clock time).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import xml, { type Element } from '@xmpp/xml';
import { startProsody, type TestServer } from '../support/prosody';
import { accountFor, startCore, type TestCore } from '../support/cores';
import { befriend, connectRaw, nextStanza } from '../support/raw-client';
import { LATE_RECEIPTS_PER_PEER } from '../../main/core/features/receipts';

const BACKLOG = 1000;

describe('the user’s message after a catch-up on a rate-limited server', () => {
  let server: TestServer;
  let alice: TestCore | undefined;

  beforeAll(async () => {
    // Bob's own sending is not paced, so that the backlog is quick to build.
    server = await startProsody({ c2sRate: '3kb/s', unlimitedJids: ['bob@heron.test'] });
  });

  afterAll(async () => {
    await alice?.core.close();
    await server?.stop();
  });

  it('answers a handful of receipts, and the next message goes out at once', async () => {
    const aliceJid = await server.register('alice', 'a-pw');
    const bobJid = await server.register('bob', 'b-pw');
    await befriend(server, { jid: aliceJid, password: 'a-pw' }, { jid: bobJid, password: 'b-pw' });
    alice = await startCore({ server });
    const account = await alice.call('accounts.add', accountFor(server, aliceJid, 'a-pw'));
    await alice.waitForState(account.id, (a) => a.connection.state === 'online' && !a.connection.syncing, 60_000);
    const dataDir = alice.dataDir;
    await alice.core.close();

    const bob = await connectRaw(server, bobJid, 'b-pw', 'laptop');
    let receipts = 0;
    bob.entity.on('stanza', (s: Element) => void (s.getChild('received', 'urn:xmpp:receipts') && receipts++));
    await bob.send(xml('presence'));
    for (let n = 1; n <= BACKLOG; n++) {
      await bob.send(xml('message', { to: aliceJid, type: 'chat', id: `b-${n}` }, xml('body', {}, `backlog ${n}`), xml('request', { xmlns: 'urn:xmpp:receipts' })));
    }
    // Everything is stored once a round trip after the last send returns.
    await bob.iqCaller.request(xml('iq', { type: 'get' }, xml('ping', { xmlns: 'urn:xmpp:ping' })), 120_000);

    alice = await startCore({ server, dataDir });
    await alice.waitForState(account.id, (a) => a.connection.state === 'online' && !a.connection.syncing, 120_000);
    const conversation = (await alice.call('conversations.list', {})).find((c) => c.peer === bobJid)!;
    expect(conversation.unread).toBe(BACKLOG);

    const arrived = nextStanza(bob, (s) => s.getChildText('body') === 'back now', 120_000);
    const started = Date.now();
    await alice.call('messages.send', { conversationId: conversation.id, body: 'back now' });
    await arrived;
    const elapsed = Date.now() - started;
    console.log(`fast lane: after a catch-up of ${BACKLOG} messages at 3 kB/s, the next message reached the peer in ${elapsed} ms; ${receipts} receipts went out`);
    const line = alice.logs.find((l) => l.includes('receipts asked for by archived messages'));
    expect(line).toContain(`answering ${LATE_RECEIPTS_PER_PEER} of ${BACKLOG} receipts`);
    await bob.stop();
  }, 240_000);
});
