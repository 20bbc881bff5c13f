// OMEMO (XEP-0384) as stanzas, for both versions: device lists and bundles on PEP (publish with
// the options the XEP asks, fetch, the pushes +notify brings, with their origin check), which
// version to speak with a contact, and the encrypted message (fallback body, EME, store hint).
import xml, { type Element } from '@xmpp/xml';
import { NS_LEGACY, NS_OMEMO2, type OmemoVersion } from '../omemo/profile';
import { NODE_DEVICES, OmemoXmlError, parseDeviceList, parseEncrypted, type DeviceEntry, type EncryptedElement } from '../omemo/xml';
import { bodyElement } from '../omemo/payload';
import { parseJid } from './jid';
import { NS_CORRECT, NS_REACTIONS, NS_REPLY } from './relations';
import { NS_PUBSUB, publishOptions } from './pubsub';

const NS_PUBSUB_EVENT = `${NS_PUBSUB}#event`;
export const NS_EME = 'urn:xmpp:eme:0';
const NS_HINTS = 'urn:xmpp:hints';
const NS_FALLBACK = 'urn:xmpp:fallback:0';

/** What a client without OMEMO shows instead (the words Conversations and Gajim use). */
export const FALLBACK_BODY = "I sent you an OMEMO encrypted message but your client doesn't seem to support that.";

export const VERSIONS: readonly OmemoVersion[] = ['omemo2', 'legacy'];
const namespaceOf = (version: OmemoVersion) => (version === 'legacy' ? NS_LEGACY : NS_OMEMO2);
/** The PEP nodes we ask to be told of (XEP-0163 +notify in our caps). */
export const NOTIFY_FEATURES = VERSIONS.map((version) => `${NODE_DEVICES[version]}+notify`);

/**
 * Publishes one item with the options XEP-0384 asks (§5.3): open access so any contact may
 * encrypt to us; 0.3 nodes hold one item ('current'); the OMEMO 2 bundles node one per device.
 */
export function publishItem(node: string, itemId: string, payload: Element, maxItems: '1' | 'max'): Element {
  return xml(
    'pubsub',
    { xmlns: NS_PUBSUB },
    xml('publish', { node }, xml('item', { id: itemId }, payload)),
    publishOptions({ persist_items: 'true', access_model: 'open', max_items: maxItems }),
  );
}

/** The id of the one item a device list (both versions) or a 0.3 bundle node holds. */
export const CURRENT = 'current';

export function itemsQuery(node: string, itemId?: string): Element {
  return xml('pubsub', { xmlns: NS_PUBSUB }, xml('items', { node }, itemId ? xml('item', { id: itemId }) : null));
}

/** The payload of the item a fetch returned (the `<pubsub/>` child of the result). */
export function itemPayload(pubsub: Element | undefined, itemId?: string): Element | undefined {
  const items = pubsub?.getChild('items')?.getChildren('item') ?? [];
  const item = itemId ? items.find((i) => i.attrs.id === itemId) : items.at(-1);
  return item?.getChildElements()[0];
}

export type DeviceListPush =
  | { kind: 'devices'; jid: string; version: OmemoVersion; devices: DeviceEntry[] }
  | { kind: 'ignored' }
  | { kind: 'rejected'; reason: string };

/**
 * A PEP push of a device list. Only the owner's PEP service sends it, from their bare JID (or
 * with no `from` for our own); a push from a full JID or another entity is rejected.
 */
export function parseDeviceListPush(stanza: Element, ownBare: string): DeviceListPush {
  const items = stanza.getChild('event', NS_PUBSUB_EVENT)?.getChild('items');
  const version = VERSIONS.find((v) => items?.attrs.node === NODE_DEVICES[v]);
  if (!items || !version) return { kind: 'ignored' };
  const from = stanza.attrs.from === undefined ? parseJid(ownBare) : parseJid(stanza.attrs.from);
  if (!from || from.resource !== '' || !from.local) return { kind: 'rejected', reason: `device list push from ${stanza.attrs.from ?? 'nobody'}, not a bare JID` };
  const payload = items.getChildren('item').at(-1)?.getChildElements()[0];
  if (!payload) return { kind: 'devices', jid: from.bare, version, devices: [] };
  try {
    return { kind: 'devices', jid: from.bare, version, devices: parseDeviceList(version, payload) };
  } catch (error) {
    if (error instanceof OmemoXmlError) return { kind: 'rejected', reason: error.message };
    throw error;
  }
}

