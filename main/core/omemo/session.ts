// X3DH and the Double Ratchet, once for both OMEMO versions: the Profile supplies what differs.
// Functions are pure over a SessionState value: a failed decryption returns an error and leaves
// the caller's state as it was, so a forged or broken message cannot damage a session.
import { z } from 'zod';
import type { KeyExchange, Profile, RatchetHeader } from './profile';
import {
  aesCbcDecrypt,
  aesCbcEncrypt,
  concat,
  equalBytes,
  hkdfSha256,
  hmacSha256,
  OmemoCryptoError,
  random,
  x25519,
  x25519PublicKey,
} from './primitives';
import { ProtobufError } from './protobuf';
import type { OmemoStore } from './store';

/** At most this many message keys are kept for late messages, per session (oldest dropped). */
export const MAX_SKIPPED_KEYS = 1000;
/** A message may skip at most this many keys of one chain; more is refused as a DoS. */
export const MAX_GAP = 1000;
/**
 * XEP-0384 §7.3: the first message of a chain with this counter or higher is answered with
 * an empty message, which turns the other side's ratchet (and keeps its chains short).
 */
export const HEARTBEAT_COUNTER = 53;
/** Sessions a newer one replaced, kept to read messages still in flight in them. */
export const MAX_PREVIOUS_SESSIONS = 4;

export class OmemoSessionError extends Error {
  constructor(
    readonly reason: 'malformed' | 'untrusted' | 'bad-signature' | 'no-session' | 'not-for-this-device' | 'unknown-prekey' | 'unknown-signed-prekey' | 'duplicate' | 'too-far-ahead' | 'bad-mac' | 'no-prekey-in-bundle',
    message: string,
  ) {
    super(message);
  }
}

/** A device's published keys, in this version's forms (see Profile). */
export interface Bundle {
  identityKey: Uint8Array;
  signedPreKeyId: number;
  signedPreKey: Uint8Array;
  signedPreKeySignature: Uint8Array;
  preKeys: { id: number; publicKey: Uint8Array }[];
}

export interface Chain {
  key: Uint8Array;
  n: number;
}

interface SkippedKey {
  ratchetKey: Uint8Array;
  n: number;
  messageKey: Uint8Array;
}

/** The X3DH data of a session's first message. */
export interface KeyExchangeRef {
  preKeyId: number;
  signedPreKeyId: number;
  baseKey: Uint8Array;
}

export interface SessionState {
  remoteIdentity: Uint8Array;
  /** Initiator's identity || responder's, each in profile.encodeIdentity form. */
  associatedData: Uint8Array;
  /** We started this session (X3DH "Alice"). */
  initiator: boolean;
  rootKey: Uint8Array;
  ownRatchetPrivate: Uint8Array;
  ownRatchetPublic: Uint8Array;
  remoteRatchetKey: Uint8Array;
  sending: Chain;
  receiving?: Chain;
  previousSendingLength: number;
  skipped: SkippedKey[];
  /** Set on the side that started the session until the other side answers: every message carries it. */
  pendingKeyExchange?: KeyExchangeRef;
  /** Set on the side that accepted: a repeat of the same first message decrypts in this session. */
  acceptedKeyExchange?: KeyExchangeRef;
  /**
   * The sessions this one replaced, newest first (each without its own). Both sides may start
   * a session at once, or a repair cross a message in flight: what the other side sends in a
   * replaced session still decrypts, and the session that decrypts it becomes the current one.
   */
  previous?: SessionState[];
}

/** `next` becomes the session with a device; `current`, if any, is kept among the previous ones. */
export function replaceSession(current: SessionState | undefined, next: SessionState): SessionState {
  if (!current) return next;
  const { previous = [], ...replaced } = current;
  return { ...next, previous: [replaced, ...previous].slice(0, MAX_PREVIOUS_SESSIONS) };
}

// --- X3DH ---------------------------------------------------------------------------------

const X3DH_PADDING = new Uint8Array(32).fill(0xff);
const ZERO_SALT = new Uint8Array(32);

function sharedSecret(profile: Profile, dhs: Uint8Array[]): Uint8Array {
  return hkdfSha256(concat(X3DH_PADDING, ...dhs), ZERO_SALT, profile.x3dhInfo, 32);
}

