// Encrypting a message to many devices and decrypting one, over the injected store: the entry
// points a feature module drives. Bundles are fetched by the caller (PEP) and handed to
// startSession; what comes back says what to republish (a used prekey) and who sent it.
import { random } from './primitives';
import { type Profile } from './profile';
import { emptyKeyMaterial, openLegacyPayload, openOmemo2Payload, sealLegacyPayload, sealOmemo2Payload } from './payload';
import { type Bundle, decryptKey, encryptKey, initiateSession, OmemoSessionError, replaceSession } from './session';
import type { OmemoStore } from './store';
import type { EncryptedElement, KeyElement } from './xml';

export interface Recipient {
  jid: string;
  deviceId: number;
}

/** Builds a session with a device from its bundle, in place of any we had with it (kept to read what was in flight). */
export function startSession(profile: Profile, store: OmemoStore, recipient: Recipient, bundle: Bundle): void {
  const fresh = initiateSession(profile, store.identity().privateKey, bundle);
  store.putSession(recipient.jid, recipient.deviceId, replaceSession(store.session(recipient.jid, recipient.deviceId), fresh));
}

export interface EncryptResult {
  element: EncryptedElement;
  /** Devices left out, with why (no session yet: fetch the bundle and startSession). */
  skipped: { recipient: Recipient; reason: string }[];
}

/**
 * Encrypts `content` (0.3: the body text as UTF-8; OMEMO 2: an SCE envelope) for each device,
 * or, without content, an empty message that only moves the sessions on.
 */
export function encryptMessage(profile: Profile, store: OmemoStore, recipients: Recipient[], content?: Uint8Array): EncryptResult {
  const sealed = content === undefined ? undefined : profile.version === 'legacy' ? sealLegacyPayload(content) : sealOmemo2Payload(content);
  const keyMaterial = sealed?.keyMaterial ?? emptyKeyMaterial(profile.version);
  const own = store.identity();
  const ownIdentityKey = profile.identityKeyOf(own.privateKey);
  const keys: KeyElement[] = [];
  const skipped: EncryptResult['skipped'] = [];
  for (const recipient of recipients) {
    const session = store.session(recipient.jid, recipient.deviceId);
    if (!session) {
      skipped.push({ recipient, reason: 'no session' });
      continue;
    }
    const { state, key } = encryptKey(profile, session, ownIdentityKey, keyMaterial);
    store.putSession(recipient.jid, recipient.deviceId, state);
    keys.push({ jid: profile.version === 'omemo2' ? recipient.jid : undefined, rid: recipient.deviceId, keyExchange: key.keyExchange, data: key.data });
  }
  // 0.3 always has an IV in the header, even with nothing to decrypt.
  const iv = sealed?.iv ?? (profile.version === 'legacy' ? random(12) : undefined);
  return { element: { sid: own.deviceId, keys, iv, payload: sealed?.payload }, skipped };
}

export interface DecryptResult {
  /** Undefined for an empty message. */
  content?: Uint8Array;
  senderDeviceId: number;
  /** The sender device's identity key (this version's form), for the trust check. */
  remoteIdentity: Uint8Array;
  /** The session was new, built on this prekey (now removed): publish a bundle without it. */
  usedPreKeyId?: number;
  /** The sender's chain is long and we have not answered in it: send an empty message (HEARTBEAT_COUNTER). */
  heartbeatDue: boolean;
}

export interface DecryptOptions {
  /** Asked before anything is stored: false refuses the message and keeps the old session and the prekey. */
  acceptIdentity?: (identity: Uint8Array, deviceId: number) => boolean;
}

/** Decrypts the key addressed to us (`ownJid` matters for OMEMO 2) and then the payload. */
export function decryptMessage(
  profile: Profile,
  store: OmemoStore,
  senderJid: string,
  ownJid: string,
  element: EncryptedElement,
  options: DecryptOptions = {},
): DecryptResult {
  const own = store.identity();
  const key = element.keys.find((k) => k.rid === own.deviceId && (profile.version === 'legacy' || k.jid?.toLowerCase() === ownJid.toLowerCase()));
  if (!key) throw new OmemoSessionError('not-for-this-device', `the message is not encrypted for this device (${own.deviceId})`);
  const existing = store.session(senderJid, element.sid);
  const result = decryptKey(profile, store, existing, key.data, key.keyExchange);
  if (options.acceptIdentity && !options.acceptIdentity(result.remoteIdentity, element.sid)) {
    throw new OmemoSessionError('untrusted', `device ${element.sid} of ${senderJid} has an identity key that is not accepted`);
  }
  store.putSession(senderJid, element.sid, result.state);
  if (result.usedPreKeyId !== undefined) store.removePreKey(result.usedPreKeyId);
  const base = { senderDeviceId: element.sid, remoteIdentity: result.remoteIdentity, usedPreKeyId: result.usedPreKeyId, heartbeatDue: result.heartbeatDue };
  if (!element.payload) return base;
  if (profile.version === 'legacy') {
    if (!element.iv) throw new OmemoSessionError('malformed', 'OMEMO 0.3 message without IV');
    return { ...base, content: openLegacyPayload(result.plaintext, element.iv, element.payload) };
  }
  return { ...base, content: openOmemo2Payload(result.plaintext, element.payload) };
}
