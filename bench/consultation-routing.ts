/**
 * Consultation-routing benchmark: what a customer feels on the consultation path (REST start,
 * place in the queue, offer to an agent, accept → CONNECTING) and what it costs the server in
 * CPU per consultation — against, in the same run and on the same server build, seed 001's bare
 * call API (POST /api/v1/calls → /connect → /end: no queue, no sockets).
 *
 *   npm run bench:consult                                   (= tsx bench/consultation-routing.ts)
 *   npx tsx bench/consultation-routing.ts --n=100,500 --agents=20 --rate=50 --think=50 --hold=200
 *   npx tsx bench/consultation-routing.ts --n=1000 --modes=consult --profile=/tmp/consult-prof
 *
 * Processes: this one (orchestrator and every client: agents' consoles, customers' REST calls
 * and sockets) and, per (N, mode), a fresh Parley in its own process (bench/lib/serverProcess.ts,
 * the same loadConfig + createParley as `npm start`, in-memory SQLite) so its CPU is read
 * separately. Everything is on 127.0.0.1. See BENCHMARKS.md, "Consultation routing".
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConsultRig, runBaseline, type BaselineLoadResult, type ConsultLoadResult, type ErrorCounts, type LoadOptions } from './consult/load.js';
import { Child, killAll } from './lib/child.js';
import { busyPct, openFileLimit, sampleCpu, waitForQuiet } from './lib/machine.js';
import { benchOptions, intList, num } from './lib/options.js';
import type { FromServer, ServerStats, ToServer } from './lib/protocol.js';
import { fmt, fmtInt, percentile, sortedOf, table } from './lib/stats.js';
import { sampleProc } from './sfu/procStat.js';
import { formatProfile, summariseProfile, type ProfileSummary } from './sfu/profileSummary.js';

// ---------------------------------------------------------------------------------------------
// Options: argv (`100,500`, `--n=100,500`, `--agents=…`) override env (CONSULT_BENCH_*) override defaults.

const { flag, positional, opt: rawOpt } = benchOptions();
const opt = (name: string, def: string) => rawOpt(name, `CONSULT_BENCH_${name.toUpperCase().replace(/-/g, '_')}`, def);
type Mode = 'baseline' | 'consult';

const options = {
  ns: intList(positional || opt('n', '100,500,1000'), 'customer counts (--n)', 1, 20_000),
  agents: num(opt('agents', '20'), '--agents', 1, 500),
  /** Arrivals per second (customers in consult mode, calls in baseline mode). */
  rate: num(opt('rate', '50'), '--rate', 0.5, 2000),
  thinkMs: num(opt('think', '50'), '--think (ms)', 0, 60_000),
  holdMs: num(opt('hold', '200'), '--hold (ms)', 0, 600_000),
  notes: num(opt('notes', '0'), '--notes (0 or 1)', 0, 1) === 1,
  modes: opt('modes', 'baseline,consult').split(',').filter(Boolean) as Mode[],
  /** After the last consultation: wait this long before the CPU window closes (covers the customer grace). */
  settleMs: num(opt('settle', '1500'), '--settle (ms)', 0, 60_000),
  /** Idle window before each load: the server's CPU with nothing to do. */
  idleMs: num(opt('idle', '2000'), '--idle (ms)', 100, 60_000),
  /** Longest wait for one (N, mode) load; default N/rate + 60 s. */
  runTimeoutMs: flag('run-timeout') ?? process.env.CONSULT_BENCH_RUN_TIMEOUT,
  maxMinutes: num(opt('max-minutes', '10'), '--max-minutes', 1, 60),
  quietWaitMs: num(opt('quiet-wait', '15000'), '--quiet-wait (ms)', 0, 600_000),
  disturbedPct: num(opt('disturbed', '25'), '--disturbed (%)', 1, 1000),
  /** Parley's log level; logs are written (to /dev/null) so their cost counts when not silent. */
  logLevel: opt('log', 'silent'),
  /** 'memory' (default, as the other benchmarks) or 'file' (a WAL SQLite file in a temp dir, as `npm start`). */
  sqlite: opt('sqlite', 'memory'),
  /** Directory for a V8 CPU profile of each server's measured window (bench/lib/serverProcess.ts). */
  profileDir: flag('profile') ?? process.env.CONSULT_BENCH_PROFILE,
  json: flag('json') ?? process.env.CONSULT_BENCH_JSON,
};
if (options.modes.length === 0 || options.modes.some((m) => m !== 'baseline' && m !== 'consult')) throw new Error(`--modes: "baseline" and/or "consult" (got ${options.modes.join(',')})`);
if (options.sqlite !== 'memory' && options.sqlite !== 'file') throw new Error(`--sqlite: "memory" or "file" (got ${options.sqlite})`);
const runTimeoutFor = (n: number) => (options.runTimeoutMs !== undefined ? num(options.runTimeoutMs, '--run-timeout (ms)', 1000, 3_600_000) : (n / options.rate) * 1000 + 60_000);

