/**
 * SFU fan-out benchmark: one Opus publisher (50 packets/s) → N subscribers through Parley's
 * SFU (werift-based, `/voice` namespace, one media worker thread), and — in the same run —
 * through a plain UDP forwarder (Node dgram, no crypto, no WebRTC) as the physical-limit
 * baseline. N grows over a bounded list and stops when loss or CPU saturates.
 *
 *   npm run bench:sfu                       (= tsx bench/sfu-fanout.ts)
 *   npx tsx bench/sfu-fanout.ts --n=10,50,100,200 --window=10 --profile=100 --json=out.json
 *
 * Everything runs on 127.0.0.1 inside a private, loopback-only network namespace: when the
 * process sees any other interface it re-executes itself under `unshare -n` (or `unshare -rn`).
 *
 * Processes: this orchestrator (also the publisher: a werift RTCPeerConnection sending
 * pre-made Opus-sized RTP at 20 ms pacing), Parley (bench/sfu/server.ts = src/main.ts plus a
 * stats hook; MEDIA_WORKERS=1; run from the compiled build in dist/, made first, as `npm start`
 * runs Parley: see sfu/parleyBuild.ts and `--parley=tsx`), `--hosts` subscriber hosts (bench/sfu/subscriberHost.ts),
 * and for the baseline bench/sfu/udpForwarder.ts. See BENCHMARKS.md, "SFU fan-out".
 *
 * Per N it prints: the server process's CPU µs per forwarded packet (utime+stime from
 * /proc/<pid>/stat over the window ÷ N × packets published), the same for the media worker
 * thread alone, consumers per core (1e6 / µs / 50), RSS per peer, receive loss per subscriber,
 * one-way latency p50/p99 (publisher send → subscriber arrival, same monotonic clock, matched by
 * RTP timestamp through the IPC side channel), and the router's own packetsSent as a check.
 *
 * Parley's clients join with `audioLevels: false` (they show no meters; Janus sends no level
 * events by default); `--audio-levels=1` keeps the 250 ms `audio-levels` broadcast to each.
 */
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, networkInterfaces, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RtpHeader, RtpPacket } from 'werift';
import { Child, killAll } from './lib/child.js';
import { fdCount, machineBusyPct, procDelta, sampleMachine, sampleProc, type ProcSample } from './sfu/procStat.js';
import { formatProfile, summariseProfile, type ProfileSummary } from './sfu/profileSummary.js';
import {
  monoMs,
  PACKET_INTERVAL_MS,
  TICKS_PER_PACKET,
  type FromForwarder,
  type FromHost,
  type FromServer,
  type RouterStatsView,
  type ToForwarder,
  type ToHost,
  type ToServer,
} from './sfu/protocol.js';
import { openPublisher, type Publisher } from './sfu/weriftClient.js';
import { ensureJanus, startJanus, type JanusServer } from './sfu/janusServer.js';
import { JanusSession, openJanusPublisher } from './sfu/janusClient.js';
import { benchOptions } from './lib/options.js';
import { parleyServerEntry, type ParleyRunner } from './sfu/parleyBuild.js';
import { percentileBetween } from '../src/sfu/latencyHistogram.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const PACKETS_PER_SECOND = 1000 / PACKET_INTERVAL_MS;

// --- Loopback-only network namespace ---------------------------------------------------------

function loopbackOnly(): boolean {
  const ifs = Object.values(networkInterfaces()).flatMap((a) => a ?? []);
  return ifs.length > 0 && ifs.every((a) => a.internal) && ifs.some((a) => a.address === '127.0.0.1');
}

if (!loopbackOnly()) {
  if (process.env.SFU_BENCH_IN_NETNS) {
    process.stderr.write('sfu-fanout: still not in a loopback-only network namespace; refusing to run\n');
    process.exit(1);
  }
  const mode = [['-n'], ['-rn']].find((args) => spawnSync('unshare', [...args, 'true'], { stdio: 'ignore' }).status === 0);
  if (!mode) {
    process.stderr.write("sfu-fanout: cannot create a network namespace; run it as: unshare -n bash -c 'ip link set lo up; npx tsx bench/sfu-fanout.ts'\n");
    process.exit(1);
  }
  const cmd = [process.execPath, ...process.execArgv, process.argv[1]!, ...process.argv.slice(2)];
  const r = spawnSync('unshare', [...mode, 'bash', '-c', 'ip link set lo up && exec "$@"', 'bash', ...cmd], {
    stdio: 'inherit',
    env: { ...process.env, SFU_BENCH_IN_NETNS: '1' },
  });
  process.exit(r.status ?? 1);
}

// --- Options ---------------------------------------------------------------------------------

const { flag } = benchOptions();
function num(name: string, def: number, min: number, max: number): number {
  const raw = flag(name) ?? process.env[`SFU_BENCH_${name.toUpperCase().replace(/-/g, '_')}`];
  const n = raw === undefined ? def : Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name}: expected a number in [${min}, ${max}] (got "${raw}")`);
  return n;
}
const nList = (flag('n') ?? process.env.SFU_BENCH_N ?? '10,50,100,200,300,400,500,600,700,800')
  .split(',')
  .filter(Boolean)
  .map(Number);
if (nList.some((n) => !Number.isInteger(n) || n < 1 || n > 1000)) throw new Error('--n: comma-separated subscriber counts between 1 and 1000');
type Target = 'udp' | 'parley' | 'janus';
function targetList(raw: string): Target[] {
  const list = raw.split(',').map((t) => t.trim()).filter(Boolean);
  const bad = list.filter((t) => t !== 'udp' && t !== 'parley' && t !== 'janus');
  if (bad.length || list.length === 0) throw new Error(`--target: a comma-separated list of udp, parley, janus (got "${raw}")`);
  return [...new Set(list)] as Target[];
}
function parleyRunner(raw: string): ParleyRunner {
  if (raw !== 'dist' && raw !== 'tsx') throw new Error(`--parley: dist (the compiled build, as npm start runs it) or tsx (the sources) (got "${raw}")`);
  return raw;
}
const options = {
  ns: [...new Set(nList)].sort((a, b) => a - b),
  windowS: num('window', 10, 2, 60),
  warmupS: num('warmup', 2, 0, 30),
  /**
   * Seconds between the last join of a step and its window (every system). The joins leave work
   * behind in Parley's process for several seconds: V8 compiles and collects what the handshakes
   * made, on its own threads (≈ 5 µs per forwarded packet at N = 100 in a window 2 s after the
   * ramp, ≈ 1 µs after 20 s). A window measures the steady state of a room, not its start.
   * 30 s: V8's memory reducer shrinks the main isolate's heap (≈ 45 MB live) after a ramp's
   * growth in two or three full collections, ≈ 19 s after the last join (`--trace-gc`); a window
   * 15 s after the ramp caught them in some runs (main thread 2.2–2.8 µs per packet at N = 100
   * against 1.4–1.8 in the others).
   */
  settleS: num('settle', 30, 0, 90),
  hosts: num('hosts', 4, 1, 16),
  concurrency: num('concurrency', 2, 1, 32),
  /** 1 = every packet through werift's SRTP + RTP stack at the subscriber; k = one in k (the rest counted on arrival). */
  verifyEvery: num('verify-every', 25, 1, 1000),
  payloadBytes: num('payload', 80, 8, 1200),
  baseline: num('baseline', 1, 0, 1) === 1,
  /** Which systems to run, in this order: udp (the baseline), parley, janus (Debian's Janus VideoRoom, installed if missing). */
  targets: targetList(flag('target') ?? process.env.SFU_BENCH_TARGET ?? 'udp,parley,janus'),
  profileN: num('profile', 100, 0, 1000),
  maxMinutes: num('max-minutes', 10, 1, 30),
  /** Stop growing N once the mean receive loss in a window is above this (%). */
  lossStopPct: num('loss-stop', 1, 0, 100),
  /** Stop growing N once the media worker thread is busier than this (% of one core). */
  cpuStopPct: num('cpu-stop', 95, 10, 100),
  /** Stop growing N once the whole machine is busier than this (% of one core; 2 saturated cores = 200, so 201 never stops). */
  machineStopPct: num('machine-stop', 190, 50, 201),
  /** Wait at most this long (s) for other benchmarks on the machine to finish before starting. */
  waitQuietS: num('wait-quiet', 0, 0, 3600),
  json: flag('json') ?? process.env.SFU_BENCH_JSON,
  /** After each Parley window, measure the same N again with one direct consumer on the producer (decoded in the audio pipeline worker). */
  direct: num('direct', 0, 0, 1) === 1,
  /** After each Parley window, measure the same N again while the room is recorded (seed 004's POST /recordings/start; bench:recording uses it). */
  record: num('record', 0, 0, 1) === 1,
  /**
   * 1 = Parley's subscribers and publisher keep the `audio-levels` event (4 a second to each socket,
   * on the main thread). Default 0: they join with `audioLevels: false`, as a client that shows no
   * level meters does; Janus's VideoRoom sends no level events by default either.
   */
  audioLevels: num('audio-levels', 0, 0, 1) === 1,
  /**
   * How Parley's process runs: `dist` (default) as `npm start` runs it, the compiled build
   * (made first, see sfu/parleyBuild.ts); `tsx` from the TypeScript sources, which adds tsx's
   * loader-hook threads (three more V8 isolates) to the process being measured.
   */
  parleyRunner: parleyRunner(flag('parley') ?? process.env.SFU_BENCH_PARLEY ?? 'dist'),
};
// The subscriber hosts are child processes: they read it from their environment.
process.env.SFU_BENCH_AUDIO_LEVELS = options.audioLevels ? '1' : '0';
const deadline = monoMs() + options.maxMinutes * 60_000;
const timeLeftMs = (): number => deadline - monoMs();

// --- Helpers ---------------------------------------------------------------------------------

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (s: string): void => {
  process.stdout.write(`${s}\n`);
};
const fmt = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : '–');

function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

function otherBenchmarks(): string[] {
  const mine = new Set<number>([process.pid, process.ppid]);
  const out: string[] = [];
  for (const d of readdirSync('/proc')) {
    const pid = Number(d);
    if (!Number.isInteger(pid) || mine.has(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (/bench\//.test(cmd) && !cmd.includes('sfu-fanout') && !cmd.includes('bench/sfu/')) out.push(`${pid} ${cmd.slice(0, 120)}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

