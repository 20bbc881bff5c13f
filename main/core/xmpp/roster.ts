// RFC 6121 roster: parse results and pushes (pushes only from our own account), and the
// request that fetches the roster.
import xml, { type Element } from '@xmpp/xml';
import type { RosterItem } from '../archive/archive';
import { bareJid } from './jid';

export const NS_ROSTER = 'jabber:iq:roster';

export type RosterChange = { kind: 'set'; item: RosterItem } | { kind: 'remove'; jid: string };
export type Rejection = { kind: 'rejected'; reason: string };

const SUBSCRIPTIONS = new Set(['none', 'to', 'from', 'both']);

function parseItem(item: Element): RosterChange | null {
  const jid = bareJid(item.attrs.jid);
  if (!jid) return null;
  const subscription = item.attrs.subscription ?? 'none';
  if (subscription === 'remove') return { kind: 'remove', jid };
  if (!SUBSCRIPTIONS.has(subscription)) return null;
  const groups = [...new Set(item.getChildren('group').map((g) => g.text().trim()).filter(Boolean))];
  const name = item.attrs.name?.trim();
  return { kind: 'set', item: { jid, ...(name ? { name } : {}), subscription: subscription as RosterItem['subscription'], groups } };
}

/** The roster from a result `<query/>`; malformed items are dropped, not fatal. */
export function parseRosterResult(query: Element | undefined): RosterItem[] {
  if (!query?.is('query', NS_ROSTER)) return [];
  return query
    .getChildren('item')
    .map(parseItem)
    .flatMap((change) => (change?.kind === 'set' ? [change.item] : []));
}

/** A roster push; accepted only from our own account (RFC 6121 §2.1.6). */
export function parseRosterPush(iq: Element, ownBareJid: string): RosterChange | Rejection {
  const from = iq.attrs.from;
  if (from !== undefined && bareJid(from) !== ownBareJid) return { kind: 'rejected', reason: `roster push from ${from}` };
  const items = iq.getChild('query', NS_ROSTER)?.getChildren('item') ?? [];
  if (items.length !== 1) return { kind: 'rejected', reason: 'a roster push carries exactly one item' };
  return parseItem(items[0]!) ?? { kind: 'rejected', reason: 'malformed roster item' };
}

export const rosterQuery = () => xml('query', { xmlns: NS_ROSTER });

/** True when `jid` may see our presence anyway: what they may learn about us beyond it is no news. */
export function seesOurPresence(roster: readonly RosterItem[], jid: string): boolean {
  const subscription = roster.find((item) => item.jid === jid)?.subscription;
  return subscription === 'from' || subscription === 'both';
}