/**
 * Parley's settings. Every client comes from 127.0.0.1, so the per-address limits are lifted:
 * RATE_LIMIT_MAX (REST requests per minute per address, default 300) and
 * CONSULT_STARTS_PER_MINUTE (default 10). CONSULT_CUSTOMER_GRACE_MS is shortened to 1 s so that
 * the server's check after a customer's page closes falls inside the measured window.
 * MEDIA_WORKERS=1: no media flows, one idle worker thread is enough. SOCKET_EVENTS_PER_SECOND
 * keeps its default (100 per socket): no socket comes near it.
 */
const parleyEnv: Record<string, string> = {
  LOG_LEVEL: options.logLevel,
  RATE_LIMIT_MAX: '1000000',
  CONSULT_STARTS_PER_MINUTE: '1000000',
  CONSULT_CUSTOMER_GRACE_MS: '1000',
  MEDIA_WORKERS: '1',
};

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const serverScript = here('./lib/serverProcess.ts');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const cores = cpus().length;

// ---------------------------------------------------------------------------------------------
// Limits: a hard overall timeout, children killed on the way out whatever happens.

const fdLimit = openFileLimit();
const maxN = Math.max(...options.ns);
if (fdLimit < maxN + options.agents + 256) {
  console.error(`open-file limit is ${fdLimit}; ${maxN} customers may need ${maxN + options.agents + 256} at once. Raise it first: ulimit -n ${(maxN + options.agents) * 2 + 1024}`);
  process.exit(1);
}
const startedAt = performance.now();
const hardDeadline = startedAt + options.maxMinutes * 60_000;
const scratchDirs: string[] = [];
const cleanup = () => {
  killAll();
  for (const d of scratchDirs) rmSync(d, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping the server process`);
    cleanup();
    process.exit(130);
  });
}
const watchdog = setTimeout(() => {
  console.error(`\nbenchmark exceeded its overall limit of ${options.maxMinutes} min; killing the server process`);
  cleanup();
  process.exit(2);
}, options.maxMinutes * 60_000 + 30_000);
watchdog.unref();

// ---------------------------------------------------------------------------------------------
// One run: a fresh server, one load, the server's CPU over the load.

interface Measured {
  server: ServerStats;
  /** Server CPU over the same window from /proc/<pid>/stat (cross-check; 10 ms ticks). */
  procCpuMs: number;
  /** This process (all clients) over the window. */
  clientCpuMs: number;
  /** Whole machine, tasks only (irq excluded), % of one core. */
  machinePct: number;
  irqPct: number;
  windowMs: number;
  setupMs: number;
  /** Server CPU while idle after the setup, ms per second. */
  idleCpuMsPerS: number;
  profile?: ProfileSummary;
}

type RunResult = { mode: 'consult'; n: number; load: ConsultLoadResult; m: Measured } | { mode: 'baseline'; n: number; load: BaselineLoadResult; m: Measured };

async function runOne(mode: Mode, n: number): Promise<RunResult> {
  const env = { ...parleyEnv };
  if (options.sqlite === 'file') {
    const dir = mkdtempSync(join(tmpdir(), 'parley-bench-consult-'));
    scratchDirs.push(dir);
    env.SQLITE_PATH = join(dir, 'parley.sqlite');
  }
  const server = new Child<ToServer, FromServer>(`parley server (${mode}, N=${n})`, serverScript, ['parley', JSON.stringify(env)], {
    quiet: true,
    env: options.profileDir ? { ...process.env, BENCH_SERVER_PROFILE: options.profileDir } : process.env,
  });
  let rig: ConsultRig | undefined;
  try {
    const { url } = await server.next('ready', 30_000);
    const setupStart = performance.now();
    if (mode === 'consult') rig = await ConsultRig.open(url, options.agents);
    const setupMs = performance.now() - setupStart;
    await sleep(500);
    // The server's idle cost (timers, webhook polling, idle consoles), to judge the fixed part of the figures below.
    // Not while profiling: starting the profiler is itself a burst of CPU.
    let idle: ServerStats | undefined;
    if (!options.profileDir) {
      server.send({ type: 'measure-start' });
      await sleep(options.idleMs);
      server.send({ type: 'measure-stop' });
      idle = (await server.next('measured', 30_000)).stats;
    }

    const deadline = Math.min(performance.now() + runTimeoutFor(n), hardDeadline - 20_000);
    const loadOptions: LoadOptions = { n, rate: options.rate, thinkMs: options.thinkMs, holdMs: options.holdMs, notes: options.notes, deadline };
    server.send({ type: 'measure-start' });
    const proc0 = sampleProc(server.pid);
    const cpu0 = sampleCpu();
    const cli0 = process.cpuUsage();
    const t0 = performance.now();
    const load = rig ? await rig.run(loadOptions) : await runBaseline(url, loadOptions);
    await sleep(options.settleMs);
    const cli = process.cpuUsage(cli0);
    const cpu1 = sampleCpu();
    const proc1 = sampleProc(server.pid);
    const windowMs = performance.now() - t0;
    server.send({ type: 'measure-stop' });
    const { stats } = await server.next('measured', 30_000);
    let profile: ProfileSummary | undefined;
    if (options.profileDir) {
      const file = join(options.profileDir, `parley-${server.pid}.cpuprofile`);
      try {
        profile = summariseProfile(file, undefined, 25);
      } catch (err) {
        console.error(`(could not read the profile ${file}: ${err instanceof Error ? err.message : String(err)})`);
      }
    }
    const m: Measured = {
      server: stats,
      procCpuMs: proc1.cpuMs - proc0.cpuMs,
      clientCpuMs: (cli.user + cli.system) / 1000,
      machinePct: busyPct(cpu0, cpu1, cores, 'task'),
      irqPct: busyPct(cpu0, cpu1, cores, 'irq'),
      windowMs,
      setupMs,
      idleCpuMsPerS: idle && idle.wallMs > 0 ? (idle.cpuMs / idle.wallMs) * 1000 : Number.NaN,
      profile,
    };
    return mode === 'consult' ? { mode, n, load: load as ConsultLoadResult, m } : { mode, n, load: load as BaselineLoadResult, m };
  } finally {
    rig?.close();
    await server.stop(15_000, { type: 'close' });
  }
}

// ---------------------------------------------------------------------------------------------
// Figures.

interface Pct {
  p50: number;
  p99: number;
  count: number;
}
const pct = (xs: Iterable<number | undefined>): Pct => {
  const s = sortedOf(xs);
  return { p50: percentile(s, 50), p99: percentile(s, 99), count: s.length };
};
const diff = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : a - b);

interface Common {
  n: number;
  launched: number;
  completed: number;
  errors: ErrorCounts;
  errorCount: number;
  serverCpuMs: number;
  procCpuMs: number;
  /** Server CPU per completed consultation / call, ms. */
  cpuPerItemMs: number;
  serverCpuPct: number;
  serverLoopP99Ms: number;
  serverRssMb: number;
  clientCpuPct: number;
  otherCpuPct: number;
  irqPct: number;
  disturbed: boolean;
  windowMs: number;
  loadWallMs: number;
  maxArrivalLagMs: number;
  setupMs: number;
  idleCpuMsPerS: number;
  /** CPU per item with the idle rate over the window taken off, ms. */
  cpuPerItemNetMs: number;
  rejectedSocketEvents: Record<string, number>;
  profile?: ProfileSummary;
}

interface ConsultFigures extends Common {
  mode: 'consult';
  post: Pct;
  toFirstStatus: Pct;
  toPosition: Pct;
  toOffer: Pct;
  acceptRtt: Pct;
  ackToConnecting: Pct;
  toEnded: Pct;
  customerMessages: number;
  customerMessagesMax: number;
  positionMessages: number;
  customerKb: number;
  agentMessages: Record<string, number>;
  agentMessagesTotal: number;
  agentKb: number;
  queueMax: number;
  queueMaxSeenByAgents: number;
  maxPositionSeen: number;
  endStatuses: Record<string, number>;
}

interface BaselineFigures extends Common {
  mode: 'baseline';
  post: Pct;
  connect: Pct;
  end: Pct;
}

type Figures = ConsultFigures | BaselineFigures;

function common(r: RunResult, completed: number): Common {
  const { m, load } = r;
  const errors = { ...load.errors };
  const rejected = Object.fromEntries(Object.entries(m.server.outcomes).filter(([k, v]) => !k.endsWith(':ok') && v > 0));
  for (const [k, v] of Object.entries(rejected)) errors[`server rejected socket event ${k}`] = v;
  const serverCpuPct = (m.server.cpuMs / m.server.wallMs) * 100;
  const clientCpuPct = (m.clientCpuMs / m.windowMs) * 100;
  const otherCpuPct = Math.max(0, m.machinePct - serverCpuPct - clientCpuPct);
  return {
    n: r.n,
    launched: load.launched,
    completed,
    errors,
    errorCount: Object.values(errors).reduce((s, v) => s + v, 0),
    serverCpuMs: m.server.cpuMs,
    procCpuMs: m.procCpuMs,
    cpuPerItemMs: completed > 0 ? m.server.cpuMs / completed : Number.NaN,
    serverCpuPct,
    serverLoopP99Ms: m.server.loopDelayP99Ms,
    serverRssMb: m.server.rssMb,
    clientCpuPct,
    otherCpuPct,
    irqPct: m.irqPct,
    disturbed: otherCpuPct > options.disturbedPct,
    windowMs: m.windowMs,
    loadWallMs: load.wallMs,
    maxArrivalLagMs: load.maxArrivalLagMs,
    setupMs: m.setupMs,
    idleCpuMsPerS: m.idleCpuMsPerS,
    cpuPerItemNetMs: completed > 0 ? (m.server.cpuMs - (m.idleCpuMsPerS * m.server.wallMs) / 1000) / completed : Number.NaN,
    rejectedSocketEvents: rejected,
    profile: m.profile,
  };
}

function figures(r: RunResult): Figures {
  if (r.mode === 'baseline') {
    const s = r.load.samples;
    const completed = s.filter((x) => x.tEnded !== undefined).length;
    return {
      mode: 'baseline',
      ...common(r, completed),
      post: pct(s.map((x) => diff(x.tCreated, x.t0))),
      connect: pct(s.map((x) => diff(x.tConnected, x.tCreated))),
      end: pct(s.map((x) => diff(x.tEnded, x.tConnected !== undefined ? x.tConnected + options.holdMs : undefined))),
    };
  }
  const l = r.load;
  const s = l.samples.filter((x) => x.t0 !== undefined);
  const completed = s.filter((x) => x.tEnded !== undefined && x.agentDone).length;
  const endStatuses: Record<string, number> = {};
  for (const x of s) {
    const k = `${x.endStatus ?? 'none'}${x.endCause ? ` (${x.endCause})` : ''}`;
    endStatuses[k] = (endStatuses[k] ?? 0) + 1;
  }
  const agentMessagesTotal = Object.values(l.agentMessages).reduce((a, b) => a + b, 0);
  return {
    mode: 'consult',
    ...common(r, completed),
    post: pct(s.map((x) => diff(x.tPost, x.t0))),
    toFirstStatus: pct(s.map((x) => diff(x.tFirstStatus, x.t0))),
    toPosition: pct(s.map((x) => diff(x.tPosition, x.t0))),
    toOffer: pct(s.map((x) => diff(x.tOffer, x.t0))),
    acceptRtt: pct(s.map((x) => diff(x.tAck, x.tAcceptSent))),
    ackToConnecting: pct(s.map((x) => diff(x.tConnecting, x.tAck))),
    toEnded: pct(s.map((x) => diff(x.tEnded, x.t0))),
    customerMessages: s.reduce((a, x) => a + x.customerMessages, 0),
    customerMessagesMax: s.reduce((a, x) => Math.max(a, x.customerMessages), 0),
    positionMessages: s.reduce((a, x) => a + x.positionMessages, 0),
    customerKb: s.reduce((a, x) => a + x.customerChars, 0) / 1024,
    agentMessages: l.agentMessages,
    agentMessagesTotal,
    agentKb: l.agentChars / 1024,
    queueMax: r.m.server.queueMax ?? Number.NaN,
    queueMaxSeenByAgents: l.queueMaxSeenByAgents,
    maxPositionSeen: l.maxPositionSeen,
    endStatuses,
  };
}

const pp = (p: Pct, d = 1) => `${fmt(p.p50, d)} / ${fmt(p.p99, d)}`;
const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? `${fmt(a / b, 2)}×` : '–');

function describeRun(f: Figures): string {
  const head = `${fmtInt(f.completed)}/${fmtInt(f.n)} done, ${f.errorCount} errors, server CPU ${fmt(f.cpuPerItemMs, 2)} ms per ${f.mode === 'consult' ? 'consultation' : 'call'} (${fmt(f.serverCpuPct, 0)} % of a core), other CPU ${fmt(f.otherCpuPct, 0)} %`;
  const tail =
    f.mode === 'consult'
      ? `POST p50 ${fmt(f.post.p50, 1)} ms, →position p50 ${fmt(f.toPosition.p50, 1)} ms, →offer p50 ${fmt(f.toOffer.p50, 1)} ms, max queue ${f.queueMax}`
      : `POST p50 ${fmt(f.post.p50, 1)} ms`;
  return `${head}; ${tail}; load ${fmt(f.loadWallMs / 1000, 1)} s${f.disturbed ? ' — DISTURBED by other load' : ''}`;
}

function gitDescription(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return `${head}${dirty ? ' (src/ modified)' : ' (src/ clean)'}`;
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const cpu = cpus();
  console.log(
    `consultation-routing benchmark — N ${options.ns.join('/')} arriving at ${options.rate}/s; ${options.agents} agents, think ${options.thinkMs} ms, ` +
      `hold ${options.holdMs} ms${options.notes ? ', note after each call' : ''}; modes ${options.modes.join(', ')}; limit ${options.maxMinutes} min`,
  );
  console.log(`machine: ${cpu.length} × ${cpu[0]?.model ?? '?'}, ${fmt(totalmem() / 2 ** 30, 1)} GiB, node ${process.version}, Linux ${release()}; parley ${gitDescription()}`);
  console.log(`parley env: ${Object.entries(parleyEnv).map(([k, v]) => `${k}=${v}`).join(' ')} SQLITE_PATH=${options.sqlite === 'memory' ? ':memory:' : '<temp file>'}\n`);
  if (options.profileDir) console.log(`(profiling the server's measured window into ${options.profileDir}: CPU figures include the profiler's overhead)\n`);

  const all: Figures[] = [];
  for (const n of options.ns) {
    for (const mode of options.modes) {
      if (performance.now() > hardDeadline - 30_000) {
        console.log(`N=${n} ${mode}: skipped, the time limit is near`);
        continue;
      }
      const waitStart = performance.now();
      const idle = await waitForQuiet(Math.min(options.quietWaitMs, Math.max(0, hardDeadline - performance.now() - 60_000)), options.disturbedPct, cores);
      const waited = performance.now() - waitStart;
      process.stdout.write(`N=${String(n).padEnd(5)} ${mode.padEnd(8)} … ${waited > 1500 ? `(waited ${fmt(waited / 1000, 0)} s for other load; machine busy ${fmt(idle, 0)} %) ` : ''}`);
      const f = figures(await runOne(mode, n));
      all.push(f);
      console.log(describeRun(f));
      if (f.errorCount > 0) console.log(`  ! errors: ${JSON.stringify(f.errors)}`);
      if (f.profile) console.log(formatProfile(f.profile, 15, 10).replace(/^/gm, '    '));
    }
  }

  const consults = all.filter((f): f is ConsultFigures => f.mode === 'consult');
  const baselines = all.filter((f): f is BaselineFigures => f.mode === 'baseline');
  const forN = <T extends Figures>(xs: T[], n: number) => xs.find((f) => f.n === n);

  if (consults.length > 0) {
    console.log(`\nConsultations, what the customer and the agent feel (${options.agents} agents; ms from the customer's POST unless said; p50 / p99):\n`);
    console.log(
      table(
        ['N', 'done', 'errors', 'POST 201', '→ 1st position', '→ offer at agent', 'accept RTT', 'accept ack → CONNECTING', '→ customer sees the end'],
        consults.map((f) => [
          String(f.n),
          fmtInt(f.completed),
          String(f.errorCount),
          pp(f.post),
          pp(f.toPosition) + (f.toPosition.count < f.launched ? ` (${f.toPosition.count})` : ''),
          pp(f.toOffer),
          pp(f.acceptRtt),
          pp(f.ackToConnecting),
          pp(f.toEnded, 0),
        ]),
      ),
    );
    console.log(`\nConsultations, server cost and fan-out:\n`);
    console.log(
      table(
        ['N', 'srv CPU ms / consult', 'net of idle', 'srv CPU %', 'srv idle ms/s', 'srv loop p99 ms', 'cust msgs (mean / max)', 'position msgs', 'agent msgs / consult', 'agent KB / consult', 'max queue', 'cli CPU %'],
        consults.map((f) => [
          String(f.n),
          fmt(f.cpuPerItemMs, 2),
          fmt(f.cpuPerItemNetMs, 2),
          fmt(f.serverCpuPct, 0),
          fmt(f.idleCpuMsPerS, 1),
          fmt(f.serverLoopP99Ms, 1),
          `${fmt(f.customerMessages / Math.max(1, f.launched), 1)} / ${f.customerMessagesMax}`,
          fmtInt(f.positionMessages),
          fmt(f.agentMessagesTotal / Math.max(1, f.completed), 1),
          fmt(f.agentKb / Math.max(1, f.completed), 1),
          String(f.queueMax),
          fmt(f.clientCpuPct, 0),
        ]),
      ),
    );
  }
  if (baselines.length > 0) {
    console.log(`\nBaseline: seed 001 call API (POST /api/v1/calls → /connect → hold ${options.holdMs} ms → /end; ms, p50 / p99):\n`);
    console.log(
      table(
        ['N', 'done', 'errors', 'POST 201', 'connect', 'end', 'srv CPU ms / call', 'net of idle', 'srv CPU %', 'srv idle ms/s', 'srv loop p99 ms', 'cli CPU %'],
        baselines.map((f) => [String(f.n), fmtInt(f.completed), String(f.errorCount), pp(f.post), pp(f.connect), pp(f.end), fmt(f.cpuPerItemMs, 2), fmt(f.cpuPerItemNetMs, 2), fmt(f.serverCpuPct, 0), fmt(f.idleCpuMsPerS, 1), fmt(f.serverLoopP99Ms, 1), fmt(f.clientCpuPct, 0)]),
      ),
    );
  }
  const pairs = options.ns.map((n) => ({ n, c: forN(consults, n), b: forN(baselines, n) })).filter((p) => p.c && p.b);
  if (pairs.length > 0) {
    console.log(`\nRatios, consultation ÷ baseline call:\n`);
    console.log(
      table(
        ['N', 'srv CPU per consultation ÷ per call', 'same, net of idle', 'POST p50', 'POST p99', 'srv CPU % (window)'],
        pairs.map(({ n, c, b }) => [String(n), ratio(c!.cpuPerItemMs, b!.cpuPerItemMs), ratio(c!.cpuPerItemNetMs, b!.cpuPerItemNetMs), ratio(c!.post.p50, b!.post.p50), ratio(c!.post.p99, b!.post.p99), ratio(c!.serverCpuPct, b!.serverCpuPct)]),
      ),
    );
  }
  console.log(
    `\n"→ 1st position": POST sent → the customer's first consultation:status with a position (POST + socket connect + first status);` +
      ` a count in parentheses = customers who got one (the others were accepted before their socket connected).\n` +
      `"accept ack → CONNECTING": the agent's consultation:accept ack → the customer's status CONNECTING (same clock; negative when the customer heard first).\n` +
      `"srv CPU": the server process (all threads, process.cpuUsage in the child) from the first arrival until ${options.settleMs} ms after the last call was over, ÷ completed;\n` +
      `"net of idle" takes off the server's idle rate (measured for ${options.idleMs} ms before each load, "srv idle ms/s") over that window.\n` +
      `"max queue": longest queue the server built for the agents' consoles (waiting calls, the ringing ones included). cli = this process (all clients).`,
  );
  for (const f of all) {
    const drift = Math.abs(f.procCpuMs - f.serverCpuMs);
    if (drift > Math.max(50, 0.1 * f.serverCpuMs)) console.log(`! N=${f.n} ${f.mode}: /proc says ${fmt(f.procCpuMs, 0)} ms of server CPU, the child ${fmt(f.serverCpuMs, 0)} ms`);
    if (f.disturbed) console.log(`! N=${f.n} ${f.mode}: other programs used ${fmt(f.otherCpuPct, 0)} % of a core during the run: figures are unreliable`);
    if (f.mode === 'consult' && Object.keys(f.endStatuses).length > 0) console.log(`  N=${f.n} consult: how calls ended for the customers: ${JSON.stringify(f.endStatuses)}`);
  }

  if (options.json) {
    writeFileSync(
      options.json,
      JSON.stringify({ options, parleyEnv, machine: { cpus: cpu.length, model: cpu[0]?.model, memGiB: totalmem() / 2 ** 30, node: process.version, parley: gitDescription() }, runs: all }, null, 2),
    );
    console.log(`\nresults written to ${options.json}`);
  }
  const errors = all.reduce((s, f) => s + f.errorCount, 0);
  console.log(`\ntotal ${fmt((performance.now() - startedAt) / 1000, 0)} s${errors > 0 ? `; ${errors} errors in all` : ''}`);
}

main()
  .then(() => {
    clearTimeout(watchdog);
    cleanup();
    process.exit(0);
  })
  .catch((err: unknown) => {
    console.error(`\nbenchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    cleanup();
    process.exit(1);
  });