function gitRevision(): string {
  const rev = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).stdout.trim();
  return rev ? `${rev}${dirty ? ' (src/ has uncommitted changes)' : ''}` : 'unknown';
}

function machine() {
  return {
    revision: gitRevision(),
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: release(),
  };
}

/** Sends packet k at t0 + k·20 ms; hooks run right before a given packet is sent. */
class Pacer {
  k = 0;
  private t0 = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly hooks = new Map<number, Array<() => void>>();
  readonly sendMs: Float64Array;
  /** How late each packet left compared with its schedule, ms. */
  readonly lateMs: Float64Array;

  constructor(
    private readonly sendOne: (k: number) => void,
    maxPackets: number,
  ) {
    this.sendMs = new Float64Array(maxPackets);
    this.lateMs = new Float64Array(maxPackets);
  }

  start(): void {
    this.running = true;
    this.t0 = monoMs();
    this.tick();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  at(k: number, fn: () => void): void {
    const list = this.hooks.get(k) ?? [];
    list.push(fn);
    this.hooks.set(k, list);
  }

  private readonly tick = (): void => {
    if (!this.running) return;
    const now = monoMs();
    while (this.running && this.t0 + this.k * PACKET_INTERVAL_MS <= now && this.k < this.sendMs.length) {
      const k = this.k;
      for (const fn of this.hooks.get(k) ?? []) fn();
      this.hooks.delete(k);
      this.sendMs[k] = monoMs();
      this.lateMs[k] = this.sendMs[k]! - (this.t0 + k * PACKET_INTERVAL_MS);
      this.sendOne(k);
      this.k++;
    }
    if (this.k >= this.sendMs.length) return;
    this.timer = setTimeout(this.tick, Math.max(0, this.t0 + this.k * PACKET_INTERVAL_MS - monoMs()));
  };
}

type Host = Child<ToHost, FromHost>;

interface Row {
  system: 'parley' | 'udp' | 'janus';
  n: number;
  /** Packets the publisher sent in the window. */
  sent: number;
  received: number;
  lossMeanPct: number;
  lossMaxPct: number;
  /** Subscribers that lost more than 1 % of the window. */
  subsOver1Pct: number;
  wallMs: number;
  cpuMs: number;
  cpuPct: number;
  usPerPacket: number;
  /** Busiest non-main thread (Parley: the media worker) and the main thread, µs per forwarded packet. */
  workerUsPerPacket: number;
  workerCpuPct: number;
  mainUsPerPacket: number;
  consumersPerCore: number;
  rssMiB: number;
  rssPerPeerKiB: number;
  latP50Ms: number;
  latP99Ms: number;
  latMaxMs: number;
  /** Parley: the router's consumers' packetsSent over the window (undefined for the baseline). */
  routerForwarded?: number;
  /** Parley: consumers the router holds at the end of the window, and how many of them sent nothing in it. */
  routerConsumers?: number;
  routerConsumersIdle?: number;
  clientCpuPct: number;
  /** Worst subscriber host's event-loop delay p99 / max in the window, ms. */
  clientLoopP99Ms: number;
  clientLoopMaxMs: number;
  /** Publisher pacing: p99 of how late packets left compared with the 20 ms schedule, ms. */
  pacerLateP99Ms: number;
  /** Parley's main thread (Socket.IO, signaling): event-loop delay p99 / max over the window, ms. */
  serverLoopP99Ms?: number;
  serverLoopMaxMs?: number;
  /**
   * Parley, inside the media worker, over the window: how late the publisher's packets were
   * handled above the stream's best case (the publisher's pacing jitter included), and how long
   * one packet's fan-out to all N took (what the last subscriber waits behind the others), ms.
   */
  sfuLateP50Ms?: number;
  sfuLateP99Ms?: number;
  fanOutP50Ms?: number;
  fanOutP99Ms?: number;
  fanOutMaxMs?: number;
  machineBusyPct: number;
  verified: number;
  verifiable: number;
  duplicates: number;
  silent: number;
  /** Open file descriptors of the server at the end of the window. */
  fds: number;
}

interface MeasureContext {
  system: 'parley' | 'udp' | 'janus';
  n: number;
  pid: number;
  pacer: Pacer;
  hosts: Host[];
  idleRss: number;
  routerStats?: () => Promise<RouterStatsView | undefined>;
  /** Runs a main-thread GC in the server before RSS is read (after the CPU window). */
  gc?: () => Promise<void>;
  /** The server main thread's event-loop delay since the last call. */
  serverLoop?: () => Promise<{ p99Ms: number; maxMs: number } | undefined>;
}

async function measure(c: MeasureContext): Promise<Row & { window: { fromMs: number; toMs: number } }> {
  const packets = Math.round(options.windowS * PACKETS_PER_SECOND);
  // The window starts a few packets ahead, once every host records; on a loaded machine the
  // hosts may answer after that packet has left: then the window is moved later (its edges
  // are sampled by hooks on those packets, which must still be ahead).
  let kStart = 0;
  for (let attempt = 0; ; attempt++) {
    kStart = c.pacer.k + 15 + attempt * 50;
    const ts0 = (kStart * TICKS_PER_PACKET) >>> 0;
    for (const h of c.hosts) h.send({ type: 'record', mode: c.system === 'udp' ? 'udp' : 'webrtc', ts0, packets });
    await Promise.all(c.hosts.map((h) => h.next('recording', 5000)));
    if (c.pacer.k < kStart - 1) break;
    if (attempt === 3) throw new Error(`the subscriber hosts kept answering after the window's first packet had left (k=${c.pacer.k} ≥ ${kStart}): the machine is too busy`);
    log(`  note: the hosts started recording after the window's first packet (k=${c.pacer.k} ≥ ${kStart}); moving the window later`);
  }
  const kEnd = kStart + packets;
  await c.serverLoop?.(); // reset
  let a: ProcSample | undefined;
  let b: ProcSample | undefined;
  let ma: ReturnType<typeof sampleMachine> | undefined;
  let mb: ReturnType<typeof sampleMachine> | undefined;
  let statsA: Promise<RouterStatsView | undefined> | undefined;
  let statsB: Promise<RouterStatsView | undefined> | undefined;
  await new Promise<void>((resolve) => {
    c.pacer.at(kStart, () => {
      a = sampleProc(c.pid);
      ma = sampleMachine();
      statsA = c.routerStats?.();
    });
    c.pacer.at(kEnd, () => {
      b = sampleProc(c.pid);
      mb = sampleMachine();
      statsB = c.routerStats?.();
      resolve();
    });
  });
  const serverLoop = await c.serverLoop?.();
  await sleep(1000); // the last packets of the window reach the subscribers
  await c.gc?.();
  const rssBytes = sampleProc(c.pid).rssBytes;
  const sendMs = Array.from(c.pacer.sendMs.subarray(kStart, kEnd));
  for (const h of c.hosts) h.send({ type: 'report', sendMs });
  const reports = await Promise.all(c.hosts.map((h) => h.next('report', 30_000)));
  const d = procDelta(a!, b!);
  const received = reports.flatMap((r) => r.received);
  const n = received.length;
  const forwarded = n * packets;
  const losses = received.map((r) => (1 - r / packets) * 100);
  const lat = Float64Array.from(reports.flatMap((r) => r.latenciesUs)).sort();
  const main = d.threads.find(([tid]) => tid === c.pid)?.[1] ?? 0;
  const worker = d.threads.find(([tid]) => tid !== c.pid)?.[1] ?? 0;
  let routerForwarded: number | undefined;
  let routerConsumers: number | undefined;
  let routerConsumersIdle: number | undefined;
  const [sa, sb] = await Promise.all([statsA, statsB]);
  if (sa && sb) {
    const before = new Map(sa.consumers.map((x) => [x.id, x.packetsSent]));
    routerForwarded = sb.consumers.reduce((s, x) => s + x.packetsSent - (before.get(x.id) ?? 0), 0);
    routerConsumers = sb.consumers.length;
    routerConsumersIdle = sb.consumers.filter((x) => x.packetsSent - (before.get(x.id) ?? 0) === 0).length;
  }
  let sfuTiming: Partial<Row> = {};
  const pa = sa?.producers[0];
  const pb = sb?.producers.find((p) => p.id === pa?.id);
  if (pb?.handledLateMs && pb.fanOutMs) {
    sfuTiming = {
      sfuLateP50Ms: percentileBetween(pa?.handledLateMs, pb.handledLateMs, 50),
      sfuLateP99Ms: percentileBetween(pa?.handledLateMs, pb.handledLateMs, 99),
      fanOutP50Ms: percentileBetween(pa?.fanOutMs, pb.fanOutMs, 50),
      fanOutP99Ms: percentileBetween(pa?.fanOutMs, pb.fanOutMs, 99),
      fanOutMaxMs: percentileBetween(pa?.fanOutMs, pb.fanOutMs, 100),
    };
  }
  const usPerPacket = (d.cpuMs * 1000) / forwarded;
  const clientCpuMs = reports.reduce((s, r) => s + r.cpuMs, 0);
  return {
    system: c.system,
    n,
    sent: packets,
    received: received.reduce((s, r) => s + r, 0),
    lossMeanPct: losses.reduce((s, l) => s + l, 0) / Math.max(1, n),
    lossMaxPct: Math.max(...losses),
    subsOver1Pct: losses.filter((l) => l > 1).length,
    wallMs: d.wallMs,
    cpuMs: d.cpuMs,
    cpuPct: (d.cpuMs / d.wallMs) * 100,
    usPerPacket,
    workerUsPerPacket: (worker * 1000) / forwarded,
    workerCpuPct: (worker / d.wallMs) * 100,
    mainUsPerPacket: (main * 1000) / forwarded,
    consumersPerCore: 1e6 / usPerPacket / PACKETS_PER_SECOND,
    rssMiB: rssBytes / 2 ** 20,
    rssPerPeerKiB: (rssBytes - c.idleRss) / 1024 / Math.max(1, n),
    latP50Ms: percentile(lat, 50) / 1000,
    latP99Ms: percentile(lat, 99) / 1000,
    latMaxMs: lat.length ? lat[lat.length - 1]! / 1000 : Number.NaN,
    ...(routerForwarded !== undefined ? { routerForwarded, routerConsumers, routerConsumersIdle } : {}),
    clientCpuPct: (clientCpuMs / d.wallMs) * 100,
    clientLoopP99Ms: Math.max(...reports.map((r) => r.loopDelayP99Ms)),
    clientLoopMaxMs: Math.max(...reports.map((r) => r.loopDelayMaxMs)),
    ...(serverLoop ? { serverLoopP99Ms: serverLoop.p99Ms, serverLoopMaxMs: serverLoop.maxMs } : {}),
    ...sfuTiming,
    pacerLateP99Ms: percentile(Float64Array.from(c.pacer.lateMs.subarray(kStart, kEnd)).sort(), 99),
    machineBusyPct: machineBusyPct(ma!, mb!, availableParallelism()),
    verified: reports.reduce((s, r) => s + r.verified, 0),
    verifiable: reports.reduce((s, r) => s + r.verifiable, 0),
    duplicates: reports.reduce((s, r) => s + r.duplicates, 0),
    silent: reports.reduce((s, r) => s + r.silent, 0),
    fds: fdCount(c.pid),
    window: { fromMs: a!.atMs, toMs: b!.atMs },
  };
}

const HEADER =
  'system   N    µs/pkt  worker µs  main µs  cons/core  srv CPU%  wkr CPU%  RSS MiB  RSS/peer KiB  loss mean/max %  >1%  lat p50/p99/max ms     router fwd   clients CPU%  client lag p99/max ms  pub late p99  machine%';
function rowLine(r: Row): string {
  const fwd = r.routerForwarded === undefined ? '–' : `${r.routerForwarded}/${r.n * r.sent}`;
  return [
    r.system.padEnd(6),
    String(r.n).padStart(4),
    fmt(r.usPerPacket).padStart(8),
    fmt(r.workerUsPerPacket).padStart(9),
    fmt(r.mainUsPerPacket).padStart(8),
    fmt(r.consumersPerCore, 0).padStart(9),
    fmt(r.cpuPct).padStart(8),
    fmt(r.workerCpuPct).padStart(8),
    fmt(r.rssMiB).padStart(7),
    fmt(r.rssPerPeerKiB).padStart(12),
    `${fmt(r.lossMeanPct, 2)}/${fmt(r.lossMaxPct, 2)}`.padStart(15),
    String(r.subsOver1Pct).padStart(4),
    `${fmt(r.latP50Ms, 2)}/${fmt(r.latP99Ms, 2)}/${fmt(r.latMaxMs, 1)}`.padStart(20),
    fwd.padStart(14),
    fmt(r.clientCpuPct, 0).padStart(12),
    `${fmt(r.clientLoopP99Ms)}/${fmt(r.clientLoopMaxMs)}`.padStart(22),
    fmt(r.pacerLateP99Ms).padStart(12),
    fmt(r.machineBusyPct, 0).padStart(9),
  ].join(' ');
}

function markdownTable(parley: Row[], baseline: Row[], janus: Row[]): string {
  const lines = [
    '| N | Parley µs/pkt (process) | media thread µs/pkt | consumers/core | server CPU % | RSS/peer KiB | loss mean / max % | latency p50 / p99 ms | router packetsSent / expected | UDP µs/pkt | UDP latency p50 / p99 ms | Parley ÷ UDP | Janus µs/pkt (process) | Janus loss mean % | Janus latency p50 / p99 ms | Parley ÷ Janus (process / media thread) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const ns = [...new Set([...parley.map((r) => r.n), ...baseline.map((r) => r.n), ...janus.map((r) => r.n)])].sort((a, b) => a - b);
  for (const n of ns) {
    const found = parley.find((r) => r.n === n);
    // A room whose subscribers received nothing has no cost per packet to show.
    const lost = found !== undefined && found.received === 0;
    const p = lost ? undefined : found;
    const b = baseline.find((r) => r.n === n);
    const j = janus.find((r) => r.n === n);
    const comparable = p !== undefined && j !== undefined && p.lossMeanPct <= LOSSY_PCT && j.lossMeanPct <= LOSSY_PCT;
    const janusCells = `${j ? fmt(j.usPerPacket) : '–'} | ${j ? fmt(j.lossMeanPct, 2) : '–'} | ${j ? `${fmt(j.latP50Ms, 2)} / ${fmt(j.latP99Ms, 2)}` : '–'} | ${p && j ? (comparable ? `×${fmt(p.usPerPacket / j.usPerPacket, 2)} / ×${fmt(p.workerUsPerPacket / j.usPerPacket, 2)}` : 'lossy, no ratio') : '–'}`;
    lines.push(
      `| ${n} | ${lost ? 'room lost (0 received)' : p ? fmt(p.usPerPacket) : '–'} | ${p ? fmt(p.workerUsPerPacket) : '–'} | ${p ? fmt(p.consumersPerCore, 0) : '–'} | ${p ? fmt(p.cpuPct) : '–'} | ${p ? fmt(p.rssPerPeerKiB, 0) : '–'} | ${
        p ? `${fmt(p.lossMeanPct, 2)} / ${fmt(p.lossMaxPct, 2)}` : '–'
      } | ${p ? `${fmt(p.latP50Ms, 2)} / ${fmt(p.latP99Ms, 2)}` : '–'} | ${p?.routerForwarded !== undefined ? `${p.routerForwarded} / ${p.n * p.sent}` : '–'} | ${b ? fmt(b.usPerPacket, 1) : '–'} | ${
        b ? `${fmt(b.latP50Ms, 2)} / ${fmt(b.latP99Ms, 2)}` : '–'
      } | ${p && b ? `×${fmt(p.usPerPacket / b.usPerPacket, 1)}` : '–'} | ${janusCells} |`,
    );
  }
  return lines.join('\n');
}

// --- Processes -------------------------------------------------------------------------------

const parleyEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  PORT: '0',
  HOST: '127.0.0.1',
  MEDIA_LISTEN_IP: '127.0.0.1',
  MEDIA_WORKERS: '1',
  LOG_LEVEL: 'warn',
  SOCKET_EVENTS_PER_SECOND: '100000',
  RATE_LIMIT_MAX: '100000',
  // Every subscriber connects from 127.0.0.1: lift the per-address media limits meant for the Internet.
  MEDIA_MAX_TRANSPORTS_PER_ADDRESS: '5000',
  MEDIA_MAX_ROOMS_PER_ADDRESS: '1000',
  SQLITE_PATH: ':memory:',
  ALLOWED_ORIGINS: '*',
  JWT_SECRET: 'sfu-fanout-benchmark-secret-0123456789abcdef',
  // --record: recordings of the open room, anonymous as in development, into a scratch directory.
  ALLOW_ANONYMOUS_RECORDINGS: 'true',
  RECORDINGS_PATH: process.env.RECORDINGS_PATH ?? mkdtempSync(join(tmpdir(), 'parley-sfu-bench-rec-')),
});

