// OMEMO between Heron cores through a real Prosody (PEP for device lists and bundles, carbons,
// offline storage and MAM) with the real keychain sealing each identity.
import path from 'node:path';
import xml, { type Element } from '@xmpp/xml';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProsody, type TestServer } from '../support/prosody';
import { accountFor, startCore, type TestCore } from '../support/cores';
import { befriend, connectRaw, type RawClient } from '../support/raw-client';
import { until } from '../support/until';
import { FALLBACK_BODY } from '../../main/core/xmpp/omemo';

const NS_MAM = 'urn:xmpp:mam:2';

/** The message bodies and OMEMO elements of the newest 50 the server archived for `client`'s account. */
type Archived = { from: string; body: string | null; encrypted: boolean; keyExchangeTo: number[]; xml: string };
async function serverArchive(client: RawClient): Promise<Archived[]> {
  const queryid = `q${Date.now()}`;
  const found: Archived[] = [];
  const onStanza = (stanza: Element) => {
    const inner = stanza.getChild('result', NS_MAM)?.getChild('forwarded', 'urn:xmpp:forward:0')?.getChild('message');
    if (!inner) return;
    const keys = inner.getChild('encrypted', 'urn:xmpp:omemo:2')?.getChild('header')?.getChildren('keys').flatMap((k) => k.getChildren('key')) ?? [];
    found.push({
      from: inner.attrs.from ?? '',
      body: inner.getChildText('body'),
      encrypted: inner.getChildren('encrypted').length > 0,
      keyExchangeTo: keys.filter((k) => k.attrs.kex === 'true').map((k) => Number(k.attrs.rid)),
      xml: inner.toString(),
    });
  };
  client.entity.on('stanza', onStanza);
  // The newest page (RSM <before/>): the server's page holds at most 50.
  await client.iqCaller.set(xml('query', { xmlns: NS_MAM, queryid }, xml('set', { xmlns: 'http://jabber.org/protocol/rsm' }, xml('max', {}, '50'), xml('before'))));
  client.entity.off('stanza', onStanza);
  return found;
}

/** The prekey ids of a device's OMEMO 2 bundle, as its PEP node has it now. */
async function bundlePreKeys(client: RawClient, jid: string, deviceId: number): Promise<number[]> {
  const answer = await client.iqCaller.get(
    xml('pubsub', { xmlns: 'http://jabber.org/protocol/pubsub' }, xml('items', { node: 'urn:xmpp:omemo:2:bundles' }, xml('item', { id: String(deviceId) }))),
    jid,
  );
  const bundle = answer?.getChild('items')?.getChild('item')?.getChild('bundle', 'urn:xmpp:omemo:2');
  return (bundle?.getChild('prekeys')?.getChildren('pk') ?? []).map((pk) => Number(pk.attrs.id));
}

