/**
 * Signaling-relay benchmark: N socket.io clients in rooms of 2 relay seed-002 offer/answer/ICE
 * through Parley, and — in the same run, same load — through a bare Socket.IO server that
 * relays with `socket.to(to).emit(...)` and nothing else. Reports relay latency at the receiver
 * (p50/p99), delivered messages/s, lost messages, and the Parley/bare ratios.
 *
 *   npx tsx bench/signaling-relay.ts [N,N,...] [--rate=10] [--duration=10000] …
 *   BENCH_CLIENTS=100,500 npm run bench:signaling
 *
 * Processes: this orchestrator (idle most of the time) forks one server process per
 * (N, server) run and BENCH_CLIENT_PROCS client processes (default 1); see BENCHMARKS.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Child, killAll } from './lib/child.js';
import { busyPct, sampleCpu } from './lib/machine.js';
import type { ClientJob, ClientResult, FromClient, FromServer, ServerStats, Target, ToClient, ToServer } from './lib/protocol.js';
import { concatSorted, fmt, fmtInt, percentile, table } from './lib/stats.js';
import { benchOptions, intList as intListOf, num } from './lib/options.js';

// ---------------------------------------------------------------------------------------------
// Options: argv (`100,500` or `--clients=100,500`, `--rate=…`) override env (BENCH_*) override defaults.

const { flag, positional, opt } = benchOptions();
const intList = (s: string, what: string): number[] => intListOf(s, what, 2, 20_000, true);

const options = {
  clients: intList(positional || opt('clients', 'BENCH_CLIENTS', '100,500,1000'), 'client counts'),
  /** ICE messages per second per client. */
  rate: num(opt('rate', 'BENCH_RATE', '10'), 'rate', 0.1, 1000),
  warmupMs: num(opt('warmup', 'BENCH_WARMUP_MS', '2000'), 'warm-up ms', 0, 60_000),
  durationMs: num(opt('duration', 'BENCH_DURATION_MS', '10000'), 'duration ms', 500, 120_000),
  drainMs: num(opt('drain', 'BENCH_DRAIN_MS', '5000'), 'drain ms', 100, 60_000),
  clientProcs: num(opt('client-procs', 'BENCH_CLIENT_PROCS', '1'), 'client processes', 1, 16),
  connectConcurrency: num(opt('connect-concurrency', 'BENCH_CONNECT_CONCURRENCY', '50'), 'connect concurrency', 1, 1000),
  targets: opt('targets', 'BENCH_TARGETS', 'bare,parley')
    .split(',')
    .filter(Boolean) as Target[],
  /** Before each run, wait (at most this long) for the machine to be idle, since other programs would skew the figures. */
  quietWaitMs: num(opt('quiet-wait', 'BENCH_QUIET_WAIT_MS', '15000'), 'quiet wait ms', 0, 600_000),
  /**
   * Runs per (N, server), alternating bare/parley. Latency, rate and CPU figures are the median
   * over the runs that other programs did not disturb (all runs when every one was disturbed).
   */
  repeat: num(opt('repeat', 'BENCH_REPEAT', '1'), 'repeat', 1, 10),
  /** A run is "disturbed" when programs other than the server and clients used more than this (% of one core) during its window. */
  disturbedPct: num(opt('disturbed', 'BENCH_DISTURBED_PCT', '25'), 'disturbed threshold %', 1, 1000),
  json: flag('json') ?? process.env.BENCH_JSON,
};
if (options.targets.some((t) => t !== 'bare' && t !== 'parley')) throw new Error(`targets: "bare" and/or "parley" (got ${options.targets.join(',')})`);

/**
 * Parley's settings for the run. SOCKET_EVENTS_PER_SECOND is the per-socket token bucket of
 * its EventRouter (default 100/s): it is set far above the offered rate so it never rejects
 * anything — it is still consulted on every event, so its cost stays in the measurement.
 */
const parleyEnv: Record<string, string> = {
  LOG_LEVEL: 'silent',
  SOCKET_EVENTS_PER_SECOND: String(Math.max(100_000, Math.ceil(options.rate * 100))),
  RATE_LIMIT_MAX: '1000000',
};

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const serverScript = here('./lib/serverProcess.ts');
const clientScript = here('./lib/clientProcess.ts');

// ---------------------------------------------------------------------------------------------
// Environment checks.

function openFileLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === 'unlimited' ? Infinity : Number(soft);
  } catch {
    return Infinity;
  }
}

const maxClients = Math.max(...options.clients);
const fdLimit = openFileLimit();
// The server process holds one socket per client, and the (single) client process as many.
if (fdLimit < maxClients + 256) {
  console.error(`open-file limit is ${fdLimit}; ${maxClients} clients need at least ${maxClients + 256}. Raise it first: ulimit -n ${maxClients * 2 + 1024}`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// Children bookkeeping: everything forked is stopped on the way out, whatever happens.

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping children`);
    killAll();
    process.exit(130);
  });
}
const perRunBudgetMs = options.warmupMs + options.durationMs + options.drainMs + 120_000;
const watchdog = setTimeout(
  () => {
    console.error(`benchmark exceeded its overall time limit; killing children`);
    killAll();
    process.exit(2);
  },
  (perRunBudgetMs + options.quietWaitMs) * options.clients.length * options.targets.length * options.repeat,
);
watchdog.unref();

// ---------------------------------------------------------------------------------------------
// One run: one server, N clients, one stream.

interface RunResult {
  target: Target;
  n: number;
  connectMs: number;
  joinMs: number;
  handshake: Float64Array;
  server: ServerStats;
  clients: ClientResult[];
  latency: Float64Array;
  /** Whole-machine CPU running tasks during the window (interrupt work excluded), % of one core. */
  machineCpuPct: number;
  /** Whole-machine irq + softirq time during the window, % of one core. */
  machineIrqPct: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the machine has been nearly idle for one second (busy below the disturbance threshold), at most
 * `quietWaitMs`. Returns the busy % of the last second sampled.
 */
async function waitForQuiet(): Promise<number> {
  const deadline = performance.now() + options.quietWaitMs;
  for (;;) {
    const a = sampleCpu();
    await sleep(1000);
    const busy = busyPct(a, sampleCpu(), cpus().length, 'task');
    if (!(busy >= options.disturbedPct) || performance.now() >= deadline) return busy;
  }
}

async function runOne(target: Target, n: number, runId: string): Promise<RunResult> {
  const server = new Child<ToServer, FromServer>(`${target} server`, serverScript, [target, JSON.stringify(parleyEnv)]);
  const clients: Array<Child<ToClient, FromClient>> = [];
  try {
    const { url } = await server.next('ready', 30_000);

    const pairs = n / 2;
    const procs = Math.min(options.clientProcs, pairs);
    let firstPair = 0;
    const jobs: ClientJob[] = [];
    for (let i = 0; i < procs; i++) {
      const count = Math.floor(pairs / procs) + (i < pairs % procs ? 1 : 0);
      jobs.push({
        url,
        target,
        firstPair,
        pairs: count,
        rate: options.rate,
        warmupMs: options.warmupMs,
        durationMs: options.durationMs,
        drainMs: options.drainMs,
        connectConcurrency: Math.max(1, Math.round(options.connectConcurrency / procs)),
        runId,
      });
      firstPair += count;
    }
    for (let i = 0; i < procs; i++) {
      const c = new Child<ToClient, FromClient>(`clients#${i}`, clientScript, []);
      clients.push(c);
    }

    const all = <T extends FromClient['type']>(type: T, timeoutMs: number) => Promise.all(clients.map((c) => c.next(type, timeoutMs)));

    let t = performance.now();
    clients.forEach((c, i) => c.send({ type: 'connect', job: jobs[i]! }));
    await all('connected', 60_000);
    const connectMs = performance.now() - t;

    t = performance.now();
    clients.forEach((c) => c.send({ type: 'join' }));
    await all('joined', 60_000);
    const joinMs = performance.now() - t;

    clients.forEach((c) => c.send({ type: 'negotiate' }));
    const negotiated = await all('negotiated', 60_000);

    // Let the handshake traffic settle so the stream starts from a quiet server.
    await sleep(500);
    clients.forEach((c) => c.send({ type: 'stream' }));
    const results = all('result', options.warmupMs + options.durationMs + options.drainMs + 30_000);
    await sleep(options.warmupMs);
    server.send({ type: 'measure-start' });
    const cpuBefore = sampleCpu();
    await sleep(options.durationMs);
    const cpuAfter = sampleCpu();
    server.send({ type: 'measure-stop' });
    const { stats } = await server.next('measured', 30_000);
    const clientResults = (await results).map((m) => m.result);

    return {
      target,
      n,
      connectMs,
      joinMs,
      handshake: concatSorted(negotiated.map((m) => m.handshakeMs)),
      server: stats,
      clients: clientResults,
      latency: concatSorted(clientResults.map((r) => r.latencyMs)),
      machineCpuPct: busyPct(cpuBefore, cpuAfter, cpus().length, 'task'),
      machineIrqPct: busyPct(cpuBefore, cpuAfter, cpus().length, 'irq'),
    };
  } finally {
    await Promise.all(clients.map((c) => c.stop(10_000, { type: 'close' })));
    await server.stop(15_000, { type: 'close' });
  }
}