async function startHosts(): Promise<Host[]> {
  // SFU_BENCH_HOST_PROF=<dir>: CPU-profile the subscriber hosts too (to see what the rig costs).
  const prof = process.env.SFU_BENCH_HOST_PROF;
  const execArgv = [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), '--import', 'tsx'];
  const hosts = Array.from(
    { length: options.hosts },
    (_, i) => new Child<ToHost, FromHost>(`subscriber host ${i}`, join(here, 'sfu/subscriberHost.ts'), [String(options.verifyEvery)], { execArgv }),
  );
  await Promise.all(hosts.map((h) => h.next('ready', 30_000)));
  return hosts;
}

async function stopHosts(hosts: Host[]): Promise<void> {
  await Promise.all(hosts.map((h) => h.stop(8000, { type: 'close' })));
}

interface Server {
  child: Child<ToServer, FromServer>;
  url: string;
  pid: number;
  routerStats(roomId: string): Promise<RouterStatsView | undefined>;
  gc(): Promise<void>;
  loop(): Promise<{ p99Ms: number; maxMs: number } | undefined>;
  direct(roomId: string, producerId: string, on: boolean): Promise<{ frames: number; error?: string }>;
}

let parleyEntry: ReturnType<typeof parleyServerEntry> | undefined;

async function startServer(cpuProfDir?: string): Promise<Server> {
  // SFU_BENCH_SERVER_NODE_ARGS="--trace-deopt …": extra Node/V8 flags for Parley's process (its threads share V8's flags).
  const extra = (process.env.SFU_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const entry = await (parleyEntry ??= parleyServerEntry(options.parleyRunner, log));
  const execArgv = [...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []), ...extra, '--expose-gc', ...entry.execArgv];
  // SFU_BENCH_SERVER_LOG=<file>: Parley's logs (at LOG_LEVEL=info) go to that file, to see why peers left.
  const logFile = process.env.SFU_BENCH_SERVER_LOG;
  const env = { ...parleyEnv(), ...(logFile ? { LOG_LEVEL: 'info' } : {}) };
  const child = new Child<ToServer, FromServer>('parley', entry.script, [], { execArgv, env, ...(logFile ? { outputFd: openSync(logFile, 'a') } : {}) });
  const ready = await child.next('ready', 60_000);
  let seq = 0;
  let chain: Promise<unknown> = Promise.resolve();
  const routerStats = (roomId: string): Promise<RouterStatsView | undefined> => {
    // One request at a time (replies are matched by type).
    const p = chain.then(async () => {
      const s = ++seq;
      child.send({ type: 'router-stats', seq: s, roomId });
      const m = await child.next('router-stats', 10_000);
      return m.stats ? (m.stats as RouterStatsView) : undefined;
    });
    chain = p.catch(() => undefined);
    return p.catch(() => undefined);
  };
  const gc = async (): Promise<void> => {
    await chain;
    child.send({ type: 'gc' });
    await child.next('gc-done', 10_000).catch(() => undefined);
  };
  const loop = async (): Promise<{ p99Ms: number; maxMs: number } | undefined> => {
    await chain;
    child.send({ type: 'loop' });
    const m = await child.next('loop', 10_000).catch(() => undefined);
    return m ? { p99Ms: m.p99Ms, maxMs: m.maxMs } : undefined;
  };
  const direct = async (roomId: string, producerId: string, on: boolean): Promise<{ frames: number; error?: string }> => {
    await chain;
    child.send({ type: 'direct', roomId, producerId, on });
    const m = await child.next('direct-done', 10_000);
    return { frames: m.frames, ...(m.error ? { error: m.error } : {}) };
  };
  return { child, url: ready.url, pid: ready.pid, routerStats, gc, loop, direct };
}

