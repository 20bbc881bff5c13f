// What differs between OMEMO 0.3 (eu.siacs.conversations.axolotl, libsignal's wire format) and
// OMEMO 2 (urn:xmpp:omemo:2, XEP-0384 0.8+): key encodings, KDF info strings, MAC length and
// the protobuf messages. Everything else (X3DH, the Double Ratchet) is shared in session.ts.
import { concat, ed25519PublicKeyOf, ed25519ToMontgomery, ed25519Verify, x25519PublicKey, xeddsaVerify } from './primitives';
import { bytesField, decodeProto, encodeProto, ProtobufError, uint32Field } from './protobuf';

export type OmemoVersion = 'legacy' | 'omemo2';

export const NS_LEGACY = 'eu.siacs.conversations.axolotl';
export const NS_OMEMO2 = 'urn:xmpp:omemo:2';

/** The header a ratchet message carries, next to its ciphertext. */
export interface RatchetHeader {
  ratchetKey: Uint8Array; // 32-byte Curve25519
  n: number;
  pn: number;
}

/** The X3DH part of a first message (PreKeyWhisperMessage / OMEMOKeyExchange). */
export interface KeyExchange {
  preKeyId: number;
  signedPreKeyId: number;
  identityKey: Uint8Array; // the sender's identity in this version's form (see Profile.identityKeyOf)
  baseKey: Uint8Array; // 32-byte Curve25519 ephemeral key
  message: Uint8Array; // the serialized ratchet message
}

export interface Profile {
  version: OmemoVersion;
  namespace: string;
  /** HKDF info strings: X3DH, root chain, message keys. */
  x3dhInfo: string;
  rootInfo: string;
  messageKeyInfo: string;
  macLength: number;
  /**
   * libsignal MACs over sender identity || recipient identity, so the order flips with the
   * direction; OMEMO 2 always uses initiator || responder.
   */
  senderFirstAssociatedData: boolean;
  /** The identity public key as published: Curve25519 (0.3) or Ed25519 (OMEMO 2). */
  identityKeyOf(identityPrivateKey: Uint8Array): Uint8Array;
  /** That key as a Curve25519 key for X3DH. */
  identityDhKey(identityKey: Uint8Array): Uint8Array;
  /** The identity as it goes into the associated data (33 bytes 0x05-prefixed, or 32). */
  encodeIdentity(identityKey: Uint8Array): Uint8Array;
  /** What the signed prekey's signature covers. */
  signedPreKeyMessage(publicKey: Uint8Array): Uint8Array;
  verifySignedPreKey(identityKey: Uint8Array, signedPreKey: Uint8Array, signature: Uint8Array): boolean;
  /** The MAC-covered message bytes (version byte and protobuf) for a header and ciphertext. */
  encodeMessageBody(header: RatchetHeader, ciphertext: Uint8Array): Uint8Array;
  /** Splices body and truncated MAC into the wire message. */
  encodeAuthenticated(body: Uint8Array, mac: Uint8Array): Uint8Array;
  decodeAuthenticated(wire: Uint8Array): { body: Uint8Array; mac: Uint8Array; header: RatchetHeader; ciphertext: Uint8Array };
  encodeKeyExchange(exchange: KeyExchange): Uint8Array;
  decodeKeyExchange(wire: Uint8Array): KeyExchange;
  /** Key material length per device: the payload key and its tag. */
  keyMaterialLength: number;
}

const LEGACY_VERSION_BYTE = 0x33; // libsignal message version 3, current version 3
const DJB_TYPE = 0x05;

/** 0x05 || key, libsignal's serialized Curve25519 public key. */
export function encodeLegacyKey(key: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(DJB_TYPE), key);
}

export function decodeLegacyKey(encoded: Uint8Array, name: string): Uint8Array {
  if (encoded.length !== 33 || encoded[0] !== DJB_TYPE) throw new ProtobufError(`${name} is not a 33-byte 0x05-prefixed Curve25519 key`);
  return encoded.slice(1);
}

function raw32(key: Uint8Array, name: string): Uint8Array {
  if (key.length !== 32) throw new ProtobufError(`${name} is not 32 bytes`);
  return key;
}

