// The primitives OMEMO is built from, as thin wrappers over audited code: node:crypto for the
// hashes and ciphers, @noble/curves for Curve25519 and Ed25519. XEdDSA (Signal's spec) is
// assembled here because no library offers it: OMEMO 0.3 signs prekeys with the Curve25519
// identity key, and OMEMO 2 publishes the same identity as an Ed25519 key.
import { createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey, diffieHellman, hkdfSync, randomBytes, verify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';

export class OmemoCryptoError extends Error {}

export function random(length: number): Uint8Array {
  return new Uint8Array(randomBytes(length));
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

// --- hashes and ciphers -------------------------------------------------------------------

export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: string | Uint8Array, length: number): Uint8Array {
  const infoBytes = typeof info === 'string' ? Buffer.from(info, 'ascii') : info;
  return new Uint8Array(hkdfSync('sha256', ikm, salt, infoBytes, length));
}

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(data).digest());
}

/** AES-256-CBC with PKCS#7 padding (the ratchet's message keys and the OMEMO 2 payload). */
export function aesCbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  return new Uint8Array(Buffer.concat([cipher.update(plaintext), cipher.final()]));
}

export function aesCbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, iv);
    return new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
  } catch {
    throw new OmemoCryptoError('AES-CBC: bad padding or length');
  }
}

/** AES-GCM with a 16-byte tag; the key length picks AES-128 (OMEMO 0.3 payloads) or AES-256. */
export function aesGcmEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): { ciphertext: Uint8Array; tag: Uint8Array } {
  const cipher = createCipheriv(gcmAlgorithm(key), key, iv);
  const ciphertext = new Uint8Array(Buffer.concat([cipher.update(plaintext), cipher.final()]));
  return { ciphertext, tag: new Uint8Array(cipher.getAuthTag()) };
}

export function aesGcmDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): Uint8Array {
  if (tag.length !== 16) throw new OmemoCryptoError('AES-GCM: the tag must be 16 bytes');
  try {
    const decipher = createDecipheriv(gcmAlgorithm(key), key, iv);
    decipher.setAuthTag(tag);
    return new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
  } catch {
    throw new OmemoCryptoError('AES-GCM: authentication failed');
  }
}

function gcmAlgorithm(key: Uint8Array): 'aes-128-gcm' | 'aes-256-gcm' {
  if (key.length === 16) return 'aes-128-gcm';
  if (key.length === 32) return 'aes-256-gcm';
  throw new OmemoCryptoError('AES-GCM: the key must be 16 or 32 bytes');
}

// --- Curve25519 / Ed25519 -----------------------------------------------------------------

const P = ed25519.Point.Fp.ORDER;
const Q = ed25519.Point.Fn.ORDER;

// node:crypto takes raw X25519 keys only wrapped in PKCS#8 / SPKI; these are the fixed DER prefixes.
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

function x25519PrivateKeyObject(privateKey: Uint8Array) {
  if (privateKey.length !== 32) throw new OmemoCryptoError('X25519: the private key must be 32 bytes');
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519, privateKey]), format: 'der', type: 'pkcs8' });
}

export function x25519PublicKey(privateKey: Uint8Array): Uint8Array {
  const spki = createPublicKey(x25519PrivateKeyObject(privateKey)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(SPKI_X25519.length));
}

/** X25519; refuses a low-order peer key (an all-zero shared secret). */
export function x25519(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== 32) throw new OmemoCryptoError('X25519: the public key must be 32 bytes');
  let shared: Uint8Array;
  try {
    const peer = createPublicKey({ key: Buffer.concat([SPKI_X25519, publicKey]), format: 'der', type: 'spki' });
    shared = new Uint8Array(diffieHellman({ privateKey: x25519PrivateKeyObject(privateKey), publicKey: peer }));
  } catch {
    throw new OmemoCryptoError('X25519: low-order or invalid public key');
  }
  if (shared.every((byte) => byte === 0)) throw new OmemoCryptoError('X25519: low-order public key');
  return shared;
}