/** Adds subscribers, spread evenly over the hosts, until there are `n`. */
async function growWebrtc(hosts: Host[], have: number, n: number, joinMessage: (count: number) => ToHost): Promise<{ total: number; failed: number; retries: number; setupMs: number }> {
  const started = monoMs();
  const need = n - have;
  const per = hosts.map((_, i) => Math.floor(need / hosts.length) + (i < need % hosts.length ? 1 : 0));
  hosts.forEach((h, i) => {
    if (per[i]! > 0) h.send(joinMessage(per[i]!));
  });
  const results = await Promise.all(hosts.map((h, i) => (per[i]! > 0 ? h.next('added-webrtc', 60_000 + per[i]! * 2000) : Promise.resolve(undefined))));
  let failed = 0;
  let retries = 0;
  const errors: string[] = [];
  for (const r of results) {
    if (!r) continue;
    failed += r.failed;
    retries += r.retries;
    errors.push(...r.errors);
  }
  if (errors.length) log(`  subscriber setup errors (first ${Math.min(3, errors.length)}): ${errors.slice(0, 3).join(' | ')}`);
  const statuses = await Promise.all(hosts.map((h) => (h.send({ type: 'status' }), h.next('status', 5000))));
  return { total: statuses.reduce((s, x) => s + x.webrtc, 0), failed, retries, setupMs: monoMs() - started };
}