export const LEGACY: Profile = {
  version: 'legacy',
  namespace: NS_LEGACY,
  x3dhInfo: 'WhisperText',
  rootInfo: 'WhisperRatchet',
  messageKeyInfo: 'WhisperMessageKeys',
  macLength: 8,
  senderFirstAssociatedData: true,
  keyMaterialLength: 32,
  identityKeyOf: (privateKey) => x25519PublicKey(privateKey),
  identityDhKey: (identityKey) => identityKey,
  encodeIdentity: encodeLegacyKey,
  signedPreKeyMessage: encodeLegacyKey,
  verifySignedPreKey: (identityKey, signedPreKey, signature) => xeddsaVerify(identityKey, encodeLegacyKey(signedPreKey), signature),
  // WhisperMessage: ratchetKey = 1, counter = 2, previousCounter = 3, ciphertext = 4.
  encodeMessageBody: (header, ciphertext) =>
    concat(
      Uint8Array.of(LEGACY_VERSION_BYTE),
      encodeProto([
        [1, encodeLegacyKey(header.ratchetKey)],
        [2, header.n],
        [3, header.pn],
        [4, ciphertext],
      ]),
    ),
  encodeAuthenticated: (body, mac) => concat(body, mac),
  decodeAuthenticated(wire) {
    if (wire.length < 1 + 8) throw new ProtobufError('WhisperMessage too short');
    if (wire[0] !== LEGACY_VERSION_BYTE) throw new ProtobufError(`WhisperMessage version byte 0x${wire[0]!.toString(16)}, expected 0x33`);
    const body = wire.slice(0, wire.length - 8);
    const fields = decodeProto(body.subarray(1));
    return {
      body,
      mac: wire.slice(wire.length - 8),
      header: {
        ratchetKey: decodeLegacyKey(bytesField(fields, 1, 'ratchetKey'), 'ratchetKey'),
        n: uint32Field(fields, 2, 'counter'),
        pn: uint32Field(fields, 3, 'previousCounter'),
      },
      ciphertext: bytesField(fields, 4, 'ciphertext'),
    };
  },
  // PreKeyWhisperMessage: preKeyId = 1, baseKey = 2, identityKey = 3, message = 4, signedPreKeyId = 6.
  encodeKeyExchange: (exchange) =>
    concat(
      Uint8Array.of(LEGACY_VERSION_BYTE),
      encodeProto([
        [1, exchange.preKeyId],
        [2, encodeLegacyKey(exchange.baseKey)],
        [3, encodeLegacyKey(exchange.identityKey)],
        [4, exchange.message],
        [6, exchange.signedPreKeyId],
      ]),
    ),
  decodeKeyExchange(wire) {
    if (wire.length < 1 || wire[0] !== LEGACY_VERSION_BYTE) throw new ProtobufError('PreKeyWhisperMessage without version byte 0x33');
    const fields = decodeProto(wire.subarray(1));
    return {
      preKeyId: uint32Field(fields, 1, 'preKeyId'),
      baseKey: decodeLegacyKey(bytesField(fields, 2, 'baseKey'), 'baseKey'),
      identityKey: decodeLegacyKey(bytesField(fields, 3, 'identityKey'), 'identityKey'),
      message: bytesField(fields, 4, 'message'),
      signedPreKeyId: uint32Field(fields, 6, 'signedPreKeyId'),
    };
  },
};

export const OMEMO2: Profile = {
  version: 'omemo2',
  namespace: NS_OMEMO2,
  x3dhInfo: 'OMEMO X3DH',
  rootInfo: 'OMEMO Root Chain',
  messageKeyInfo: 'OMEMO Message Key Material',
  macLength: 16,
  senderFirstAssociatedData: false,
  keyMaterialLength: 48,
  identityKeyOf: (privateKey) => ed25519PublicKeyOf(privateKey),
  identityDhKey: (identityKey) => ed25519ToMontgomery(identityKey),
  encodeIdentity: (identityKey) => identityKey,
  signedPreKeyMessage: (publicKey) => publicKey,
  verifySignedPreKey: (identityKey, signedPreKey, signature) => ed25519Verify(identityKey, signedPreKey, signature),
  // OMEMOMessage: n = 1, pn = 2, dh_pub = 3, ciphertext = 4.
  encodeMessageBody: (header, ciphertext) =>
    encodeProto([
      [1, header.n],
      [2, header.pn],
      [3, header.ratchetKey],
      [4, ciphertext],
    ]),
  // OMEMOAuthenticatedMessage: mac = 1, message = 2.
  encodeAuthenticated: (body, mac) => encodeProto([[1, mac], [2, body]]),
  decodeAuthenticated(wire) {
    const outer = decodeProto(wire);
    const mac = bytesField(outer, 1, 'mac');
    if (mac.length !== 16) throw new ProtobufError('OMEMOAuthenticatedMessage mac is not 16 bytes');
    const body = bytesField(outer, 2, 'message');
    const fields = decodeProto(body);
    return {
      body,
      mac,
      header: {
        n: uint32Field(fields, 1, 'n'),
        pn: uint32Field(fields, 2, 'pn'),
        ratchetKey: raw32(bytesField(fields, 3, 'dh_pub'), 'dh_pub'),
      },
      ciphertext: bytesField(fields, 4, 'ciphertext'),
    };
  },
  // OMEMOKeyExchange: pk_id = 1, spk_id = 2, ik = 3, ek = 4, message = 5.
  encodeKeyExchange: (exchange) =>
    encodeProto([
      [1, exchange.preKeyId],
      [2, exchange.signedPreKeyId],
      [3, exchange.identityKey],
      [4, exchange.baseKey],
      [5, exchange.message],
    ]),
  decodeKeyExchange(wire) {
    const fields = decodeProto(wire);
    return {
      preKeyId: uint32Field(fields, 1, 'pk_id'),
      signedPreKeyId: uint32Field(fields, 2, 'spk_id'),
      identityKey: raw32(bytesField(fields, 3, 'ik'), 'ik'),
      baseKey: raw32(bytesField(fields, 4, 'ek'), 'ek'),
      message: bytesField(fields, 5, 'message'),
    };
  },
};

export function profileOf(version: OmemoVersion): Profile {
  return version === 'legacy' ? LEGACY : OMEMO2;
}
