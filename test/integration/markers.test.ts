// Message states against a real server: read markers reach the sender, my reads on another
// device clear the unread count here (as carbons, from the archive, and through XEP-0490),
// and a bounced message shows why it failed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import xml, { type Element } from '@xmpp/xml';
import { startProsody, type TestServer } from '../support/prosody';
import { startCore, twoFriends, type TestCore } from '../support/cores';
import { befriend, connectRaw, exchangeMessages, nextStanza, type RawClient } from '../support/raw-client';
import { capsHash } from '../../main/core/xmpp/disco';
import type { AccountView } from '../../preload/contract';

const roundTrip = (client: RawClient) => client.iqCaller.get(xml('ping', { xmlns: 'urn:xmpp:ping' }));

/** What another client publishes when its user has read a chat (XEP-0490 §4.2), written out independently. */
function publishPosition(own: string, peer: string, stanzaId: string): Element {
  const field = (name: string, value: string) => xml('field', { var: name }, xml('value', {}, value));
  return xml(
    'pubsub',
    { xmlns: 'http://jabber.org/protocol/pubsub' },
    xml(
      'publish',
      { node: 'urn:xmpp:mds:displayed:0' },
      xml('item', { id: peer }, xml('displayed', { xmlns: 'urn:xmpp:mds:displayed:0' }, xml('stanza-id', { xmlns: 'urn:xmpp:sid:0', by: own, id: stanzaId }))),
    ),
    xml(
      'publish-options',
      {},
      xml(
        'x',
        { xmlns: 'jabber:x:data', type: 'submit' },
        xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, 'http://jabber.org/protocol/pubsub#publish-options')),
        field('pubsub#persist_items', 'true'),
        field('pubsub#max_items', 'max'),
        field('pubsub#send_last_published_item', 'never'),
        field('pubsub#access_model', 'whitelist'),
      ),
    ),
  );
}

