// Making our own keys and the bundle that publishes them.
import type { Profile } from './profile';
import { equalBytes, random, x25519PublicKey, xeddsaSign } from './primitives';
import type { Bundle } from './session';
import type { OmemoStore, OwnIdentity, PreKeyRecord, SignedPreKeyRecord } from './store';

/** Device ids are 1 … 2^31 − 1 (XEP-0384 says uint32; 31 bits keep old clients that read int32 happy). */
export function newDeviceId(): number {
  const bytes = random(4);
  return (((bytes[0]! & 0x7f) << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) || 1;
}

export function generateIdentity(deviceId = newDeviceId()): OwnIdentity {
  return { deviceId, privateKey: random(32) };
}

export function generatePreKeys(firstId: number, count: number): PreKeyRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const privateKey = random(32);
    return { id: firstId + i, privateKey, publicKey: x25519PublicKey(privateKey) };
  });
}

/** A signed prekey, signed (XEdDSA) with the identity key over this version's encoding of it. */
export function generateSignedPreKey(profile: Profile, identityPrivate: Uint8Array, id: number, createdAt: number): SignedPreKeyRecord {
  const privateKey = random(32);
  const publicKey = x25519PublicKey(privateKey);
  return { id, privateKey, publicKey, signature: xeddsaSign(identityPrivate, profile.signedPreKeyMessage(publicKey)), createdAt };
}

export function ownBundle(profile: Profile, store: OmemoStore): Bundle {
  const signed = store.currentSignedPreKey();
  return {
    identityKey: profile.identityKeyOf(store.identity().privateKey),
    signedPreKeyId: signed.id,
    signedPreKey: signed.publicKey,
    signedPreKeySignature: signed.signature,
    preKeys: store.preKeys().map(({ id, publicKey }) => ({ id, publicKey })),
  };
}

/** Whether two bundles say the same: identity, signed prekey and the same set of prekeys. */
export function sameBundle(a: Bundle, b: Bundle): boolean {
  const preKeys = (bundle: Bundle) => new Map(bundle.preKeys.map((k) => [k.id, Buffer.from(k.publicKey).toString('base64')]));
  const [ka, kb] = [preKeys(a), preKeys(b)];
  return (
    equalBytes(a.identityKey, b.identityKey) &&
    a.signedPreKeyId === b.signedPreKeyId &&
    equalBytes(a.signedPreKey, b.signedPreKey) &&
    equalBytes(a.signedPreKeySignature, b.signedPreKeySignature) &&
    ka.size === kb.size &&
    [...ka].every(([id, key]) => kb.get(id) === key)
  );
}

/** Publishes a new signed prekey; the one before stays usable for messages still on their way. */
export function rotateSignedPreKey(profile: Profile, store: OmemoStore, now: number): SignedPreKeyRecord {
  const previous = store.currentSignedPreKey();
  const next = generateSignedPreKey(profile, store.identity().privateKey, previous.id + 1, now);
  store.putSignedPreKey(next, true);
  for (let id = previous.id - 1; id >= 0 && store.signedPreKey(id); id--) store.removeSignedPreKey(id);
  return next;
}

/** A store's first keys: a signed prekey and `count` prekeys. */
export function seedKeys(profile: Profile, store: OmemoStore, now: number, count = 100): void {
  store.putSignedPreKey(generateSignedPreKey(profile, store.identity().privateKey, 1, now), true);
  for (const record of generatePreKeys(1, count)) store.putPreKey(record);
}

/** Tops the prekeys up to `target` after some were used, with ids never given out before. */
export function replenishPreKeys(store: OmemoStore, target = 100): void {
  const existing = store.preKeys();
  const missing = target - existing.length;
  if (missing <= 0) return;
  const nextId = store.highestPreKeyId() + 1;
  for (const record of generatePreKeys(nextId, missing)) store.putPreKey(record);
}
