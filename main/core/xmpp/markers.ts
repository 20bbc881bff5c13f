// Displayed markers (XEP-0333): the element that asks for them, the marker we send when the
// user has seen a chat, and reading the id out of one that arrives. Which messages a marker
// may move is decided by the caller from who sent it (see features/markers.ts).
import xml, { type Element } from '@xmpp/xml';

export const NS_MARKERS = 'urn:xmpp:chat-markers:0';
export const NS_HINTS = 'urn:xmpp:hints';

/** The id a `<displayed/>` marker points at, if the message carries one. */
export function parseDisplayed(stanza: Element): string | undefined {
  const id = stanza.getChild('displayed', NS_MARKERS)?.attrs.id;
  return typeof id === 'string' && id !== '' && id.length <= 1024 ? id : undefined;
}

/**
 * "I have displayed everything up to `messageId`." Typed chat so the server copies it to my
 * other devices (XEP-0280), with a store hint so it reaches their archive too (XEP-0334).
 */
export function displayedMarker(to: string, id: string, messageId: string): Element {
  return xml(
    'message',
    { to, id, type: 'chat' },
    xml('displayed', { xmlns: NS_MARKERS, id: messageId }),
    xml('store', { xmlns: NS_HINTS }),
  );
}
