// A core's clock for tests that must show that nothing is scheduled to happen: instead of
// waiting to see that no retry comes, they count the timers still pending.
import { systemClock, type Clock } from '../../main/core/features/feature';

/** The system clock, counting the timers that are still pending (the account's retries). */
export function countingClock(): Clock & { pending(): number } {
  const pending = new Set<unknown>();
  return {
    ...systemClock,
    setTimeout(fn, ms) {
      const handle = systemClock.setTimeout(() => {
        pending.delete(handle);
        fn();
      }, ms);
      pending.add(handle);
      return handle;
    },
    clearTimeout(handle) {
      pending.delete(handle);
      systemClock.clearTimeout(handle);
    },
    pending: () => pending.size,
  };
}
