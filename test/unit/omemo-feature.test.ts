// The pure parts of the OMEMO protocol module: device-list push origins, which version is used,
// the sealed identity, the encrypted stanza's shape, and that a message that cannot be
// encrypted fails instead of going out in clear.
import xml from '@xmpp/xml';
import type { Element } from '@xmpp/xml';
import { describe, expect, it } from 'vitest';
import { ChatFeature, type MessageEncryption } from '../../main/core/features/chat';
import type { FeatureContext } from '../../main/core/features/feature';
import { Hooks } from '../../main/core/features/hooks';
import type { MarkersFeature } from '../../main/core/features/markers';
import { RelationsFeature } from '../../main/core/features/relations';
import type { Session } from '../../main/core/xmpp/session';
import type { MessageView } from '../../preload/contract';
import { ACCOUNT, ME, PEER, makeArchive } from './archive-support';
import { OmemoFeature, SIGNED_PREKEY_LIFETIME_MS, encryptionFor, inOrder, sealIdentityKey, unsealIdentityKey } from '../../main/core/features/omemo';
import type { Vault } from '../../main/core/vault';
import { random } from '../../main/core/omemo/primitives';
import { buildDeviceList, NODE_DEVICES } from '../../main/core/omemo/xml';
import { chatMessage, parseMessage, type Decryptor } from '../../main/core/xmpp/chat';
import { NS_CORRECT, relationMessage } from '../../main/core/xmpp/relations';
import { chooseVersion, encryptedStanza, FALLBACK_BODY, findEncrypted, NS_EME, parseDeviceListPush, publishItem, sealedContent } from '../../main/core/xmpp/omemo';

const own = 'alice@heron.example';
const event = (from: string | undefined, node: string, payload = buildDeviceList('legacy', [{ id: 7 }, { id: 9 }])) =>
  xml(
    'message',
    { from, to: own, type: 'headline' },
    xml('event', { xmlns: 'http://jabber.org/protocol/pubsub#event' }, xml('items', { node }, xml('item', { id: 'current' }, payload))),
  );

describe('device list pushes', () => {
  it("takes a contact's list from their bare JID", () => {
    expect(parseDeviceListPush(event('bob@heron.example', NODE_DEVICES.legacy), own)).toEqual({
      kind: 'devices',
      jid: 'bob@heron.example',
      version: 'legacy',
      devices: [{ id: 7 }, { id: 9 }],
    });
  });

  it('takes our own list when the server sends it without a from', () => {
    const push = parseDeviceListPush(event(undefined, NODE_DEVICES.omemo2, buildDeviceList('omemo2', [{ id: 3, label: 'laptop' }])), own);
    expect(push).toEqual({ kind: 'devices', jid: own, version: 'omemo2', devices: [{ id: 3, label: 'laptop' }] });
  });

  it('rejects a push from a full JID or a server, which is not a PEP owner', () => {
    expect(parseDeviceListPush(event('bob@heron.example/phone', NODE_DEVICES.legacy), own).kind).toBe('rejected');
    expect(parseDeviceListPush(event('heron.example', NODE_DEVICES.legacy), own).kind).toBe('rejected');
  });

  it('rejects a malformed list and leaves other PEP nodes to other features', () => {
    expect(parseDeviceListPush(event('bob@heron.example', NODE_DEVICES.legacy, xml('list', { xmlns: 'eu.siacs.conversations.axolotl' }, xml('device', { id: 'x' }))), own).kind).toBe(
      'rejected',
    );
    expect(parseDeviceListPush(event('bob@heron.example', 'urn:xmpp:bookmarks:1'), own)).toEqual({ kind: 'ignored' });
  });
});

