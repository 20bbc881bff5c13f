// The host's event-loop stalls, asked for through its control endpoint by the benchmarks (the
// host stands in for Electron's main process). Measured only once someone asks: a host nobody
// benchmarks keeps no timer for it.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export type LoopStalls = { measuring: boolean; maxMs: number; p99Ms: number };

/** Each call answers the longest delays since the previous call, then starts over; the first starts measuring. */
export function loopStalls(): () => LoopStalls {
  let histogram: IntervalHistogram | undefined;
  return () => {
    if (!histogram) {
      histogram = monitorEventLoopDelay({ resolution: 5 });
      histogram.enable();
      return { measuring: false, maxMs: 0, p99Ms: 0 };
    }
    const stalls = { measuring: true, maxMs: histogram.max / 1e6, p99Ms: histogram.percentile(99) / 1e6 };
    histogram.reset();
    return stalls;
  };
}