describe('OMEMO through a real server', () => {
  let server: TestServer;
  let alice: TestCore;
  let bob: TestCore;
  let alice2: TestCore | undefined;
  let aliceJid: string;
  let bobJid: string;
  let aliceId: string;
  let bobId: string;
  let toBob: number;
  let aliceId2: string;

  beforeAll(async () => {
    server = await startProsody();
    aliceJid = await server.register('alice', 'alice-pw');
    bobJid = await server.register('bob', 'bob-pw');
    await befriend(server, { jid: aliceJid, password: 'alice-pw' }, { jid: bobJid, password: 'bob-pw' });
    alice = await startCore({ server });
    bob = await startCore({ server });
    aliceId = (await alice.call('accounts.add', accountFor(server, aliceJid, 'alice-pw'))).id;
    bobId = (await bob.call('accounts.add', accountFor(server, bobJid, 'bob-pw'))).id;
    await alice.waitForState(aliceId, (s) => s.connection.state === 'online');
    await bob.waitForState(bobId, (s) => s.connection.state === 'online');
    toBob = (await alice.call('conversations.open', { accountId: aliceId, peer: bobJid })).id;
    // Nobody touches the switch: encryption is on by default once the contact's devices are known.
  });

  afterAll(async () => {
    await alice?.core.close();
    await alice2?.core.close();
    await bob?.core.close();
    await server?.stop();
  });

  it("learns the contact's devices of both versions from PEP and, on by default, encrypts with OMEMO 2", async () => {
    const known = await until("bob's devices", async () => {
      const answer = await alice.call('omemo.devices', { conversationId: toBob });
      return answer.devices.filter((d) => d.active).length === 2 ? answer : undefined;
    });
    expect(new Set(known.devices.map((d) => d.version))).toEqual(new Set(['omemo', 'omemo2']));
    // Both versions have OMEMO 2: that is the one used.
    expect(known.encryption).toBe('omemo2');
  });

  it('exchanges encrypted messages; the server only ever holds the fallback body', async () => {
    const bobDevice = (await alice.call('omemo.devices', { conversationId: toBob })).devices.find((d) => d.version === 'omemo2')!.deviceId;
    const raw = await connectRaw(server, bobJid, 'bob-pw', 'inspector');
    const preKeysBefore = await bundlePreKeys(raw, bobJid, bobDevice);
    expect(preKeysBefore).toHaveLength(100);
    const sent = await alice.call('messages.send', { conversationId: toBob, body: 'Meet at the <old> mill' });
    expect(sent.encryption).toBe('omemo2');
    const received = await bob.waitFor('message.added', (m) => m.direction === 'in');
    expect(received).toMatchObject({ body: 'Meet at the <old> mill', encryption: 'omemo2', from: aliceJid });
    expect(received.senderDevice).toBeGreaterThan(0);
    expect(received.undecryptable).toBeUndefined();

    await bob.call('messages.send', { conversationId: received.conversationId, body: 'On my way' });
    const reply = await alice.waitFor('message.added', (m) => m.direction === 'in');
    expect(reply).toMatchObject({ body: 'On my way', encryption: 'omemo2' });

    try {
      // The prekey alice's first message used is gone from bob's bundle, replaced by a new one.
      const preKeysAfter = await until('the bundle republished', async () => {
        const ids = await bundlePreKeys(raw, bobJid, bobDevice);
        return ids.join() !== preKeysBefore.join() ? ids : undefined;
      });
      expect(preKeysAfter).toHaveLength(100);
      expect(preKeysBefore.filter((id) => !preKeysAfter.includes(id))).toHaveLength(1);
      expect(Math.max(...preKeysAfter)).toBe(101);
      const archived = await serverArchive(raw);
      // Receipts and markers carry no body; every message that does is the fallback beside its <encrypted/>.
      const withBody = archived.filter((m) => m.body !== null);
      expect(withBody.length).toBeGreaterThanOrEqual(2);
      for (const message of withBody) expect(message).toMatchObject({ body: FALLBACK_BODY, encrypted: true });
    } finally {
      await raw.stop();
    }
  });

  it("sends the carbon of alice's message to her second device, which decrypts it", async () => {
    alice2 = await startCore({ server });
    const secondId = (await alice2.call('accounts.add', accountFor(server, aliceJid, 'alice-pw'))).id;
    aliceId2 = secondId;
    await alice2.waitForState(secondId, (s) => s.connection.state === 'online');
    const second = await until('the second device in alice’s device list', async () => {
      const own = await alice2!.call('omemo.devices', { conversationId: (await alice2!.call('conversations.open', { accountId: secondId, peer: bobJid })).id });
      const first = await alice.call('omemo.devices', { conversationId: toBob });
      return own.deviceId !== undefined && first.own.some((d) => d.active && d.deviceId === own.deviceId) ? own.deviceId : undefined;
    });
    expect(second).toBeGreaterThan(0);

    const from = alice2.events.length;
    await alice.call('messages.send', { conversationId: toBob, body: 'Written on my laptop' });
    const carbon = await alice2.waitFor('message.added', (m) => m.direction === 'out' && m.body === 'Written on my laptop', 20_000, from);
    expect(carbon.encryption).toBe('omemo2');
    await bob.waitFor('message.added', (m) => m.body === 'Written on my laptop');
  });

  it('after a restart, decrypts what arrived meanwhile exactly once, with the identity unsealed from the keychain', async () => {
    const dataDir = bob.dataDir;
    const bobConversation = (await bob.call('conversations.list', {})).find((c) => c.peer === aliceJid)!.id;
    const deviceBefore = (await bob.call('omemo.devices', { conversationId: bobConversation })).deviceId;
    await bob.core.close();
    for (const body of ['While you were away 1', 'While you were away 2']) {
      const sent = await alice.call('messages.send', { conversationId: toBob, body });
      await alice.waitFor('message.updated', (m) => m.id === sent.id && m.state !== 'pending');
    }
    bob = await startCore({ server, dataDir });
    await bob.waitForState(bobId, (s) => s.connection.state === 'online');
    await until('both messages decrypted', async () => {
      const page = await bob.call('messages.page', { conversationId: bobConversation, limit: 50 });
      return page.messages.filter((m) => m.body.startsWith('While you were away')).length === 2 ? true : undefined;
    });
    const page = await bob.call('messages.page', { conversationId: bobConversation, limit: 50 });
    expect(page.messages.map((m) => m.body)).toEqual([
      'Meet at the <old> mill',
      'On my way',
      'Written on my laptop',
      'While you were away 1',
      'While you were away 2',
    ]);
    expect(page.messages.filter((m) => m.undecryptable)).toEqual([]);
    // The second device answered the session alice's laptop started with it (an empty message):
    // what alice wrote next carries no key exchange for it any more.
    const raw = await connectRaw(server, bobJid, 'bob-pw', 'inspector');
    const fromAlice = (await serverArchive(raw)).filter((m) => m.from.startsWith(aliceJid) && m.body !== null);
    await raw.stop();
    const secondDevice = (await alice2!.call('omemo.devices', { conversationId: (await alice2!.call('conversations.open', { accountId: aliceId2, peer: bobJid })).id })).deviceId!;
    expect(fromAlice.at(-3)!.keyExchangeTo).toContain(secondDevice); // 'Written on my laptop'
    expect(fromAlice.at(-1)!.keyExchangeTo).not.toContain(secondDevice);

    // The restarted core still writes with the same device and sessions.
    await bob.call('messages.send', { conversationId: bobConversation, body: 'Back again' });
    const back = await alice.waitFor('message.added', (m) => m.body === 'Back again');
    expect(back.encryption).toBe('omemo2');
    expect(back.senderDevice).toBe(deviceBefore);
  });

  it("shows the contact's fingerprints, and writes to no device the user distrusts", async () => {
    const { devices } = await alice.call('omemo.devices', { conversationId: toBob });
    const bobOmemo2 = devices.find((d) => d.version === 'omemo2')!;
    // Blind trust: the key seen first is recorded, until the user verifies or refuses it.
    expect(bobOmemo2).toMatchObject({ active: true, trust: 'blind', fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) });

    await alice.call('omemo.setTrust', { accountId: aliceId, jid: bobJid, deviceId: bobOmemo2.deviceId, trust: 'untrusted' });
    const refused = await alice.call('messages.send', { conversationId: toBob, body: 'Only for trusted eyes' });
    // Bob's 0.3 device is the same device id: distrusting it covers both versions, so nothing can be encrypted.
    const failed = await alice.waitFor('message.updated', (m) => m.id === refused.id && m.state !== 'pending');
    expect(failed.state).toBe('failed');

    await alice.call('omemo.setTrust', { accountId: aliceId, jid: bobJid, deviceId: bobOmemo2.deviceId, trust: 'verified' });
    expect((await alice.call('omemo.devices', { conversationId: toBob })).devices.every((d) => d.trust === 'verified')).toBe(true);
    await alice.call('messages.send', { conversationId: toBob, body: 'Now verified' });
    await bob.waitFor('message.added', (m) => m.body === 'Now verified');
  });

  it('shows nothing for an empty OMEMO message meant for another device', async () => {
    const phone = await connectRaw(server, aliceJid, 'alice-pw', 'phone');
    try {
      const empty = xml('encrypted', { xmlns: 'urn:xmpp:omemo:2' }, xml('header', { sid: '4242' }, xml('keys', { jid: bobJid }, xml('key', { rid: '999' }, 'AAAA'))));
      await phone.send(xml('message', { to: bobJid, type: 'chat', id: 'empty-1' }, empty));
      await phone.send(xml('message', { to: bobJid, type: 'chat', id: 'plain-1' }, xml('body', {}, 'after the empty one')));
      // Messages from one sender arrive in order: once the plain one is stored, the empty one was handled.
      await bob.waitFor('message.added', (m) => m.body === 'after the empty one');
      const conversation = (await bob.call('conversations.list', {})).find((c) => c.peer === aliceJid)!.id;
      const page = await bob.call('messages.page', { conversationId: conversation, limit: 50 });
      expect(page.messages.filter((m) => m.undecryptable)).toEqual([]);
    } finally {
      await phone.stop();
    }
  });

  it('refuses to send in clear when encryption is on and the contact has no OMEMO device', async () => {
    const carolJid = await server.register('carol', 'carol-pw');
    const toCarol = (await alice.call('conversations.open', { accountId: aliceId, peer: carolJid })).id;
    // Off by default for someone without OMEMO devices; the user turns it on.
    expect((await alice.call('omemo.devices', { conversationId: toCarol })).encryption).toBeNull();
    await alice.call('omemo.setEnabled', { conversationId: toCarol, enabled: true });
    const carol = await connectRaw(server, carolJid, 'carol-pw');
    const heard: string[] = [];
    carol.entity.on('stanza', (s: Element) => {
      if (s.is('message') && s.getChildText('body')) heard.push(s.getChildText('body')!);
    });
    await carol.send(xml('presence'));
    try {
      const sent = await alice.call('messages.send', { conversationId: toCarol, body: 'Not for the server to read' });
      const failed = await alice.waitFor('message.updated', (m) => m.id === sent.id && m.state === 'failed');
      expect(failed.error).toMatch(/could not be encrypted: .*no device/);
      const archived = await serverArchive(carol);
      expect(archived.map((m) => m.body)).not.toContain('Not for the server to read');
      expect(heard).toEqual([]);
    } finally {
      await carol.stop();
    }
  });
  it('on by default: an edit, a reaction and a deletion reach the other side as they would expect, their words never in clear', async () => {
    const toAlice = (await bob.call('conversations.list', {})).find((c) => c.peer === aliceJid)!.id;
    expect((await bob.call('omemo.devices', { conversationId: toAlice })).encryption).toBe('omemo2');
    let from = bob.events.length;
    const sent = await alice.call('messages.send', { conversationId: toBob, body: 'See you at five' });
    expect(sent.encryption).toBe('omemo2');
    const original = await bob.waitFor('message.added', (m) => m.body === 'See you at five', undefined, from);

    from = bob.events.length;
    await alice.call('messages.correct', { messageId: sent.id, body: 'See you at six' });
    const edited = await bob.waitFor('message.updated', (m) => m.id === original.id && m.body === 'See you at six', undefined, from);
    expect(edited).toMatchObject({ encryption: 'omemo2', editedAt: expect.any(Number) });
    // The correction replaced the message: it is not a message of its own.
    const page = await bob.call('messages.page', { conversationId: toAlice, limit: 50 });
    expect(page.messages.filter((m) => m.body.startsWith('See you at'))).toHaveLength(1);

    const aliceFrom = alice.events.length;
    await bob.call('messages.react', { messageId: original.id, emojis: ['🎉'] });
    const reacted = await alice.waitFor('message.updated', (m) => m.id === sent.id && (m.reactions ?? []).some((r) => r.emoji === '🎉'), undefined, aliceFrom);
    expect(reacted.reactions).toEqual([{ emoji: '🎉', from: [bobJid] }]);

    from = bob.events.length;
    await alice.call('messages.retract', { messageId: sent.id });
    await bob.waitFor('message.updated', (m) => m.id === original.id && m.retractedAt !== undefined, undefined, from);

    const raw = await connectRaw(server, bobJid, 'bob-pw', 'inspector');
    try {
      const archived = (await serverArchive(raw)).map((m) => m.xml).join('\n');
      // The server kept the correction and the reaction, and can read neither.
      expect(archived).not.toContain('See you at');
      expect(archived).not.toContain('🎉');
      expect(archived).toContain('urn:xmpp:message-retract:1');
    } finally {
      await raw.stop();
    }
  });

  it('a session that broke heals: the message that could not be read says why, and the next one is read', async () => {
    const aliceDevice = (await alice.call('omemo.devices', { conversationId: toBob })).deviceId!;
    const bobsDb = () => new Database(path.join(bob.dataDir, 'heron.sqlite'));
    const bobsSession = () => {
      const db = bobsDb();
      try {
        const row = db.prepare("SELECT state FROM omemo_sessions WHERE jid = ? AND device_id = ? AND version = 'omemo2'").get(aliceJid, aliceDevice) as { state: string } | undefined;
        return row?.state;
      } finally {
        db.close();
      }
    };
    // Bob's session with alice's laptop is gone (a backup restored, say); alice's is not.
    const db = bobsDb();
    db.prepare("DELETE FROM omemo_sessions WHERE jid = ? AND device_id = ? AND version = 'omemo2'").run(aliceJid, aliceDevice);
    db.close();

    let from = bob.events.length;
    await alice.call('messages.send', { conversationId: toBob, body: 'Sent into a broken session' });
    const lost = await bob.waitFor('message.added', (m) => m.from === aliceJid, undefined, from);
    expect(lost).toMatchObject({ undecryptable: true, body: expect.stringMatching(/could not be decrypted: no session/) });
    // Bob starts a new session with an empty message; alice takes it up and answers it.
    await until("bob's new session answered", async () => {
      const state = bobsSession();
      return state !== undefined && !state.includes('pendingKeyExchange') ? true : undefined;
    });

    from = bob.events.length;
    await alice.call('messages.send', { conversationId: toBob, body: 'Read again after the repair' });
    const read = await bob.waitFor('message.added', (m) => m.from === aliceJid, undefined, from);
    expect(read).toMatchObject({ body: 'Read again after the repair', encryption: 'omemo2' });
  });

  it('keeps an explicit off: alice turns encryption off for bob and what she sends then goes in clear, saying so', async () => {
    await alice.call('omemo.setEnabled', { conversationId: toBob, enabled: false });
    expect((await alice.call('omemo.devices', { conversationId: toBob })).encryption).toBeNull();
    const from = bob.events.length;
    const plain = await alice.call('messages.send', { conversationId: toBob, body: 'In clear on purpose' });
    expect(plain.encryption).toBeUndefined();
    const received = await bob.waitFor('message.added', (m) => m.body === 'In clear on purpose', undefined, from);
    expect(received.encryption).toBeUndefined();
    await alice.call('omemo.setEnabled', { conversationId: toBob, enabled: true });
    expect((await alice.call('omemo.devices', { conversationId: toBob })).encryption).toBe('omemo2');
  });

  it("verifies bob's device from the fingerprint his link carries, and refuses it for a link with another key", async () => {
    const toAlice = (await bob.call('conversations.list', {})).find((c) => c.peer === aliceJid)!.id;
    const own = await bob.call('omemo.devices', { conversationId: toAlice });
    const legacy = own.ownFingerprints.find((f) => f.version === 'omemo')!.fingerprint;
    await alice.call('omemo.setTrust', { accountId: aliceId, jid: bobJid, deviceId: own.deviceId!, trust: 'blind' });
    // As Conversations puts it in a QR code: the 0.3 key with its 05 prefix.
    const good = await alice.call('omemo.vouch', { accountId: aliceId, jid: bobJid, fingerprints: [{ device: own.deviceId!, fingerprint: `05${legacy}` }] });
    expect(good).toMatchObject({ verified: [own.deviceId], refused: [], pinned: [] });
    expect((await alice.call('omemo.devices', { conversationId: toBob })).devices.filter((d) => d.deviceId === own.deviceId).map((d) => d.trust)).toEqual(['verified', 'verified']);

    const forged = await alice.call('omemo.vouch', { accountId: aliceId, jid: bobJid, fingerprints: [{ device: own.deviceId!, fingerprint: 'ab'.repeat(32) }] });
    expect(forged).toMatchObject({ verified: [], refused: [own.deviceId] });
    const refused = await alice.call('messages.send', { conversationId: toBob, body: 'Not for a device the link disowns' });
    expect(refused.encryption).toBe('omemo2');
    const failed = await alice.waitFor('message.updated', (m) => m.id === refused.id && m.state !== 'pending');
    expect(failed.state).toBe('failed');
    await alice.call('omemo.setTrust', { accountId: aliceId, jid: bobJid, deviceId: own.deviceId!, trust: 'verified' });
  });
});
