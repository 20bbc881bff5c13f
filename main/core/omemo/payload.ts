// The message body encryption, per version. OMEMO 0.3: AES-128-GCM under a fresh 16-byte key
// and 12-byte IV; the key and the GCM tag go to each device. OMEMO 2: an SCE envelope
// (XEP-0420) under AES-256-CBC with keys from HKDF of a fresh 32-byte key, authenticated by a
// truncated HMAC; the 32-byte key and the 16-byte MAC go to each device (XEP-0384 §4.4).
import xml, { Parser, type Element } from '@xmpp/xml';
import type { OmemoVersion } from './profile';
import {
  aesCbcDecrypt,
  aesCbcEncrypt,
  aesGcmDecrypt,
  aesGcmEncrypt,
  concat,
  equalBytes,
  hkdfSha256,
  hmacSha256,
  OmemoCryptoError,
  random,
} from './primitives';

export class OmemoPayloadError extends Error {}

export interface SealedPayload {
  /** What is encrypted to each device in its session. */
  keyMaterial: Uint8Array;
  payload: Uint8Array;
  /** OMEMO 0.3 only: the GCM IV, sent in clear in the header. */
  iv?: Uint8Array;
}

export function sealLegacyPayload(plaintext: Uint8Array): SealedPayload {
  const key = random(16);
  const iv = random(12);
  const { ciphertext, tag } = aesGcmEncrypt(key, iv, plaintext);
  return { keyMaterial: concat(key, tag), payload: ciphertext, iv };
}

/** Also reads the older form where the key is 16 bytes and the tag ends the payload. */
export function openLegacyPayload(keyMaterial: Uint8Array, iv: Uint8Array, payload: Uint8Array): Uint8Array {
  let key: Uint8Array;
  let ciphertext: Uint8Array;
  let tag: Uint8Array;
  if (keyMaterial.length === 32) {
    [key, tag, ciphertext] = [keyMaterial.subarray(0, 16), keyMaterial.subarray(16), payload];
  } else if (keyMaterial.length === 16 && payload.length >= 16) {
    [key, tag, ciphertext] = [keyMaterial, payload.subarray(payload.length - 16), payload.subarray(0, payload.length - 16)];
  } else {
    throw new OmemoPayloadError(`key material of ${keyMaterial.length} bytes`);
  }
  if (iv.length !== 12 && iv.length !== 16) throw new OmemoPayloadError(`an IV of ${iv.length} bytes`);
  try {
    return aesGcmDecrypt(key, iv, ciphertext, tag);
  } catch (error) {
    if (error instanceof OmemoCryptoError) throw new OmemoPayloadError('the payload does not authenticate');
    throw error;
  }
}

function omemo2PayloadKeys(key: Uint8Array) {
  const out = hkdfSha256(key, new Uint8Array(32), 'OMEMO Payload', 80);
  return { encryptionKey: out.subarray(0, 32), authenticationKey: out.subarray(32, 64), iv: out.subarray(64) };
}

export function sealOmemo2Payload(envelope: Uint8Array): SealedPayload {
  const key = random(32);
  const keys = omemo2PayloadKeys(key);
  const payload = aesCbcEncrypt(keys.encryptionKey, keys.iv, envelope);
  return { keyMaterial: concat(key, hmacSha256(keys.authenticationKey, payload).subarray(0, 16)), payload };
}

export function openOmemo2Payload(keyMaterial: Uint8Array, payload: Uint8Array): Uint8Array {
  if (keyMaterial.length !== 48) throw new OmemoPayloadError(`key material of ${keyMaterial.length} bytes, expected 48`);
  const keys = omemo2PayloadKeys(keyMaterial.subarray(0, 32));
  if (!equalBytes(hmacSha256(keys.authenticationKey, payload).subarray(0, 16), keyMaterial.subarray(32))) {
    throw new OmemoPayloadError('the payload does not authenticate');
  }
  try {
    return aesCbcDecrypt(keys.encryptionKey, keys.iv, payload);
  } catch {
    throw new OmemoPayloadError('the payload does not decrypt');
  }
}

/** Key material for a message without payload (session answers, heartbeats). */
export function emptyKeyMaterial(version: OmemoVersion): Uint8Array {
  return version === 'legacy' ? random(16) : new Uint8Array(32);
}

// --- SCE envelope (XEP-0420) --------------------------------------------------------------

export const NS_SCE = 'urn:xmpp:sce:1';
export const NS_CLIENT = 'jabber:client';
const MAX_ENVELOPE = 256 * 1024;

export interface Envelope {
  /** The stanza children that were encrypted: a <body/> and whatever else the feature adds. */
  content: Element[];
  from: string;
  to: string;
  time?: string;
}

/** Builds the envelope with random padding (0–200 characters) so lengths do not tell the text. */
export function buildEnvelope({ content, from, to, time }: Envelope): Uint8Array {
  const rpad = Buffer.from(random(random(1)[0]! % 151)).toString('base64');
  const envelope = xml(
    'envelope',
    { xmlns: NS_SCE },
    xml('content', {}, ...content),
    rpad ? xml('rpad', {}, rpad) : null,
    time ? xml('time', { stamp: time }) : null,
    xml('to', { jid: to }),
    xml('from', { jid: from }),
  );
  return new TextEncoder().encode(envelope.toString());
}

export function bodyElement(text: string): Element {
  return xml('body', { xmlns: NS_CLIENT }, text);
}

/**
 * Reads an envelope and checks its affixes: `from` must be the sender's bare JID and `to` the
 * bare JID (or room) it was sent to, or a replayed envelope could be put in another mouth.
 */
export function parseEnvelope(bytes: Uint8Array, expected: { from: string; to: string }): Envelope {
  if (bytes.length > MAX_ENVELOPE) throw new OmemoPayloadError('envelope too large');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new OmemoPayloadError('envelope is not UTF-8');
  }
  const root = parseDocument(text);
  if (!root.is('envelope', NS_SCE)) throw new OmemoPayloadError(`not an SCE envelope: <${root.name}>`);
  const contentElement = root.getChild('content');
  if (!contentElement) throw new OmemoPayloadError('envelope without <content/>');
  const from = root.getChild('from')?.attrs.jid;
  const to = root.getChild('to')?.attrs.jid;
  if (from?.toLowerCase() !== expected.from.toLowerCase()) throw new OmemoPayloadError(`envelope from ${from ?? 'nobody'}, but sent by ${expected.from}`);
  if (to?.toLowerCase() !== expected.to.toLowerCase()) throw new OmemoPayloadError(`envelope to ${to ?? 'nobody'}, but sent to ${expected.to}`);
  const content = contentElement.getChildElements().map((child) => {
    // Children without a namespace of their own are stanza children (jabber:client).
    if (!child.attrs.xmlns) child.attrs.xmlns = NS_CLIENT;
    return child;
  });
  return { content, from, to, time: root.getChild('time')?.attrs.stamp };
}

function parseDocument(text: string): Element {
  const parser = new Parser();
  let root: Element | undefined;
  let ended = false;
  let failure: unknown;
  parser.on('start', (element: Element) => (root = element));
  parser.on('element', (element: Element) => root?.append(element));
  parser.on('end', () => (ended = true));
  parser.on('error', (error: unknown) => (failure = error));
  try {
    parser.write(text);
  } catch (error) {
    failure = error;
  }
  if (failure || !root || !ended) throw new OmemoPayloadError('envelope is not well-formed XML');
  return root;
}