function bytesToNumberLE(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

function numberToBytesLE(n: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

function clamp(privateKey: Uint8Array): bigint {
  const k = Uint8Array.from(privateKey);
  k[0]! &= 248;
  k[31]! &= 127;
  k[31]! |= 64;
  return bytesToNumberLE(k);
}

/**
 * XEdDSA's calculate_key_pair: the Ed25519 public key of a Curve25519 private key with the
 * sign bit forced to 0, and the scalar that matches it (negated when needed).
 */
function xeddsaKeyPair(privateKey: Uint8Array): { publicKey: Uint8Array; scalar: bigint } {
  if (privateKey.length !== 32) throw new OmemoCryptoError('XEdDSA: the private key must be 32 bytes');
  const k = clamp(privateKey);
  const encoded = ed25519.Point.BASE.multiply(k % Q).toBytes();
  // Unnegated, the clamped key is kept unreduced, as libsignal hashes it.
  if ((encoded[31]! & 0x80) === 0) return { publicKey: encoded, scalar: k };
  encoded[31]! &= 0x7f;
  return { publicKey: encoded, scalar: (Q - (k % Q)) % Q };
}

/** The Ed25519 form (sign bit 0) of a Curve25519 identity; OMEMO 2 publishes this. */
export function ed25519PublicKeyOf(privateKey: Uint8Array): Uint8Array {
  return xeddsaKeyPair(privateKey).publicKey;
}

/** Montgomery u → Edwards y (birational map), with the given sign bit. */
export function montgomeryToEd25519(u: Uint8Array, signBit: 0 | 1): Uint8Array {
  if (u.length !== 32) throw new OmemoCryptoError('Curve25519 public key must be 32 bytes');
  const uNum = bytesToNumberLE(u) & ((1n << 255n) - 1n);
  if (uNum >= P || (uNum + 1n) % P === 0n) throw new OmemoCryptoError('Curve25519 public key out of range');
  const Fp = ed25519.Point.Fp;
  const y = Fp.mul(Fp.sub(uNum, 1n), Fp.inv(Fp.add(uNum, 1n)));
  const out = numberToBytesLE(y, 32);
  out[31]! |= signBit << 7;
  return out;
}

/** Edwards → Montgomery u, for an Ed25519 identity key used in X3DH. */
export function ed25519ToMontgomery(publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== 32) throw new OmemoCryptoError('Ed25519 public key must be 32 bytes');
  try {
    return ed25519.utils.toMontgomery(publicKey);
  } catch {
    throw new OmemoCryptoError('Ed25519 public key is not a curve point');
  }
}

function sha512(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sha512');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

// hash_1 of the XEdDSA spec: the prefix 2^256 - 2, little-endian.
const HASH1_PREFIX = (() => {
  const prefix = new Uint8Array(32).fill(0xff);
  prefix[0] = 0xfe;
  return prefix;
})();

/**
 * XEdDSA signature (R || s) with a Curve25519 private key; verifies as plain Ed25519 under
 * ed25519PublicKeyOf(privateKey). `nonce` is the spec's 64 random bytes Z (fixed only in tests).
 */
export function xeddsaSign(privateKey: Uint8Array, message: Uint8Array, nonce: Uint8Array = random(64)): Uint8Array {
  if (nonce.length !== 64) throw new OmemoCryptoError('XEdDSA: the nonce must be 64 bytes');
  const { publicKey, scalar } = xeddsaKeyPair(privateKey);
  const a = numberToBytesLE(scalar, 32);
  const r = bytesToNumberLE(sha512(HASH1_PREFIX, a, message, nonce)) % Q;
  const R = ed25519.Point.BASE.multiply(r).toBytes();
  const h = bytesToNumberLE(sha512(R, publicKey, message)) % Q;
  const s = (r + h * (scalar % Q)) % Q;
  return concat(R, numberToBytesLE(s, 32));
}

const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

/** Plain Ed25519 verification (OMEMO 2 identity keys), by OpenSSL. */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, publicKey]), format: 'der', type: 'spki' });
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

/**
 * Verification under a Curve25519 identity (OMEMO 0.3). As libsignal does, the top bit of the
 * signature's last byte carries the Ed25519 sign bit, so both XEdDSA signatures (bit 0) and
 * signatures made with a native Ed25519 key whose sign bit is 1 verify.
 */
export function xeddsaVerify(curvePublicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64 || curvePublicKey.length !== 32) return false;
  const signBit = (signature[63]! >> 7) as 0 | 1;
  const cleared = Uint8Array.from(signature);
  cleared[63]! &= 0x7f;
  try {
    return ed25519Verify(montgomeryToEd25519(curvePublicKey, signBit), message, cleared);
  } catch {
    return false;
  }
}