// ---------------------------------------------------------------------------------------------
// Summaries.

/** Figures of one run. */
interface Figures {
  sent: number;
  delivered: number;
  lost: number;
  msgsPerSec: number;
  p50: number;
  p99: number;
  max: number;
  serverCpuPct: number;
  /** Server CPU time per delivered message (one relay hop: receive, handle, send), µs. */
  serverUsPerMsg: number;
  serverLoopP99: number;
  clientCpuPct: number;
  clientLoopP99: number;
  /** Machine CPU not used by the server and client processes (orchestrator, other programs), % of one core; interrupt time excluded. */
  otherCpuPct: number;
  /** irq + softirq time of the machine (loopback TCP work, not charged to the processes), % of one core. */
  irqCpuPct: number;
  maxSendLagMs: number;
  handshakeP50: number;
  handshakeP99: number;
  connectMs: number;
  serverRssMb: number;
}

interface RunRecord extends Figures {
  target: Target;
  n: number;
  repeat: number;
  disturbed: boolean;
  serverErrors: Record<string, number>;
  disconnects: number;
  duplicates: number;
  outOfOrder: number;
  misrouted: number;
  relayed: number;
  outcomes: Record<string, number>;
}

function record(r: RunResult, repeat: number): RunRecord {
  const sum = (f: (c: ClientResult) => number) => r.clients.reduce((s, c) => s + f(c), 0);
  const sent = sum((c) => c.sentWindow);
  const delivered = sum((c) => c.receivedWindow);
  const errors: Record<string, number> = {};
  for (const c of r.clients) for (const [k, v] of Object.entries(c.serverErrors)) errors[k] = (errors[k] ?? 0) + v;
  const serverCpuPct = (r.server.cpuMs / r.server.wallMs) * 100;
  const clientCpuPct = (sum((c) => c.cpuMs) / options.durationMs) * 100;
  const otherCpuPct = Math.max(0, r.machineCpuPct - serverCpuPct - clientCpuPct);
  const msgsPerSec = sum((c) => c.arrivedDuringWindow) / (options.durationMs / 1000);
  return {
    target: r.target,
    n: r.n,
    repeat,
    sent,
    delivered,
    lost: sent - delivered,
    msgsPerSec,
    p50: percentile(r.latency, 50),
    p99: percentile(r.latency, 99),
    max: r.latency.length > 0 ? r.latency[r.latency.length - 1]! : Number.NaN,
    serverCpuPct,
    serverUsPerMsg: msgsPerSec > 0 ? (serverCpuPct / 100) * 1e6 / msgsPerSec : Number.NaN,
    serverLoopP99: r.server.loopDelayP99Ms,
    clientCpuPct,
    clientLoopP99: Math.max(...r.clients.map((c) => c.loopDelayP99Ms)),
    otherCpuPct,
    irqCpuPct: r.machineIrqPct,
    disturbed: otherCpuPct > options.disturbedPct,
    maxSendLagMs: Math.max(...r.clients.map((c) => c.maxSendLagMs)),
    handshakeP50: percentile(r.handshake, 50),
    handshakeP99: percentile(r.handshake, 99),
    connectMs: r.connectMs,
    serverRssMb: r.server.rssMb,
    serverErrors: errors,
    disconnects: sum((c) => c.disconnects),
    duplicates: sum((c) => c.duplicates),
    outOfOrder: sum((c) => c.outOfOrder),
    misrouted: sum((c) => c.misrouted),
    relayed: r.server.relayed,
    outcomes: r.server.outcomes,
  };
}

interface Summary extends Figures {
  target: Target;
  n: number;
  runs: number;
  /** Runs the medians come from (undisturbed ones, or all when none was). */
  used: number;
}

