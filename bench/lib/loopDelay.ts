import type { IntervalHistogram } from 'node:perf_hooks';

/** Sampling period of perf_hooks.monitorEventLoopDelay in the benchmark processes. */
export const LOOP_RESOLUTION_MS = 10;

/**
 * Event-loop delay percentile in ms (100 = max). The histogram records the whole time between
 * two samples, i.e. the sampling period plus the delay; the period is taken off here.
 */
export function loopDelay(h: IntervalHistogram, p: number): number {
  if (h.count === 0) return 0;
  const ns = p >= 100 ? h.max : h.percentile(p);
  return Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
}
