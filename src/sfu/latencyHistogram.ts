/**
 * A fixed-bucket histogram of durations in milliseconds, cheap enough for the forwarding path
 * (one array increment per sample, no allocation). Buckets are 0.1 ms wide below 20 ms and
 * 1 ms wide from there to 1 s; longer samples share the last bucket. The counts only grow, so
 * a reader takes two snapshots and subtracts them to get a window (bench/sfu-fanout.ts does).
 */
const FINE_MS = 20;
const FINE_BUCKETS = 200;
const COARSE_BUCKETS = 981;
export const HISTOGRAM_BUCKETS = FINE_BUCKETS + COARSE_BUCKETS;

export function bucketOf(ms: number): number {
  if (!(ms > 0)) return 0;
  if (ms < FINE_MS) return Math.floor(ms * 10);
  return FINE_BUCKETS + Math.min(COARSE_BUCKETS - 1, Math.floor(ms - FINE_MS));
}

/** The upper edge of a bucket, ms (what a percentile read from the counts reports). */
export function bucketUpperMs(bucket: number): number {
  return bucket < FINE_BUCKETS ? (bucket + 1) / 10 : FINE_MS + (bucket - FINE_BUCKETS) + 1;
}

export class LatencyHistogram {
  readonly counts = new Uint32Array(HISTOGRAM_BUCKETS);

  add(ms: number): void {
    this.counts[bucketOf(ms)]!++;
  }

  /** The non-empty buckets as [bucket, count] pairs (compact for IPC). */
  snapshot(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let b = 0; b < this.counts.length; b++) if (this.counts[b]! > 0) out.push([b, this.counts[b]!]);
    return out;
  }
}

/** Percentile `p` (0–100) of the samples between two snapshots, by bucket upper edge; NaN when empty. */
export function percentileBetween(before: Array<[number, number]> | undefined, after: Array<[number, number]>, p: number): number {
  const counts = new Map<number, number>();
  for (const [b, c] of after) counts.set(b, c);
  for (const [b, c] of before ?? []) counts.set(b, (counts.get(b) ?? 0) - c);
  const buckets = [...counts.entries()].filter(([, c]) => c > 0).sort((x, y) => x[0] - y[0]);
  const total = buckets.reduce((s, [, c]) => s + c, 0);
  if (total === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (const [b, c] of buckets) {
    seen += c;
    if (seen >= rank) return bucketUpperMs(b);
  }
  return bucketUpperMs(buckets[buckets.length - 1]![0]);
}
