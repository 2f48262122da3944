/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function, optionally
 * only for the samples inside a time window given on the same monotonic clock (V8's profile
 * timestamps are CLOCK_MONOTONIC µs on Linux, as is process.hrtime), so that the setup of the
 * peers (DTLS handshakes) can be left out and only the steady forwarding is summarised.
 *
 * CLI: tsx bench/sfu/profileSummary.ts <file.cpuprofile> [fromUs toUs] [top]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  /** Where: package or file and line. */
  where: string;
  selfMs: number;
  pct: number;
}

export interface ProfileSummary {
  file: string;
  /** Sampled time inside the window, ms. */
  totalMs: number;
  /** Sampled time not idle (program + GC), ms. */
  busyMs: number;
  top: ProfileEntry[];
  /** Total (inclusive) time per function: itself and everything it called (recursion counted once). */
  topTotal: ProfileEntry[];
  /** Self time per area (package or Parley module), descending. */
  byArea: Array<{ area: string; selfMs: number; pct: number }>;
}

function shortUrl(url: string): string {
  if (!url) return '';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return u.slice(nm + '/node_modules/'.length);
  // Parley's modules, from the sources or from the build (bench:sfu runs dist/ by default): src/….
  const src = u.search(/\/(src|dist)\//);
  if (src >= 0) return `src/${u.slice(src + 1).replace(/^(src|dist)\//, '')}`;
  if (u.startsWith('node:')) return u;
  return u.split('/').slice(-2).join('/');
}

function areaOf(url: string, fn: string): string {
  if (!url) {
    if (fn === '(garbage collector)') return '(garbage collector)';
    if (fn === '(idle)' || fn === '(program)') return fn;
    return '(native / V8 builtins)';
  }
  const s = shortUrl(url);
  if (s.startsWith('node:')) {
    const parts = s.replace(/^node:/, '').split(/[/:]/);
    return `node core (${parts[0] === 'internal' ? (parts[1] ?? 'internal') : parts[0]})`;
  }
  if (s.startsWith('werift/lib/')) {
    const parts = s.split('/');
    return `werift ${parts[2] ?? ''}${parts[3] && !parts[3].endsWith('.js') ? `/${parts[3]}` : ''}`;
  }
  if (s.startsWith('src/')) return `Parley ${s.replace(/\.[tj]s$/, '')}`;
  const pkg = s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!;
  return pkg;
}

export function summariseProfile(file: string, window?: { fromUs: number; toUs: number }, topN = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const self = new Map<number, number>();
  let t = profile.startTime;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (window && (t < window.fromUs || t > window.toUs)) continue;
    // Attribute the interval that ends at this sample to it (as DevTools does, close enough).
    const next = profile.timeDeltas[i + 1] ?? dt;
    self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + next);
    total += next;
  }
  const perFn = new Map<string, { name: string; where: string; us: number }>();
  const perArea = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    const name = functionName || '(anonymous)';
    if (name === '(idle)') idle += us;
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const e = perFn.get(key) ?? { name, where, us: 0 };
    e.us += us;
    perFn.set(key, e);
    const area = areaOf(url, name);
    perArea.set(area, (perArea.get(area) ?? 0) + us);
  }
  const busy = total - idle;
  // Inclusive time: per node self + descendants; per function, count only the outermost frame.
  const nodeTotal = new Map<number, number>();
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const roots = profile.nodes.filter((n) => !parentOf.has(n.id));
  const keyOf = (n: ProfileNode): string => {
    const { functionName, url, lineNumber } = n.callFrame;
    return `${functionName || '(anonymous)'}@${url ? `${shortUrl(url)}:${lineNumber + 1}` : ''}`;
  };
  const totalOf = (id: number): number => {
    // Iterative post-order (deep stacks would overflow a recursive walk).
    const order: number[] = [];
    const stack = [id];
    while (stack.length) {
      const x = stack.pop()!;
      order.push(x);
      for (const c of byId.get(x)?.children ?? []) stack.push(c);
    }
    for (let i = order.length - 1; i >= 0; i--) {
      const x = order[i]!;
      let t = self.get(x) ?? 0;
      for (const c of byId.get(x)?.children ?? []) t += nodeTotal.get(c) ?? 0;
      nodeTotal.set(x, t);
    }
    return nodeTotal.get(id) ?? 0;
  };
  for (const r of roots) totalOf(r.id);
  const inclusive = new Map<string, { name: string; where: string; us: number }>();
  const walk: Array<{ id: number; onStack: Set<string> }> = roots.map((r) => ({ id: r.id, onStack: new Set<string>() }));
  while (walk.length) {
    const { id, onStack } = walk.pop()!;
    const n = byId.get(id)!;
    const key = keyOf(n);
    let next = onStack;
    if (!onStack.has(key)) {
      const [name, where] = key.split('@') as [string, string];
      const e = inclusive.get(key) ?? { name, where, us: 0 };
      e.us += nodeTotal.get(id) ?? 0;
      inclusive.set(key, e);
      next = new Set(onStack).add(key);
    }
    for (const c of n.children ?? []) walk.push({ id: c, onStack: next });
  }
  const topTotal = [...inclusive.values()]
    .filter((e) => !['(root)', '(idle)', '(program)', '(garbage collector)'].includes(e.name) && e.us > 0)
    .sort((a, b) => b.us - a.us)
    .slice(0, topN)
    .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, pct: busy > 0 ? (e.us / busy) * 100 : 0 }));
  const top = [...perFn.values()]
    .filter((e) => e.name !== '(idle)')
    .sort((a, b) => b.us - a.us)
    .slice(0, topN)
    .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, pct: busy > 0 ? (e.us / busy) * 100 : 0 }));
  const byArea = [...perArea.entries()]
    .filter(([a]) => a !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .map(([area, us]) => ({ area, selfMs: us / 1000, pct: busy > 0 ? (us / busy) * 100 : 0 }));
  return { file, totalMs: total / 1000, busyMs: busy / 1000, top, topTotal, byArea };
}

export function formatProfile(s: ProfileSummary, topN = 25, areas = 15): string {
  const lines: string[] = [];
  lines.push(`${s.file}: ${s.busyMs.toFixed(0)} ms busy of ${s.totalMs.toFixed(0)} ms sampled`);
  lines.push('  self time by area:');
  for (const a of s.byArea.slice(0, areas)) lines.push(`    ${a.pct.toFixed(1).padStart(5)} %  ${a.selfMs.toFixed(0).padStart(7)} ms  ${a.area}`);
  lines.push('  top functions by self time:');
  for (const e of s.top.slice(0, topN)) lines.push(`    ${e.pct.toFixed(1).padStart(5)} %  ${e.selfMs.toFixed(0).padStart(7)} ms  ${e.name}  ${e.where}`);
  lines.push('  top functions by total time (self + callees):');
  for (const e of s.topTotal.slice(0, topN)) lines.push(`    ${e.pct.toFixed(1).padStart(5)} %  ${e.selfMs.toFixed(0).padStart(7)} ms  ${e.name}  ${e.where}`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, from, to, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: profileSummary.ts <file.cpuprofile> [fromUs toUs] [top]\n');
    process.exit(2);
  }
  const window = from && to ? { fromUs: Number(from), toUs: Number(to) } : undefined;
  const n = Number(top ?? 25);
  process.stdout.write(`${formatProfile(summariseProfile(file, window, n), n)}\n`);
}