describe('message states through a real server', () => {
  let server: TestServer;
  let alice: TestCore | undefined;
  let bob: TestCore;
  let aliceJid: string;
  let bobJid: string;
  let aliceAccount: AccountView;
  let bobAccount: AccountView;

  beforeAll(async () => {
    server = await startProsody();
    ({ alice, bob, aliceJid, bobJid, aliceAccount, bobAccount } = await twoFriends(server));
  });

  afterAll(async () => {
    await alice?.core.close();
    await bob?.core.close();
    await server?.stop();
  });

  it('shows my message as read once the contact has displayed it, also when I was away meanwhile', async () => {
    const toBob = await alice!.call('conversations.open', { accountId: aliceAccount.id, peer: bobJid });
    const first = await alice!.call('messages.send', { conversationId: toBob.id, body: 'did you read this?' });
    await alice!.waitFor('message.updated', (m) => m.id === first.id && m.state === 'delivered');
    const arrived = await bob.waitFor('message.added', (m) => m.body === 'did you read this?');
    await bob.waitFor('conversation.changed', (c) => c.id === arrived.conversationId && c.unread === 1);

    // Bob opens the chat: his Heron tells alice's, which shows the message read.
    expect((await bob.call('conversations.markRead', { conversationId: arrived.conversationId })).unread).toBe(0);
    const read = await alice!.waitFor('message.updated', (m) => m.id === first.id && m.state === 'read');
    expect(read.body).toBe('did you read this?');
    // Bob's other devices learn it too: his Heron published how far he read (XEP-0490).
    const bobPhone = await connectRaw(server, bobJid, 'b-pw', 'phone');
    try {
      const items = await bobPhone.iqCaller.get(
        xml('pubsub', { xmlns: 'http://jabber.org/protocol/pubsub' }, xml('items', { node: 'urn:xmpp:mds:displayed:0' })),
        bobJid,
      );
      const position = items?.getChild('items')?.getChild('item');
      expect(position?.attrs.id).toBe(aliceJid);
      expect(position?.getChild('displayed', 'urn:xmpp:mds:displayed:0')?.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.by).toBe(bobJid);
    } finally {
      await bobPhone.stop();
    }

    // Alice sends another and quits; bob reads it while she is away. Her archive catch-up
    // brings his marker, and the message shows read when she is back.
    const second = await alice!.call('messages.send', { conversationId: toBob.id, body: 'and this one?' });
    await alice!.waitFor('message.updated', (m) => m.id === second.id && m.state === 'delivered');
    const dataDir = alice!.dataDir;
    await alice!.core.close();
    alice = undefined;
    const again = await bob.waitFor('message.added', (m) => m.body === 'and this one?');
    await bob.waitFor('conversation.changed', (c) => c.id === again.conversationId && c.unread === 1);
    await bob.call('conversations.markRead', { conversationId: again.conversationId });

    alice = await startCore({ server, dataDir });
    await alice.waitForState(aliceAccount.id, (a) => a.connection.state === 'online' && !a.connection.syncing);
    const page = await alice.call('messages.page', { conversationId: toBob.id, limit: 10 });
    expect(page.messages.map((m) => [m.body, m.state])).toEqual([
      ['did you read this?', 'read'],
      ['and this one?', 'read'],
    ]);
  });

  it('clears the unread count here when I read the chat on my phone (displayed marker as a carbon, or from the archive)', async () => {
    const phone = await connectRaw(server, aliceJid, 'a-pw', 'phone');
    try {
      await phone.send(xml('presence'));
      await roundTrip(phone);
      const fromBob = await bob.call('conversations.open', { accountId: bobAccount.id, peer: aliceJid });
      // Alice's phone is a client without OMEMO: bob writes in clear, or it could not read him.
      await bob.call('omemo.setEnabled', { conversationId: fromBob.id, enabled: false });
      const copy = nextStanza(phone, (s) => s.is('message') && s.getChildText('body') === 'two');
      await bob.call('messages.send', { conversationId: fromBob.id, body: 'one' });
      const sent = await bob.call('messages.send', { conversationId: fromBob.id, body: 'two' });
      const two = await alice!.waitFor('message.added', (m) => m.body === 'two');
      await alice!.waitFor('conversation.changed', (c) => c.id === two.conversationId && c.unread === 2);

      // The phone displays bob's messages up to "two": it tells bob, and the server copies
      // the marker to alice's desktop.
      const markable = (await copy).getChild('markable', 'urn:xmpp:chat-markers:0');
      expect(markable).toBeDefined();
      await phone.send(
        xml('message', { to: bobJid, type: 'chat', id: 'phone-marker-1' }, xml('displayed', { xmlns: 'urn:xmpp:chat-markers:0', id: (await copy).attrs.id! })),
      );
      await alice!.nextEvent('conversation.changed', (c) => c.id === two.conversationId && c.unread === 0);
      await bob.waitFor('message.updated', (m) => m.id === sent.id && m.state === 'read');

      // With the desktop closed, the phone reads bob's next messages; only the marker in our
      // archive tells the desktop when it is back (the phone publishes no XEP-0490 position).
      const dataDir = alice!.dataDir;
      await alice!.core.close();
      alice = undefined;
      const later = nextStanza(phone, (s) => s.is('message') && s.getChildText('body') === 'four later');
      await bob.call('messages.send', { conversationId: fromBob.id, body: 'three later' });
      await bob.call('messages.send', { conversationId: fromBob.id, body: 'four later' });
      await phone.send(
        xml('message', { to: bobJid, type: 'chat', id: 'phone-marker-2' }, xml('displayed', { xmlns: 'urn:xmpp:chat-markers:0', id: (await later).attrs.id! }), xml('store', { xmlns: 'urn:xmpp:hints' })),
      );
      await roundTrip(phone);
      alice = await startCore({ server, dataDir });
      await alice.waitForState(aliceAccount.id, (a) => a.connection.state === 'online' && !a.connection.syncing);
      const list = await alice.call('conversations.list', {});
      expect(list.find((c) => c.peer === bobJid)).toMatchObject({ unread: 0, last: { body: 'four later' } });
    } finally {
      await phone.stop();
    }
  });

  it('clears the unread count here from a read position my other device published (XEP-0490), live and on connect', async () => {
    const phone = await connectRaw(server, aliceJid, 'a-pw', 'tablet');
    try {
      // The tablet gets its own copy of what bob sends, with the server's archive id on it.
      await phone.send(xml('presence'));
      await roundTrip(phone);
      const fromBob = await bob.call('conversations.open', { accountId: bobAccount.id, peer: aliceJid });
      // Alice's phone is a client without OMEMO: bob writes in clear, or it could not read him.
      await bob.call('omemo.setEnabled', { conversationId: fromBob.id, enabled: false });
      const copy = nextStanza(phone, (s) => s.is('message') && s.getChildText('body') === 'three');
      await bob.call('messages.send', { conversationId: fromBob.id, body: 'three' });
      const stanzaId = (await copy).getChildren('stanza-id', 'urn:xmpp:sid:0').find((s) => s.attrs.by === aliceJid)?.attrs.id;
      expect(stanzaId).toBeTruthy();
      const three = await alice!.waitFor('message.added', (m) => m.body === 'three');
      await alice!.waitFor('conversation.changed', (c) => c.id === three.conversationId && c.unread === 1);

      const cleared = alice!.nextEvent('conversation.changed', (c) => c.id === three.conversationId);
      await phone.iqCaller.set(publishPosition(aliceJid, bobJid, stanzaId!), aliceJid);
      expect((await cleared).unread).toBe(0);

      // While alice's desktop is closed, bob writes twice and the tablet reads both.
      const dataDir = alice!.dataDir;
      await alice!.core.close();
      alice = undefined;
      const four = nextStanza(phone, (s) => s.is('message') && s.getChildText('body') === 'five');
      await bob.call('messages.send', { conversationId: fromBob.id, body: 'four' });
      await bob.call('messages.send', { conversationId: fromBob.id, body: 'five' });
      const latest = (await four).getChildren('stanza-id', 'urn:xmpp:sid:0').find((s) => s.attrs.by === aliceJid)!.attrs.id!;
      await phone.iqCaller.set(publishPosition(aliceJid, bobJid, latest), aliceJid);

      alice = await startCore({ server, dataDir });
      await alice.waitForState(aliceAccount.id, (a) => a.connection.state === 'online' && !a.connection.syncing);
      const list = await alice.call('conversations.list', {});
      expect(list.find((c) => c.peer === bobJid)).toMatchObject({ unread: 0, last: { body: 'five' } });
    } finally {
      await phone.stop();
    }
  });

  it('tells no stranger, and no contact whose client cannot use it, that I read their message', async () => {
    const carolJid = await server.register('carol', 'c-pw');
    const daveJid = await server.register('dave', 'd-pw');
    await befriend(server, { jid: aliceJid, password: 'a-pw' }, { jid: daveJid, password: 'd-pw' });
    const carol = await connectRaw(server, carolJid, 'c-pw', 'desk');
    const dave = await connectRaw(server, daveJid, 'd-pw', 'old-client');
    const markersSeen: string[] = [];
    for (const client of [carol, dave]) {
      client.entity.on('stanza', (s: Element) => {
        if (s.getChild('displayed', 'urn:xmpp:chat-markers:0')) markersSeen.push(client.jid);
      });
    }
    try {
      await carol.send(xml('presence')); // available, so our replies reach her
      // Dave's client advertises what it supports, and markers are not among it.
      const info = [xml('identity', { category: 'client', type: 'pc', name: 'Old client' }), xml('feature', { var: 'http://jabber.org/protocol/disco#info' })];
      const ver = capsHash({ identities: [{ category: 'client', type: 'pc', name: 'Old client' }], features: ['http://jabber.org/protocol/disco#info'], forms: [] });
      dave.iqCallee.get('http://jabber.org/protocol/disco#info', 'query', ({ stanza }) =>
        xml('query', { xmlns: 'http://jabber.org/protocol/disco#info', node: stanza.getChild('query')!.attrs.node }, ...info),
      );
      await dave.send(xml('presence', {}, xml('c', { xmlns: 'http://jabber.org/protocol/caps', hash: 'sha-1', node: 'https://old.example', ver })));
      // After two rounds alice has asked about dave's client and has its answer.
      await exchangeMessages(dave, alice!, aliceJid);
      await exchangeMessages(dave, alice!, aliceJid);

      for (const client of [carol, dave]) {
        const markable = xml('message', { to: aliceJid, type: 'chat', id: `m-${client.jid}` }, xml('body', {}, `read me, ${client.jid}`), xml('markable', { xmlns: 'urn:xmpp:chat-markers:0' }));
        const stored = alice!.waitFor('message.added', (m) => m.body === `read me, ${client.jid}`);
        await client.send(markable);
        await alice!.call('conversations.markRead', { conversationId: (await stored).conversationId });
        // A marker would have been on its way before the reply this exchange waits for.
        await exchangeMessages(client, alice!, aliceJid);
      }
      expect(markersSeen).toEqual([]);
    } finally {
      await carol.stop();
      await dave.stop();
    }
  });

  it('with read markers turned off in the settings, tells the contact nothing; turned on, it does', async () => {
    const erinJid = await server.register('erin', 'e-pw');
    await befriend(server, { jid: aliceJid, password: 'a-pw' }, { jid: erinJid, password: 'e-pw' });
    const erin = await connectRaw(server, erinJid, 'e-pw', 'desk');
    const markersSeen: string[] = [];
    erin.entity.on('stanza', (s: Element) => {
      const displayed = s.getChild('displayed', 'urn:xmpp:chat-markers:0');
      if (displayed) markersSeen.push(String(displayed.attrs.id));
    });
    const readOne = async (id: string) => {
      const stored = alice!.waitFor('message.added', (m) => m.body === `read me ${id}`);
      await erin.send(xml('message', { to: aliceJid, type: 'chat', id }, xml('body', {}, `read me ${id}`), xml('markable', { xmlns: 'urn:xmpp:chat-markers:0' })));
      await alice!.call('conversations.markRead', { conversationId: (await stored).conversationId });
      // A marker would have been on its way before the reply this exchange waits for.
      await exchangeMessages(erin, alice!, aliceJid);
    };
    try {
      await erin.send(xml('presence'));
      await alice!.call('settings.update', { sendReadMarkers: false });
      await readOne('private');
      expect(markersSeen).toEqual([]);
      await alice!.call('settings.update', { sendReadMarkers: true });
      await readOne('public');
      expect(markersSeen).toEqual(['public']);
    } finally {
      await alice!.call('settings.update', { sendReadMarkers: true });
      await erin.stop();
    }
  });

  it('shows a message to an address that does not exist as failed, with the reason', async () => {
    const nobody = `nobody@${server.domain}`;
    const conversation = await alice!.call('conversations.open', { accountId: aliceAccount.id, peer: nobody });
    const sent = await alice!.call('messages.send', { conversationId: conversation.id, body: 'hello?' });
    const failed = await alice!.waitFor('message.updated', (m) => m.id === sent.id && m.state === 'failed');
    expect(failed.error).toBe('this address does not exist or does not accept messages');
    // The failure is kept: a later message's ack (acks count everything before) did not undo it.
    const toBob = await alice!.call('conversations.open', { accountId: aliceAccount.id, peer: bobJid });
    const later = await alice!.call('messages.send', { conversationId: toBob.id, body: 'still here' });
    await alice!.waitFor('message.updated', (m) => m.id === later.id && m.state === 'delivered');
    const page = await alice!.call('messages.page', { conversationId: conversation.id, limit: 10 });
    expect(page.messages).toMatchObject([{ body: 'hello?', state: 'failed', error: failed.error }]);
  });

  it('sends a failed message again on Retry, with the id it had, once its address exists', async () => {
    const frankJid = `frank@${server.domain}`;
    const conversation = await alice!.call('conversations.open', { accountId: aliceAccount.id, peer: frankJid });
    const sent = await alice!.call('messages.send', { conversationId: conversation.id, body: 'are you there yet?' });
    await alice!.waitFor('message.updated', (m) => m.id === sent.id && m.state === 'failed');
    // Only a failed message of mine goes again: not one that arrived, not one that was delivered.
    const toBob = await alice!.call('conversations.open', { accountId: aliceAccount.id, peer: bobJid });
    const fine = await alice!.call('messages.send', { conversationId: toBob.id, body: 'this one is fine' });
    await alice!.waitFor('message.updated', (m) => m.id === fine.id && m.state === 'delivered');
    const fromBob = await alice!.call('messages.page', { conversationId: toBob.id, limit: 50 });
    const incoming = fromBob.messages.find((m) => m.direction === 'in')!;
    for (const messageId of [fine.id, incoming.id]) {
      await expect(alice!.call('messages.retry', { messageId })).rejects.toMatchObject({ error: { code: 'invalid-payload' } });
    }

    await server.register('frank', 'f-pw');
    const frank = await connectRaw(server, frankJid, 'f-pw', 'desk');
    try {
      await frank.send(xml('presence'));
      const arrives = nextStanza(frank, (s: Element) => s.is('message') && s.getChildText('body') === 'are you there yet?');
      const pending = alice!.nextEvent('message.updated', (m) => m.id === sent.id && m.state === 'pending');
      const retried = await alice!.call('messages.retry', { messageId: sent.id });
      expect(retried).toMatchObject({ id: sent.id, state: 'pending' });
      expect(retried.error).toBeUndefined();
      await pending;
      const stanza = await arrives;
      // Frank's receipt names the id the message went with; it reaches the stored message only if that id is the one it was stored with.
      await frank.send(xml('message', { to: aliceJid, type: 'chat' }, xml('received', { xmlns: 'urn:xmpp:receipts', id: stanza.attrs.id })));
      await alice!.waitFor('message.updated', (m) => m.id === sent.id && m.state === 'delivered');
      const page = await alice!.call('messages.page', { conversationId: conversation.id, limit: 10 });
      expect(page.messages.filter((m) => m.body === 'are you there yet?')).toHaveLength(1);
    } finally {
      await frank.stop();
    }
  });
});
