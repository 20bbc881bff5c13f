// Software version (XEP-0092): the answer we give, and to whom. The operating system is
// never included: it says more about the user than about the software.
import xml, { type Element } from '@xmpp/xml';
import { parseJid } from './jid';

export const NS_VERSION = 'jabber:iq:version';

export function versionAnswer(name: string, version: string): Element {
  return xml('query', { xmlns: NS_VERSION }, xml('name', {}, name), xml('version', {}, version));
}

/**
 * Who may learn which client we run: our own server and account, and whoever `hearsFromUs`
 * (contacts who see our presence, or whom we wrote to: features/audience.ts). Strangers get
 * service-unavailable, as if we did not support the protocol.
 */
export function mayAskVersion(from: string | undefined, own: { bare: string; domain: string }, hearsFromUs: (bare: string) => boolean): boolean {
  if (from === undefined) return true; // from our own server on our behalf
  const jid = parseJid(from);
  if (!jid) return false;
  if (jid.bare === own.bare || jid.full === own.domain) return true;
  return hearsFromUs(jid.bare);
}
