// Two Heron devices talking OMEMO through the wire formats of each version: what a user would
// notice is a message that does not arrive, arrives twice, or is readable by the wrong party.
import parse from '@xmpp/xml/lib/parse.js';
import { describe, expect, it } from 'vitest';
import { ownBundle, generateIdentity, replenishPreKeys, rotateSignedPreKey, sameBundle, seedKeys } from '../../main/core/omemo/keys';
import { decryptMessage, encryptMessage, startSession } from '../../main/core/omemo/message';
import { bodyElement, buildEnvelope, parseEnvelope } from '../../main/core/omemo/payload';
import { LEGACY, OMEMO2, type Profile } from '../../main/core/omemo/profile';
import { HEARTBEAT_COUNTER, MAX_GAP, MAX_SKIPPED_KEYS, OmemoSessionError, parseSession } from '../../main/core/omemo/session';
import { MemoryOmemoStore } from '../../main/core/omemo/store';
import { buildBundle, buildEncrypted, parseBundle, parseEncrypted } from '../../main/core/omemo/xml';

const ALICE = 'alice@example.org';
const BOB = 'bob@example.org';
const text = (s: string) => new TextEncoder().encode(s);
const untext = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

function device(profile: Profile) {
  const store = new MemoryOmemoStore(generateIdentity());
  seedKeys(profile, store, 0, 10);
  return store;
}

/** A bundle as it would come off the wire: built, serialized, parsed. */
function fetchedBundle(profile: Profile, store: MemoryOmemoStore) {
  return parseBundle(profile.version, parse(buildBundle(profile.version, ownBundle(profile, store)).toString()));
}

function pair(profile: Profile) {
  const alice = device(profile);
  const bob = device(profile);
  startSession(profile, alice, { jid: BOB, deviceId: bob.identity().deviceId }, fetchedBundle(profile, bob));
  const send = (from: MemoryOmemoStore, to: MemoryOmemoStore, toJid: string, body?: string) => {
    const { element } = encryptMessage(profile, from, [{ jid: toJid, deviceId: to.identity().deviceId }], body === undefined ? undefined : text(body));
    return parseEncrypted(profile.version, parse(buildEncrypted(profile.version, element).toString()));
  };
  return { alice, bob, toBob: (body?: string) => send(alice, bob, BOB, body), toAlice: (body?: string) => send(bob, alice, ALICE, body) };
}