async function waitAllSeen(hosts: Host[], expected: number, timeoutMs: number): Promise<number> {
  const until = monoMs() + timeoutMs;
  let seen = 0;
  while (monoMs() < until) {
    const statuses = await Promise.all(hosts.map((h) => (h.send({ type: 'status' }), h.next('status', 5000))));
    seen = statuses.reduce((s, x) => s + x.seen, 0);
    if (seen >= expected) break;
    await sleep(250);
  }
  return seen;
}

// --- Phases ----------------------------------------------------------------------------------

const maxPackets = Math.ceil((options.maxMinutes * 60 + 120) * PACKETS_PER_SECOND);
const payload = Buffer.alloc(options.payloadBytes, 0x5a);
payload[0] = 0x78; // an Opus TOC byte: SILK-only wideband 20 ms frame, mono, one frame

/**
 * The publisher's packets: Opus-sized RTP with the audio-level extension, timestamp k·960, and
 * k in payload bytes 1–4 (a subscriber of an SFU that rewrites timestamps, as Janus does,
 * learns its offset from the first packet it decrypts).
 */
function publisherPacer(publisher: Publisher): Pacer {
  const header = (k: number) =>
    new RtpHeader({
      payloadType: 100,
      sequenceNumber: k & 0xffff,
      timestamp: (k * TICKS_PER_PACKET) >>> 0,
      ssrc: publisher.ssrc,
      marker: k === 0,
      extension: publisher.audioLevelExtId !== undefined,
      extensions: publisher.audioLevelExtId !== undefined ? [{ id: publisher.audioLevelExtId, payload: Buffer.from([0x80 | 40]) }] : [],
    });
  return new Pacer((k) => {
    const p = Buffer.from(payload);
    p.writeUInt32BE(k >>> 0, 1);
    publisher.send(new RtpPacket(header(k), p)).catch(() => undefined);
  }, maxPackets);
}

async function runBaseline(hosts: Host[]): Promise<Row[]> {
  const rows: Row[] = [];
  const fwd = new Child<ToForwarder, FromForwarder>('udp forwarder', join(here, 'sfu/udpForwarder.ts'), []);
  const { port, pid } = await fwd.next('ready', 30_000);
  await sleep(500);
  const idleRss = sampleProc(pid).rssBytes;
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const ssrc = 0x5eed5eed;
  const pacer = new Pacer((k) => {
    const buf = Buffer.alloc(12 + payload.length);
    buf[0] = 0x80;
    buf[1] = 100;
    buf.writeUInt16BE(k & 0xffff, 2);
    buf.writeUInt32BE((k * TICKS_PER_PACKET) >>> 0, 4);
    buf.writeUInt32BE(ssrc, 8);
    payload.copy(buf, 12);
    sock.send(buf, port, '127.0.0.1');
  }, maxPackets);
  pacer.start();
  const ports: number[] = [];
  try {
    for (const n of options.ns) {
      if (timeLeftMs() < 60_000) {
        log(`  baseline: stopping before N=${n}: time budget`);
        break;
      }
      const need = n - ports.length;
      const per = hosts.map((_, i) => Math.floor(need / hosts.length) + (i < need % hosts.length ? 1 : 0));
      hosts.forEach((h, i) => per[i]! > 0 && h.send({ type: 'add-udp', count: per[i]! }));
      const added = await Promise.all(hosts.map((h, i) => (per[i]! > 0 ? h.next('added-udp', 30_000) : Promise.resolve({ type: 'added-udp' as const, ports: [] as number[] }))));
      for (const a of added) ports.push(...a.ports);
      fwd.send({ type: 'set-receivers', ports: [...ports] });
      await fwd.next('receivers-set', 5000);
      await sleep(Math.max(1000, options.settleS * 1000));
      const row = await measure({ system: 'udp', n, pid, pacer, hosts, idleRss });
      rows.push(row);
      log(rowLine(row));
    }
  } finally {
    pacer.stop();
    sock.close();
    for (const h of hosts) h.send({ type: 'close-udp' });
    await fwd.stop(3000, { type: 'close' });
  }
  return rows;
}

interface ParleyRun {
  rows: Row[];
  /** --direct: the same N measured again with one direct consumer on the producer. */
  directRows: Array<{ n: number; without: Row; with: Row; framesDecoded: number }>;
  /** --record: the same N measured again while the room was being recorded. */
  recordRows: Array<{ n: number; without: Row; with: Row; recordingBytes: number; tracks: number; finalizeMs: number }>;
  stopReason: string;
  idleRssMiB: number;
  idleFds: number;
  setupMs: Record<number, number>;
  setupRetries: Record<number, number>;
  publisherEvents: string[];
  crossCheck: { routerPacketsSent: number; routerConsumers: number; subscriberArrivals: number } | undefined;
  setupCpu: Record<number, { wallMs: number; cpuMsPerJoin: number; workerMsPerJoin: number; netWorkerMsPerJoin: number; workerPct: number; joinsPerSecondPerWorker: number }>;
  lastWindow?: { fromMs: number; toMs: number };
}

