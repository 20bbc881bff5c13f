// RFC 6121 roster: parse results and pushes (both only from our own account), with roster
// versioning (XEP-0237, folded into RFC 6121 §2.6), and the requests that read and edit it.
import xml, { type Element } from '@xmpp/xml';
import type { RosterItem } from '../archive/archive';
import { bareJid, parseJid } from './jid';

export const NS_ROSTER = 'jabber:iq:roster';
/** Stream feature: the server answers a roster get carrying our version with "unchanged". */
export const NS_ROSTER_VER = 'urn:xmpp:features:rosterver';

export type Rejection = { kind: 'rejected'; reason: string };
/** `ver`: the roster version after this change, when the server versions the roster. */
export type RosterChange = ({ kind: 'set'; item: RosterItem } | { kind: 'remove'; jid: string }) & { ver?: string };
export type RosterResult =
  | { kind: 'full'; items: RosterItem[]; ver?: string }
  /** An empty result to a versioned get: the roster we hold is current; pushes bring what changed. */
  | { kind: 'unchanged' }
  | Rejection;

const SUBSCRIPTIONS = new Set(['none', 'to', 'from', 'both']);

function parseItem(item: Element): RosterChange | null {
  const jid = bareJid(item.attrs.jid);
  if (!jid) return null;
  const subscription = item.attrs.subscription ?? 'none';
  if (subscription === 'remove') return { kind: 'remove', jid };
  if (!SUBSCRIPTIONS.has(subscription)) return null;
  const groups = [...new Set(item.getChildren('group').map((g) => g.text().trim()).filter(Boolean))];
  const name = item.attrs.name?.trim();
  return {
    kind: 'set',
    item: {
      jid,
      ...(name ? { name } : {}),
      subscription: subscription as RosterItem['subscription'],
      groups,
      ...(item.attrs.ask === 'subscribe' ? { ask: true as const } : {}),
      ...(item.attrs.approved === 'true' ? { approved: true as const } : {}),
    },
  };
}

/**
 * Roster results and pushes come from our account: no `from`, or exactly our bare JID
 * (RFC 6121 §2.1.6). Not our full JID: no device of ours, real or forged, edits the roster.
 */
function fromOwnAccount(iq: Element, ownBareJid: string): boolean {
  const from = iq.attrs.from;
  if (from === undefined) return true;
  const jid = parseJid(from);
  return jid !== null && jid.resource === '' && jid.bare === ownBareJid;
}

/** A roster push from anyone but our account: to be ignored without an answer (RFC 6121 §2.1.6). */
export function isForeignRosterPush(iq: Element, ownBareJid: string): boolean {
  return iq.is('iq') && iq.attrs.type === 'set' && iq.getChild('query', NS_ROSTER) !== undefined && !fromOwnAccount(iq, ownBareJid);
}

function versionOf(query: Element): { ver?: string } {
  const ver = query.attrs.ver;
  return typeof ver === 'string' && ver !== '' ? { ver } : {};
}

/** The answer to our roster get (the whole `<iq/>`); malformed items are dropped, not fatal. */
export function parseRosterResult(iq: Element, ownBareJid: string): RosterResult {
  if (!fromOwnAccount(iq, ownBareJid)) return { kind: 'rejected', reason: `roster result from ${iq.attrs.from}` };
  const query = iq.getChild('query', NS_ROSTER);
  if (!query) return { kind: 'unchanged' };
  const items = query
    .getChildren('item')
    .map(parseItem)
    .flatMap((change) => (change?.kind === 'set' && change.item.jid !== ownBareJid ? [change.item] : []));
  return { kind: 'full', items, ...versionOf(query) };
}

/** A roster push; accepted only from our own account (RFC 6121 §2.1.6). */
export function parseRosterPush(iq: Element, ownBareJid: string): RosterChange | Rejection {
  if (!fromOwnAccount(iq, ownBareJid)) return { kind: 'rejected', reason: `roster push from ${iq.attrs.from}` };
  const query = iq.getChild('query', NS_ROSTER);
  const items = query?.getChildren('item') ?? [];
  if (!query || items.length !== 1) return { kind: 'rejected', reason: 'a roster push carries exactly one item' };
  const change = parseItem(items[0]!);
  if (!change) return { kind: 'rejected', reason: 'malformed roster item' };
  return { ...change, ...versionOf(query) };
}

/** The roster get; `ver` (possibly "" for "I keep a cache but have none yet") only where the server versions rosters. */
export const rosterQuery = (ver?: string) => xml('query', { xmlns: NS_ROSTER, ...(ver !== undefined ? { ver } : {}) });

/** Adds or edits an item; the server keeps its subscription state. */
export const rosterSetQuery = (item: { jid: string; name?: string; groups: string[] }) =>
  xml(
    'query',
    { xmlns: NS_ROSTER },
    xml('item', { jid: item.jid, ...(item.name ? { name: item.name } : {}) }, ...item.groups.map((group) => xml('group', {}, group))),
  );

/** Removes an item; the server also cancels the subscriptions both ways. */
export const rosterRemoveQuery = (jid: string) => xml('query', { xmlns: NS_ROSTER }, xml('item', { jid, subscription: 'remove' }));