describe('which version, and whether to encrypt', () => {
  it('prefers OMEMO 2 when the contact has it, else 0.3, else none', () => {
    expect(chooseVersion(new Map([['legacy', [1]], ['omemo2', [2]]]))).toBe('omemo2');
    expect(chooseVersion(new Map([['legacy', [1]], ['omemo2', []]]))).toBe('legacy');
    expect(chooseVersion(new Map())).toBeUndefined();
  });

  it("is on by default for contacts whose devices support it, off for the others, and the user's switch wins", () => {
    const devices = new Map([['legacy', [1]]] as const);
    expect(encryptionFor(undefined, devices)).toBe('legacy');
    expect(encryptionFor(undefined, new Map([['legacy', [1]], ['omemo2', [1]]] as const))).toBe('omemo2');
    expect(encryptionFor(undefined, new Map())).toBeUndefined();
    expect(encryptionFor(true, devices)).toBe('legacy');
    // An explicit off stays off, whatever devices they have.
    expect(encryptionFor(false, devices)).toBeUndefined();
    // Switched on with no device known: still encrypted, so sending fails rather than going in clear.
    expect(encryptionFor(true, new Map())).toBe('legacy');
  });
});

describe('the identity key at rest', () => {
  it('unseals only with the keychain key it was sealed with', () => {
    const key = random(32);
    const identity = random(32);
    const sealed = sealIdentityKey(key, identity);
    expect(Buffer.from(sealed).includes(Buffer.from(identity))).toBe(false);
    expect(unsealIdentityKey(key, sealed)).toEqual(identity);
    expect(() => unsealIdentityKey(random(32), sealed)).toThrow();
  });
});

describe('the encrypted stanza', () => {
  it('carries no clear body: the fallback, EME and a store hint beside the encrypted element', () => {
    const plain = chatMessage('bob@heron.example', 'm1', 'the secret');
    const encrypted = xml('encrypted', { xmlns: 'urn:xmpp:omemo:2' }, xml('header', { sid: '5' }, xml('keys', { jid: 'bob@heron.example' }, xml('key', { rid: '1' }, 'AAAA'))));
    const stanza = encryptedStanza(plain, 'omemo2', encrypted);
    expect(stanza.toString()).not.toContain('the secret');
    expect(stanza.getChildText('body')).toBe(FALLBACK_BODY);
    expect(stanza.getChild('encryption', NS_EME)?.attrs.namespace).toBe('urn:xmpp:omemo:2');
    expect(stanza.getChild('store', 'urn:xmpp:hints')).toBeDefined();
    expect(stanza.getChild('origin-id', 'urn:xmpp:sid:0')?.attrs.id).toBe('m1');
    expect(findEncrypted(stanza)).toMatchObject({ version: 'omemo2', encrypted: { sid: 5, keys: [{ rid: 1, jid: 'bob@heron.example' }] } });
  });

  const correction = relationMessage({ kind: 'correction', peer: 'bob@heron.example', id: 'c1', target: 'm1', payload: 'the fixed secret' });
  const reaction = relationMessage({ kind: 'reaction', peer: 'bob@heron.example', id: 'r1', target: 'm1', payload: JSON.stringify(['👍']) });
  const encrypted = (ns: string) => xml('encrypted', { xmlns: ns });

  it('puts a correction inside the OMEMO 2 envelope, and in 0.3 encrypts its text and leaves the id it names beside it', () => {
    expect(sealedContent(correction, 'omemo2').map((c) => c.toString())).toEqual([
      '<body xmlns="jabber:client">the fixed secret</body>',
      '<replace xmlns="urn:xmpp:message-correct:0" id="m1"/>',
    ]);
    const two = encryptedStanza(correction, 'omemo2', encrypted('urn:xmpp:omemo:2'));
    expect(two.toString()).not.toContain('the fixed secret');
    expect(two.getChild('replace', NS_CORRECT)).toBeUndefined();
    expect(two.getChildText('body')).toBe(FALLBACK_BODY);

    const legacy = encryptedStanza(correction, 'legacy', encrypted('eu.siacs.conversations.axolotl'));
    expect(legacy.toString()).not.toContain('the fixed secret');
    expect(legacy.getChild('replace', NS_CORRECT)?.attrs.id).toBe('m1');
  });

  it('carries a reaction only inside the OMEMO 2 envelope, with no fallback body to show as a message', () => {
    expect(sealedContent(reaction, 'omemo2').map((c) => c.name)).toEqual(['reactions']);
    const two = encryptedStanza(reaction, 'omemo2', encrypted('urn:xmpp:omemo:2'));
    expect(two.toString()).not.toContain('👍');
    expect(two.getChild('body')).toBeUndefined();
    expect(two.getChild('store', 'urn:xmpp:hints')).toBeDefined();
  });

  it('publishes with open access so contacts can encrypt to us', () => {
    const form = publishItem(NODE_DEVICES.omemo2, 'current', buildDeviceList('omemo2', [{ id: 1 }]), '1').getChild('publish-options')!.getChild('x')!;
    const value = (name: string) => form.getChildren('field').find((f) => f.attrs.var === name)?.getChildText('value');
    expect(value('pubsub#access_model')).toBe('open');
    expect(value('pubsub#max_items')).toBe('1');
  });
});

