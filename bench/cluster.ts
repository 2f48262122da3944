/**
 * Cluster benchmark (issue 13), every figure from the same run:
 *
 *  1. Signaling relay latency, p50/p99 at the receiver: seed 002 pairs relaying
 *     video:ice-candidate by socket id (a) on one node without Redis (the embedded default),
 *     (b) on one node with REDIS_URL (the Streams adapter in the path), (c) sender on node A,
 *     receiver on node B. Ratios against (a).
 *  2. Call lifecycle throughput (seed 001: create → connect → end, three requests and their
 *     database transactions), with the same client concurrency spread over three nodes
 *     behind them vs one node.
 *  3. Consultation routing decisions (src/cluster/routingStore.ts `offerNext`: the oldest
 *     waiting call to the longest-idle agent, atomically): `--routing` calls and as many
 *     agents, offered by `--concurrency` loops through the Local store (one process), one
 *     Redis connection (one node) and three (three nodes). Ratios against one node. This is
 *     the shared decision alone: the queue that serves the consoles is still per node.
 *
 *   npx tsx bench/cluster.ts [--pairs=20] [--rate=20] [--duration=8000] [--concurrency=24] [--calls-ms=8000] [--routing=300] [--rounds=3]
 *
 * Nodes are real processes (`src/main.ts`) on loopback, on one SQLite file (WAL), sharing the
 * machine's Redis (REDIS_URL or redis://127.0.0.1:6379) under a key prefix of their own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { io, type Socket } from 'socket.io-client';
import { openRedis, type RedisConnection } from '../src/cluster/redis/redisConnection.js';
import { LocalRoutingStore, RedisRoutingStore, type RoutingStore } from '../src/cluster/routingStore.js';
import { createLogger } from '../src/log/logger.js';
import { benchOptions, num } from './lib/options.js';
import { fmt, percentile, sortedOf, table } from './lib/stats.js';

const { opt } = benchOptions();
const o = {
  pairs: num(opt('pairs', 'BENCH_PAIRS', '20'), 'pairs', 1, 500),
  rate: num(opt('rate', 'BENCH_RATE', '20'), 'messages per second per pair', 1, 500),
  durationMs: num(opt('duration', 'BENCH_DURATION_MS', '8000'), 'duration ms', 1000, 120_000),
  concurrency: num(opt('concurrency', 'BENCH_CONCURRENCY', '24'), 'concurrent call loops', 1, 500),
  callsMs: num(opt('calls-ms', 'BENCH_CALLS_MS', '8000'), 'call phase ms', 1000, 120_000),
  routing: num(opt('routing', 'BENCH_ROUTING', '300'), 'calls routed per round', 10, 5_000),
  rounds: num(opt('rounds', 'BENCH_ROUNDS', '3'), 'routing rounds', 1, 20),
};
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `parley-bench:${randomUUID().slice(0, 8)}:`;
const root = fileURLToPath(new URL('..', import.meta.url));
const children: ChildProcess[] = [];

async function startNode(env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', STT_ENGINE: 'none', MEDIA_WORKERS: '1', JWT_SECRET: 'bench-secret-bench-secret-bench-secret', SOCKET_EVENTS_PER_SECOND: '100000', RATE_LIMIT_MAX: '10000000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not start in 180 s:\n${out}`)), 180_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /Parley listening on (http:\/\/[^"\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        child.stderr!.resume();
        resolve(m[1]!.replace('localhost', '127.0.0.1'));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`node exited (${code}):\n${out}`)));
  });
}

function connect(url: string, userId: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { userId } });
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

const ack = (s: Socket, event: string, data: unknown) => new Promise<void>((resolve) => s.emit(event, data, () => resolve()));

/** Relay latency between sender on `from` and receiver on `to`, in ms. */
async function relayLatency(from: string, to: string, label: string): Promise<Float64Array> {
  const pairs: Array<{ tx: Socket; rx: Socket }> = [];
  for (let i = 0; i < o.pairs; i++) {
    const room = `bench-${label}-${i}`;
    const tx = await connect(from, `tx-${i}`);
    const rx = await connect(to, `rx-${i}`);
    await ack(rx, 'video:join-room', { roomId: room });
    // The sender's node must know the receiver is in the room before it relays.
    for (let tries = 0; ; tries++) {
      const state = await new Promise<{ participants?: unknown[] }>((resolve) => tx.emit('video:join-room', { roomId: room }, resolve));
      if ((state.participants?.length ?? 0) >= 1) break;
      if (tries > 100) throw new Error('the receiver never showed up in the room on the sender\'s node');
      await ack(tx, 'video:leave-room', { roomId: room });
      await new Promise((r) => setTimeout(r, 50));
    }
    pairs.push({ tx, rx });
  }
  const latencies: number[] = [];
  let sent = 0;
  for (const { rx } of pairs) rx.on('video:ice-candidate', (m: { candidate: { candidate: string } }) => latencies.push(performance.now() - Number(m.candidate.candidate.split(' ').at(-1))));
  const end = Date.now() + o.durationMs;
  const period = 1000 / o.rate;
  await Promise.all(
    pairs.map(async ({ tx, rx }, i) => {
      await new Promise((r) => setTimeout(r, (period * i) / o.pairs));
      while (Date.now() < end) {
        tx.emit('video:ice-candidate', { to: rx.id, candidate: { candidate: `candidate:1 1 udp 1 127.0.0.1 9 typ host t ${performance.now()}`, sdpMid: '0', sdpMLineIndex: 0 } });
        sent += 1;
        await new Promise((r) => setTimeout(r, period));
      }
    }),
  );
  await new Promise((r) => setTimeout(r, 1000));
  for (const { tx, rx } of pairs) {
    tx.close();
    rx.close();
  }
  if (latencies.length < sent * 0.99) console.warn(`${label}: received ${latencies.length} of ${sent}`);
  return sortedOf(latencies);
}

