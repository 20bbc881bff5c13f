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
import { OmemoFeature, encryptionFor, sealIdentityKey, unsealIdentityKey } from '../../main/core/features/omemo';
import { random } from '../../main/core/omemo/primitives';
import { buildDeviceList, NODE_DEVICES } from '../../main/core/omemo/xml';
import { chatMessage, parseMessage } from '../../main/core/xmpp/chat';
import { chooseVersion, encryptedStanza, FALLBACK_BODY, findEncrypted, NS_EME, parseDeviceListPush, publishItem } from '../../main/core/xmpp/omemo';

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

  it('is off until the user turns it on, even for contacts whose devices support it', () => {
    const devices = new Map([['legacy', [1]]] as const);
    expect(encryptionFor(undefined, devices)).toBeUndefined();
    expect(encryptionFor(true, devices)).toBe('legacy');
    expect(encryptionFor(undefined, new Map())).toBeUndefined();
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

  it('stores the decrypted text with its encryption and device', () => {
    const parsed = parseMessage(stanza, { ownBareJid: own, now: 1, decrypt: (_m, parties) => ({ kind: 'text', body: `hi from ${parties.sender}`, encryption: 'omemo2', senderDevice: 4 }) });
    expect(parsed).toMatchObject({ kind: 'chat', record: { body: 'hi from bob@heron.example', encryption: 'omemo2', senderDevice: 4 } });
    expect(parsed.kind === 'chat' && parsed.record.undecryptable).toBeFalsy();
  });
});

describe('sending in an encrypted conversation', () => {
  function chatWith(seal: MessageEncryption['seal']) {
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
      clock: { now: () => 1_000, random: () => 0, setTimeout: () => 0, clearTimeout: () => {} },
      liveSession: () => session,
      hooks: new Hooks(() => {}),
    };
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

  it('sends only the sealed stanza, in the order the messages were written', async () => {
    const { chat, sent, fixture } = chatWith(async (_peer, plain) => {
      // The first takes longer to seal (a bundle fetch): it must still go first.
      if (plain.getChildText('body') === 'one') await new Promise((resolve) => setTimeout(resolve, 20));
      return xml('message', { to: PEER, id: plain.attrs.id }, xml('body', {}, `sealed ${plain.getChildText('body')}`));
    });
    chat.send(PEER, 'one');
    chat.send(PEER, 'two');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sent.map((s) => s.getChildText('body'))).toEqual(['sealed one', 'sealed two']);
    fixture.close();
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
