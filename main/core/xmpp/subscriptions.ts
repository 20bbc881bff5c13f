// RFC 6121 §3 presence subscriptions: what others ask of us (a request to see our presence,
// or withdrawing it), and the presences we answer with. Blocking (XEP-0191) lives here too:
// it is how a request is refused for good.
import xml, { type Element } from '@xmpp/xml';
import { parseJid } from './jid';

export const NS_NICK = 'http://jabber.org/protocol/nick';
export const NS_BLOCKING = 'urn:xmpp:blocking';
/** XEP-0377: a report riding on a block, where the server advertises this in disco#info. */
export const NS_REPORTING = 'urn:xmpp:reporting:1';
const REPORT_SPAM = 'urn:xmpp:reporting:spam';

const MAX_NICK = 200;
const MAX_STATUS = 1000;

export type SubscriptionPresence =
  | { kind: 'request'; from: string; nick?: string; status?: string }
  /** They withdrew their request (or stopped following us); a pending request goes. */
  | { kind: 'withdrawn'; from: string }
  /** Answers to our own requests: the roster push that follows carries the outcome. */
  | { kind: 'answer' }
  | { kind: 'rejected'; reason: string };

const SUBSCRIPTION_TYPES = new Set(['subscribe', 'unsubscribe', 'subscribed', 'unsubscribed']);

export function isSubscriptionPresence(stanza: Element): boolean {
  return stanza.is('presence') && SUBSCRIPTION_TYPES.has(stanza.attrs.type ?? '');
}

function text(value: string | undefined | null, max: number): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed.slice(0, max) : undefined;
}

/** Parses a subscription presence (see `isSubscriptionPresence`). */
export function parseSubscriptionPresence(stanza: Element, ownBareJid: string): SubscriptionPresence {
  const from = parseJid(stanza.attrs.from);
  if (!from) return { kind: 'rejected', reason: 'subscription presence without a valid sender' };
  // Servers stamp requests with the bare JID; a full one is read as its account.
  if (from.bare === ownBareJid) return { kind: 'rejected', reason: 'subscription presence from our own account' };
  switch (stanza.attrs.type) {
    case 'subscribe': {
      const nick = text(stanza.getChildText('nick', NS_NICK), MAX_NICK);
      const status = text(stanza.getChildText('status'), MAX_STATUS);
      return { kind: 'request', from: from.bare, ...(nick ? { nick } : {}), ...(status ? { status } : {}) };
    }
    case 'unsubscribe':
      return { kind: 'withdrawn', from: from.bare };
    default:
      return { kind: 'answer' };
  }
}

export const subscriptionPresence = (to: string, type: 'subscribe' | 'subscribed' | 'unsubscribed') => xml('presence', { to, type });

/** XEP-0191: block all communication with each of `jids`, in one request; `reportSpam` adds a XEP-0377 spam report to each. */
export const blockQuery = (jids: string | readonly string[], reportSpam = false) =>
  xml(
    'block',
    { xmlns: NS_BLOCKING },
    ...[jids].flat().map((jid) => xml('item', { jid }, ...(reportSpam ? [xml('report', { xmlns: NS_REPORTING, reason: REPORT_SPAM })] : []))),
  );

/** XEP-0191 §3.1: the request for our block list. */
export const blocklistQuery = () => xml('blocklist', { xmlns: NS_BLOCKING });

/** XEP-0191 §3.4: lets `jids` reach us again. */
export const unblockQuery = (jids: string | readonly string[]) =>
  xml('unblock', { xmlns: NS_BLOCKING }, ...[jids].flat().map((jid) => xml('item', { jid })));

/** The blocked JIDs of a `<blocklist/>` answer, each valid one once, sorted; anything else is left out. */
export function parseBlocklist(blocklist: Element | undefined): string[] {
  const jids = new Set<string>();
  for (const item of blocklist?.getChildren('item') ?? []) {
    const jid = parseJid(item.attrs.jid);
    // A blocked item may be a bare JID, a full JID or a domain (XEP-0191 §3.1); we show what was blocked.
    if (jid) jids.add(jid.full);
  }
  return [...jids].sort();
}
