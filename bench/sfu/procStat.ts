/** CPU time and memory of a process and its threads, from /proc (Linux). */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  /* keep 100 */
}

/** utime + stime of a /proc/.../stat line, in ms. */
function cpuMsOfStat(text: string): number {
  // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return ((utime + stime) * 1000) / clkTck;
}

export interface ProcSample {
  /** Monotonic time of the sample, ms. */
  atMs: number;
  /** Process CPU (all threads, user + system), ms. */
  cpuMs: number;
  rssBytes: number;
  /** Per thread id: CPU ms. */
  threads: Map<number, number>;
}

export function sampleProc(pid: number): ProcSample {
  const atMs = Number(process.hrtime.bigint()) / 1e6;
  const cpuMs = cpuMsOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  const threads = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      threads.set(Number(tid), cpuMsOfStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')));
    } catch {
      /* thread ended */
    }
  }
  return { atMs, cpuMs, rssBytes: rssKb * 1024, threads };
}

export interface ProcDelta {
  wallMs: number;
  cpuMs: number;
  /** Threads by CPU used in the interval, busiest first: [tid, ms]. */
  threads: Array<[number, number]>;
}

export function procDelta(a: ProcSample, b: ProcSample): ProcDelta {
  const threads: Array<[number, number]> = [];
  for (const [tid, ms] of b.threads) threads.push([tid, ms - (a.threads.get(tid) ?? 0)]);
  threads.sort((x, y) => y[1] - x[1]);
  return { wallMs: b.atMs - a.atMs, cpuMs: b.cpuMs - a.cpuMs, threads };
}

/** Machine-wide busy jiffies (all CPUs), to see whether the two cores were saturated. */
export function sampleMachine(): { busy: number; total: number } {
  const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** Busy share between two machine samples, as % of one core (2 saturated cores = 200 %). */
export function machineBusyPct(a: { busy: number; total: number }, b: { busy: number; total: number }, cores: number): number {
  if (b.total <= a.total) return Number.NaN;
  return ((b.busy - a.busy) / (b.total - a.total)) * cores * 100;
}

/** Open file descriptors of a process (sockets included). */
export function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN;
  }
}
