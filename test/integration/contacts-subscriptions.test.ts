// Adding contacts and answering their requests, against a real Prosody: approve makes both
// sides mutual, deny refuses, block stops their messages, and waiting requests outlive a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import xml from '@xmpp/xml';
import { startProsody, type TestServer } from '../support/prosody';
import { accountFor, startCore, type TestCore } from '../support/cores';
import { connectRaw, nextStanza, type RawClient } from '../support/raw-client';

describe('subscription requests with a real server', () => {
  let server: TestServer;
  let alice: TestCore;
  let bob: TestCore;
  let aliceId: string;
  let bobId: string;
  const jids: Record<string, string> = {};
  const raws: RawClient[] = [];

  /** Someone outside Heron (a "raw" client) who asks alice to see her presence. */
  async function requester(local: string, request: { nick?: string; status?: string } = {}): Promise<RawClient> {
    const client = await connectRaw(server, jids[local]!, `${local}-pw`);
    raws.push(client);
    // Fetching the roster makes this device one the server tells of answers (RFC 6121 §2.1.6).
    await client.iqCaller.get(xml('query', { xmlns: 'jabber:iq:roster' }));
    await client.send(xml('presence'));
    await client.send(
      xml(
        'presence',
        { to: jids.alice, type: 'subscribe' },
        ...(request.nick ? [xml('nick', { xmlns: 'http://jabber.org/protocol/nick' }, request.nick)] : []),
        ...(request.status ? [xml('status', {}, request.status)] : []),
      ),
    );
    return client;
  }

  const hasRequestFrom = (jid: string) => (e: { accountId: string; added: Array<{ jid: string }> }) =>
    e.accountId === aliceId && e.added.some((r) => r.jid === jid);

  beforeAll(async () => {
    server = await startProsody();
    for (const local of ['alice', 'bob', 'carol', 'mallory', 'dave']) jids[local] = await server.register(local, `${local}-pw`);
    alice = await startCore({ server });
    bob = await startCore({ server });
    aliceId = (await alice.call('accounts.add', accountFor(server, jids.alice!, 'alice-pw'))).id;
    bobId = (await bob.call('accounts.add', accountFor(server, jids.bob!, 'bob-pw'))).id;
    await alice.waitForState(aliceId, (a) => a.connection.state === 'online');
    await bob.waitForState(bobId, (a) => a.connection.state === 'online');
  });

  afterAll(async () => {
    for (const raw of raws) await raw.stop();
    await alice?.core.close();
    await bob?.core.close();
    await server?.stop();
  });

  it('adding a contact who approves makes both sides mutual, each seeing the other online', async () => {
    await alice.call('contacts.add', { accountId: aliceId, jid: jids.bob!, name: 'Bob', groups: ['Friends', ' Friends '] });
    const pending = await alice.waitFor('contacts.changed', (c) => c.contacts.some((x) => x.jid === jids.bob && x.awaitingApproval));
    expect(pending.contacts.find((x) => x.jid === jids.bob)).toMatchObject({ name: 'Bob', groups: ['Friends'], subscription: 'none' });

    const asked = await bob.waitFor('requests.changed', (e) => e.added.some((r) => r.jid === jids.alice));
    // The change alone, not the whole list again.
    expect(asked).toEqual({ accountId: bobId, added: [{ accountId: bobId, jid: jids.alice, receivedAt: expect.any(Number) }], removed: [] });
    await bob.call('requests.answer', { accountId: bobId, jid: jids.alice!, answer: 'approve' });
    expect(await bob.call('requests.list', { accountId: bobId })).toEqual([]);

    const mutual = (core: TestCore, peer: string) =>
      core.waitFor('contacts.changed', (c) => c.contacts.some((x) => x.jid === peer && x.subscription === 'both' && x.presence.show === 'available'));
    await mutual(alice, jids.bob!);
    await mutual(bob, jids.alice!);
    expect((await alice.call('contacts.list', { accountId: aliceId })).find((c) => c.jid === jids.bob)).toEqual({
      accountId: aliceId,
      jid: jids.bob,
      name: 'Bob',
      subscription: 'both',
      groups: ['Friends'],
      presence: { show: 'available' },
    });
    // Alice pre-approved bob by adding him: his request back never reached her list.
    expect(alice.events.some((e) => e.event === 'requests.changed')).toBe(false);
  });

  it('a request shows with its nick and message; deny refuses it', async () => {
    const carol = await requester('carol', { nick: 'Carol C.', status: 'Hi Alice, <b>it is Carol</b>' });
    const changed = await alice.waitFor('requests.changed', hasRequestFrom(jids.carol!));
    expect(changed.added).toEqual([
      { accountId: aliceId, jid: jids.carol, nick: 'Carol C.', status: 'Hi Alice, <b>it is Carol</b>', receivedAt: expect.any(Number) },
    ]);

    const refused = nextStanza(carol, (s) => s.is('presence') && s.attrs.type === 'unsubscribed' && s.attrs.from === jids.alice);
    await alice.call('requests.answer', { accountId: aliceId, jid: jids.carol!, answer: 'deny' });
    await refused;
    expect(await alice.call('requests.list', { accountId: aliceId })).toEqual([]);
    // Carol may not see alice: her roster holds no subscription and no pending ask.
    const roster = await carol.iqCaller.get(xml('query', { xmlns: 'jabber:iq:roster' }));
    expect(roster?.getChildren('item').find((i) => i.attrs.jid === jids.alice)?.attrs).toMatchObject({ subscription: 'none' });
    expect(roster?.getChildren('item').find((i) => i.attrs.jid === jids.alice)?.attrs.ask).toBeUndefined();
  });

  it('block refuses the request and the blocked user’s messages no longer arrive', async () => {
    const mallory = await requester('mallory', { status: 'let me in' });
    await alice.waitFor('requests.changed', hasRequestFrom(jids.mallory!));
    await alice.call('requests.answer', { accountId: aliceId, jid: jids.mallory!, answer: 'block' });
    expect(await alice.call('requests.list', { accountId: aliceId })).toEqual([]);

    // The server bounces what mallory sends now; alice's archive never sees it.
    const bounced = nextStanza(mallory, (s) => s.is('message') && s.attrs.type === 'error' && s.attrs.id === 'm1');
    await mallory.send(xml('message', { to: jids.alice, type: 'chat', id: 'm1' }, xml('body', {}, 'you cannot block me')));
    expect((await bounced).getChild('error')?.getChildElements()[0]?.name).toBe('service-unavailable');
    const conversations = await alice.call('conversations.list', {});
    expect(conversations.map((c) => c.peer)).not.toContain(jids.mallory);

    // Bob, who is not blocked, still gets through.
    const conversation = await bob.call('conversations.open', { accountId: bobId, peer: jids.alice! });
    await bob.call('messages.send', { conversationId: conversation.id, body: 'still here' });
    await alice.waitFor('message.added', (m) => m.from === jids.bob && m.body === 'still here');
  });

  it('waiting requests survive a restart of the core, and are answered after it', async () => {
    const dave = await requester('dave', { nick: 'Dave' });
    await alice.waitFor('requests.changed', hasRequestFrom(jids.dave!));
    await alice.core.close();
    await server.stop();

    // Offline, so nothing could have been re-delivered: the list comes from the archive.
    alice = await startCore({ server, dataDir: alice.dataDir, backoff: { baseMs: 100, capMs: 1_000 } });
    const before = await alice.call('requests.list', { accountId: aliceId });
    expect(before).toEqual([{ accountId: aliceId, jid: jids.dave, nick: 'Dave', receivedAt: expect.any(Number) }]);
    await expect(alice.call('requests.answer', { accountId: aliceId, jid: jids.dave!, answer: 'approve' })).rejects.toMatchObject({
      error: { code: 'offline' },
    });

    await server.start();
    // Prosody re-delivers pending requests in answer to our initial presence, so before the
    // catch-up that follows it ends: once synced, the repeat has been taken, and stored once.
    await alice.waitForState(aliceId, (a) => a.connection.state === 'online' && !a.connection.syncing, 30_000);
    expect(await alice.call('requests.list', { accountId: aliceId })).toEqual(before);
    await dave.stop();
    const daveAgain = await connectRaw(server, jids.dave!, 'dave-pw', 'again');
    raws.push(daveAgain);
    await daveAgain.iqCaller.get(xml('query', { xmlns: 'jabber:iq:roster' }));
    const approved = nextStanza(daveAgain, (s) => s.is('presence') && s.attrs.type === 'subscribed' && s.attrs.from === jids.alice);
    await alice.call('requests.answer', { accountId: aliceId, jid: jids.dave!, answer: 'approve' });
    await approved;
    expect(await alice.call('requests.list', { accountId: aliceId })).toEqual([]);
    const contact = await alice.waitFor('contacts.changed', (c) => c.contacts.some((x) => x.jid === jids.dave && x.subscription === 'from'));
    expect(contact.contacts.find((x) => x.jid === jids.dave)).toMatchObject({ name: 'Dave', awaitingApproval: true });
  });

  it('renames a contact, moves them between groups, and removes them', async () => {
    await alice.call('contacts.update', { accountId: aliceId, jid: jids.bob!, name: 'Bobby', groups: ['Work', 'Climbing'] });
    await alice.waitFor('contacts.changed', (c) => c.contacts.some((x) => x.jid === jids.bob && x.name === 'Bobby' && x.groups.length === 2));
    await alice.call('contacts.update', { accountId: aliceId, jid: jids.bob!, name: '', groups: [] });
    const renamed = await alice.waitFor('contacts.changed', (c) => c.contacts.some((x) => x.jid === jids.bob && x.name === undefined));
    expect(renamed.contacts.find((x) => x.jid === jids.bob)).toMatchObject({ groups: [], subscription: 'both' });

    await alice.call('contacts.remove', { accountId: aliceId, jid: jids.bob! });
    await alice.waitFor('contacts.changed', (c) => c.accountId === aliceId && !c.contacts.some((x) => x.jid === jids.bob));
    // Removing cancels the subscriptions both ways: bob no longer sees alice.
    await bob.waitFor('contacts.changed', (c) => c.contacts.some((x) => x.jid === jids.alice && x.subscription === 'none'));
    await expect(alice.call('contacts.update', { accountId: aliceId, jid: jids.bob!, groups: [] })).rejects.toMatchObject({
      error: { code: 'not-found' },
    });
    await expect(alice.call('contacts.add', { accountId: aliceId, jid: jids.alice! })).rejects.toMatchObject({
      error: { code: 'invalid-payload', field: 'jid' },
    });
  });
});
