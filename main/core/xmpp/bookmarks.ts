// Room bookmarks: PEP native bookmarks (XEP-0402, one item per room, live notifications)
// and, read only, the legacy private-storage bookmarks (XEP-0048 over XEP-0049) of servers
// that have nothing else. Origin check: a bookmark notification counts only from our own
// bare JID (our PEP service); anyone else pushing one is trying to make us join a room.
import xml, { type Element } from '@xmpp/xml';
import { parseJid } from './jid';
import { publishOptions } from './pubsub';

export const NS_BOOKMARKS = 'urn:xmpp:bookmarks:1';
const NS_LEGACY = 'storage:bookmarks';
const NS_PRIVATE = 'jabber:iq:private';
const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
const NS_PUBSUB_EVENT = `${NS_PUBSUB}#event`;

export type Bookmark = { jid: string; name?: string; autojoin: boolean; nick?: string; password?: string };

function conference(jid: string | undefined, el: Element | undefined): Bookmark | undefined {
  const room = parseJid(jid);
  if (!room || room.resource || !room.local || !el) return undefined;
  const name = el.attrs.name?.trim();
  const nick = el.getChildText('nick')?.trim();
  const password = el.getChildText('password') ?? undefined;
  return {
    jid: room.bare,
    ...(name ? { name: name.slice(0, 200) } : {}),
    autojoin: el.attrs.autojoin === 'true' || el.attrs.autojoin === '1',
    ...(nick ? { nick: nick.slice(0, 200) } : {}),
    ...(password ? { password } : {}),
  };
}

function itemBookmark(item: Element): Bookmark | undefined {
  return conference(item.attrs.id, item.getChild('conference', NS_BOOKMARKS));
}

/** The items of a fetch of our bookmarks node. */
export function parseBookmarkItems(pubsub: Element | undefined): Bookmark[] {
  const items = pubsub?.getChild('items');
  if (items?.attrs.node !== NS_BOOKMARKS) return [];
  return items.getChildren('item').flatMap((item) => itemBookmark(item) ?? []);
}

export type BookmarkNotification =
  | { kind: 'bookmarks'; set: Bookmark[]; removed: string[] }
  | { kind: 'ignored'; reason: string }
  | { kind: 'rejected'; reason: string };

/** A PEP notification about our bookmarks; only from our own bare JID (or our server on its behalf, without `from`). */
export function parseBookmarkNotification(stanza: Element, ownBareJid: string): BookmarkNotification {
  const items = stanza.getChild('event', NS_PUBSUB_EVENT)?.getChild('items');
  if (!items || items.attrs.node !== NS_BOOKMARKS) return { kind: 'ignored', reason: 'not about bookmarks' };
  const from = stanza.attrs.from;
  if (from !== undefined && from !== ownBareJid) return { kind: 'rejected', reason: `a bookmark notification from ${from}` };
  const set = items.getChildren('item').flatMap((item) => itemBookmark(item) ?? []);
  const removed = items.getChildren('retract').flatMap((r) => parseJid(r.attrs.id)?.bare ?? []);
  return { kind: 'bookmarks', set, removed };
}

/** The legacy bookmarks (XEP-0048) from private storage. */
export function parseLegacyBookmarks(query: Element | undefined): Bookmark[] {
  const storage = query?.getChild('storage', NS_LEGACY);
  return (storage?.getChildren('conference') ?? []).flatMap((c) => conference(c.attrs.jid, c) ?? []);
}

export function fetchBookmarks(): Element {
  return xml('pubsub', { xmlns: NS_PUBSUB }, xml('items', { node: NS_BOOKMARKS }));
}

export function fetchLegacyBookmarks(): Element {
  return xml('query', { xmlns: NS_PRIVATE }, xml('storage', { xmlns: NS_LEGACY }));
}

/** Publishes one bookmark with the access model and persistence XEP-0402 §3.2 requires. */
export function publishBookmark(bookmark: Bookmark): Element {
  const { jid, name, autojoin, nick, password } = bookmark;
  return xml(
    'pubsub',
    { xmlns: NS_PUBSUB },
    xml(
      'publish',
      { node: NS_BOOKMARKS },
      xml(
        'item',
        { id: jid },
        xml(
          'conference',
          { xmlns: NS_BOOKMARKS, autojoin: autojoin ? 'true' : 'false', ...(name ? { name } : {}) },
          nick ? xml('nick', {}, nick) : null,
          password ? xml('password', {}, password) : null,
        ),
      ),
    ),
    publishOptions({ persist_items: 'true', max_items: 'max', send_last_published_item: 'never', access_model: 'whitelist' }),
  );
}

export function retractBookmark(jid: string): Element {
  return xml('pubsub', { xmlns: NS_PUBSUB }, xml('retract', { node: NS_BOOKMARKS, notify: 'true' }, xml('item', { id: jid })));
}
