// Whose clock a message is shown by (XEP-0203): our server's when it held the message for us,
// ours when it arrived live, whatever time the sender wrote into it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import xml from '@xmpp/xml';
import { startProsody, type TestServer } from '../support/prosody';
import { accountFor, startCore, type TestCore } from '../support/cores';
import { befriend, connectRaw, nextStanza } from '../support/raw-client';
import { parseMessage } from '../../main/core/xmpp/chat';

describe('message times', () => {
  let server: TestServer;
  let alice: TestCore | undefined;

  beforeAll(async () => {
    server = await startProsody();
  });

  afterAll(async () => {
    await alice?.core.close();
    await server?.stop();
  });

  it('trusts the delay Prosody adds to what it held offline, as from our own server', async () => {
    const dianaJid = await server.register('diana', 'd-pw');
    const bobJid = await server.register('bob', 'b-pw');
    const bob = await connectRaw(server, bobJid, 'b-pw', 'desk');
    await bob.send(xml('message', { to: dianaJid, type: 'chat', id: 'held-1' }, xml('body', {}, 'while you were away')));
    await bob.iqCaller.get(xml('ping', { xmlns: 'urn:xmpp:ping' }));
    await bob.stop();

    const diana = await connectRaw(server, dianaJid, 'd-pw', 'desk');
    const flushed = nextStanza(diana, (s) => s.is('message') && s.attrs.id === 'held-1');
    await diana.send(xml('presence'));
    const stanza = await flushed;
    await diana.stop();
    expect(stanza.getChild('delay', 'urn:xmpp:delay')?.attrs.from).toBe(server.domain);
    expect(parseMessage(stanza, { ownBareJid: dianaJid, now: Date.now() })).toMatchObject({ kind: 'chat', timedBy: 'server' });
  });

  it('shows a message its sender stamped 2099, even as from our server, at the time it arrived: their chat does not stay on top', async () => {
    const aliceJid = await server.register('alice', 'a-pw');
    const malloryJid = await server.register('mallory', 'm-pw');
    const carolJid = await server.register('carol', 'c-pw');
    // Contacts, so that what is shown does not depend on where strangers' messages go.
    await befriend(server, { jid: aliceJid, password: 'a-pw' }, { jid: malloryJid, password: 'm-pw' });
    await befriend(server, { jid: aliceJid, password: 'a-pw' }, { jid: carolJid, password: 'c-pw' });
    alice = await startCore({ server });
    const account = await alice.call('accounts.add', accountFor(server, aliceJid, 'a-pw'));
    await alice.waitForState(account.id, (a) => a.connection.state === 'online' && !a.connection.syncing);

    const mallory = await connectRaw(server, malloryJid, 'm-pw', 'x');
    const forged = alice.waitFor('message.added', (m) => m.body === 'first forever');
    await mallory.send(
      xml('message', { to: aliceJid, type: 'chat', id: 'm-1' }, xml('body', {}, 'first forever'),
        xml('delay', { xmlns: 'urn:xmpp:delay', from: server.domain, stamp: '2099-01-01T00:00:00Z' })),
    );
    const stored = await forged;
    expect(stored.ts).toBeLessThanOrEqual(Date.now());
    await mallory.stop();

    const carol = await connectRaw(server, carolJid, 'c-pw', 'x');
    const later = alice.waitFor('message.added', (m) => m.body === 'hello');
    await carol.send(xml('message', { to: aliceJid, type: 'chat', id: 'c-1' }, xml('body', {}, 'hello')));
    expect((await later).ts).toBeGreaterThanOrEqual(stored.ts);
    await carol.stop();
    const list = await alice.call('conversations.list', {});
    expect(list.map((c) => c.peer)).toEqual([carolJid, malloryJid]);
  });
});