/** Starts a session with a device from its bundle (we are "Alice"). Checks the prekey signature. */
export function initiateSession(profile: Profile, ownIdentityPrivate: Uint8Array, bundle: Bundle): SessionState {
  if (!profile.verifySignedPreKey(bundle.identityKey, bundle.signedPreKey, bundle.signedPreKeySignature)) {
    throw new OmemoSessionError('bad-signature', 'the signed prekey signature does not verify under the identity key');
  }
  if (bundle.preKeys.length === 0) throw new OmemoSessionError('no-prekey-in-bundle', 'the bundle has no prekeys left');
  const preKey = bundle.preKeys[randomIndex(bundle.preKeys.length)]!;
  const ephemeral = random(32);
  const dh = (a: Uint8Array, b: Uint8Array) => x25519(a, b);
  const secret = sharedSecret(profile, [
    dh(ownIdentityPrivate, bundle.signedPreKey),
    dh(ephemeral, profile.identityDhKey(bundle.identityKey)),
    dh(ephemeral, bundle.signedPreKey),
    dh(ephemeral, preKey.publicKey),
  ]);
  const ownRatchetPrivate = random(32);
  const [rootKey, sendingKey] = rootStep(profile, secret, x25519(ownRatchetPrivate, bundle.signedPreKey));
  return {
    remoteIdentity: bundle.identityKey,
    associatedData: concat(profile.encodeIdentity(profile.identityKeyOf(ownIdentityPrivate)), profile.encodeIdentity(bundle.identityKey)),
    initiator: true,
    rootKey,
    ownRatchetPrivate,
    ownRatchetPublic: x25519PublicKey(ownRatchetPrivate),
    remoteRatchetKey: bundle.signedPreKey,
    sending: { key: sendingKey, n: 0 },
    previousSendingLength: 0,
    skipped: [],
    pendingKeyExchange: { preKeyId: preKey.id, signedPreKeyId: bundle.signedPreKeyId, baseKey: x25519PublicKey(ephemeral) },
  };
}

function randomIndex(length: number): number {
  return random(4).reduce((acc, byte) => acc * 256 + byte, 0) % length;
}

// --- the ratchet --------------------------------------------------------------------------

export function rootStep(profile: Profile, rootKey: Uint8Array, dhOutput: Uint8Array): [Uint8Array, Uint8Array] {
  const out = hkdfSha256(dhOutput, rootKey, profile.rootInfo, 64);
  return [out.slice(0, 32), out.slice(32)];
}

/** Message chain step: HMAC(ck, 0x02) is the next chain key, HMAC(ck, 0x01) the message key. */
export function chainStep(chain: Chain): [Chain, Uint8Array] {
  return [{ key: hmacSha256(chain.key, Uint8Array.of(2)), n: chain.n + 1 }, hmacSha256(chain.key, Uint8Array.of(1))];
}

function messageKeys(profile: Profile, messageKey: Uint8Array) {
  const out = hkdfSha256(messageKey, ZERO_SALT, profile.messageKeyInfo, 80);
  return { encryptionKey: out.subarray(0, 32), authenticationKey: out.subarray(32, 64), iv: out.subarray(64) };
}

/** The associated data a message's MAC covers, for a message we send or one we receive. */
function macAssociatedData(profile: Profile, state: SessionState, sending: boolean): Uint8Array {
  if (!profile.senderFirstAssociatedData || sending === state.initiator) return state.associatedData;
  const half = state.associatedData.length / 2;
  return concat(state.associatedData.subarray(half), state.associatedData.subarray(0, half));
}

/** One ratchet message on the wire: CBC under keys from the message key, then the truncated MAC. */
export function sealRatchetMessage(profile: Profile, associatedData: Uint8Array, header: RatchetHeader, messageKey: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const keys = messageKeys(profile, messageKey);
  const body = profile.encodeMessageBody(header, aesCbcEncrypt(keys.encryptionKey, keys.iv, plaintext));
  const mac = hmacSha256(keys.authenticationKey, concat(associatedData, body)).subarray(0, profile.macLength);
  return profile.encodeAuthenticated(body, mac);
}

/** The encrypted key material for one device: a ratchet message, wrapped in the key exchange while the session is unanswered. */
export interface EncryptedKey {
  data: Uint8Array;
  keyExchange: boolean;
}

