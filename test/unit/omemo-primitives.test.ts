// Known answers for the OMEMO primitive wrappers, computed by python3-xeddsa and
// python3-cryptography (test/support/omemo-vectors.py), the libraries python-omemo uses.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  aesCbcDecrypt,
  aesCbcEncrypt,
  aesGcmDecrypt,
  aesGcmEncrypt,
  ed25519PublicKeyOf,
  ed25519ToMontgomery,
  ed25519Verify,
  hkdfSha256,
  hmacSha256,
  montgomeryToEd25519,
  OmemoCryptoError,
  x25519,
  x25519PublicKey,
  xeddsaSign,
  xeddsaVerify,
} from '../../main/core/omemo/primitives';

type Vector = Record<string, string>;
interface Vectors {
  xeddsa: Vector[];
  signBit: Vector;
  conversion: Vector[];
  x25519: Vector[];
  hkdf: Vector[];
  hmac: Vector[];
  cbc: Vector[];
  gcm: Vector[];
}
const vectors = JSON.parse(readFileSync(new URL('../fixtures/omemo-vectors.json', import.meta.url), 'utf8')) as Vectors;
const indexed = (list: Vector[]) => list.map((v, i) => [i, v] as [number, Vector]);
const b = (hex: string | undefined) => {
  if (hex === undefined) throw new Error('a vector field is missing');
  return Uint8Array.from(Buffer.from(hex, 'hex'));
};
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('XEdDSA', () => {
  it.each(indexed(vectors.xeddsa))('vector %i: same keys and signature as libxeddsa', (_i, v) => {
    expect(hex(x25519PublicKey(b(v.priv)))).toBe(v.curvePub);
    expect(hex(ed25519PublicKeyOf(b(v.priv)))).toBe(v.edPub);
    expect(hex(xeddsaSign(b(v.priv), b(v.message), b(v.nonce)))).toBe(v.signature);
    expect(xeddsaVerify(b(v.curvePub), b(v.message), b(v.signature))).toBe(true);
    expect(ed25519Verify(b(v.edPub), b(v.message), b(v.signature))).toBe(true);
  });

  it('a random-nonce signature verifies, and a changed message or key does not', () => {
    const v = vectors.xeddsa[0]!;
    const sig = xeddsaSign(b(v.priv), b(v.message));
    expect(xeddsaVerify(b(v.curvePub), b(v.message), sig)).toBe(true);
    const tampered = b(v.message);
    tampered[0]! ^= 1;
    expect(xeddsaVerify(b(v.curvePub), tampered, sig)).toBe(false);
    expect(xeddsaVerify(b(vectors.xeddsa[1]!.curvePub), b(v.message), sig)).toBe(false);
  });

  it('a signature carrying the Ed25519 sign bit in its last byte (libsignal style) verifies', () => {
    const v = vectors.signBit;
    expect(xeddsaVerify(b(v.curvePub), b(v.message), b(v.signature))).toBe(true);
    const cleared = b(v.signature);
    cleared[63]! &= 0x7f;
    expect(xeddsaVerify(b(v.curvePub), b(v.message), cleared)).toBe(false);
  });

  it('malformed keys and signatures are refused, not thrown', () => {
    const v = vectors.xeddsa[0]!;
    expect(xeddsaVerify(b(v.curvePub).subarray(1), b(v.message), b(v.signature))).toBe(false);
    expect(xeddsaVerify(b(v.curvePub), b(v.message), b(v.signature).subarray(1))).toBe(false);
    expect(xeddsaVerify(new Uint8Array(32).fill(0xff), b(v.message), b(v.signature))).toBe(false);
  });
});