describe('reading an encrypted message through the chat parser', () => {
  const stanza = xml('message', { from: 'bob@heron.example/phone', to: own, type: 'chat', id: 'x1' }, xml('body', {}, FALLBACK_BODY), xml('encrypted', { xmlns: 'urn:xmpp:omemo:2' }));

  it('stores what could not be decrypted with the reason, never the fallback as if it were the text', () => {
    const parsed = parseMessage(stanza, {
      ownBareJid: own,
      now: 1,
      decrypt: () => ({ kind: 'failed', body: 'This message could not be decrypted: no session.', encryption: 'omemo2', senderDevice: 4 }),
    });
    expect(parsed).toMatchObject({ kind: 'chat', record: { body: 'This message could not be decrypted: no session.', encryption: 'omemo2', senderDevice: 4, undecryptable: true } });
  });

  const envelope = (...content: Element[]): Decryptor => () => ({ kind: 'text', body: content.find((c) => c.name === 'body')?.text() ?? '', content, encryption: 'omemo2', senderDevice: 4 });
  const body = (text: string) => xml('body', { xmlns: 'jabber:client' }, text);

  it("reads an OMEMO 2 correction from the envelope, and ignores one outside it (XEP-0420: it was not encrypted)", () => {
    const inside = parseMessage(stanza, { ownBareJid: own, now: 1, decrypt: envelope(body('fixed'), xml('replace', { xmlns: NS_CORRECT, id: 'm1' })) });
    expect(inside).toMatchObject({ kind: 'chat', record: { body: 'fixed', replaces: 'm1', encryption: 'omemo2' } });
    const outside = xml('message', { ...stanza.attrs }, ...stanza.children, xml('replace', { xmlns: NS_CORRECT, id: 'm1' }));
    const parsed = parseMessage(outside, { ownBareJid: own, now: 1, decrypt: envelope(body('not a correction')) });
    expect(parsed.kind === 'chat' && parsed.record.replaces).toBeUndefined();
  });

  it('reads a 0.3 correction: the decrypted text, the id it names beside the encrypted element', () => {
    const legacy = xml('message', { ...stanza.attrs }, xml('body', {}, FALLBACK_BODY), xml('encrypted', { xmlns: 'eu.siacs.conversations.axolotl' }), xml('replace', { xmlns: NS_CORRECT, id: 'm1' }));
    const parsed = parseMessage(legacy, { ownBareJid: own, now: 1, decrypt: () => ({ kind: 'text', body: 'fixed', encryption: 'omemo', senderDevice: 4 }) });
    expect(parsed).toMatchObject({ kind: 'chat', record: { body: 'fixed', replaces: 'm1', encryption: 'omemo', sender: 'bob@heron.example' } });
  });

  it("seals an OMEMO 2 reply with its fallback marks, so the other side cuts the quote", () => {
    const plain = chatMessage('bob@heron.example', 'm2', 'sure', { id: 'm1', quoted: 'lunch?' });
    const content = sealedContent(plain, 'omemo2');
    expect(content.map((c) => c.name)).toEqual(['body', 'reply', 'fallback']);
    expect(encryptedStanza(plain, 'omemo2', xml('encrypted', { xmlns: 'urn:xmpp:omemo:2' })).getChild('reply', 'urn:xmpp:reply:0')).toBeUndefined();
    const parsed = parseMessage(stanza, { ownBareJid: own, now: 1, decrypt: envelope(...content) });
    expect(parsed).toMatchObject({ kind: 'chat', record: { body: 'sure', replyTo: { id: 'm1' } } });
  });

  it('reads a reaction from the OMEMO 2 envelope as a reaction, not a message', () => {
    const parsed = parseMessage(stanza, { ownBareJid: own, now: 1, decrypt: envelope(xml('reactions', { xmlns: 'urn:xmpp:reactions:0', id: 'm1' }, xml('reaction', {}, '🎉'))) });
    expect(parsed).toMatchObject({ kind: 'event', event: { kind: 'reaction', target: 'm1', emojis: ['🎉'], sender: 'bob@heron.example' } });
  });

  it('stores the decrypted text with its encryption and device', () => {
    const parsed = parseMessage(stanza, { ownBareJid: own, now: 1, decrypt: (_m, parties) => ({ kind: 'text', body: `hi from ${parties.sender}`, encryption: 'omemo2', senderDevice: 4 }) });
    expect(parsed).toMatchObject({ kind: 'chat', record: { body: 'hi from bob@heron.example', encryption: 'omemo2', senderDevice: 4 } });
    expect(parsed.kind === 'chat' && parsed.record.undecryptable).toBeFalsy();
  });
});