/** Completed seed-001 call lifecycles per second, `o.concurrency` loops spread over `urls`. */
async function callThroughput(urls: string[]): Promise<{ perSecond: number; p50: number; p99: number }> {
  const post = async (url: string, body?: unknown) => {
    const r = await fetch(url, { method: 'POST', headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    const j = (await r.json()) as { data?: { call?: { id: string } } };
    if (!r.ok) throw new Error(`${url}: ${r.status} ${JSON.stringify(j)}`);
    return j;
  };
  let done = 0;
  const times: number[] = [];
  const end = Date.now() + o.callsMs;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: o.concurrency }, async (_, i) => {
      const url = urls[i % urls.length]!;
      while (Date.now() < end) {
        const s = performance.now();
        const id = (await post(`${url}/api/v1/calls`, { callerNumber: '01012345678' })).data!.call!.id;
        await post(`${url}/api/v1/calls/${id}/connect`);
        await post(`${url}/api/v1/calls/${id}/end`);
        times.push(performance.now() - s);
        done += 1;
      }
    }),
  );
  const sorted = sortedOf(times);
  return { perSecond: done / ((performance.now() - t0) / 1000), p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

/** Routing decisions per second: `o.routing` calls and agents, offered by `o.concurrency` loops over `stores`. */
async function routingDecisions(stores: RoutingStore[]): Promise<{ perSecond: number; p50: number; p99: number }> {
  const now = Date.now();
  for (let i = 0; i < o.routing; i++) {
    const s = stores[i % stores.length]!;
    await s.setAgent({ agentId: `agent-${i}`, state: 'available', idleSince: now - ((i * 7919) % o.routing), since: now });
    await s.enqueue({ callId: `call-${i}`, enqueuedAt: now + i, details: { customerName: 'Bench', inquiry: 'routing' } });
  }
  const times: number[] = [];
  let offered = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: o.concurrency }, async (_, i) => {
      const s = stores[i % stores.length]!;
      for (let guard = 0; guard < o.routing * 2; guard++) {
        const t = performance.now();
        const offer = await s.offerNext(now, 15_000);
        if (!offer) return;
        times.push(performance.now() - t);
        offered += 1;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  if (offered !== o.routing) throw new Error(`routing: ${offered} offers for ${o.routing} calls; the store gave a call twice or lost one`);
  const sorted = sortedOf(times);
  return { perSecond: offered / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

async function routingRuns(): Promise<void> {
  const logger = createLogger('silent');
  const rows: Record<'local' | 'one' | 'three', Array<{ perSecond: number; p50: number; p99: number }>> = { local: [], one: [], three: [] };
  for (let round = 0; round < o.rounds; round++) {
    rows.local.push(await routingDecisions([new LocalRoutingStore()]));
    const conns: RedisConnection[] = [];
    for (let n = 0; n < 4; n++) conns.push(await openRedis(redisUrl, `${prefix}routing:${round}:${n < 1 ? 'one' : 'three'}:`, logger, 10_000));
    rows.one.push(await routingDecisions([new RedisRoutingStore(conns[0]!)]));
    rows.three.push(await routingDecisions(conns.slice(1).map((c) => new RedisRoutingStore(c))));
    await Promise.all(conns.map((c) => c.close()));
  }
  const median = (xs: number[]) => sortedOf(xs)[Math.floor(xs.length / 2)]!;
  const sum = (k: keyof typeof rows) => ({ perSecond: median(rows[k].map((r) => r.perSecond)), p50: median(rows[k].map((r) => r.p50)), p99: median(rows[k].map((r) => r.p99)) });
  const [l, one, three] = [sum('local'), sum('one'), sum('three')];
  console.log(`\nconsultation routing decisions (offerNext), ${o.routing} calls × ${o.routing} agents, ${o.concurrency} loops, median of ${o.rounds} rounds`);
  console.log(
    table(
      ['store', 'offers/s', 'p50 ms', 'p99 ms', 'ratio to one node'],
      [
        ['Local (one process, no Redis)', fmt(l.perSecond, 1), fmt(l.p50), fmt(l.p99), fmt(l.perSecond / one.perSecond)],
        ['Redis, one node', fmt(one.perSecond, 1), fmt(one.p50), fmt(one.p99), '1.00'],
        ['Redis, three nodes', fmt(three.perSecond, 1), fmt(three.p50), fmt(three.p99), fmt(three.perSecond / one.perSecond)],
      ],
    ),
  );
}

async function main(): Promise<void> {
  if (process.argv.includes('--routing-only')) {
    console.log(`routing bench: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')} at start`);
    return routingRuns();
  }
  const load = (await import('node:os')).loadavg();
  console.log(`cluster bench: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average ${load.map((l) => l.toFixed(2)).join(' ')} at start; ${o.pairs} pairs × ${o.rate}/s for ${o.durationMs} ms; calls: ${o.concurrency} loops for ${o.callsMs} ms`);
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-cluster-'));
  const shared = { SQLITE_PATH: join(dir, 'cluster.sqlite'), REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix };
  // The first node on the shared file migrates it; the others start once it has (SQLite
  // has no migration lock between processes, PostgreSQL has).
  const [single, a] = await Promise.all([startNode({ SQLITE_PATH: join(dir, 'single.sqlite'), NODE_ID: 'single' }), startNode({ ...shared, NODE_ID: 'a' })]);
  const [b, c] = await Promise.all([startNode({ ...shared, NODE_ID: 'b' }), startNode({ ...shared, NODE_ID: 'c' })]);

  const local = await relayLatency(single!, single!, 'local');
  const sameNode = await relayLatency(a!, a!, 'same');
  const across = await relayLatency(a!, b!, 'across');
  const row = (name: string, s: Float64Array) => [name, String(s.length), fmt(percentile(s, 50)), fmt(percentile(s, 99)), fmt(percentile(s, 50) / percentile(local, 50)), fmt(percentile(s, 99) / percentile(local, 99))];
  console.log('\nrelay latency (ms, at the receiver)');
  console.log(table(['path', 'messages', 'p50', 'p99', 'p50 ×', 'p99 ×'], [row('one node, no Redis', local), row('one node, Redis adapter', sameNode), row('two nodes (A → B)', across)]));

  const one = await callThroughput([a!]);
  const three = await callThroughput([a!, b!, c!]);
  console.log('\ncall lifecycles (create → connect → end), one SQLite file shared');
  console.log(
    table(
      ['nodes', 'calls/s', 'p50 ms', 'p99 ms', 'ratio'],
      [
        ['1', fmt(one.perSecond, 1), fmt(one.p50), fmt(one.p99), '1.00'],
        ['3', fmt(three.perSecond, 1), fmt(three.p50), fmt(three.p99), fmt(three.perSecond / one.perSecond)],
      ],
    ),
  );
  await routingRuns();
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const c of children) c.kill('SIGTERM');
    const client = createClient({ url: redisUrl });
    await client.connect().catch(() => undefined);
    if (client.isOpen) {
      for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length > 0) await client.del(keys);
      await client.close();
    }
  });