describe('Curve25519 ↔ Ed25519', () => {
  it.each(indexed(vectors.conversion))('vector %i', (_i, v) => {
    expect(hex(montgomeryToEd25519(b(v.curvePub), 0))).toBe(v.ed0);
    expect(hex(montgomeryToEd25519(b(v.curvePub), 1))).toBe(v.ed1);
    expect(hex(ed25519ToMontgomery(b(v.ed0)))).toBe(v.curvePub);
    expect(hex(ed25519ToMontgomery(b(v.ed1)))).toBe(v.curvePub);
  });
});

describe('X25519', () => {
  it('RFC 7748 §6.1', () => {
    const alice = b('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    const bobPub = b('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
    expect(hex(x25519PublicKey(alice))).toBe('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    expect(hex(x25519(alice, bobPub))).toBe('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742');
  });

  it.each(indexed(vectors.x25519))('libxeddsa vector %i', (_i, v) => {
    expect(hex(x25519PublicKey(b(v.priv)))).toBe(v.ownPub);
    expect(hex(x25519(b(v.priv), b(v.pub)))).toBe(v.shared);
  });

  it('a low-order public key is refused', () => {
    expect(() => x25519(b(vectors.x25519[0]!.priv), new Uint8Array(32))).toThrow(OmemoCryptoError);
  });
});

describe('HKDF-SHA-256 and HMAC-SHA-256', () => {
  it('RFC 5869 test case 1', () => {
    const okm = hkdfSha256(new Uint8Array(22).fill(0x0b), b('000102030405060708090a0b0c'), b('f0f1f2f3f4f5f6f7f8f9'), 42);
    expect(hex(okm)).toBe('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
  });
  it.each(vectors.hkdf.map((v) => [v.info, v] as [string, Vector]))('info "%s"', (_info, v) => {
    expect(hex(hkdfSha256(b(v.ikm!), b(v.salt!), v.info!, Number(v.length)))).toBe(v.okm);
  });
  it('RFC 4231 test case 2', () => {
    expect(hex(hmacSha256(new TextEncoder().encode('Jefe'), new TextEncoder().encode('what do ya want for nothing?')))).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });
  it.each(indexed(vectors.hmac))('vector %i', (_i, v) => {
    expect(hex(hmacSha256(b(v.key), b(v.data)))).toBe(v.mac);
  });
});

describe('AES', () => {
  it.each(vectors.cbc.map((v) => [v.plaintext!.length / 2, v] as [number, Vector]))('CBC/PKCS#7, %i-byte plaintext', (_n, v) => {
    expect(hex(aesCbcEncrypt(b(v.key), b(v.iv), b(v.plaintext)))).toBe(v.ciphertext);
    expect(hex(aesCbcDecrypt(b(v.key), b(v.iv), b(v.ciphertext)))).toBe(v.plaintext);
  });
  it('CBC with a wrong key fails on the padding, as an OmemoCryptoError', () => {
    const v = vectors.cbc[3]!;
    const key = b(v.key);
    key[0]! ^= 1;
    // A wrong key yields valid padding about 1 time in 256; this key is known not to.
    expect(() => aesCbcDecrypt(key, b(v.iv), b(v.ciphertext))).toThrow(OmemoCryptoError);
  });
  it.each(vectors.gcm.map((v) => [v.key!.length * 4, v.plaintext!.length / 2, v] as [number, number, Vector]))('GCM, %i-bit key, %i-byte plaintext', (_k, _n, v) => {
    const { ciphertext, tag } = aesGcmEncrypt(b(v.key), b(v.iv), b(v.plaintext));
    expect(hex(ciphertext)).toBe(v.ciphertext);
    expect(hex(tag)).toBe(v.tag);
    expect(hex(aesGcmDecrypt(b(v.key), b(v.iv), b(v.ciphertext), b(v.tag)))).toBe(v.plaintext);
  });
  it('GCM refuses a changed tag', () => {
    const v = vectors.gcm[1]!;
    const tag = b(v.tag);
    tag[0]! ^= 1;
    expect(() => aesGcmDecrypt(b(v.key), b(v.iv), b(v.ciphertext), tag)).toThrow(OmemoCryptoError);
  });
});
