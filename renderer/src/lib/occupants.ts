// A room's occupants as the window holds them: batches of changes applied to a Map by nick,
// and the occupant list's rows, grouped by role. Pure.
import type { EventPayloads, OccupantView } from '../../../preload/contract';
import { compareNames } from './format';

/** Applies one batch of occupant changes to a room's occupants by nick (a new Map). */
export function applyOccupants(current: ReadonlyMap<string, OccupantView>, batch: EventPayloads['room.occupants']): Map<string, OccupantView> {
  const next = new Map(current);
  for (const gone of batch.removed) next.delete(gone.nick);
  for (const o of [...batch.added, ...batch.changed]) next.set(o.nick, o);
  return next;
}

const ROLE_ORDER = ['moderator', 'participant', 'visitor'] as const;
type OccupantGroup = (typeof ROLE_ORDER)[number];

/** A row of the occupant list: a role's heading or an occupant under it. */
export type OccupantRow = { kind: 'heading'; role: OccupantGroup; count: number } | { kind: 'occupant'; occupant: OccupantView };

/** The occupant list as rows: moderators, participants, visitors, each by nick; empty groups left out. */
export function occupantRows(occupants: Iterable<OccupantView>): OccupantRow[] {
  const groups: Record<OccupantGroup, OccupantView[]> = { moderator: [], participant: [], visitor: [] };
  // Role none only lasts while someone leaves; they are shown with the participants until gone.
  for (const o of occupants) groups[o.role === 'none' ? 'participant' : o.role].push(o);
  const rows: OccupantRow[] = [];
  for (const role of ROLE_ORDER) {
    const list = groups[role];
    if (list.length === 0) continue;
    list.sort((a, b) => compareNames(a.nick, b.nick));
    rows.push({ kind: 'heading', role, count: list.length });
    for (const occupant of list) rows.push({ kind: 'occupant', occupant });
  }
  return rows;
}
