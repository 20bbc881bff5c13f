// RFC 6121 presence: parse a contact's availability (with XEP-0319 idle time), keep it per
// resource so the shown presence is the best of their online devices, and build our own.
import xml, { type Element } from '@xmpp/xml';
import type { OwnPresence, PresenceShow } from '../../../preload/contract';
import { parseJid } from './jid';

export const NS_IDLE = 'urn:xmpp:idle:1';

export type PresenceUpdate = {
  kind: 'available' | 'unavailable';
  bare: string;
  resource: string;
  show: Exclude<PresenceShow, 'offline'>;
  status?: string;
  priority: number;
  /** ms since epoch: when that device went idle (XEP-0319). */
  idleSince?: number;
};
export type Ignored = { kind: 'ignored'; reason: string };

const SHOWS = new Set(['chat', 'away', 'xa', 'dnd']);
/** XEP-0082 DateTime: a date, a time, optional fractions, and a zone (Z or ±hh:mm). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** When the sender's device went idle; a future time (their clock runs ahead) counts as now. */
function parseIdle(stanza: Element, now: number): { idleSince?: number } {
  const since = stanza.getChild('idle', NS_IDLE)?.attrs.since;
  if (typeof since !== 'string' || !DATE_TIME.test(since)) return {};
  const ts = Date.parse(since);
  return Number.isFinite(ts) ? { idleSince: Math.min(ts, now) } : {};
}

/** Availability only: subscription presences are parsed in subscriptions.ts. */
export function parsePresence(stanza: Element, options: { now: number }): PresenceUpdate | Ignored {
  const from = parseJid(stanza.attrs.from);
  if (!from) return { kind: 'ignored', reason: 'presence without a valid sender' };
  const type = stanza.attrs.type;
  if (type !== undefined && type !== 'unavailable') return { kind: 'ignored', reason: `presence type ${type}` };
  const showText = stanza.getChildText('show') ?? '';
  const status = stanza.getChildText('status')?.trim();
  const priority = Number.parseInt(stanza.getChildText('priority') ?? '0', 10);
  return {
    kind: type === 'unavailable' ? 'unavailable' : 'available',
    bare: from.bare,
    resource: from.resource,
    show: SHOWS.has(showText) ? (showText as PresenceUpdate['show']) : 'available',
    ...(status ? { status } : {}),
    priority: Number.isFinite(priority) ? Math.max(-128, Math.min(127, priority)) : 0,
    ...(type === 'unavailable' ? {} : parseIdle(stanza, options.now)),
  };
}

const SHOW_RANK: Record<PresenceUpdate['show'], number> = { chat: 4, available: 3, away: 2, xa: 1, dnd: 0 };

/** An active device before an idle one; of two idle ones, the one used last. */
function byActivity(a: PresenceUpdate, b: PresenceUpdate): number {
  if (a.idleSince === undefined || b.idleSince === undefined) return Number(a.idleSince !== undefined) - Number(b.idleSince !== undefined);
  return b.idleSince - a.idleSince;
}

/** Presence per contact and resource; `best` picks what the UI shows. */
export class PresenceBook {
  private readonly byContact = new Map<string, Map<string, PresenceUpdate>>();

  apply(update: PresenceUpdate): void {
    const resources = this.byContact.get(update.bare) ?? new Map<string, PresenceUpdate>();
    if (update.kind === 'unavailable') resources.delete(update.resource);
    else resources.set(update.resource, update);
    if (resources.size) this.byContact.set(update.bare, resources);
    else this.byContact.delete(update.bare);
  }

  best(bare: string): { show: PresenceShow; status?: string; idleSince?: number } {
    const resources = [...(this.byContact.get(bare)?.values() ?? [])];
    const top = resources.sort((a, b) => b.priority - a.priority || SHOW_RANK[b.show] - SHOW_RANK[a.show] || byActivity(a, b))[0];
    if (!top) return { show: 'offline' };
    return { show: top.show, ...(top.status ? { status: top.status } : {}), ...(top.idleSince !== undefined ? { idleSince: top.idleSince } : {}) };
  }

  clear(): void {
    this.byContact.clear();
  }
}

/** Our broadcast presence: no `<show/>` means available; `children` carry extensions such as caps. */
export const ownPresence = (presence: OwnPresence, children: Element[] = []) =>
  xml(
    'presence',
    {},
    ...(presence.show === 'available' ? [] : [xml('show', {}, presence.show)]),
    ...(presence.status ? [xml('status', {}, presence.status)] : []),
    ...children,
  );