/** A feature context over a temporary archive, online on a session that records what it sends. */
function sendingContext() {
  const fixture = makeArchive();
  const sent: Element[] = [];
  const updated: MessageView[] = [];
  const session = {
    entity: { send: async (stanza: Element) => void sent.push(stanza), on: () => {} },
    streamManagement: { enabled: true, outbound_q: [], on: () => {} },
  } as unknown as Session;
  const ctx: FeatureContext = {
    accountId: ACCOUNT,
    bare: ME,
    archive: fixture.archive,
    emit: (event, payload) => void (event === 'message.updated' && updated.push(payload as MessageView)),
    log: () => {},
    clock: { now: () => 2_000, random: () => 0, setTimeout: () => 0, clearTimeout: () => {} },
    liveSession: () => session,
    hooks: new Hooks(() => {}),
  };
  return { ctx, fixture, sent, updated };
}

describe('sending in an encrypted conversation', () => {
  function chatWith(seal: MessageEncryption['seal']) {
    const { ctx, fixture, sent, updated } = sendingContext();
    const encryption: MessageEncryption = { modeFor: () => 'omemo', seal, decrypt: () => undefined };
    const chat = new ChatFeature(ctx, { receive: () => {} } as unknown as MarkersFeature, new RelationsFeature(ctx), () => false, undefined, encryption);
    return { chat, sent, updated, fixture };
  }

  it('fails the message with the reason when it cannot be encrypted, and sends nothing', async () => {
    const { chat, sent, updated, fixture } = chatWith(async () => {
      throw new Error('bob has no device that can receive encrypted messages');
    });
    const message = chat.send(PEER, 'not in clear');
    expect(message).toMatchObject({ state: 'pending', encryption: 'omemo' });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(sent).toEqual([]);
    expect(updated.at(-1)).toMatchObject({ id: message.id, state: 'failed', error: expect.stringContaining('bob has no device') });
    fixture.close();
  });

  it('sends only the sealed stanza', async () => {
    const { chat, sent, fixture } = chatWith(async (_peer, plain) => xml('message', { to: PEER, id: plain.attrs.id }, xml('body', {}, `sealed ${plain.getChildText('body')}`)));
    chat.send(PEER, 'one');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(sent.map((s) => s.getChildText('body'))).toEqual(['sealed one']);
    fixture.close();
  });

  it('seals in the order asked, though the first takes longer (a bundle fetch), and past a failure', async () => {
    const queue = inOrder();
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const done: string[] = [];
    const first = queue(async () => {
      await slow;
      done.push('message');
    });
    const failing = queue(async () => {
      throw new Error('no device');
    });
    const correction = queue(async () => void done.push('correction'));
    release();
    await first;
    await expect(failing).rejects.toThrow('no device');
    await correction;
    expect(done).toEqual(['message', 'correction']);
  });
});

