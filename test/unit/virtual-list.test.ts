// The virtual list's arithmetic: offsets, the rows a viewport shows, and the anchor that keeps
// the reader's row in place when rows above it change.
import { describe, expect, it } from 'vitest';
import { anchorAt, rowAt, rowOffsets, RowHeights, scrollTopFor, visibleRange } from '../../renderer/src/lib/virtual-list';

const keys = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('virtual list', () => {
  it('stacks measured heights and estimates the rest', () => {
    const heights = new RowHeights(40);
    heights.set(2, 100);
    expect(Array.from(rowOffsets([1, 2, 3], heights))).toEqual([0, 40, 140, 180]);
    expect(heights.set(2, 100)).toBe(false);
    expect(heights.set(2, 90)).toBe(true);
  });

  it('finds the row under a point, clamped to the rows there are', () => {
    const offsets = rowOffsets(keys(0, 10), new RowHeights(50));
    expect(rowAt(offsets, 0)).toBe(0);
    expect(rowAt(offsets, 49.9)).toBe(0);
    expect(rowAt(offsets, 50)).toBe(1);
    expect(rowAt(offsets, -100)).toBe(0);
    expect(rowAt(offsets, 10_000)).toBe(9);
    expect(rowAt(rowOffsets([], new RowHeights(50)), 10)).toBe(0);
  });

  it('renders the rows in view and the overscan, however long the list', () => {
    const offsets = rowOffsets(keys(0, 100_000), new RowHeights(50));
    const { start, end } = visibleRange(offsets, 2_500_000, 800, 600);
    expect(start).toBe((2_500_000 - 600) / 50);
    expect(end).toBe((2_500_000 + 800 + 600) / 50 + 1);
    expect(end - start).toBeLessThan(60);
    expect(visibleRange(offsets, 4_999_900, 800, 600).end).toBe(100_000);
  });

  it('keeps the reader on the same row when older rows are put above', () => {
    const heights = new RowHeights(50);
    const before = keys(1000, 1100);
    const offsetsBefore = rowOffsets(before, heights);
    const anchor = anchorAt(before, offsetsBefore, 1234)!;
    expect(anchor).toEqual({ key: 1024, offset: 34 });
    const after = keys(900, 1100); // a page of 100 older rows, one of them tall
    heights.set(950, 400);
    const top = scrollTopFor(anchor, after, rowOffsets(after, heights))!;
    expect(top).toBe(100 * 50 + 350 + 1234);
  });

  it('keeps the reader on the same row when a row above is measured', () => {
    const heights = new RowHeights(50);
    const list = keys(0, 20);
    const anchor = anchorAt(list, rowOffsets(list, heights), 520)!;
    heights.set(3, 250);
    const index = new Map(list.map((k, i) => [k, i]));
    expect(scrollTopFor(anchor, list, rowOffsets(list, heights), index)).toBe(720);
    expect(scrollTopFor({ key: 999, offset: 0 }, list, rowOffsets(list, heights), index)).toBeUndefined();
  });
});
