// The occupant list's data: batches applied by nick, rows grouped by role, and how few of a
// 5,000-person room's rows the virtual list puts on screen.
import { describe, expect, it } from 'vitest';
import type { OccupantView } from '../../preload/contract';
import { applyOccupants, occupantRows } from '../../renderer/src/lib/occupants';
import { rowOffsets, RowHeights, visibleRange } from '../../renderer/src/lib/virtual-list';

const occupant = (nick: string, role: OccupantView['role'] = 'participant'): OccupantView => ({ nick, role, affiliation: 'none', show: 'available' });
const batch = (changes: Partial<{ added: OccupantView[]; changed: OccupantView[]; removed: Array<{ nick: string; why: 'left' | 'nick-changed'; newNick?: string }> }>) => ({
  accountId: 'a1',
  room: 'lounge@conference.example.org',
  added: [],
  changed: [],
  removed: [],
  ...changes,
});

describe('applyOccupants', () => {
  it('adds, changes and removes by nick, leaving the old map as it was', () => {
    const before = new Map([['bob', occupant('bob')]]);
    const after = applyOccupants(before, batch({ added: [occupant('carol')], changed: [occupant('bob', 'moderator')] }));
    expect([...after.values()]).toEqual([occupant('bob', 'moderator'), occupant('carol')]);
    expect(before.get('bob')?.role).toBe('participant');
    // A nick change: the old nick goes, the new one comes in the same batch.
    const renamed = applyOccupants(after, batch({ removed: [{ nick: 'carol', why: 'nick-changed', newNick: 'caz' }], added: [occupant('caz')] }));
    expect([...renamed.keys()]).toEqual(['bob', 'caz']);
  });
});

describe('occupantRows', () => {
  it('groups moderators, participants, visitors, each by nick whatever the case, with counts; empty groups left out', () => {
    const rows = occupantRows([occupant('zed'), occupant('Amy'), occupant('mod', 'moderator'), occupant('bea')]);
    expect(rows.map((r) => (r.kind === 'heading' ? `${r.role}:${r.count}` : r.occupant.nick))).toEqual(['moderator:1', 'mod', 'participant:3', 'Amy', 'bea', 'zed']);
    expect(occupantRows([occupant('v', 'visitor')]).map((r) => (r.kind === 'heading' ? r.role : r.occupant.nick))).toEqual(['visitor', 'v']);
  });

  it('someone leaving (role none) stays with the participants until gone', () => {
    expect(occupantRows([occupant('gone', 'none')])[0]).toEqual({ kind: 'heading', role: 'participant', count: 1 });
  });

  it('a room of 5,000: a screenful of rows is rendered, wherever the reader scrolls', () => {
    const many = Array.from({ length: 5000 }, (_, i) => occupant(`user${i}`, i < 10 ? 'moderator' : i < 4900 ? 'participant' : 'visitor'));
    const rows = occupantRows(many);
    expect(rows).toHaveLength(5003);
    const offsets = rowOffsets(rows.map((_, i) => i), new RowHeights(36));
    for (const top of [0, 90_000, offsets[rows.length]! - 600]) {
      const { start, end } = visibleRange(offsets, top, 600, 360);
      expect(end - start).toBeLessThan(45);
      expect(start).toBeLessThanOrEqual(Math.floor(top / 36));
    }
  });
});