describe('telling the window when a contact\'s devices change', () => {
  function feature() {
    const fixture = makeArchive();
    const events: Array<{ event: string; payload: unknown }> = [];
    const ctx: FeatureContext = {
      accountId: ACCOUNT,
      bare: ME,
      archive: fixture.archive,
      emit: (event, payload) => void events.push({ event, payload }),
      log: () => {},
      clock: { now: () => 1_000, random: () => 0, setTimeout: () => 0, clearTimeout: () => {} },
      liveSession: () => undefined,
      hooks: new Hooks(() => {}),
    };
    const push = (version: 'legacy' | 'omemo2', ids: number[]) =>
      new OmemoFeature(ctx).stanza(
        xml(
          'message',
          { from: PEER, to: ME, type: 'headline' },
          xml('event', { xmlns: 'http://jabber.org/protocol/pubsub#event' }, xml('items', { node: NODE_DEVICES[version] }, xml('item', { id: 'current' }, buildDeviceList(version, ids.map((id) => ({ id })))))),
        ),
      );
    return { fixture, events, push };
  }
  const changed = (newDevices: number[]) => ({ event: 'omemo.devicesChanged', payload: { accountId: ACCOUNT, jid: PEER, newDevices } });

  it('announces a device that appears beside known ones as new, but not the first list ever seen', () => {
    const { fixture, events, push } = feature();
    expect(push('legacy', [7])).toBe(true);
    expect(events).toEqual([changed([])]);
    // The same device in the other version is not new either.
    push('omemo2', [7]);
    expect(events.at(-1)).toEqual(changed([]));
    push('legacy', [7, 9]);
    expect(events.at(-1)).toEqual(changed([9]));
    expect(fixture.archive.omemo.devices(ACCOUNT, PEER).map((d) => [d.version, d.deviceId, d.active])).toEqual([
      ['legacy', 7, true],
      ['legacy', 9, true],
      ['omemo2', 7, true],
    ]);
    fixture.close();
  });

  it('stays quiet when a list is pushed again unchanged, and reports a removed device (not as new)', () => {
    const { fixture, events, push } = feature();
    push('legacy', [7, 9]);
    push('legacy', [9, 7]);
    expect(events).toHaveLength(1);
    push('legacy', [9]);
    expect(events.at(-1)).toEqual(changed([]));
    // Back again: known before, so not new.
    push('legacy', [9, 7]);
    expect(events.at(-1)).toEqual(changed([]));
    expect(events).toHaveLength(3);
    fixture.close();
  });

  it('tells whether an identity key was first seen, keeping the first one', () => {
    const fixture = makeArchive();
    const omemo = fixture.archive.omemo;
    const first = random(32);
    expect(omemo.noteIdentity(ACCOUNT, PEER, 'legacy', 7, first, 1)).toBe(true);
    expect(omemo.noteIdentity(ACCOUNT, PEER, 'legacy', 7, random(32), 2)).toBe(false);
    expect(omemo.devices(ACCOUNT, PEER)[0]?.identity).toEqual(first);
    fixture.close();
  });
});

