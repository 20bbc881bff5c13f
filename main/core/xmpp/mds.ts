// Message displayed synchronization (XEP-0490): how far each chat has been read, kept as one
// item per chat in a private PEP node of our own account, so every device of ours agrees.
// Parsing checks origin: notifications count only from our own account, and a position only
// when it is a stanza-id our own archive assigned.
import xml, { type Element } from '@xmpp/xml';
import { parseJid } from './jid';
import { publishOptions } from './pubsub';

export const NS_MDS = 'urn:xmpp:mds:displayed:0';
const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
const NS_PUBSUB_EVENT = 'http://jabber.org/protocol/pubsub#event';
const NS_SID = 'urn:xmpp:sid:0';
/** PEP with publish-options (XEP-0223) is all the specification asks of the server. */
export const NS_PUBLISH_OPTIONS = 'http://jabber.org/protocol/pubsub#publish-options';

/** The chat with `peer` (a bare JID) was displayed up to the message our archive calls `stanzaId`. */
export type DisplayedPosition = { peer: string; stanzaId: string };

export type MdsEvent = { kind: 'positions'; positions: DisplayedPosition[] } | { kind: 'rejected'; reason: string };

function parseItems(items: Element, ownBareJid: string): DisplayedPosition[] {
  const positions: DisplayedPosition[] = [];
  for (const item of items.getChildren('item')) {
    const peer = parseJid(item.attrs.id);
    // Only one-to-one chats (bare JIDs) are ours to apply; room positions belong to group chats.
    if (!peer || peer.resource || peer.bare !== item.attrs.id) continue;
    const stanzaIds = item.getChild('displayed', NS_MDS)?.getChildren('stanza-id', NS_SID) ?? [];
    const own = stanzaIds.find((s) => s.attrs.by === ownBareJid && s.attrs.id);
    if (stanzaIds.length === 1 && own) positions.push({ peer: peer.bare, stanzaId: own.attrs.id! });
  }
  return positions;
}

/** True for a PEP notification about the displayed node, whoever sent it. */
export function isMdsEvent(stanza: Element): boolean {
  return stanza.is('message') && stanza.getChild('event', NS_PUBSUB_EVENT)?.getChild('items')?.attrs.node === NS_MDS;
}

/** A notification of our own PEP node: accepted only from our own account. */
export function parseMdsEvent(stanza: Element, ownBareJid: string): MdsEvent {
  const from = stanza.attrs.from;
  if (from !== undefined && from !== ownBareJid) return { kind: 'rejected', reason: `displayed positions from ${from}` };
  const items = stanza.getChild('event', NS_PUBSUB_EVENT)!.getChild('items')!;
  return { kind: 'positions', positions: parseItems(items, ownBareJid) };
}

/** The answer to `mdsItemsQuery` (the `<pubsub/>` child of the result). */
export function parseMdsItems(pubsub: Element | undefined, ownBareJid: string): DisplayedPosition[] {
  const items = pubsub?.getChild('items');
  return items?.attrs.node === NS_MDS ? parseItems(items, ownBareJid) : [];
}

export const mdsItemsQuery = () => xml('pubsub', { xmlns: NS_PUBSUB }, xml('items', { node: NS_MDS }));

/**
 * Publishes our position in one chat, in a node kept private, an item per chat, none sent
 * unasked (`publishToOwnPep` copes with a server that takes some of these only as the node's
 * configuration).
 */
export function mdsPublish(ownBareJid: string, position: DisplayedPosition): Element {
  return xml(
    'pubsub',
    { xmlns: NS_PUBSUB },
    xml(
      'publish',
      { node: NS_MDS },
      xml(
        'item',
        { id: position.peer },
        xml('displayed', { xmlns: NS_MDS }, xml('stanza-id', { xmlns: NS_SID, by: ownBareJid, id: position.stanzaId })),
      ),
    ),
    publishOptions({ persist_items: 'true', access_model: 'whitelist', max_items: 'max', send_last_published_item: 'never' }),
  );
}