async function runParley(ns: number[], server: Server, hosts: Host[], label: string): Promise<ParleyRun> {
  const roomId = `fanout-${process.pid}-${label}`;
  const publisher: Publisher = await openPublisher(server.url, roomId);
  const publisherEvents: string[] = [];
  const runStarted = monoMs();
  publisher.onState((what) => {
    const line = `publisher at +${((monoMs() - runStarted) / 1000).toFixed(1)} s: ${what}`;
    publisherEvents.push(line);
    log(`  ${line}`);
  });
  const pacer = publisherPacer(publisher);
  pacer.start();
  await sleep(3000);
  await server.gc();
  const idleRss = sampleProc(server.pid).rssBytes;
  const idleFds = fdCount(server.pid);
  const rows: Row[] = [];
  const directRows: ParleyRun['directRows'] = [];
  const recordRows: ParleyRun['recordRows'] = [];
  const setupMs: Record<number, number> = {};
  const setupRetries: Record<number, number> = {};
  const setupCpu: Record<number, { wallMs: number; cpuMsPerJoin: number; workerMsPerJoin: number; netWorkerMsPerJoin: number; workerPct: number; joinsPerSecondPerWorker: number }> = {};
  let have = 0;
  let stopReason = 'end of the N list';
  let lastWindow: { fromMs: number; toMs: number } | undefined;
  let crossCheck: ParleyRun['crossCheck'];
  try {
    for (const n of ns) {
      const estimateMs = (n - have) * 150 + (options.windowS + options.settleS + 3) * 1000;
      if (timeLeftMs() < estimateMs + 20_000) {
        stopReason = `time budget (--max-minutes=${options.maxMinutes}) before N=${n}`;
        break;
      }
      const before = sampleProc(server.pid);
      const grown = await growWebrtc(hosts, have, n, (count) => ({ type: 'add-webrtc', count, url: server.url, roomId, producerId: publisher.producerId, concurrency: options.concurrency }));
      const setup = procDelta(before, sampleProc(server.pid));
      const added = Math.max(1, grown.total - have);
      const setupWorkerMs = setup.threads.find(([tid]) => tid !== server.pid)?.[1] ?? 0;
      // The worker kept forwarding to the subscribers already there: take that off, at the rate
      // the previous window measured, to estimate what a join itself costs the worker.
      const forwardingMs = (setup.wallMs * (rows.at(-1)?.workerCpuPct ?? 0)) / 100;
      const netWorkerMsPerJoin = (setupWorkerMs - forwardingMs) / added;
      // The room lives on one media worker (the server runs MEDIA_WORKERS=1): joins/s is per worker.
      const joinsPerSecondPerWorker = added / (setup.wallMs / 1000);
      setupCpu[n] = { wallMs: setup.wallMs, cpuMsPerJoin: setup.cpuMs / added, workerMsPerJoin: setupWorkerMs / added, netWorkerMsPerJoin, workerPct: (setupWorkerMs / setup.wallMs) * 100, joinsPerSecondPerWorker };
      log(
        `  ${label}: ${added} joined in ${fmt(setup.wallMs / 1000)} s (${fmt(joinsPerSecondPerWorker)} joins/s on the room's one media worker); media worker ${fmt((setupWorkerMs / setup.wallMs) * 100, 0)} % busy, ≈ ${fmt(netWorkerMsPerJoin)} ms of its CPU per join net of forwarding (server process ${fmt(setup.cpuMs / added)} ms per join, forwarding included)`,
      );
      have = grown.total;
      setupMs[n] = grown.setupMs;
      const seen = await waitAllSeen(hosts, have, 15_000);
      log(`  ${label}: ${have} subscribers connected (${grown.retries} set up again after a failed DTLS handshake, ${grown.failed} failed 3 times; ${(grown.setupMs / 1000).toFixed(1)} s), ${seen} receiving`);
      setupRetries[n] = grown.retries;
      await sleep(options.settleS * 1000);
      const row = await measure({ system: 'parley', n: have, pid: server.pid, pacer, hosts, idleRss, routerStats: () => server.routerStats(roomId), gc: () => server.gc(), serverLoop: () => server.loop() });
      rows.push(row);
      lastWindow = row.window;
      log(rowLine(row));
      if (options.direct) {
        const opened = await server.direct(roomId, publisher.producerId, true);
        if (opened.error) throw new Error(`direct consumer: ${opened.error}`);
        await sleep(options.warmupS * 1000);
        const withDirect = await measure({ system: 'parley', n: have, pid: server.pid, pacer, hosts, idleRss, routerStats: () => server.routerStats(roomId), gc: () => server.gc(), serverLoop: () => server.loop() });
        const closed = await server.direct(roomId, publisher.producerId, false);
        directRows.push({ n: have, without: row, with: withDirect, framesDecoded: closed.frames });
        log(rowLine(withDirect));
        log(
          `  with one direct consumer (decoded to 16 kHz in the pipeline worker, ${closed.frames} frames): server ${fmt(withDirect.usPerPacket, 2)} vs ${fmt(row.usPerPacket, 2)} µs per forwarded packet (ratio ${fmt(withDirect.usPerPacket / row.usPerPacket, 3)}); busiest worker thread ${fmt(withDirect.workerUsPerPacket, 2)} vs ${fmt(row.workerUsPerPacket, 2)} (ratio ${fmt(withDirect.workerUsPerPacket / row.workerUsPerPacket, 3)})`,
        );
      }
      if (options.record) {
        const rec = (path: string) => fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ roomName: roomId }) }).then(async (r) => ({ status: r.status, body: (await r.json()) as { recording?: { name: string; size?: number }; error?: { message: string } } }));
        // A first, unmeasured recording starts the recorder thread (and loads its code) once, as a
        // running server would have done long before; then "without" and "with" in adjacent windows.
        const warm = await rec('/recordings/start');
        if (warm.status !== 200) throw new Error(`recording did not start: ${warm.status} ${JSON.stringify(warm.body)}`);
        await sleep(options.warmupS * 1000);
        await rec('/recordings/stop');
        await sleep(options.warmupS * 1000);
        const without = await measure({ system: 'parley', n: have, pid: server.pid, pacer, hosts, idleRss, routerStats: () => server.routerStats(roomId), gc: () => server.gc(), serverLoop: () => server.loop() });
        log(rowLine(without));
        const started = await rec('/recordings/start');
        if (started.status !== 200) throw new Error(`recording did not start: ${started.status} ${JSON.stringify(started.body)}`);
        await sleep(options.warmupS * 1000);
        const withRecording = await measure({ system: 'parley', n: have, pid: server.pid, pacer, hosts, idleRss, routerStats: () => server.routerStats(roomId), gc: () => server.gc(), serverLoop: () => server.loop() });
        const stopAt = monoMs();
        const stopped = await rec('/recordings/stop');
        const finalizeMs = monoMs() - stopAt;
        if (stopped.status !== 200) throw new Error(`recording did not stop: ${stopped.status} ${JSON.stringify(stopped.body)}`);
        const name = stopped.body.recording?.name ?? '';
        const listed = (await (await fetch(`${server.url}/recordings?roomName=${encodeURIComponent(roomId)}`)).json()) as { recordings: Array<{ name: string; tracks: unknown[] }> };
        const tracks = listed.recordings.find((r) => r.name === name)?.tracks.length ?? 0;
        recordRows.push({ n: have, without, with: withRecording, recordingBytes: stopped.body.recording?.size ?? 0, tracks, finalizeMs });
        log(rowLine(withRecording));
        log(
          `  while recorded (${tracks} track(s), MP4 ${stopped.body.recording?.size ?? 0} bytes, stop + finalize ${fmt(finalizeMs / 1000, 2)} s): server ${fmt(withRecording.usPerPacket, 2)} vs ${fmt(without.usPerPacket, 2)} µs per forwarded packet (ratio ${fmt(withRecording.usPerPacket / without.usPerPacket, 3)}); busiest worker thread ${fmt(withRecording.workerUsPerPacket, 2)} vs ${fmt(without.workerUsPerPacket, 2)} (ratio ${fmt(withRecording.workerUsPerPacket / without.workerUsPerPacket, 3)})`,
        );
      }
      if (row.serverLoopP99Ms !== undefined) log(`  Parley main thread event-loop delay p99 ${fmt(row.serverLoopP99Ms)} ms, max ${fmt(row.serverLoopMaxMs ?? Number.NaN)} ms`);
      if (row.sfuLateP99Ms !== undefined)
        log(
          `  inside the media worker: packets handled p50 / p99 ${fmt(row.sfuLateP50Ms ?? Number.NaN)} / ${fmt(row.sfuLateP99Ms)} ms above the stream's best case (publisher pacing p99 ${fmt(row.pacerLateP99Ms)} ms included); ` +
            `fan-out to all ${row.n} p50 / p99 / max ${fmt(row.fanOutP50Ms ?? Number.NaN, 2)} / ${fmt(row.fanOutP99Ms ?? Number.NaN, 2)} / ${fmt(row.fanOutMaxMs ?? Number.NaN, 2)} ms`,
        );
      if (row.routerConsumers !== undefined && (row.routerConsumers !== have || row.routerConsumersIdle)) {
        log(`  note: the router holds ${row.routerConsumers} consumers for ${have} subscribers; ${row.routerConsumersIdle} of them sent nothing in the window`);
      }
      if (row.received === 0) {
        stopReason = `ROOM LOST at N=${have}: no subscriber received anything in the window (the publisher: ${publisherEvents.join('; ') || 'no event'})`;
        break;
      }
      if (row.lossMeanPct > options.lossStopPct) {
        stopReason = `saturated at N=${have}: mean loss ${fmt(row.lossMeanPct, 2)} % > ${options.lossStopPct} %`;
        break;
      }
      if (row.workerCpuPct > options.cpuStopPct) {
        stopReason = `saturated at N=${have}: media worker thread at ${fmt(row.workerCpuPct)} % of a core`;
        break;
      }
      if (row.machineBusyPct > options.machineStopPct) {
        stopReason = `machine saturated at N=${have}: ${fmt(row.machineBusyPct, 0)} % of ${availableParallelism()} cores busy`;
        break;
      }
    }
    // Exact cross-check, at rest: what the router's consumers sent over their whole life vs.
    // what reached the subscribers (the per-window figure is read while packets are in flight).
    pacer.stop();
    await sleep(1500);
    const stats = await server.routerStats(roomId);
    const statuses = await Promise.all(hosts.map((h) => (h.send({ type: 'status' }), h.next('status', 5000))));
    if (stats) {
      crossCheck = { routerPacketsSent: stats.consumers.reduce((a, c) => a + c.packetsSent, 0), routerConsumers: stats.consumers.length, subscriberArrivals: statuses.reduce((a, x) => a + x.arrivals, 0) };
      log(
        `  cross-check at rest: the router's ${crossCheck.routerConsumers} consumers sent ${crossCheck.routerPacketsSent} packets in all; the subscribers received ${crossCheck.subscriberArrivals} (difference ${crossCheck.subscriberArrivals - crossCheck.routerPacketsSent})`,
      );
    }
  } finally {
    pacer.stop();
    await publisher.close();
  }
  return { rows, directRows, recordRows, stopReason, crossCheck, idleRssMiB: idleRss / 2 ** 20, idleFds, setupMs, setupRetries, setupCpu, publisherEvents, ...(lastWindow ? { lastWindow } : {}) };
}

