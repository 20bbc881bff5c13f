// The OMEMO elements of both versions, as ltx elements: device lists and bundles (PEP item
// payloads) and the <encrypted/> element of a message. Parsers are total: malformed input is
// an OmemoXmlError saying what is wrong, never a throw of something else or a half-read value.
import xml, { type Element } from '@xmpp/xml';
import { decodeLegacyKey, encodeLegacyKey, NS_LEGACY, NS_OMEMO2, type OmemoVersion } from './profile';
import { ProtobufError } from './protobuf';
import type { Bundle } from './session';

export class OmemoXmlError extends Error {}

/** PEP nodes: the device list, and the bundle node (0.3: one node per device; OMEMO 2: one item per device). */
export const NODE_DEVICES: Record<OmemoVersion, string> = { legacy: `${NS_LEGACY}.devicelist`, omemo2: `${NS_OMEMO2}:devices` };
export const bundleNode = (version: OmemoVersion, deviceId: number): string =>
  version === 'legacy' ? `${NS_LEGACY}.bundles:${deviceId}` : `${NS_OMEMO2}:bundles`;

const MAX_DEVICES = 200;
const MAX_PREKEYS = 1000;
const MAX_KEYS = 2000;
const namespaceOf = (version: OmemoVersion) => (version === 'legacy' ? NS_LEGACY : NS_OMEMO2);

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

function unb64(text: string | null | undefined, what: string): Uint8Array {
  const compact = (text ?? '').replace(/\s+/g, '');
  if (compact === '' || compact.length % 4 === 1 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) throw new OmemoXmlError(`${what} is not base64`);
  return new Uint8Array(Buffer.from(compact, 'base64'));
}

function uint32(value: string | undefined, what: string): number {
  if (value === undefined || !/^\d{1,10}$/.test(value) || Number(value) > 0xffffffff) throw new OmemoXmlError(`${what} is not a uint32: ${value ?? 'missing'}`);
  return Number(value);
}

function expect(element: Element, name: string, version: OmemoVersion): void {
  if (!element.is(name, namespaceOf(version))) throw new OmemoXmlError(`expected <${name} xmlns='${namespaceOf(version)}'>, got <${element.name}>`);
}

function key32(bytes: Uint8Array, version: OmemoVersion, what: string): Uint8Array {
  if (version === 'omemo2') {
    if (bytes.length !== 32) throw new OmemoXmlError(`${what} is not 32 bytes`);
    return bytes;
  }
  try {
    return decodeLegacyKey(bytes, what);
  } catch (error) {
    if (error instanceof ProtobufError) throw new OmemoXmlError(error.message);
    throw error;
  }
}

const wireKey = (version: OmemoVersion, key: Uint8Array) => b64(version === 'legacy' ? encodeLegacyKey(key) : key);

// --- device list --------------------------------------------------------------------------

export interface DeviceEntry {
  id: number;
  label?: string;
}

export function buildDeviceList(version: OmemoVersion, devices: DeviceEntry[]): Element {
  return xml(
    version === 'legacy' ? 'list' : 'devices',
    { xmlns: namespaceOf(version) },
    ...devices.map(({ id, label }) => xml('device', { id: String(id), label: version === 'omemo2' ? label : undefined })),
  );
}

export function parseDeviceList(version: OmemoVersion, element: Element): DeviceEntry[] {
  expect(element, version === 'legacy' ? 'list' : 'devices', version);
  const devices = element.getChildren('device');
  if (devices.length > MAX_DEVICES) throw new OmemoXmlError(`${devices.length} devices, more than ${MAX_DEVICES}`);
  const seen = new Set<number>();
  const out: DeviceEntry[] = [];
  for (const device of devices) {
    const id = uint32(device.attrs.id, 'device id');
    if (seen.has(id)) continue;
    seen.add(id);
    const label = version === 'omemo2' ? device.attrs.label?.slice(0, 100) : undefined;
    out.push(label ? { id, label } : { id });
  }
  return out;
}

// --- bundle -------------------------------------------------------------------------------

export function buildBundle(version: OmemoVersion, bundle: Bundle): Element {
  const pre = bundle.preKeys;
  if (version === 'legacy') {
    return xml(
      'bundle',
      { xmlns: NS_LEGACY },
      xml('signedPreKeyPublic', { signedPreKeyId: String(bundle.signedPreKeyId) }, wireKey(version, bundle.signedPreKey)),
      xml('signedPreKeySignature', {}, b64(bundle.signedPreKeySignature)),
      xml('identityKey', {}, wireKey(version, bundle.identityKey)),
      xml('prekeys', {}, ...pre.map((k) => xml('preKeyPublic', { preKeyId: String(k.id) }, wireKey(version, k.publicKey)))),
    );
  }
  return xml(
    'bundle',
    { xmlns: NS_OMEMO2 },
    xml('spk', { id: String(bundle.signedPreKeyId) }, b64(bundle.signedPreKey)),
    xml('spks', {}, b64(bundle.signedPreKeySignature)),
    xml('ik', {}, b64(bundle.identityKey)),
    xml('prekeys', {}, ...pre.map((k) => xml('pk', { id: String(k.id) }, b64(k.publicKey)))),
  );
}

