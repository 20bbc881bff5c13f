// Both OMEMO profiles against what python-oldmemo and python-twomemo produce for the same
// inputs (test/support/omemo-vectors.py), and the wire parsers against malformed input.
import { readFileSync } from 'node:fs';
import parse from '@xmpp/xml/lib/parse.js';
import { describe, expect, it } from 'vitest';
import { concat } from '../../main/core/omemo/primitives';
import { LEGACY, OMEMO2 } from '../../main/core/omemo/profile';
import { decodeProto, encodeProto, ProtobufError } from '../../main/core/omemo/protobuf';
import { chainStep, rootStep, sealRatchetMessage } from '../../main/core/omemo/session';
import { OmemoXmlError, parseBundle, parseDeviceList, parseEncrypted } from '../../main/core/omemo/xml';

interface ProfileVector {
  messageKey: string;
  associatedData: string;
  ratchetKey: string;
  n: number;
  pn: number;
  plaintext: string;
  sealed: string;
  rootKey: string;
  dhOutput: string;
  rootStep: string;
  chainKey: string;
  chainStep: string;
  identityEd: string;
  identityCurve: string;
  baseKey: string;
  signedPreKeyId: number;
  preKeyId: number;
  keyExchange: string;
}
const { profiles } = JSON.parse(readFileSync(new URL('../fixtures/omemo-vectors.json', import.meta.url), 'utf8')) as {
  profiles: { legacy: ProfileVector; omemo2: ProfileVector };
};
const b = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe.each([
  ['OMEMO 0.3 / python-oldmemo', LEGACY, profiles.legacy],
  ['OMEMO 2 / python-twomemo', OMEMO2, profiles.omemo2],
] as const)('%s', (_name, profile, v) => {
  const header = { ratchetKey: b(v.ratchetKey), n: v.n, pn: v.pn };

  it('seals a ratchet message byte for byte as the python backend does, and reads it back', () => {
    expect(hex(sealRatchetMessage(profile, b(v.associatedData), header, b(v.messageKey), b(v.plaintext)))).toBe(v.sealed);
    const read = profile.decodeAuthenticated(b(v.sealed));
    expect(read.header).toEqual(header);
    expect(read.mac).toHaveLength(profile.macLength);
  });

  it('root chain and message chain steps', () => {
    expect(hex(concat(...rootStep(profile, b(v.rootKey), b(v.dhOutput))))).toBe(v.rootStep);
    const [next, messageKey] = chainStep({ key: b(v.chainKey), n: 0 });
    expect(hex(concat(next.key, messageKey))).toBe(v.chainStep);
  });

  it('wraps the key exchange as the python backend does', () => {
    const exchange = {
      preKeyId: v.preKeyId,
      signedPreKeyId: v.signedPreKeyId,
      identityKey: b(profile.version === 'legacy' ? v.identityCurve : v.identityEd),
      baseKey: b(v.baseKey),
      message: b(v.sealed),
    };
    expect(hex(profile.encodeKeyExchange(exchange))).toBe(v.keyExchange);
    expect(profile.decodeKeyExchange(b(v.keyExchange))).toEqual(exchange);
  });

  it('refuses truncated or altered wire messages with a reason', () => {
    const sealed = b(v.sealed);
    expect(() => profile.decodeAuthenticated(sealed.subarray(0, 20))).toThrow(ProtobufError);
    expect(() => profile.decodeKeyExchange(b(v.keyExchange).subarray(0, 30))).toThrow(ProtobufError);
    if (profile.version === 'legacy') {
      expect(() => profile.decodeAuthenticated(Uint8Array.from(sealed, (x, i) => (i === 0 ? 0x22 : x)))).toThrow(/version byte 0x22/);
      // The ratchet key without its 0x05 type byte.
      expect(() => profile.decodeAuthenticated(Uint8Array.from(sealed, (x, i) => (i === 3 ? 0x06 : x)))).toThrow(/0x05-prefixed/);
    } else {
      expect(() => profile.decodeAuthenticated(encodeProto([[1, new Uint8Array(8)], [2, new Uint8Array()]]))).toThrow(/mac is not 16 bytes/);
    }
  });
});