function median(xs: number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Counts add up over every run (so no loss hides); everything else is the median over the used runs. */
function summarize(runs: RunRecord[]): Summary {
  const clean = runs.filter((r) => !r.disturbed);
  const used = clean.length > 0 ? clean : runs;
  const med = (k: keyof Figures) => median(used.map((r) => r[k]));
  const total = (k: 'sent' | 'delivered' | 'lost') => runs.reduce((s, r) => s + r[k], 0);
  return {
    target: runs[0]!.target,
    n: runs[0]!.n,
    runs: runs.length,
    used: used.length,
    sent: total('sent'),
    delivered: total('delivered'),
    lost: total('lost'),
    msgsPerSec: med('msgsPerSec'),
    p50: med('p50'),
    p99: med('p99'),
    max: med('max'),
    serverCpuPct: med('serverCpuPct'),
    serverUsPerMsg: med('serverUsPerMsg'),
    serverLoopP99: med('serverLoopP99'),
    clientCpuPct: med('clientCpuPct'),
    clientLoopP99: med('clientLoopP99'),
    otherCpuPct: med('otherCpuPct'),
    irqCpuPct: med('irqCpuPct'),
    maxSendLagMs: med('maxSendLagMs'),
    handshakeP50: med('handshakeP50'),
    handshakeP99: med('handshakeP99'),
    connectMs: med('connectMs'),
    serverRssMb: med('serverRssMb'),
  };
}

const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? `${fmt(a / b, 2)}×` : '–');

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const cpu = cpus();
  console.log(
    `signaling-relay benchmark — clients ${options.clients.join('/')} in rooms of 2, ${options.rate} ICE msg/s per client, ` +
      `${options.warmupMs / 1000} s warm-up + ${options.durationMs / 1000} s measured, drain ≤ ${options.drainMs / 1000} s, ` +
      `${options.repeat} run(s) per server and N, ${options.clientProcs} client process(es)`,
  );
  console.log(`machine: ${cpu.length} × ${cpu[0]?.model ?? '?'}, ${fmt(totalmem() / 2 ** 30, 1)} GiB, node ${process.version}, open-file limit ${fdLimit}`);
  console.log(`parley env: ${Object.entries(parleyEnv).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);

  const records: RunRecord[] = [];
  const runId = Date.now().toString(36);
  for (const n of options.clients) {
    for (let rep = 0; rep < options.repeat; rep++) {
      // Alternate the order so that neither server always runs first.
      const order = rep % 2 === 0 ? options.targets : [...options.targets].reverse();
      for (const target of order) {
        const waitStart = performance.now();
        const idle = await waitForQuiet();
        const waited = performance.now() - waitStart;
        process.stdout.write(
          `N=${n} ${target.padEnd(6)} run ${rep + 1}/${options.repeat} … ` +
            (waited > 1500 ? `(waited ${fmt(waited / 1000, 0)} s for other load to pass; machine busy ${fmt(idle, 0)} %) ` : ''),
        );
        const started = performance.now();
        const r = record(await runOne(target, n, `${runId}-${n}-${target}-${rep}`), rep);
        records.push(r);
        const notes = [
          r.lost > 0 ? `${r.lost} lost` : '',
          Object.keys(r.serverErrors).length > 0 ? `server errors ${JSON.stringify(r.serverErrors)}` : '',
          r.disconnects > 0 ? `${r.disconnects} disconnects` : '',
          r.duplicates + r.outOfOrder + r.misrouted > 0 ? `dup ${r.duplicates} / reordered ${r.outOfOrder} / misrouted ${r.misrouted}` : '',
          r.disturbed ? 'DISTURBED by other load' : '',
        ].filter(Boolean);
        console.log(
          `p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms, ${fmtInt(r.msgsPerSec)} msg/s, server CPU ${fmt(r.serverCpuPct, 0)} %, ` +
            `other CPU ${fmt(r.otherCpuPct, 0)} %, connect ${fmt(r.connectMs / 1000, 1)} s (${fmt((performance.now() - started) / 1000, 1)} s)` +
            (notes.length ? ' — ' + notes.join('; ') : ''),
        );
      }
    }
  }

  const summaries: Summary[] = [];
  for (const n of options.clients) {
    for (const target of options.targets) {
      const runs = records.filter((r) => r.n === n && r.target === target);
      if (runs.length > 0) summaries.push(summarize(runs));
    }
  }

  console.log(
    `\nRelay latency at the receiver (ICE candidates sent in the measured window)` +
      (options.repeat > 1 ? '; figures are medians over the undisturbed runs, counts are totals over all runs' : '') +
      ':\n',
  );
  const rows: string[][] = [];
  for (const n of options.clients) {
    const bare = summaries.find((s) => s.n === n && s.target === 'bare');
    const parley = summaries.find((s) => s.n === n && s.target === 'parley');
    for (const s of [bare, parley]) {
      if (!s) continue;
      rows.push([
        String(n),
        s.target,
        `${s.used}/${s.runs}`,
        fmtInt(s.sent),
        fmtInt(s.delivered),
        fmtInt(s.lost),
        fmtInt(s.msgsPerSec),
        fmt(s.p50),
        fmt(s.p99),
        fmt(s.max, 1),
        fmt(s.handshakeP50, 1),
        fmt(s.serverCpuPct, 0),
        fmt(s.serverUsPerMsg, 1),
        fmt(s.serverLoopP99, 1),
        fmt(s.clientCpuPct, 0),
        fmt(s.otherCpuPct, 0),
        fmt(s.irqCpuPct, 0),
      ]);
    }
    if (bare && parley) {
      rows.push([
        String(n),
        'parley/bare',
        '',
        '',
        '',
        '',
        ratio(parley.msgsPerSec, bare.msgsPerSec),
        ratio(parley.p50, bare.p50),
        ratio(parley.p99, bare.p99),
        '',
        ratio(parley.handshakeP50, bare.handshakeP50),
        ratio(parley.serverCpuPct, bare.serverCpuPct),
        ratio(parley.serverUsPerMsg, bare.serverUsPerMsg),
        '',
        '',
        '',
        '',
      ]);
    }
  }
  console.log(
    table(
      ['N', 'server', 'runs', 'sent', 'delivered', 'lost', 'msgs/s', 'p50 ms', 'p99 ms', 'max ms', 'offer→answer p50 ms', 'srv CPU %', 'srv µs/msg', 'srv loop p99 ms', 'cli CPU %', 'other CPU %', 'irq %'],
      rows,
      2,
    ),
  );
  console.log(
    `\nruns: used/made (a run is left out when other programs took > ${options.disturbedPct} % of a core during its window, unless all were).\n` +
      `CPU % is of one core (this machine has ${cpu.length}) over the measured window; "srv µs/msg" is server CPU time per delivered message;\n` +
      `"srv loop p99" is the server's event-loop delay; ` +
      `"other CPU %" is machine-wide busy time not used by the server and client processes (orchestrator, anything else running;\n` +
      `interrupt/softirq time, i.e. the kernel's loopback TCP work, is left out of it and shown as "irq %").`,
  );

  for (const s of summaries.filter((x) => x.otherCpuPct > options.disturbedPct)) {
    console.log(`! N=${s.n} ${s.target}: every run was disturbed by other load (median ${fmt(s.otherCpuPct, 0)} % of a core): figures are unreliable`);
  }
  for (const r of records) {
    if (r.lost > 0 || Object.keys(r.serverErrors).length > 0 || r.disconnects > 0 || r.misrouted > 0 || r.duplicates > 0) {
      console.log(`! N=${r.n} ${r.target} run ${r.repeat + 1}: lost ${r.lost}, server errors ${JSON.stringify(r.serverErrors)}, disconnects ${r.disconnects}, duplicates ${r.duplicates}, misrouted ${r.misrouted}`);
    }
    const rejected = Object.entries(r.outcomes).filter(([k, v]) => !k.endsWith(':ok') && v > 0);
    if (rejected.length > 0) console.log(`! N=${r.n} parley run ${r.repeat + 1} rejected events: ${JSON.stringify(Object.fromEntries(rejected))}`);
  }

  if (options.json) {
    writeFileSync(
      options.json,
      JSON.stringify({ options, parleyEnv, machine: { cpus: cpu.length, model: cpu[0]?.model, memGiB: totalmem() / 2 ** 30, node: process.version }, summaries, runs: records }, null, 2),
    );
    console.log(`\nresults written to ${options.json}`);
  }
}

main()
  .then(() => {
    clearTimeout(watchdog);
    process.exitCode = 0;
  })
  .catch((err: unknown) => {
    console.error(`\nbenchmark failed: ${err instanceof Error ? err.message : String(err)}`);
    killAll();
    process.exitCode = 1;
  });