describe('our signed prekey', () => {
  it(`is replaced once it is ${SIGNED_PREKEY_LIFETIME_MS / 86_400_000} days old, at the next connect, the one before kept`, async () => {
    const fixture = makeArchive();
    let now = 1_000;
    const secrets = new Map<string, string>();
    const vault = {
      getSecret: async (kind: string, jid: string) => secrets.get(`${kind} ${jid}`) ?? null,
      setSecret: async (kind: string, jid: string, value: string) => void secrets.set(`${kind} ${jid}`, value),
    } as unknown as Vault;
    const ctx: FeatureContext = {
      accountId: ACCOUNT,
      bare: ME,
      archive: fixture.archive,
      vault,
      emit: () => {},
      log: () => {},
      clock: { now: () => now, random: () => 0, setTimeout: () => 0, clearTimeout: () => {} },
      liveSession: () => undefined,
      hooks: new Hooks(() => {}),
    };
    // A server that answers nothing: publishing fails (logged), the keys are what is looked at.
    const session = { iqCaller: { request: async () => Promise.reject(new Error('offline')) } } as unknown as Session;
    const feature = new OmemoFeature(ctx);
    await feature.online();
    const identity = () => ({ deviceId: feature.deviceId!, privateKey: new Uint8Array(32) });
    const store = () => fixture.archive.omemo.store(ACCOUNT, 'omemo2', identity());
    const first = store().currentSignedPreKey().id;
    now += SIGNED_PREKEY_LIFETIME_MS - 1;
    await feature.ready(session);
    expect(store().currentSignedPreKey().id).toBe(first);
    now += 1;
    await feature.ready(session);
    expect(store().currentSignedPreKey().id).toBe(first + 1);
    expect(store().signedPreKey(first)).toBeDefined();
    fixture.close();
  });
});

describe('fingerprints an xmpp: link vouches for', () => {
  it('verifies a device whose key matches, refuses one whose key differs, and pins one not seen yet', () => {
    const { ctx, fixture } = sendingContext();
    const omemo = fixture.archive.omemo;
    omemo.setDeviceList(ACCOUNT, PEER, 'legacy', [7, 9], 1);
    const [k7, k9, k11] = [random(32), random(32), random(32)];
    omemo.noteIdentity(ACCOUNT, PEER, 'legacy', 7, k7, 1);
    omemo.noteIdentity(ACCOUNT, PEER, 'legacy', 9, k9, 1);
    const hex = (key: Uint8Array) => Buffer.from(key).toString('hex');
    const outcome = new OmemoFeature(ctx).vouch(PEER, [
      { device: 7, fingerprint: `05${hex(k7).toUpperCase()}` },
      { device: 9, fingerprint: hex(random(32)) },
      { device: 11, fingerprint: hex(k11) },
    ]);
    expect(outcome).toEqual({ verified: [7], refused: [9], pinned: [11] });
    const trust = Object.fromEntries(omemo.devices(ACCOUNT, PEER).map((d) => [d.deviceId, [d.trust, d.active]]));
    expect(trust).toEqual({ 7: ['verified', true], 9: ['untrusted', true], 11: ['verified', false] });
    // The pinned key is the one the device must show when it appears.
    expect(omemo.devices(ACCOUNT, PEER).find((d) => d.deviceId === 11)?.identity).toEqual(k11);
    omemo.setDeviceList(ACCOUNT, PEER, 'legacy', [7, 9, 11], 2);
    expect(omemo.devices(ACCOUNT, PEER).find((d) => d.deviceId === 11)).toMatchObject({ active: true, trust: 'verified' });
    // A key pinned for someone whose devices Heron never saw listed does not turn encryption on.
    const stranger = 'carol@heron.example';
    const feature = new OmemoFeature(ctx);
    feature.vouch(stranger, [{ device: 5, fingerprint: hex(random(32)) }]);
    expect(feature.modeFor(stranger)).toBeUndefined();
    fixture.close();
  });
});

