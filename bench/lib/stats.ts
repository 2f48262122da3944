/** Percentiles and table formatting for the benchmark report. */

/** Nearest-rank percentile of an ascending-sorted array; NaN when empty. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function concatSorted(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out.sort();
}

export function fmt(n: number, digits = 2): string {
  if (!Number.isFinite(n)) return '–';
  return n.toFixed(digits);
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A Markdown table with right-aligned numeric columns (left for the first `textColumns`). */
export function table(header: string[], rows: string[][], textColumns = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const cell = (s: string, i: number) => (i < textColumns ? s.padEnd(widths[i]!) : s.padStart(widths[i]!));
  const line = (r: string[]) => `| ${r.map(cell).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i < textColumns ? ':' : '-') + '-'.repeat(w) + (i < textColumns ? '-' : ':')).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** An ascending-sorted copy of plain numbers (NaN and undefined dropped), for `percentile`. */
export function sortedOf(xs: Iterable<number | undefined>): Float64Array {
  const out: number[] = [];
  for (const x of xs) if (x !== undefined && !Number.isNaN(x)) out.push(x);
  return Float64Array.from(out).sort();
}
