// Roster versioning (XEP-0237) against a real Prosody: a reconnect to an unchanged roster
// costs an empty answer and still shows every contact; changes made meanwhile arrive.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import xml from '@xmpp/xml';
import { startProsody, type TestServer } from '../support/prosody';
import { accountFor, startCore, type TestCore } from '../support/cores';
import { befriend, connectRaw } from '../support/raw-client';

describe('roster versioning with a real server', () => {
  let server: TestServer;
  let alice: TestCore;
  let aliceId: string;
  const jids: Record<string, string> = {};

  const unchangedAnswers = () => alice.logs.filter((line) => line.includes('roster unchanged since version')).length;
  /** Goes offline, does `meanwhile`, and comes back online. */
  async function reconnect(meanwhile = async () => {}): Promise<void> {
    const offline = alice.nextState(aliceId, (a) => a.connection.state === 'offline');
    alice.core.suspend();
    await offline;
    await meanwhile();
    const online = alice.nextState(aliceId, (a) => a.connection.state === 'online');
    alice.core.resume();
    await online;
  }
  /** Alice's phone edits her roster while this core may be offline. */
  async function editRosterElsewhere(item: { jid: string; name?: string; subscription?: 'remove' }): Promise<void> {
    const phone = await connectRaw(server, jids.alice!, 'alice-pw', 'phone');
    await phone.iqCaller.set(xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', item)));
    await phone.stop();
  }

  beforeAll(async () => {
    server = await startProsody();
    for (const local of ['alice', 'bob', 'carol']) jids[local] = await server.register(local, `${local}-pw`);
    await befriend(server, { jid: jids.alice!, password: 'alice-pw' }, { jid: jids.bob!, password: 'bob-pw' });
    alice = await startCore({ server });
    aliceId = (await alice.call('accounts.add', accountFor(server, jids.alice!, 'alice-pw'))).id;
    await alice.waitForState(aliceId, (a) => a.connection.state === 'online');
  });

  afterAll(async () => {
    await alice?.core.close();
    await server?.stop();
  });

  it('a second connect gets an empty roster answer and still shows the contacts', async () => {
    expect(unchangedAnswers()).toBe(0); // the first connect fetched the whole roster
    await alice.core.close();
    alice = await startCore({ server, dataDir: alice.dataDir });
    await alice.waitForState(aliceId, (a) => a.connection.state === 'online');
    expect(unchangedAnswers()).toBe(1);
    expect(await alice.call('contacts.list', { accountId: aliceId })).toMatchObject([{ jid: jids.bob, subscription: 'both' }]);
  });

  it('changes made while offline arrive on the next connect', async () => {
    await reconnect(async () => {
      await editRosterElsewhere({ jid: jids.bob!, name: 'Bobby' });
      await editRosterElsewhere({ jid: jids.carol!, name: 'Carol' });
    });
    expect(await alice.call('contacts.list', { accountId: aliceId })).toMatchObject([
      { jid: jids.bob, name: 'Bobby', subscription: 'both' },
      { jid: jids.carol, name: 'Carol', subscription: 'none' },
    ]);
  });

  it('pushes while online move the version on: the next connect is again an empty answer', async () => {
    await editRosterElsewhere({ jid: jids.carol!, subscription: 'remove' });
    await alice.waitFor('contacts.changed', (c) => c.accountId === aliceId && !c.contacts.some((x) => x.jid === jids.carol));
    const before = unchangedAnswers();
    await reconnect();
    expect(unchangedAnswers()).toBe(before + 1);
    expect(await alice.call('contacts.list', { accountId: aliceId })).toMatchObject([{ jid: jids.bob, name: 'Bobby' }]);
  });
});
