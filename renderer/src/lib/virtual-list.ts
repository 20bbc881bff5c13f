// The arithmetic of a virtual list with rows of different heights: where each row starts,
// which rows a viewport shows, and where to scroll so that the row the reader is looking at
// stays put when rows above it change (older ones put above, a row measured at last).
// Pure: the component does the DOM part.

/** Heights of the rows by key, measured once a row was on screen; the estimate until then. */
export class RowHeights {
  readonly #measured = new Map<number, number>();
  constructor(readonly estimate: number) {}

  get(key: number): number {
    return this.#measured.get(key) ?? this.estimate;
  }

  /** Records a measured height; true when it changed. */
  set(key: number, height: number): boolean {
    if (this.#measured.get(key) === height) return false;
    this.#measured.set(key, height);
    return true;
  }
}

/** offsets[i] is the top of row i; offsets[n] the total height. */
export function rowOffsets(keys: readonly number[], heights: RowHeights): Float64Array {
  const offsets = new Float64Array(keys.length + 1);
  for (let i = 0; i < keys.length; i++) offsets[i + 1] = offsets[i]! + heights.get(keys[i]!);
  return offsets;
}

/** The row under `y` (clamped to the rows there are): binary search over the offsets. */
export function rowAt(offsets: Float64Array, y: number): number {
  const n = offsets.length - 1;
  if (n <= 0) return 0;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid]! <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Rows to put in the DOM: those overlapping [top, top + height] and `overscan` px either side.
 * `end` is exclusive.
 */
export function visibleRange(offsets: Float64Array, top: number, height: number, overscan: number): { start: number; end: number } {
  const n = offsets.length - 1;
  if (n <= 0) return { start: 0, end: 0 };
  const start = rowAt(offsets, Math.max(0, top - overscan));
  const end = Math.min(n, rowAt(offsets, top + height + overscan) + 1);
  return { start, end };
}

/** Where the reader is: the row at the top of the viewport and how far into it they are. */
export type Anchor = { key: number; offset: number };

export function anchorAt(keys: readonly number[], offsets: Float64Array, scrollTop: number): Anchor | undefined {
  if (keys.length === 0) return undefined;
  const i = rowAt(offsets, scrollTop);
  return { key: keys[i]!, offset: scrollTop - offsets[i]! };
}

/** The scrollTop that shows `anchor` where it was, or undefined when its row is gone. */
export function scrollTopFor(anchor: Anchor, keys: readonly number[], offsets: Float64Array, index?: Map<number, number>): number | undefined {
  const i = index ? index.get(anchor.key) : keys.indexOf(anchor.key);
  if (i === undefined || i < 0) return undefined;
  return offsets[i]! + anchor.offset;
}