/** `ownIdentityKey` is our identity as published (Profile.identityKeyOf), computed once per message by the caller. */
export function encryptKey(profile: Profile, state: SessionState, ownIdentityKey: Uint8Array, plaintext: Uint8Array): { state: SessionState; key: EncryptedKey } {
  const [sending, messageKey] = chainStep(state.sending);
  const header = { ratchetKey: state.ownRatchetPublic, n: state.sending.n, pn: state.previousSendingLength };
  const message = sealRatchetMessage(profile, macAssociatedData(profile, state, true), header, messageKey, plaintext);
  const next = { ...state, sending };
  const pending = state.pendingKeyExchange;
  if (!pending) return { state: next, key: { data: message, keyExchange: false } };
  const exchange: KeyExchange = { ...pending, identityKey: ownIdentityKey, message };
  return { state: next, key: { data: profile.encodeKeyExchange(exchange), keyExchange: true } };
}

interface Opened {
  state: SessionState;
  plaintext: Uint8Array;
  /** A long chain of theirs that we have not answered in: an empty message should turn it (HEARTBEAT_COUNTER). */
  heartbeatDue: boolean;
}

/** Decrypts one ratchet message in a session; the returned state replaces the old one only on success. */
export function decryptInSession(profile: Profile, state: SessionState, wire: Uint8Array): Opened {
  const parsed = parse(() => profile.decodeAuthenticated(wire));
  const { header } = parsed;
  const skippedIndex = state.skipped.findIndex((k) => k.n === header.n && equalBytes(k.ratchetKey, header.ratchetKey));
  let next: SessionState;
  let messageKey: Uint8Array;
  if (skippedIndex >= 0) {
    messageKey = state.skipped[skippedIndex]!.messageKey;
    next = { ...state, skipped: state.skipped.filter((_, i) => i !== skippedIndex) };
  } else {
    [next, messageKey] = parse(() => advanceReceiving(profile, state, header));
  }
  const keys = messageKeys(profile, messageKey);
  const mac = hmacSha256(keys.authenticationKey, concat(macAssociatedData(profile, state, false), parsed.body)).subarray(0, profile.macLength);
  if (!equalBytes(mac, parsed.mac)) throw new OmemoSessionError('bad-mac', 'the message authentication code does not match');
  let plaintext: Uint8Array;
  try {
    plaintext = aesCbcDecrypt(keys.encryptionKey, keys.iv, parsed.ciphertext);
  } catch (error) {
    if (error instanceof OmemoCryptoError) throw new OmemoSessionError('malformed', error.message);
    throw error;
  }
  // An answer in this session: the other side has it, so no more key exchanges are needed.
  return { state: { ...next, pendingKeyExchange: undefined }, plaintext, heartbeatDue: header.n >= HEARTBEAT_COUNTER && next.sending.n === 0 };
}

/**
 * Decrypts in the current session or, failing that, in one it replaced, which then becomes
 * current again. The current session's error is the one reported, unless the message is
 * malformed or was decrypted before: that holds in every session.
 */
function decryptInAny(profile: Profile, existing: SessionState, wire: Uint8Array): Opened {
  const candidates = sessionsOf(existing);
  let firstError: OmemoSessionError | undefined;
  for (const [i, candidate] of candidates.entries()) {
    try {
      return promoted(decryptInSession(profile, candidate, wire), candidates, i);
    } catch (error) {
      if (!(error instanceof OmemoSessionError) || error.reason === 'malformed' || error.reason === 'duplicate') throw error;
      firstError ??= error;
    }
  }
  throw firstError!;
}

/** The current session, then those it replaced, each on its own. */
function sessionsOf(state: SessionState): SessionState[] {
  const { previous = [], ...current } = state;
  return [current, ...previous];
}

/** The session that decrypted (candidate `i`) in front, the others kept behind it. */
function promoted(opened: Opened, candidates: SessionState[], i: number): Opened {
  const others = candidates.filter((_, j) => j !== i);
  return { ...opened, state: { ...opened.state, previous: others.length ? others : undefined } };
}

