// Client state indication (XEP-0352): tell the server whether the user is looking, so it can
// hold back what is not urgent (presence updates, chat states) while the window is hidden.
import xml, { type Element } from '@xmpp/xml';

export const NS_CSI = 'urn:xmpp:csi:0';
const NS_STREAMS = 'http://etherx.jabber.org/streams';

/** Whether a `<stream:features/>` offers CSI; null for any other element. */
export function offersCsi(element: Element): boolean | null {
  if (!element.is('features', NS_STREAMS)) return null;
  return Boolean(element.getChild('csi', NS_CSI));
}

export const csiState = (active: boolean): Element => xml(active ? 'active' : 'inactive', { xmlns: NS_CSI });