/**
 * Which version to encrypt to a contact with: OMEMO 2 when any of their devices has it (we
 * then write to the devices that only have 0.3 in vain: a client with both lists both), else 0.3.
 */
export function chooseVersion(devices: ReadonlyMap<OmemoVersion, readonly number[]>): OmemoVersion | undefined {
  return VERSIONS.find((version) => (devices.get(version)?.length ?? 0) > 0);
}

export type FoundEncrypted = { version: OmemoVersion; encrypted: EncryptedElement } | { version: OmemoVersion; malformed: string };

/** The `<encrypted/>` of a message, OMEMO 2 first when it carries both; undefined when it has none. */
export function findEncrypted(message: Element): FoundEncrypted | undefined {
  for (const version of VERSIONS) {
    const element = message.getChild('encrypted', namespaceOf(version));
    if (!element) continue;
    try {
      return { version, encrypted: parseEncrypted(version, element) };
    } catch (error) {
      if (error instanceof OmemoXmlError) return { version, malformed: error.message };
      throw error;
    }
  }
  return undefined;
}

/** An empty OMEMO message (no payload, no body): kept by the server like a message, shown by no one. */
export function emptyMessage(to: string, id: string, encrypted: Element): Element {
  return xml('message', { type: 'chat', to, id }, encrypted, xml('store', { xmlns: NS_HINTS }));
}

/**
 * What OMEMO 2 carries inside the SCE envelope beside the body (XEP-0420: every element meant
 * for the recipient alone; QXmpp, Kaidan's library, reads corrections and reactions only there),
 * a reply's reference and the fallback marks that count characters of the body among them.
 * 0.3 encrypts a body and nothing else: a correction's `<replace/>` stays outside, as
 * Conversations, Gajim and Dino send it (it names an id, not what was said).
 */
const ENVELOPED = new Set([NS_CORRECT, NS_REACTIONS, NS_REPLY, NS_FALLBACK]);
const enveloped = (child: Element) => ENVELOPED.has(child.getNS() ?? '');

/** The elements an outgoing message encrypts: its body (when it has one), and in OMEMO 2 its relations. */
export function sealedContent(plain: Element, version: OmemoVersion): Element[] {
  const body = plain.getChild('body');
  return [...(body ? [bodyElement(body.text())] : []), ...(version === 'omemo2' ? plain.getChildElements().filter(enveloped) : [])];
}

/**
 * Turns an outgoing chat message into its encrypted form: what `sealedContent` took (and the
 * reply fallback markers, which count characters of that body) leaves the stanza, the
 * `<encrypted/>` and a fallback body take their place, with EME (XEP-0380) and a store hint
 * (XEP-0334) so servers keep it in offline storage and the archive although it has a body they
 * cannot read. A stanza without a body (a reaction) gets no fallback: a client without OMEMO 2
 * would show every reaction as a message it cannot read.
 */
export function encryptedStanza(plain: Element, version: OmemoVersion, encrypted: Element): Element {
  const hadBody = plain.getChild('body') !== undefined;
  const kept = plain.getChildElements().filter((child) => child.name !== 'body' && child.getNS() !== NS_FALLBACK && !(version === 'omemo2' && enveloped(child)));
  return xml(
    'message',
    { ...plain.attrs },
    encrypted,
    hadBody ? xml('body', {}, FALLBACK_BODY) : null,
    xml('encryption', { xmlns: NS_EME, namespace: namespaceOf(version), name: version === 'legacy' ? 'OMEMO' : 'OMEMO 2' }),
    xml('store', { xmlns: NS_HINTS }),
    ...kept,
  );
}