function advanceReceiving(profile: Profile, state: SessionState, header: RatchetHeader): [SessionState, Uint8Array] {
  let next: SessionState = { ...state, skipped: [...state.skipped] };
  if (!equalBytes(header.ratchetKey, state.remoteRatchetKey)) {
    // The other side turned its ratchet: keep the keys of the old chain it says it sent.
    if (next.receiving) next = skipTo(next, header.pn, false);
    const [rootKey, receivingKey] = rootStep(profile, next.rootKey, x25519(next.ownRatchetPrivate, header.ratchetKey));
    const ownRatchetPrivate = random(32);
    const [rootKey2, sendingKey] = rootStep(profile, rootKey, x25519(ownRatchetPrivate, header.ratchetKey));
    next = {
      ...next,
      remoteRatchetKey: header.ratchetKey,
      receiving: { key: receivingKey, n: 0 },
      ownRatchetPrivate,
      ownRatchetPublic: x25519PublicKey(ownRatchetPrivate),
      rootKey: rootKey2,
      previousSendingLength: next.sending.n,
      sending: { key: sendingKey, n: 0 },
    };
  }
  next = skipTo(next, header.n, true);
  const receiving = next.receiving!;
  if (header.n < receiving.n) throw new OmemoSessionError('duplicate', `message ${header.n} of this chain was already decrypted`);
  const [chain, messageKey] = chainStep(receiving);
  next.receiving = chain;
  return [next, messageKey];
}

/** Derives and keeps the keys up to (not including) n; a gap over MAX_GAP is refused, or silently dropped for an old chain. */
function skipTo(state: SessionState, n: number, refuseGap: boolean): SessionState {
  let chain = state.receiving!;
  const gap = n - chain.n;
  if (gap <= 0) return state;
  if (gap > MAX_GAP) {
    if (refuseGap) throw new OmemoSessionError('too-far-ahead', `the message skips ${gap} keys, more than ${MAX_GAP}`);
    return state;
  }
  const skipped = [...state.skipped];
  while (chain.n < n) {
    const [next, messageKey] = chainStep(chain);
    skipped.push({ ratchetKey: state.remoteRatchetKey, n: chain.n, messageKey });
    chain = next;
  }
  return { ...state, receiving: chain, skipped: skipped.slice(Math.max(0, skipped.length - MAX_SKIPPED_KEYS)) };
}

function parse<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ProtobufError || error instanceof OmemoCryptoError) throw new OmemoSessionError('malformed', error.message);
    throw error;
  }
}

// --- receiving a key ----------------------------------------------------------------------

export interface DecryptedKey extends Opened {
  /** A new session was built from a key exchange: the caller stores it, removes this prekey and republishes the bundle. */
  usedPreKeyId?: number;
  /** The identity that sent a key exchange (to check against trust before accepting). */
  remoteIdentity: Uint8Array;
}

/**
 * Decrypts the key material a device sent us. A key exchange that repeats the one our session
 * was built from (the sender was not answered yet) decrypts in that session; any other one
 * builds a new session from our prekeys ("Bob's" side of X3DH).
 */
export function decryptKey(profile: Profile, store: OmemoStore, existing: SessionState | undefined, data: Uint8Array, keyExchange: boolean): DecryptedKey {
  if (!keyExchange) {
    if (!existing) throw new OmemoSessionError('no-session', 'no session with this device');
    const opened = decryptInAny(profile, existing, data);
    return { ...opened, remoteIdentity: opened.state.remoteIdentity };
  }
  const exchange = parse(() => profile.decodeKeyExchange(data));
  const candidates = existing ? sessionsOf(existing) : [];
  const builtFrom = candidates.findIndex((candidate) => {
    const accepted = candidate.acceptedKeyExchange;
    return (
      accepted &&
      accepted.preKeyId === exchange.preKeyId &&
      accepted.signedPreKeyId === exchange.signedPreKeyId &&
      equalBytes(accepted.baseKey, exchange.baseKey) &&
      equalBytes(candidate.remoteIdentity, exchange.identityKey)
    );
  });
  if (builtFrom >= 0) {
    const opened = promoted(decryptInSession(profile, candidates[builtFrom]!, exchange.message), candidates, builtFrom);
    return { ...opened, remoteIdentity: opened.state.remoteIdentity };
  }
  const opened = acceptSession(profile, store, exchange);
  return { ...opened, state: replaceSession(existing, opened.state), usedPreKeyId: exchange.preKeyId, remoteIdentity: exchange.identityKey };
}