describe('protobuf', () => {
  it('round-trips varints and bytes, skips unknown fields, refuses truncation and oversize', () => {
    const encoded = encodeProto([[1, 300], [2, Uint8Array.of(1, 2, 3)], [15, 0xffffffff]]);
    const fields = decodeProto(encoded);
    expect(fields.get(1)).toBe(300);
    expect(fields.get(2)).toEqual(Uint8Array.of(1, 2, 3));
    expect(fields.get(15)).toBe(0xffffffff);
    expect(() => decodeProto(encoded.subarray(0, 5))).toThrow(/truncated/);
    expect(() => decodeProto(Uint8Array.of(0x0b))).toThrow(/wire type 3/);
    expect(() => decodeProto(Uint8Array.of(0x12, 0x05, 0x01))).toThrow(/truncated bytes/);
    expect(() => encodeProto([[1, -1]])).toThrow(/not a uint32/);
  });
});

describe('XML parsers refuse malformed input with reasons', () => {
  const x = (text: string) => parse(text);
  it('device lists', () => {
    expect(parseDeviceList('omemo2', x(`<devices xmlns='urn:xmpp:omemo:2'><device id='7' label='Phone'/><device id='7'/></devices>`))).toEqual([{ id: 7, label: 'Phone' }]);
    expect(parseDeviceList('legacy', x(`<list xmlns='eu.siacs.conversations.axolotl'><device id='9'/></list>`))).toEqual([{ id: 9 }]);
    expect(() => parseDeviceList('omemo2', x(`<devices xmlns='urn:xmpp:omemo:2'><device id='-1'/></devices>`))).toThrow(/device id is not a uint32/);
    expect(() => parseDeviceList('omemo2', x(`<list xmlns='eu.siacs.conversations.axolotl'/>`))).toThrow(OmemoXmlError);
  });
  it('bundles', () => {
    const key = Buffer.alloc(32, 1).toString('base64');
    const sig = Buffer.alloc(64, 2).toString('base64');
    const good = `<bundle xmlns='urn:xmpp:omemo:2'><spk id='1'>${key}</spk><spks>${sig}</spks><ik>${key}</ik><prekeys><pk id='5'>${key}</pk></prekeys></bundle>`;
    expect(parseBundle('omemo2', x(good)).preKeys).toEqual([{ id: 5, publicKey: new Uint8Array(32).fill(1) }]);
    expect(() => parseBundle('omemo2', x(good.replace(`<spks>${sig}</spks>`, '<spks>!!</spks>')))).toThrow(/<spks\/> is not base64/);
    expect(() => parseBundle('omemo2', x(good.replace(/<prekeys>.*<\/prekeys>/, '<prekeys/>')))).toThrow(/without prekeys/);
    expect(() => parseBundle('legacy', x(good.replace('urn:xmpp:omemo:2', 'eu.siacs.conversations.axolotl')))).toThrow(/without <signedPreKeyPublic\/>/);
    const legacy = `<bundle xmlns='eu.siacs.conversations.axolotl'><signedPreKeyPublic signedPreKeyId='1'>${key}</signedPreKeyPublic><signedPreKeySignature>${sig}</signedPreKeySignature><identityKey>${key}</identityKey><prekeys><preKeyPublic preKeyId='1'>${key}</preKeyPublic></prekeys></bundle>`;
    expect(() => parseBundle('legacy', x(legacy))).toThrow(/not a 33-byte 0x05-prefixed/);
  });
  it('<encrypted/>', () => {
    const key = Buffer.alloc(40, 3).toString('base64');
    expect(parseEncrypted('omemo2', x(`<encrypted xmlns='urn:xmpp:omemo:2'><header sid='1'><keys jid='a@b'><key rid='2' kex='true'>${key}</key></keys></header></encrypted>`)).keys[0]).toMatchObject({ jid: 'a@b', rid: 2, keyExchange: true });
    expect(() => parseEncrypted('omemo2', x(`<encrypted xmlns='urn:xmpp:omemo:2'><header sid='1'/></encrypted>`))).toThrow(/without keys/);
    expect(() => parseEncrypted('omemo2', x(`<encrypted xmlns='urn:xmpp:omemo:2'><header><keys jid='a@b'><key rid='2'>${key}</key></keys></header></encrypted>`))).toThrow(/sid/);
    expect(() => parseEncrypted('legacy', x(`<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='1'><key rid='2'>${key}</key><iv>AAAA</iv></header></encrypted>`))).toThrow(/<iv\/> of 3 bytes/);
    expect(() => parseEncrypted('omemo2', x(`<encrypted xmlns='urn:xmpp:omemo:2'><header sid='1'><keys><key rid='2'>${key}</key></keys></header></encrypted>`))).toThrow(/without jid/);
  });
});
