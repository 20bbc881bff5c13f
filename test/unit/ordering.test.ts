import { describe, expect, it } from 'vitest';
import { ArchiveOrder } from '../../main/core/features/ordering';
import type { MessageRecord } from '../../main/core/archive/archive';

const record = (sender: string, ts: number): MessageRecord => ({ peer: 'bob@x', direction: 'in', sender, body: '', ts, state: 'received' });

describe('ArchiveOrder', () => {
  it('keeps a new message after the one the archive put before it, even with a coarser stamp', () => {
    const order = new ArchiveOrder(0);
    // b-20 arrived live at 10.600 s; b-21 comes from the archive stamped 10 s (whole seconds).
    order.stored(record('bob@x', 10_600), 10_600);
    const b21 = record('bob@x', 10_000);
    expect(order.place(b21)).toBe(10_600);
  });

  it('keeps a new message before one it precedes in the archive', () => {
    const order = new ArchiveOrder(0);
    // a-0 (stamp 16 s) precedes a-1, which arrived live at 16.442 s and is already held.
    const a0 = record('alice@x', 16_000);
    const at = order.place(a0);
    order.stored(a0, at);
    expect(at).toBeLessThan(16_442);
  });

  it('never places anything before where the previous catch-up ended, and tracks senders apart', () => {
    const order = new ArchiveOrder(50_000);
    expect(order.place(record('bob@x', 40_000))).toBe(50_000);
    order.stored(record('bob@x', 0), 70_000);
    expect(order.place(record('carol@x', 60_000))).toBe(60_000);
  });
});
