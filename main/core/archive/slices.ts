// Long archive jobs (deleting a conversation, exporting) run as a series of short synchronous
// slices with the event loop free in between. Each slice is sized from how long the last one
// took, so it stays near SLICE_TARGET_MS on a fast desktop and on a slow laptop alike.

/** What one slice should take: well inside a 16 ms frame, leaving room for everything else. */
export const SLICE_TARGET_MS = 5;
const MIN_SLICE = 10;
const MAX_SLICE = 5000;

/** The next slice size after one of `size` items took `elapsedMs`. */
export function nextSliceSize(size: number, elapsedMs: number, targetMs = SLICE_TARGET_MS): number {
  const scaled = elapsedMs <= 0 ? size * 2 : Math.round(size * Math.min(2, Math.max(0.25, targetMs / elapsedMs)));
  return Math.min(MAX_SLICE, Math.max(MIN_SLICE, scaled));
}

export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