/** Mean loss above which a window's CPU per packet is not compared with another system's. */
const LOSSY_PCT = 1;

interface JanusRun {
  version: string;
  rows: Row[];
  stopReason: string;
  idleRssMiB: number;
  setupCpu: Record<number, { wallMs: number; cpuMsPerJoin: number; joinsPerSecond: number }>;
  setupRetries: Record<number, number>;
  publisherEvents: string[];
  logDir: string;
}

/**
 * Janus 1.x VideoRoom (Debian's package) with the same publisher packets, subscriber hosts, N
 * steps and windows as Parley. Janus's CPU is its whole process (it has no single media thread:
 * libnice and each handle run on GLib loops of their own), from /proc like Parley's.
 */
async function runJanus(ns: number[], hosts: Host[], version: string, janus: JanusServer): Promise<JanusRun> {
  const session = await JanusSession.create(janus.url);
  const room = 1234;
  const publisher = await openJanusPublisher(session, room);
  const publisherEvents: string[] = [];
  const runStarted = monoMs();
  publisher.onState((what) => {
    const line = `publisher at +${((monoMs() - runStarted) / 1000).toFixed(1)} s: ${what}`;
    publisherEvents.push(line);
    log(`  ${line}`);
  });
  const pacer = publisherPacer(publisher);
  pacer.start();
  await sleep(3000);
  const idleRss = sampleProc(janus.pid).rssBytes;
  const rows: Row[] = [];
  const setupCpu: JanusRun['setupCpu'] = {};
  const setupRetries: Record<number, number> = {};
  let have = 0;
  let stopReason = 'end of the N list';
  try {
    for (const n of ns) {
      const estimateMs = (n - have) * 150 + (options.windowS + options.settleS + 3) * 1000;
      if (timeLeftMs() < estimateMs + 20_000) {
        stopReason = `time budget (--max-minutes=${options.maxMinutes}) before N=${n}`;
        break;
      }
      const before = sampleProc(janus.pid);
      const grown = await growWebrtc(hosts, have, n, (count) => ({ type: 'add-janus', count, url: janus.url, room, feed: Number(publisher.producerId), concurrency: options.concurrency }));
      const setup = procDelta(before, sampleProc(janus.pid));
      const added = Math.max(1, grown.total - have);
      setupCpu[n] = { wallMs: setup.wallMs, cpuMsPerJoin: setup.cpuMs / added, joinsPerSecond: added / (setup.wallMs / 1000) };
      log(`  janus: ${added} joined in ${fmt(setup.wallMs / 1000)} s (${fmt(added / (setup.wallMs / 1000))} joins/s); Janus process ${fmt(setup.cpuMs / added)} ms of CPU per join, forwarding included`);
      have = grown.total;
      setupRetries[n] = grown.retries;
      const seen = await waitAllSeen(hosts, have, 15_000);
      log(`  janus: ${have} subscribers connected (${grown.retries} set up again, ${grown.failed} failed 3 times; ${(grown.setupMs / 1000).toFixed(1)} s), ${seen} receiving`);
      await sleep(options.settleS * 1000);
      const row = await measure({ system: 'janus', n: have, pid: janus.pid, pacer, hosts, idleRss });
      rows.push(row);
      log(rowLine(row));
      if (row.lossMeanPct > options.lossStopPct) {
        stopReason = `saturated at N=${have}: mean loss ${fmt(row.lossMeanPct, 2)} % > ${options.lossStopPct} %`;
        break;
      }
      if (row.machineBusyPct > options.machineStopPct) {
        stopReason = `machine saturated at N=${have}: ${fmt(row.machineBusyPct, 0)} % of ${availableParallelism()} cores busy`;
        break;
      }
    }
  } finally {
    pacer.stop();
    await publisher.close().catch(() => undefined);
    await session.destroy();
  }
  return { version, rows, stopReason, idleRssMiB: idleRss / 2 ** 20, setupCpu, setupRetries, publisherEvents, logDir: janus.dir };
}

