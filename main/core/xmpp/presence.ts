// RFC 6121 presence: parse a presence stanza, and keep contacts' presence per resource so
// the shown presence is the best of their online devices.
import xml, { type Element } from '@xmpp/xml';
import type { PresenceShow } from '../../../preload/contract';
import { parseJid } from './jid';

export type PresenceUpdate = {
  kind: 'available' | 'unavailable';
  bare: string;
  resource: string;
  show: Exclude<PresenceShow, 'offline'>;
  status?: string;
  priority: number;
};
export type SubscriptionRequest = { kind: 'subscribe'; bare: string };
export type Ignored = { kind: 'ignored'; reason: string };

const SHOWS = new Set(['chat', 'away', 'xa', 'dnd']);

export function parsePresence(stanza: Element): PresenceUpdate | SubscriptionRequest | Ignored {
  const from = parseJid(stanza.attrs.from);
  if (!from) return { kind: 'ignored', reason: 'presence without a valid sender' };
  const type = stanza.attrs.type;
  if (type === 'subscribe') return { kind: 'subscribe', bare: from.bare };
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
  };
}

const SHOW_RANK: Record<PresenceUpdate['show'], number> = { chat: 4, available: 3, away: 2, xa: 1, dnd: 0 };

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

  best(bare: string): { show: PresenceShow; status?: string } {
    const resources = [...(this.byContact.get(bare)?.values() ?? [])];
    const top = resources.sort((a, b) => b.priority - a.priority || SHOW_RANK[b.show] - SHOW_RANK[a.show])[0];
    if (!top) return { show: 'offline' };
    return { show: top.show, ...(top.status ? { status: top.status } : {}) };
  }

  clear(): void {
    this.byContact.clear();
  }
}

export const availablePresence = (children: Element[] = []) => xml('presence', {}, ...children);
