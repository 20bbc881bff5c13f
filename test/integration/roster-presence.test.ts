import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import xml from '@xmpp/xml';
import { startProsody, type TestServer } from '../support/prosody';
import { accountFor, startCore, type TestCore } from '../support/cores';
import { befriend, connectRaw } from '../support/raw-client';

describe('roster and presence from a real server', () => {
  let server: TestServer;
  let alice: TestCore;
  let aliceJid: string;
  let bobJid: string;

  beforeAll(async () => {
    server = await startProsody();
    aliceJid = await server.register('alice', 'a-pw');
    bobJid = await server.register('bob', 'b-pw');
    await befriend(server, { jid: aliceJid, password: 'a-pw' }, { jid: bobJid, password: 'b-pw' });
    alice = await startCore({ server });
  });

  afterAll(async () => {
    await alice?.core.close();
    await server?.stop();
  });

  it('shows contacts from the roster with their presence as it changes', async () => {
    const account = await alice.call('accounts.add', accountFor(server, aliceJid, 'a-pw'));
    await alice.waitForState(account.id, (a) => a.connection.state === 'online');
    expect(await alice.call('contacts.list', { accountId: account.id })).toEqual([
      { accountId: account.id, jid: bobJid, subscription: 'both', groups: [], presence: { show: 'offline' } },
    ]);

    const bobPhone = await connectRaw(server, bobJid, 'b-pw', 'phone');
    // Bob's initial presence makes the server send him alice's current presence.
    const aliceAsSeenByBob = new Promise<{ type: string | undefined }>((resolve) => {
      bobPhone.entity.on('stanza', (s) => {
        if (s.is('presence') && s.attrs.from?.startsWith(`${aliceJid}/`)) resolve({ type: s.attrs.type });
      });
    });
    await bobPhone.send(xml('presence', {}, xml('show', {}, 'away'), xml('status', {}, 'walking the dog')));
    await alice.waitFor('contacts.changed', (c) => c.contacts.some((x) => x.jid === bobJid && x.presence.show === 'away'));
    expect((await alice.call('contacts.list', { accountId: account.id }))[0]?.presence).toEqual({ show: 'away', status: 'walking the dog' });

    // Our own presence went out: bob sees alice available ("available" has no type).
    expect(await aliceAsSeenByBob).toEqual({ type: undefined });

    await bobPhone.stop();
    await alice.waitFor('contacts.changed', (c) => c.contacts.some((x) => x.jid === bobJid && x.presence.show === 'offline'));
  });
});
