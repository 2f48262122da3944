/** Machine-wide CPU use from /proc/stat, to notice other load sharing the cores with a run. */
import { readFileSync } from 'node:fs';

export interface CpuSample {
  /** user + nice + system + steal: time spent running tasks (any process) or stolen by the hypervisor. */
  task: number;
  /** irq + softirq: interrupt work, mostly loopback TCP processing for the benchmark's own packets. */
  irq: number;
  total: number;
}

/** Aggregate jiffies of all CPUs; undefined where /proc/stat does not exist. */
export function sampleCpu(): CpuSample | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest* are already inside user/nice)
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
    const task = user + nice + system + steal;
    return { task, irq: irq + softirq, total: task + irq + softirq + idle + iowait };
  } catch {
    return undefined;
  }
}

/** Busy time between two samples in "% of one core" (2 busy cores = 200 %). */
export function busyPct(a: CpuSample | undefined, b: CpuSample | undefined, cores: number, kind: 'task' | 'irq' | 'all' = 'all'): number {
  if (!a || !b || b.total <= a.total) return Number.NaN;
  const busy = (s: CpuSample) => (kind === 'task' ? s.task : kind === 'irq' ? s.irq : s.task + s.irq);
  return ((busy(b) - busy(a)) / (b.total - a.total)) * cores * 100;
}

/**
 * Waits until the machine has been nearly idle for one second (tasks busy below `thresholdPct`
 * of one core), at most `maxWaitMs`. Returns the busy % of the last second sampled.
 */
export async function waitForQuiet(maxWaitMs: number, thresholdPct: number, cores: number): Promise<number> {
  const deadline = performance.now() + maxWaitMs;
  for (;;) {
    const a = sampleCpu();
    await new Promise((r) => setTimeout(r, 1000));
    const busy = busyPct(a, sampleCpu(), cores, 'task');
    if (!(busy >= thresholdPct) || performance.now() >= deadline) return busy;
  }
}

/** The soft `Max open files` of this process (Infinity when unknown or unlimited). */
export function openFileLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === 'unlimited' || soft === undefined ? Infinity : Number(soft);
  } catch {
    return Infinity;
  }
}