export function parseBundle(version: OmemoVersion, element: Element): Bundle {
  expect(element, 'bundle', version);
  const [spkName, sigName, ikName, pkName, pkId, spkId] =
    version === 'legacy'
      ? ['signedPreKeyPublic', 'signedPreKeySignature', 'identityKey', 'preKeyPublic', 'preKeyId', 'signedPreKeyId']
      : ['spk', 'spks', 'ik', 'pk', 'id', 'id'];
  const spk = element.getChild(spkName);
  if (!spk) throw new OmemoXmlError(`bundle without <${spkName}/>`);
  const signature = unb64(element.getChildText(sigName), `<${sigName}/>`);
  if (signature.length !== 64) throw new OmemoXmlError(`<${sigName}/> is not 64 bytes`);
  const prekeyElements = element.getChild('prekeys')?.getChildren(pkName) ?? [];
  if (prekeyElements.length > MAX_PREKEYS) throw new OmemoXmlError(`${prekeyElements.length} prekeys, more than ${MAX_PREKEYS}`);
  const preKeys = prekeyElements.map((pk) => ({
    id: uint32(pk.attrs[pkId], 'prekey id'),
    publicKey: key32(unb64(pk.text(), 'a prekey'), version, 'a prekey'),
  }));
  if (preKeys.length === 0) throw new OmemoXmlError('bundle without prekeys');
  return {
    identityKey: key32(unb64(element.getChildText(ikName), `<${ikName}/>`), version, `<${ikName}/>`),
    signedPreKeyId: uint32(spk.attrs[spkId], 'signed prekey id'),
    signedPreKey: key32(unb64(spk.text(), `<${spkName}/>`), version, `<${spkName}/>`),
    signedPreKeySignature: signature,
    preKeys,
  };
}

// --- <encrypted/> -------------------------------------------------------------------------

export interface KeyElement {
  /** OMEMO 2 groups keys by recipient bare JID; 0.3 has no JID. */
  jid?: string;
  rid: number;
  keyExchange: boolean;
  data: Uint8Array;
}

export interface EncryptedElement {
  sid: number;
  keys: KeyElement[];
  /** 0.3 only. */
  iv?: Uint8Array;
  /** Absent in an empty message (a session answer or heartbeat). */
  payload?: Uint8Array;
}

export function buildEncrypted(version: OmemoVersion, message: EncryptedElement): Element {
  const keyElement = (key: KeyElement) =>
    xml('key', { rid: String(key.rid), [version === 'legacy' ? 'prekey' : 'kex']: key.keyExchange ? 'true' : undefined }, b64(key.data));
  let header: Element;
  if (version === 'legacy') {
    if (!message.iv) throw new OmemoXmlError('an OMEMO 0.3 message needs an IV');
    header = xml('header', { sid: String(message.sid) }, ...message.keys.map(keyElement), xml('iv', {}, b64(message.iv)));
  } else {
    const byJid = new Map<string, KeyElement[]>();
    for (const key of message.keys) {
      if (!key.jid) throw new OmemoXmlError('an OMEMO 2 key needs the recipient JID');
      byJid.set(key.jid, [...(byJid.get(key.jid) ?? []), key]);
    }
    header = xml('header', { sid: String(message.sid) }, ...[...byJid].map(([jid, keys]) => xml('keys', { jid }, ...keys.map(keyElement))));
  }
  return xml('encrypted', { xmlns: namespaceOf(version) }, header, message.payload ? xml('payload', {}, b64(message.payload)) : null);
}

const isTrue = (value: string | undefined) => value === 'true' || value === '1';

export function parseEncrypted(version: OmemoVersion, element: Element): EncryptedElement {
  expect(element, 'encrypted', version);
  const header = element.getChild('header');
  if (!header) throw new OmemoXmlError('<encrypted/> without <header/>');
  const sid = uint32(header.attrs.sid, 'sender device id (sid)');
  const readKey = (key: Element, jid?: string): KeyElement => ({
    jid,
    rid: uint32(key.attrs.rid, 'recipient device id (rid)'),
    keyExchange: isTrue(key.attrs[version === 'legacy' ? 'prekey' : 'kex']),
    data: unb64(key.text(), 'a <key/>'),
  });
  let keys: KeyElement[];
  let iv: Uint8Array | undefined;
  if (version === 'legacy') {
    keys = header.getChildren('key').map((key) => readKey(key));
    iv = unb64(header.getChildText('iv'), '<iv/>');
    if (iv.length !== 12 && iv.length !== 16) throw new OmemoXmlError(`<iv/> of ${iv.length} bytes`);
  } else {
    keys = header.getChildren('keys').flatMap((group) => {
      const jid = group.attrs.jid;
      if (!jid) throw new OmemoXmlError('<keys/> without jid');
      return group.getChildren('key').map((key) => readKey(key, jid));
    });
  }
  if (keys.length === 0) throw new OmemoXmlError('<header/> without keys');
  if (keys.length > MAX_KEYS) throw new OmemoXmlError(`${keys.length} keys, more than ${MAX_KEYS}`);
  const payloadText = element.getChildText('payload');
  return { sid, keys, iv, payload: payloadText === null ? undefined : unb64(payloadText, '<payload/>') };
}