function acceptSession(profile: Profile, store: OmemoStore, exchange: KeyExchange): Opened {
  const signedPreKey = store.signedPreKey(exchange.signedPreKeyId);
  if (!signedPreKey) throw new OmemoSessionError('unknown-signed-prekey', `no signed prekey ${exchange.signedPreKeyId}`);
  const preKey = store.preKey(exchange.preKeyId);
  if (!preKey) throw new OmemoSessionError('unknown-prekey', `no prekey ${exchange.preKeyId} (used already or never published)`);
  const own = store.identity().privateKey;
  const dh = (a: Uint8Array, b: Uint8Array) => parse(() => x25519(a, b));
  const remoteDh = parse(() => profile.identityDhKey(exchange.identityKey));
  const secret = sharedSecret(profile, [
    dh(signedPreKey.privateKey, remoteDh),
    dh(own, exchange.baseKey),
    dh(signedPreKey.privateKey, exchange.baseKey),
    dh(preKey.privateKey, exchange.baseKey),
  ]);
  // The first decryption turns the ratchet: the receiving chain from our signed prekey and the
  // sender's ratchet key, then our first sending chain from a fresh ratchet key.
  const initial: SessionState = {
    remoteIdentity: exchange.identityKey,
    associatedData: concat(profile.encodeIdentity(exchange.identityKey), profile.encodeIdentity(profile.identityKeyOf(own))),
    initiator: false,
    rootKey: secret,
    ownRatchetPrivate: signedPreKey.privateKey,
    ownRatchetPublic: signedPreKey.publicKey,
    remoteRatchetKey: new Uint8Array(32), // no real key equals it, so the first message turns the ratchet
    sending: { key: new Uint8Array(32), n: 0 },
    previousSendingLength: 0,
    skipped: [],
    acceptedKeyExchange: { preKeyId: exchange.preKeyId, signedPreKeyId: exchange.signedPreKeyId, baseKey: exchange.baseKey },
  };
  return decryptInSession(profile, initial, exchange.message);
}

// --- storage form ---------------------------------------------------------------------------

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const storedKey = z.string().transform((text) => new Uint8Array(Buffer.from(text, 'base64')));
const storedCount = z.number().int().nonnegative();
const storedChain = z.object({ key: storedKey, n: storedCount });
const storedRef = z.object({ preKeyId: storedCount, signedPreKeyId: storedCount, baseKey: storedKey }).optional();
const StoredSessionCore = z.object({
  remoteIdentity: storedKey,
  associatedData: storedKey,
  initiator: z.boolean(),
  rootKey: storedKey,
  ownRatchetPrivate: storedKey,
  ownRatchetPublic: storedKey,
  remoteRatchetKey: storedKey,
  sending: storedChain,
  receiving: storedChain.optional(),
  previousSendingLength: storedCount,
  skipped: z.array(z.tuple([storedKey, storedCount, storedKey]).transform(([ratchetKey, n, messageKey]) => ({ ratchetKey, n, messageKey }))),
  pendingKeyExchange: storedRef,
  acceptedKeyExchange: storedRef,
});
const StoredSession = StoredSessionCore.extend({ v: z.literal(1), previous: z.array(StoredSessionCore).max(MAX_PREVIOUS_SESSIONS).optional() });

/** A session as JSON text, for a store that keeps it on disk (keys in base64). */
export function serializeSession(state: SessionState): string {
  return JSON.stringify({ v: 1, ...storageForm(state), previous: state.previous?.map(storageForm) });
}

function storageForm(state: SessionState) {
  const ref = (r?: KeyExchangeRef) => r && { preKeyId: r.preKeyId, signedPreKeyId: r.signedPreKeyId, baseKey: b64(r.baseKey) };
  return {
    remoteIdentity: b64(state.remoteIdentity),
    associatedData: b64(state.associatedData),
    initiator: state.initiator,
    rootKey: b64(state.rootKey),
    ownRatchetPrivate: b64(state.ownRatchetPrivate),
    ownRatchetPublic: b64(state.ownRatchetPublic),
    remoteRatchetKey: b64(state.remoteRatchetKey),
    sending: { key: b64(state.sending.key), n: state.sending.n },
    receiving: state.receiving && { key: b64(state.receiving.key), n: state.receiving.n },
    previousSendingLength: state.previousSendingLength,
    skipped: state.skipped.map((k) => [b64(k.ratchetKey), k.n, b64(k.messageKey)]),
    pendingKeyExchange: ref(state.pendingKeyExchange),
    acceptedKeyExchange: ref(state.acceptedKeyExchange),
  };
}

export function parseSession(text: string): SessionState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new OmemoSessionError('malformed', 'stored session is not JSON');
  }
  const parsed = StoredSession.safeParse(raw);
  if (!parsed.success) throw new OmemoSessionError('malformed', `stored session: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const { v: _format, ...state } = parsed.data;
  return state;
}
