/**
 * The consultation queue shared by nodes (issue 13, src/cluster/sharedQueue.ts), every figure
 * from the same run: `--calls` consultations routed end to end through the queue's changes
 * as the consultation service makes them — enqueue, the owner's offer, reserve, commitAccept,
 * callEnded, setAgentState(available) — with `--agents` agents, in three set-ups:
 *
 *  (a) local: one `ConsultationQueue`, no Redis (the embedded default);
 *  (b) one node with REDIS_URL: the routing owner alone (changes in process, a snapshot to Redis after each);
 *  (c) three nodes on one Redis: calls enqueued and agents placed round-robin over the nodes,
 *      so two thirds of the changes go to the owner over the bus and back.
 *
 * The three "nodes" are three SharedConsultationQueue objects in this process, each with its
 * own Redis connections (as separate processes would have); an offer reaches its agent's node
 * by an in-process event (in Parley it is a Socket.IO emit). Reported: calls routed per
 * second, and the latency of one change from the node that makes it (p50/p99), with ratios
 * against (b) and (a).
 *
 *   npx tsx bench/shared-queue.ts [--calls=400] [--agents=20] [--rounds=3]
 */
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { createClient } from 'redis';
import { openRedis, type RedisConnection } from '../src/cluster/redis/redisConnection.js';
import { SharedConsultationQueue } from '../src/cluster/sharedQueue.js';
import { ConsultationQueue } from '../src/domain/routing/consultationQueue.js';
import type { QueuePort } from '../src/domain/routing/queuePort.js';
import { RedisMessageBus } from '../src/events/redisMessageBus.js';
import { createLogger } from '../src/log/logger.js';
import { benchOptions, num } from './lib/options.js';
import { fmt, percentile, sortedOf, table } from './lib/stats.js';

const { opt } = benchOptions();
const o = {
  calls: num(opt('calls', 'BENCH_CALLS', '400'), 'calls per round', 10, 20_000),
  agents: num(opt('agents', 'BENCH_AGENTS', '20'), 'agents', 1, 1_000),
  rounds: num(opt('rounds', 'BENCH_ROUNDS', '3'), 'rounds', 1, 20),
};
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = createLogger('silent');
const queueOptions = { offerTimeoutMs: 60_000, reofferCooldownMs: 60_000, offerResendMs: 60_000 };

interface Setup {
  /** The queue each node's consultation service would use. */
  nodes: QueuePort[];
  /** Where offers are announced (the owner). */
  owner: QueuePort;
  close(): Promise<void>;
}

async function sharedSetup(count: number): Promise<Setup> {
  const prefix = `parley-bench:${randomUUID().slice(0, 8)}:`;
  const conns: RedisConnection[] = [];
  const nodes: SharedConsultationQueue[] = [];
  for (let i = 0; i < count; i++) {
    const redis = await openRedis(redisUrl, prefix, logger, 5_000);
    conns.push(redis);
    nodes.push(await SharedConsultationQueue.open({ redis, bus: new RedisMessageBus(`bench-${i}`, redis, logger), nodeId: `bench-${i}`, queue: queueOptions, leaseMs: 10_000, renewMs: 2_000, requestTimeoutMs: 10_000, logger }));
  }
  const owner = nodes.find((n) => n.isOwner());
  if (!owner) throw new Error('no node took the routing lease');
  return {
    nodes,
    owner,
    async close() {
      for (const n of nodes) await n.close();
      for (const c of conns) await c.close();
      const client = createClient({ url: redisUrl });
      await client.connect();
      for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length > 0) await client.del(keys);
      await client.close();
    },
  };
}

/** Routes `calls` consultations through the queue; returns calls per second and every change's latency. */
async function run(setup: Setup, round: number): Promise<{ perSecond: number; latencies: number[] }> {
  const { nodes, owner } = setup;
  const nodeOfAgent = (agentId: string) => nodes[Number(agentId.slice(agentId.lastIndexOf('-') + 1)) % nodes.length]!;
  const latencies: number[] = [];
  const timed = async <T>(change: () => T | Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await change();
    latencies.push(performance.now() - t0);
    return r;
  };
  let done = 0;
  let failed: unknown;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((r) => (finish = r));
  const onOffer = (offer: { callId: string; agentId: string; resent: boolean }) => {
    if (offer.resent) return;
    const node = nodeOfAgent(offer.agentId);
    void (async () => {
      await timed(() => node.reserve(offer.agentId, offer.callId));
      await timed(() => node.commitAccept(offer.agentId, offer.callId));
      await timed(() => node.callEnded(offer.agentId));
      done += 1;
      if (done === o.calls) return finish();
      await timed(() => node.setAgentState(offer.agentId, 'available'));
    })().catch((err: unknown) => {
      failed = err;
      finish();
    });
  };
  owner.on('offer', onOffer);
  const agents = Array.from({ length: o.agents }, (_, i) => `r${round}-agent-${i}`);
  for (const a of agents) await nodeOfAgent(a).setAgentState(a, 'available');
  const t0 = performance.now();
  await Promise.all(Array.from({ length: o.calls }, (_, i) => timed(() => nodes[i % nodes.length]!.enqueue(`r${round}-call-${i}`, { n: i }))));
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  (owner as unknown as { off(e: string, f: unknown): void }).off('offer', onOffer);
  if (failed) throw failed;
  // Leave the agents offline so the next round starts from an empty floor.
  for (const a of agents) await Promise.resolve().then(() => nodeOfAgent(a).setAgentState(a, 'offline')).catch(() => undefined);
  return { perSecond: o.calls / seconds, latencies };
}

async function main(): Promise<void> {
  console.log(`shared consultation queue: ${o.calls} calls, ${o.agents} agents, ${o.rounds} rounds; ${cpus().length} cores (${cpus()[0]?.model ?? '?'}); Redis ${redisUrl}`);
  const local = new ConsultationQueue(queueOptions);
  const localSetup: Setup = { nodes: [local], owner: local, close: async () => local.close() };
  const one = await sharedSetup(1);
  const three = await sharedSetup(3);
  const results = new Map<string, { rates: number[]; latencies: number[] }>();
  const setups: Array<[string, Setup]> = [['(a) local, no Redis', localSetup], ['(b) one node, REDIS_URL', one], ['(c) three nodes, one Redis', three]];
  try {
    for (let r = 0; r < o.rounds; r++) {
      // Interleaved, so a change in the machine's load falls on every set-up alike.
      for (const [name, setup] of setups) {
        const res = await run(setup, r);
        const acc = results.get(name) ?? { rates: [], latencies: [] };
        acc.rates.push(res.perSecond);
        acc.latencies.push(...res.latencies);
        results.set(name, acc);
      }
    }
  } finally {
    await one.close();
    await three.close();
    await localSetup.close();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const b = median(results.get('(b) one node, REDIS_URL')!.rates);
  const a = median(results.get('(a) local, no Redis')!.rates);
  const rows = [...results.entries()].map(([name, r]) => {
    const rate = median(r.rates);
    const lat = sortedOf(r.latencies);
    return [name, fmt(rate, 0), fmt(rate / b), fmt(rate / a, 3), fmt(percentile(lat, 50), 3), fmt(percentile(lat, 99), 3)];
  });
  console.log(table(['set-up', 'calls/s (median of rounds)', 'vs (b)', 'vs (a)', 'change p50 ms', 'change p99 ms'], rows));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