describe.each([
  ['OMEMO 0.3', LEGACY],
  ['OMEMO 2', OMEMO2],
] as const)('%s', (_name, profile) => {
  const read = (store: MemoryOmemoStore, from: string, to: string, element: ReturnType<typeof parseEncrypted>) =>
    untext(decryptMessage(profile, store, from, to, element).content);

  it('a first message carries the key exchange until the other side answers, then not', () => {
    const { alice, bob, toBob, toAlice } = pair(profile);
    const first = toBob('hello');
    expect(first.keys[0]!.keyExchange).toBe(true);
    const result = decryptMessage(profile, bob, ALICE, BOB, first);
    expect(untext(result.content)).toBe('hello');
    expect(result.usedPreKeyId).toBeDefined();
    expect(bob.preKey(result.usedPreKeyId!)).toBeUndefined();
    expect(result.remoteIdentity).toEqual(profile.identityKeyOf(alice.identity().privateKey));
    expect(read(alice, BOB, ALICE, toAlice('hi back'))).toBe('hi back');
    const third = toBob('and again');
    expect(third.keys[0]!.keyExchange).toBe(false);
    expect(read(bob, ALICE, BOB, third)).toBe('and again');
  });

  it('several messages to a device that was offline all decrypt, in the same session', () => {
    const { bob, toBob, toAlice, alice } = pair(profile);
    const queued = ['one', 'two', 'three'].map((body) => toBob(body));
    expect(queued.every((m) => m.keys[0]!.keyExchange)).toBe(true);
    expect(queued.map((m) => read(bob, ALICE, BOB, m))).toEqual(['one', 'two', 'three']);
    expect(read(alice, BOB, ALICE, toAlice('got them'))).toBe('got them');
  });

  it('out-of-order delivery within a chain and across ratchet turns', () => {
    const { alice, bob, toBob, toAlice } = pair(profile);
    read(bob, ALICE, BOB, toBob('start'));
    read(alice, BOB, ALICE, toAlice('ok'));
    const a = [toBob('a1'), toBob('a2'), toBob('a3')];
    expect(read(bob, ALICE, BOB, a[2]!)).toBe('a3');
    read(alice, BOB, ALICE, toAlice('turn'));
    const b = toBob('b1');
    expect(read(bob, ALICE, BOB, b)).toBe('b1');
    expect(read(bob, ALICE, BOB, a[0]!)).toBe('a1');
    expect(read(bob, ALICE, BOB, a[1]!)).toBe('a2');
  });

  it('a message delivered twice is refused the second time, and the session goes on', () => {
    const { alice, bob, toBob, toAlice } = pair(profile);
    read(bob, ALICE, BOB, toBob('start'));
    read(alice, BOB, ALICE, toAlice('ok'));
    const message = toBob('once');
    expect(read(bob, ALICE, BOB, message)).toBe('once');
    expect(() => read(bob, ALICE, BOB, message)).toThrow(expect.objectContaining({ reason: 'duplicate' }));
    expect(read(bob, ALICE, BOB, toBob('next'))).toBe('next');
  });

  it('a forged key (one bit changed) is refused and leaves the session working', () => {
    const { alice, bob, toBob, toAlice } = pair(profile);
    read(bob, ALICE, BOB, toBob('start'));
    read(alice, BOB, ALICE, toAlice('ok'));
    const message = toBob('real');
    const forged = { ...message, keys: message.keys.map((k) => ({ ...k, data: Uint8Array.from(k.data, (x, i) => (i === k.data.length - 20 ? x ^ 1 : x)) })) };
    expect(() => read(bob, ALICE, BOB, forged)).toThrow(OmemoSessionError);
    expect(read(bob, ALICE, BOB, message)).toBe('real');
  });

  it(`keeps at most ${MAX_SKIPPED_KEYS} skipped keys and refuses a gap over ${MAX_GAP}`, () => {
    const { alice, bob, toBob, toAlice } = pair(profile);
    read(bob, ALICE, BOB, toBob('start'));
    read(alice, BOB, ALICE, toAlice('ok'));
    for (let i = 0; i < MAX_GAP; i++) toBob(`lost ${i}`);
    expect(read(bob, ALICE, BOB, toBob('after the gap'))).toBe('after the gap');
    expect(bob.session(ALICE, alice.identity().deviceId)!.skipped.length).toBe(MAX_SKIPPED_KEYS);
    for (let i = 0; i <= MAX_GAP; i++) toBob(`lost again ${i}`);
    expect(() => read(bob, ALICE, BOB, toBob('too far'))).toThrow(expect.objectContaining({ reason: 'too-far-ahead' }));
  });

  it('both sides start a session at once: every message either sent, before and after, decrypts', () => {
    const { alice, bob, toBob, toAlice } = pair(profile);
    // Bob wrote before Alice's first message reached him: two sessions, one begun on each side.
    startSession(profile, bob, { jid: ALICE, deviceId: alice.identity().deviceId }, fetchedBundle(profile, alice));
    const fromAlice = [toBob('a1'), toBob('a2')];
    const fromBob = [toAlice('b1'), toAlice('b2')];
    expect(read(bob, ALICE, BOB, fromAlice[0]!)).toBe('a1');
    expect(read(alice, BOB, ALICE, fromBob[0]!)).toBe('b1');
    // Each now writes in the session the other began, while older messages are still coming.
    const crossing = [toBob('a3'), toAlice('b3')];
    expect(read(bob, ALICE, BOB, fromAlice[1]!)).toBe('a2');
    expect(read(alice, BOB, ALICE, fromBob[1]!)).toBe('b2');
    expect(read(bob, ALICE, BOB, crossing[0]!)).toBe('a3');
    expect(read(alice, BOB, ALICE, crossing[1]!)).toBe('b3');
    for (let i = 0; i < 5; i++) {
      const [ab, ba] = [toBob(`a${4 + i}`), toAlice(`b${4 + i}`)];
      expect([read(bob, ALICE, BOB, ab), read(alice, BOB, ALICE, ba)]).toEqual([`a${4 + i}`, `b${4 + i}`]);
    }
  });

  it('a session begun anew (a repair) still reads what was in flight in the old one, and both sides move to the new one', () => {
    const { alice, bob, toBob, toAlice } = pair(profile);
    read(bob, ALICE, BOB, toBob('start'));
    read(alice, BOB, ALICE, toAlice('ok'));
    const inFlight = toBob('sent before the repair');
    startSession(profile, bob, { jid: ALICE, deviceId: alice.identity().deviceId }, fetchedBundle(profile, alice));
    const repair = toAlice();
    expect(repair.keys[0]!.keyExchange).toBe(true);
    expect(read(bob, ALICE, BOB, inFlight)).toBe('sent before the repair');
    expect(decryptMessage(profile, alice, BOB, ALICE, repair).usedPreKeyId).toBeDefined();
    const after = toBob('after the repair');
    expect(after.keys[0]!.keyExchange).toBe(false);
    expect(read(bob, ALICE, BOB, after)).toBe('after the repair');
    expect(read(alice, BOB, ALICE, toAlice('and back'))).toBe('and back');
    // The session Bob began is the one both use now: his messages no longer carry a key exchange.
    expect(toAlice('settled').keys[0]!.keyExchange).toBe(false);
  });

  it(`asks for an empty answer once a chain reaches ${HEARTBEAT_COUNTER} unanswered messages, and not again once answered`, () => {
    const { alice, bob, toBob, toAlice } = pair(profile);
    read(bob, ALICE, BOB, toBob('start'));
    read(alice, BOB, ALICE, toAlice('ok'));
    const due = Array.from({ length: HEARTBEAT_COUNTER + 1 }, (_, i) => decryptMessage(profile, bob, ALICE, BOB, toBob(`m${i}`)).heartbeatDue);
    expect(due.indexOf(true)).toBe(HEARTBEAT_COUNTER);
    expect(due.filter(Boolean)).toHaveLength(1);
    read(alice, BOB, ALICE, toAlice());
    expect(decryptMessage(profile, bob, ALICE, BOB, toBob('after the heartbeat')).heartbeatDue).toBe(false);
  });

  it('a rotated signed prekey: new sessions use the new one, a session begun on the old one still opens', () => {
    const alice = device(profile);
    const bob = device(profile);
    const oldBundle = fetchedBundle(profile, bob);
    startSession(profile, alice, { jid: BOB, deviceId: bob.identity().deviceId }, oldBundle);
    const fromAlice = encryptMessage(profile, alice, [{ jid: BOB, deviceId: bob.identity().deviceId }], text('old key')).element;
    rotateSignedPreKey(profile, bob, 1);
    expect(read(bob, ALICE, BOB, fromAlice)).toBe('old key');
    // Fetched after Alice's prekey was used, so Carol cannot pick the same one.
    const newBundle = fetchedBundle(profile, bob);
    expect(newBundle.signedPreKeyId).not.toBe(oldBundle.signedPreKeyId);
    const carol = device(profile);
    startSession(profile, carol, { jid: BOB, deviceId: bob.identity().deviceId }, newBundle);
    const fromCarol = encryptMessage(profile, carol, [{ jid: BOB, deviceId: bob.identity().deviceId }], text('new key')).element;
    expect(read(bob, 'carol@example.org', BOB, fromCarol)).toBe('new key');
  });

  it('a prekey used up is gone, and the bundle is topped up with fresh ids', () => {
    const { bob, toBob } = pair(profile);
    const used = decryptMessage(profile, bob, ALICE, BOB, toBob('x')).usedPreKeyId!;
    replenishPreKeys(bob, 10);
    expect(bob.preKeys()).toHaveLength(10);
    expect(bob.preKeys().map((k) => k.id)).not.toContain(used);
  });

  it('an empty message moves the session on without content', () => {
    const { alice, bob, toBob, toAlice } = pair(profile);
    read(bob, ALICE, BOB, toBob('start'));
    const empty = toAlice();
    expect(empty.payload).toBeUndefined();
    expect(decryptMessage(profile, alice, BOB, ALICE, empty).content).toBeUndefined();
    expect(toBob('after').keys[0]!.keyExchange).toBe(false);
  });

  it('an identity the caller does not accept: refused, and neither session nor prekey is spent', () => {
    const { alice, bob, toBob } = pair(profile);
    const first = toBob('who am I');
    const prekeys = bob.preKeys().length;
    expect(() => decryptMessage(profile, bob, ALICE, BOB, first, { acceptIdentity: () => false })).toThrow(expect.objectContaining({ reason: 'untrusted' }));
    expect(bob.session(ALICE, alice.identity().deviceId)).toBeUndefined();
    expect(bob.preKeys()).toHaveLength(prekeys);
    expect(read(bob, ALICE, BOB, first)).toBe('who am I');
  });

  it('tells a bundle as published from one that changed (a prekey used, a signed prekey rotated)', () => {
    const bob = device(profile);
    const published = fetchedBundle(profile, bob);
    expect(sameBundle(published, ownBundle(profile, bob))).toBe(true);
    bob.removePreKey(bob.preKeys()[0]!.id);
    expect(sameBundle(published, ownBundle(profile, bob))).toBe(false);
    const topped = fetchedBundle(profile, bob);
    rotateSignedPreKey(profile, bob, 1);
    expect(sameBundle(topped, ownBundle(profile, bob))).toBe(false);
  });

  it('a stored session that is not one is refused with a reason', () => {
    expect(() => parseSession('{"v":1}')).toThrow(OmemoSessionError);
    expect(() => parseSession('not json')).toThrow(/not JSON/);
  });

  it('a bundle with a bad signature is refused', () => {
    const alice = device(profile);
    const bundle = fetchedBundle(profile, device(profile));
    bundle.signedPreKeySignature = Uint8Array.from(bundle.signedPreKeySignature, (x, i) => (i === 5 ? x ^ 4 : x));
    expect(() => startSession(profile, alice, { jid: BOB, deviceId: 1 }, bundle)).toThrow(expect.objectContaining({ reason: 'bad-signature' }));
  });
});

describe('SCE envelope', () => {
  it('carries the body and refuses another sender or recipient', () => {
    const bytes = buildEnvelope({ content: [bodyElement('<b>not html</b> & more')], from: ALICE, to: BOB, time: '2026-01-01T00:00:00Z' });
    const envelope = parseEnvelope(bytes, { from: ALICE, to: BOB });
    expect(envelope.content[0]!.is('body', 'jabber:client')).toBe(true);
    expect(envelope.content[0]!.text()).toBe('<b>not html</b> & more');
    expect(() => parseEnvelope(bytes, { from: 'mallory@example.org', to: BOB })).toThrow(/envelope from alice@example.org/);
    expect(() => parseEnvelope(bytes, { from: ALICE, to: 'carol@example.org' })).toThrow(/envelope to/);
    expect(() => parseEnvelope(text('<envelope xmlns="urn:xmpp:sce:1"><content>'), { from: ALICE, to: BOB })).toThrow(/well-formed/);
  });
});