// --- Main ------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const info = machine();
  log(`SFU fan-out benchmark — ${info.cores} cores (${info.cpu}), ${info.ramGiB} GiB RAM, Node ${info.node}, Linux ${info.kernel}`);
  log(
    `options: N=${options.ns.join(',')} window=${options.windowS}s warmup=${options.warmupS}s settle=${options.settleS}s hosts=${options.hosts} verify-every=${options.verifyEvery} payload=${options.payloadBytes}B profile=${options.profileN} audio-levels=${options.audioLevels ? 1 : 0} parley=${options.parleyRunner} max=${options.maxMinutes}min`,
  );
  let others = otherBenchmarks();
  const quietUntil = monoMs() + options.waitQuietS * 1000;
  while (others.length > 0 && monoMs() < quietUntil) {
    await sleep(5000);
    others = otherBenchmarks();
  }
  if (others.length > 0) log(`WARNING: other benchmark processes are running and share the cores:\n  ${others.join('\n  ')}`);

  const result: Record<string, unknown> = { machine: info, options, otherBenchmarks: others, startedAt: new Date().toISOString() };
  let hosts = await startHosts();
  let baseline: Row[] = [];
  if (options.baseline && options.targets.includes('udp')) {
    log('\n# Baseline: plain UDP forwarder (Node dgram, no crypto) → N UDP receivers');
    log(HEADER);
    baseline = await runBaseline(hosts);
  }
  result.baseline = baseline;

  // Janus is installed (when missing) before anything is measured, so a failed install costs nothing.
  const janusVersion = options.targets.includes('janus') ? ensureJanus(log) : undefined;
  const emptyParley: ParleyRun = { rows: [], directRows: [], recordRows: [], stopReason: 'not a target', idleRssMiB: 0, idleFds: 0, setupMs: {}, setupRetries: {}, publisherEvents: [], crossCheck: undefined, setupCpu: {} };
  let server: Server | undefined;
  let parley = emptyParley;
  if (options.targets.includes('parley')) {
  log('\n# Parley SFU (werift, 1 media worker) → N werift subscribers');
  server = await startServer();
  log(HEADER);
  parley = await runParley(options.ns, server, hosts, 'ramp');
  log(`  stopped: ${parley.stopReason}`);
  result.parley = parley;
  // Everyone leaves: the room's media should be gone, with its sockets.
  await stopHosts(hosts);
  await sleep(3000);
  server.child.send({ type: 'dump' });
  const dump = await server.child.next('dump', 10_000).catch(() => undefined);
  const leftover = { workers: dump?.workers, fds: fdCount(server.pid), rssMiB: sampleProc(server.pid).rssBytes / 2 ** 20 };
  log(
    `  after every peer left: media workers hold ${JSON.stringify(leftover.workers)}; server fds ${parley.idleFds} (idle, publisher only) → ${leftover.fds}; RSS ${fmt(parley.idleRssMiB)} → ${fmt(leftover.rssMiB)} MiB`,
  );
  result.afterLeave = leftover;
  await server.child.stop(15_000);
  hosts = [];
  }

  let janus: JanusRun | undefined;
  if (janusVersion) {
    log(`\n# Janus VideoRoom (${janusVersion}, Debian package) → N werift subscribers`);
    if (hosts.length === 0) hosts = await startHosts();
    log(HEADER);
    const janusServer = await startJanus(18088);
    try {
      janus = await runJanus(options.ns, hosts, janusVersion, janusServer);
    } finally {
      await stopHosts(hosts);
      await janusServer.stop();
    }
    log(`  stopped: ${janus.stopReason} (Janus's config and log: ${janus.logDir})`);
    result.janus = janus;
  }

  if (parley.rows.length >= 3) {
    // RSS moves in steps with the V8 heap and GC; a least-squares line over the steps is steadier.
    const xs = parley.rows.map((r) => r.n);
    const ys = parley.rows.map((r) => r.rssMiB * 1024);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    const slope = xs.reduce((s2, x, i) => s2 + (x - mx) * (ys[i]! - my), 0) / xs.reduce((s2, x) => s2 + (x - mx) ** 2, 0);
    log(`\n# Server RSS: ${fmt(parley.idleRssMiB)} MiB with the publisher only; least-squares slope over the steps ≈ ${fmt(slope, 0)} KiB per subscriber`);
    result.rssSlopeKiBPerSubscriber = slope;
  }

  if (parley.rows.length >= 2) {
    log('\n# Marginal cost between steps (Δ server CPU ÷ Δ forwarded packets)');
    const all = parley.rows;
    for (let i = 1; i < all.length; i++) {
      const [p, q] = [all[i - 1]!, all[i]!];
      const rateP = p.cpuMs / p.wallMs;
      const rateQ = q.cpuMs / q.wallMs;
      const pkts = ((q.n - p.n) * PACKETS_PER_SECOND) / 1000;
      log(`  N ${p.n} → ${q.n}: ${fmt((rateQ - rateP) / pkts * 1000)} µs per extra forwarded packet`);
    }
  }

  if (baseline.length > 0 && parley.rows.length > 0) {
    log('\n# Parley ÷ baseline, CPU µs per forwarded packet (process)');
    for (const r of parley.rows) {
      const b = baseline.find((x) => x.n === r.n);
      if (b) log(`  N=${String(r.n).padStart(4)}: Parley ${fmt(r.usPerPacket)} µs, UDP ${fmt(b.usPerPacket, 2)} µs → ×${fmt(r.usPerPacket / b.usPerPacket, 1)}`);
    }
  }

  if (janus && janus.rows.length > 0) {
    log('\n# Parley ÷ Janus, CPU µs per forwarded packet (Janus: its whole process)');
    for (const r of parley.rows) {
      const j = janus.rows.find((x) => x.n === r.n);
      const b = baseline.find((x) => x.n === r.n);
      // CPU per packet divides by the packets that should have been forwarded: a side that dropped some looks
      // cheaper than it was, so its ratio would mean nothing.
      const lossy = j ? [r.lossMeanPct > LOSSY_PCT ? `Parley lost ${fmt(r.lossMeanPct, 2)} %` : '', j.lossMeanPct > LOSSY_PCT ? `Janus lost ${fmt(j.lossMeanPct, 2)} %` : ''].filter(Boolean) : [];
      if (j && lossy.length > 0) log(`  N=${String(r.n).padStart(4)}: no ratio: ${lossy.join(', ')} of the packets in this window (CPU per packet is not comparable)`);
      else if (j)
        log(
          `  N=${String(r.n).padStart(4)}: Parley ${fmt(r.usPerPacket)} µs (media thread ${fmt(r.workerUsPerPacket)}), Janus ${fmt(j.usPerPacket)} µs → process ×${fmt(r.usPerPacket / j.usPerPacket, 2)}, media thread ×${fmt(r.workerUsPerPacket / j.usPerPacket, 2)}${b ? `; Parley ÷ UDP ×${fmt(r.usPerPacket / b.usPerPacket, 1)}` : ''}; latency p99 Parley ${fmt(r.latP99Ms, 2)} ms, Janus ${fmt(j.latP99Ms, 2)} ms`,
        );
    }
  }

  log('\n# Markdown summary');
  log(markdownTable(parley.rows, baseline, janus?.rows ?? []));

  if (options.profileN > 0 && options.targets.includes('parley')) {
    if (timeLeftMs() < 90_000) {
      log(`\n# Profile skipped: time budget`);
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'sfu-fanout-prof-'));
      log(`\n# Profile: Parley with --cpu-prof at N=${options.profileN} (${dir})`);
      hosts = await startHosts();
      server = await startServer(dir);
      log(HEADER);
      const prof = await runParley([options.profileN], server, hosts, 'profile');
      await stopHosts(hosts);
      await server.child.stop(20_000);
      const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
      const summaries: Array<ProfileSummary & { thread: string }> = [];
      for (const f of files) {
        const window = prof.lastWindow ? { fromUs: prof.lastWindow.fromMs * 1000, toUs: prof.lastWindow.toMs * 1000 } : undefined;
        const s = summariseProfile(join(dir, f), window, 30);
        // CPU.<date>.<time>.<pid>.<threadId>.<seq>.cpuprofile: thread id 0 is the main thread.
        const tid = f.split('.')[4];
        summaries.push({ ...s, thread: tid === '0' ? 'main thread' : `worker thread ${tid}` });
      }
      summaries.sort((x, y) => y.busyMs - x.busyMs);
      for (const s of summaries.slice(0, 2)) log(`\n## ${s.thread}\n${formatProfile(s, 25, 12)}`);
      result.profile = { n: options.profileN, row: prof.rows[0], dir, summaries: summaries.slice(0, 3) };
      if (summaries.length === 0) log('  (no .cpuprofile written)');
    }
  }

  result.finishedAt = new Date().toISOString();
  if (options.json) {
    writeFileSync(options.json, JSON.stringify(result, null, 2));
    log(`\nresults written to ${options.json}`);
  }
}

const cleanup = (): void => {
  killAll();
};
process.once('SIGINT', () => {
  cleanup();
  process.exit(130);
});
process.once('SIGTERM', () => {
  cleanup();
  process.exit(143);
});
const hardStop = setTimeout(
  () => {
    log(`sfu-fanout: hard time limit (${options.maxMinutes} min + 2 min) reached; killing everything`);
    cleanup();
    process.exit(2);
  },
  (options.maxMinutes + 2) * 60_000,
);
hardStop.unref();

main().then(
  () => {
    cleanup();
    process.exit(0);
  },
  (err: unknown) => {
    log(`sfu-fanout failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    cleanup();
    process.exit(1);
  },
);