describe('relations in an encrypted chat', () => {
  function relationsWith(mode: 'omemo' | 'omemo2') {
    const { ctx, fixture, sent } = sendingContext();
    const sealed: Element[] = [];
    const seal = async (_peer: string, plain: Element) => {
      sealed.push(plain);
      return xml('message', { to: PEER, id: plain.attrs.id }, xml('encrypted', { xmlns: 'urn:xmpp:omemo:2' }));
    };
    const queue = inOrder();
    const relations = new RelationsFeature(ctx, { modeFor: () => mode, seal: (peer, plain) => queue(() => seal(peer, plain)), afterSealing: (task) => queue(async () => task()) });
    const { message } = fixture.archive.messages.store(ACCOUNT, { peer: PEER, direction: 'out', sender: ME, messageId: 'm1', originId: 'm1', body: 'teh secret', ts: 1_000, state: 'sent', encryption: mode });
    return { relations, message, sent, sealed, fixture };
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

  it('sends a correction only sealed, and applies it here at once', async () => {
    const { relations, message, sent, sealed, fixture } = relationsWith('omemo');
    expect(relations.correct(message.id, 'the secret').body).toBe('the secret');
    await settle();
    expect(sealed.map((s) => s.getChild('replace', NS_CORRECT)?.attrs.id)).toEqual(['m1']);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.toString()).not.toContain('the secret');
    fixture.close();
  });

  it('refuses a reaction OMEMO 0.3 would have to carry, saying why, and sends nothing', async () => {
    const { relations, message, sent, fixture } = relationsWith('omemo');
    expect(() => relations.react(message.id, ['👍'])).toThrow(/cannot be encrypted with OMEMO 0.3/);
    await settle();
    expect(sent).toEqual([]);
    expect(fixture.archive.messages.get(message.id).reactions ?? []).toEqual([]);
    fixture.close();
  });

  it('tells the window when an edit cannot be encrypted, and sends nothing in clear', async () => {
    const { ctx, fixture, sent } = sendingContext();
    const told: unknown[] = [];
    const emit = ctx.emit;
    ctx.emit = (event, payload) => (event === 'message.changeNotSent' ? void told.push(payload) : emit(event, payload));
    const relations = new RelationsFeature(ctx, {
      modeFor: () => 'omemo2',
      seal: async () => Promise.reject(new Error(`${PEER} has no device that can receive encrypted messages`)),
      afterSealing: async (task) => task(),
    });
    const { message } = fixture.archive.messages.store(ACCOUNT, { peer: PEER, direction: 'out', sender: ME, messageId: 'm1', originId: 'm1', body: 'teh secret', ts: 1_000, state: 'sent', encryption: 'omemo2' });
    relations.correct(message.id, 'the secret');
    await settle();
    expect(sent).toEqual([]);
    expect(told).toEqual([{ accountId: ACCOUNT, peer: PEER, kind: 'correction', reason: `${PEER} has no device that can receive encrypted messages` }]);
    // Still waiting in the outbox for the next connect.
    expect(fixture.archive.messages.pendingEvents(ACCOUNT).map((e) => e.kind)).toEqual(['correction']);
    fixture.close();
  });

  it('seals a reaction in OMEMO 2, and sends a retraction, which says nothing, as it is', async () => {
    const { relations, message, sent, sealed, fixture } = relationsWith('omemo2');
    relations.react(message.id, ['👍']);
    relations.retract(message.id);
    await settle();
    expect(sealed.map((s) => s.getChild('reactions', 'urn:xmpp:reactions:0')?.attrs.id)).toEqual(['m1']);
    expect(sent.map((s) => (s.getChild('encrypted', 'urn:xmpp:omemo:2') ? 'sealed' : s.getChild('retract', 'urn:xmpp:message-retract:1') ? 'retraction' : 'other'))).toEqual([
      'sealed',
      'retraction',
    ]);
    fixture.close();
  });
});
