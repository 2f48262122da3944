/**
 * The live state nodes share through Redis (issue 13, step 3), each port against the
 * machine's Redis with one connection per "node", as separate processes would have:
 * - durable timers fire once over all nodes, also when the node that set them is gone;
 * - presence counts every node's connections and forgets a dead node's after its TTL;
 * - the routing store hands each call to one agent and each agent one call, longest idle
 *   first, under concurrent nodes (the same contract holds for the Local store);
 * - HTTP rate limits and a customer's grace span two real Parley nodes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RedisDurableTimers } from '../src/cluster/durableTimers.js';
import { RedisPresence } from '../src/cluster/presence.js';
import { openRedis, type RedisConnection } from '../src/cluster/redis/redisConnection.js';
import { LocalRoutingStore, RedisRoutingStore, type RoutingStore } from '../src/cluster/routingStore.js';
import type { AgentSnapshot } from '../src/domain/routing/consultationQueue.js';
import { createLogger } from '../src/log/logger.js';
import { callFrom, createAgent, createEntryPoint, firstAdmin, RecordingSocket } from './support/consultation.js';
import { request, startParley, type RunningParley } from './support/parleyServer.js';
import { waitFor } from './support/polling.js';
import { dropPrefix, startOwnRedis, testRedisUrl, uniquePrefix } from './support/redis.js';

const logger = createLogger('silent');

describe('ports shared through Redis', () => {
  const prefix = uniquePrefix();
  const conns: RedisConnection[] = [];
  const node = async () => {
    const c = await openRedis(testRedisUrl(), prefix, logger, 5_000);
    conns.push(c);
    return c;
  };
  after(async () => {
    await Promise.allSettled(conns.map((c) => c.close()));
    await dropPrefix(prefix);
  });

  test('durable timers: each fires on exactly one of three nodes, also after the node that set them is gone; a cancelled one never fires', async () => {
    const fired: Array<{ node: number; id: string }> = [];
    const nodes = await Promise.all([0, 1, 2].map(async (n) => {
      const t = new RedisDurableTimers(await node(), logger, { pollMs: 20 });
      t.handle('grace', (id) => void fired.push({ node: n, id }));
      return t;
    }));
    const ids = Array.from({ length: 30 }, (_, i) => `call-${i}`);
    // Node 0 stops polling (as if gone once it set them): the others must fire its timers.
    await nodes[0]!.close();
    for (const id of ids) await nodes[0]!.set('grace', id, 150);
    await nodes[0]!.set('grace', 'cancelled', 150);
    await nodes[1]!.cancel('grace', 'cancelled');
    await waitFor('30 timers fired', async () => fired.length >= 30, 10_000);
    await new Promise((r) => setTimeout(r, 300)); // a second firing would show up within a few polls
    assert.deepEqual(fired.map((f) => f.id).sort(), [...ids].sort(), 'each timer fired once, the cancelled one never');
    assert.ok(fired.every((f) => f.node !== 0), 'fired by the surviving nodes');
    await Promise.all(nodes.slice(1).map((t) => t.close()));
  });

  test('presence: counts connections over nodes; a node that dies without a word stops counting after its TTL', async () => {
    const o = { heartbeatMs: 100, ttlMs: 400, logger };
    const doomed = await node();
    const a = new RedisPresence(doomed, 'node-a', o);
    const b = new RedisPresence(await node(), 'node-b', o);
    assert.equal(await a.opened('customer:1'), 1);
    assert.equal(await b.opened('customer:1'), 2);
    assert.equal(await a.opened('customer:1'), 3);
    assert.equal(await a.closed('customer:1'), 2, 'one of node A\'s two pages closed');
    // Node A dies: no close, no goodbye; its heartbeat stops because its connection is gone.
    await doomed.close();
    assert.equal(await b.count('customer:1'), 2, 'within the TTL node A still counts');
    await waitFor("node A's connections expired", async () => (await b.count('customer:1')) === 1, 5_000);
    assert.equal(await b.closed('customer:1'), 0);
    await a.close().catch(() => undefined);
    await b.close();
  });

  test('presence re-converges after Redis restarts empty: each node writes its counts again', { timeout: 60_000 }, async () => {
    const own = await startOwnRedis();
    const o = { heartbeatMs: 100, ttlMs: 400, logger };
    const ca = await openRedis(own.url, prefix, logger, 5_000);
    const cb = await openRedis(own.url, prefix, logger, 5_000);
    const a = new RedisPresence(ca, 'node-a', o);
    const b = new RedisPresence(cb, 'node-b', o);
    try {
      await a.opened('agent:1');
      await b.opened('agent:1');
      assert.equal(await a.count('agent:1'), 2);
      await own.stop(); // SIGKILL, no persistence: everything in it is gone
      await own.start();
      await waitFor('both nodes to count again after the restart', async () => (await a.count('agent:1').catch(() => 0)) === 2, 15_000);
      assert.equal(await b.count('agent:1'), 2);
    } finally {
      await a.close();
      await b.close();
      await Promise.allSettled([ca.close(), cb.close()]);
      await own.stop();
    }
  });

  for (const kind of ['local', 'redis'] as const) {
    test(`routing store (${kind}): concurrent nodes give each call one agent and each agent one call, oldest call to longest idle`, async () => {
      const stores: RoutingStore[] = kind === 'local' ? [new LocalRoutingStore()] : await Promise.all([0, 1, 2].map(async () => new RedisRoutingStore(await node())));
      const s = (i: number) => stores[i % stores.length]!;
      const now = 1_000_000;
      // 12 agents, idle since different times, set from different nodes; 2 more are busy.
      const agents: AgentSnapshot[] = Array.from({ length: 12 }, (_, i) => ({ agentId: `agent-${i}`, state: 'available', idleSince: now - 1_000 * ((i * 7) % 12), since: now }));
      for (const [i, a] of agents.entries()) await s(i).setAgent(a);
      await s(0).setAgent({ agentId: 'busy-1', state: 'busy', idleSince: 0, since: now, callId: 'other' });
      for (let i = 0; i < 10; i++) assert.equal(await s(i).enqueue({ callId: `call-${i}`, enqueuedAt: now + i, details: { n: i } }), true);
      assert.equal(await s(1).enqueue({ callId: 'call-3', enqueuedAt: now, details: {} }), false, 'a call is queued once');
      await s(2).enqueue({ callId: 'call-urgent', enqueuedAt: now, details: {} }, 'head');
      assert.deepEqual((await s(1).waiting()).map((c) => c.callId), ['call-urgent', ...Array.from({ length: 10 }, (_, i) => `call-${i}`)], 'the line in order, the handed-back call at its head');

      // 3 nodes × 8 attempts at once: 11 calls, 12 free agents.
      const offers = (await Promise.all(Array.from({ length: 24 }, (_, i) => s(i).offerNext(now, 15_000)))).filter((o) => o !== undefined);
      assert.equal(offers.length, 11, 'every call offered once');
      assert.equal(new Set(offers.map((o) => o.agentId)).size, 11, 'no agent got two calls');
      const byIdle = [...agents].sort((x, y) => x.idleSince - y.idleSince).map((a) => a.agentId);
      const order = (await s(0).waiting()).map((c) => c.callId);
      const pairs = new Map(offers.map((o) => [o.callId, o.agentId]));
      assert.deepEqual(order.map((id) => pairs.get(id)), byIdle.slice(0, 11), 'the oldest call went to the longest-idle agent, and so on');
      assert.ok(offers.every((o) => o.expiresAt === now + 15_000));
      const states = new Map((await s(2).agents()).map((a) => [a.agentId, a.state]));
      assert.equal([...states.values()].filter((st) => st === 'ringing').length, 11);
      assert.equal(states.get('busy-1'), 'busy');

      // The first call's agent rejects it: it goes to the one agent left, never back to them.
      const first = offers.find((o) => o.callId === 'call-urgent')!;
      assert.equal(await s(1).withdrawOffer('call-urgent', first.agentId, 'available', now + 1, true), true);
      assert.equal(await s(2).withdrawOffer('call-urgent', first.agentId, 'available', now + 1, true), false, 'withdrawn once');
      const again = await s(0).offerNext(now + 2, 15_000);
      assert.deepEqual(again && { callId: again.callId, agentId: again.agentId }, { callId: 'call-urgent', agentId: byIdle[11] });
      assert.equal(await s(0).offerNext(now + 2, 15_000), undefined, 'the agent who declined is not asked again while nobody else is free');
      assert.deepEqual((await s(1).expiredOffers(now + 15_000)).map((o) => o.callId).sort(), order.filter((id) => id !== 'call-urgent').sort(), 'offers past their expiry are listed for ring-out');
      assert.equal(await s(2).remove('call-0'), true);
      assert.equal((await s(0).waiting()).length, 10);
      await Promise.all(stores.map((x) => x.close()));
    });
  }
});

describe('two Parley nodes sharing rate limits and customers\' grace', () => {
  const prefix = uniquePrefix();
  let a: RunningParley;
  let b: RunningParley;

  before(async () => {
    const SQLITE_PATH = join(mkdtempSync(join(tmpdir(), 'parley-shared-')), 'parley.sqlite');
    const env = { SQLITE_PATH, REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: prefix, RATE_LIMIT_MAX: '40', CONSULT_CUSTOMER_GRACE_MS: '600', NODE_HEARTBEAT_MS: '200', NODE_TTL_MS: '1000' };
    a = await startParley({ ...env, NODE_ID: 'node-a' });
    b = await startParley({ ...env, NODE_ID: 'node-b' });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await dropPrefix(prefix);
  });

  test('a customer whose page reloads onto another node keeps the call; gone from every node, the call is hung up once', async () => {
    const admin = await firstAdmin(a.url);
    const ep = await createEntryPoint(a.url, admin);
    const started = await callFrom(a.url, ep.entryToken, 'Mover');
    const id = started.consultation.id;
    const status = async () => (await request(`${a.url}/api/v1/consultations/${id}`, { token: admin.token })).body.consultation;

    const onA = await RecordingSocket.open(a.url, '/consult', started.customerToken);
    await onA.waitFor('consultation:status');
    const onB = await RecordingSocket.open(b.url, '/consult', started.customerToken);
    await onB.waitFor('consultation:status');
    onA.close(); // node A's last page of this customer closes; node B still has one
    await new Promise((r) => setTimeout(r, 1_200)); // twice the grace: a wrong hang-up would have happened
    assert.equal((await status()).status, 'RINGING', 'the page on node B keeps the customer in line');

    onB.close();
    const gone = await waitFor('the call hung up after the grace', async () => {
      const c = await status();
      return c.status === 'FAILED' ? c : undefined;
    }, 10_000);
    assert.match(gone.failureCause, /^customer-left/);
  });

  test('HTTP rate limits count one client over both nodes', async () => {
    const hit = (srv: RunningParley) => request(`${srv.url}/api/v1/entry-points`);
    const statuses: number[] = [];
    for (let i = 0; i < 24; i++) statuses.push((await hit(i % 2 ? b : a)).status);
    // 40 per window for the whole cluster; the grace test above used part of it.
    const more: number[] = [];
    for (let i = 0; i < 40 && !more.includes(429); i++) more.push((await hit(i % 2 ? b : a)).status);
    assert.ok(more.includes(429), `over 40 requests spread on two nodes were limited (statuses: ${[...statuses, ...more].join(',')})`);
    const used = statuses.length + more.indexOf(429);
    assert.ok(used <= 40, `the limit held for the cluster, not per node: the ${used + 1}th request was refused`);
  });
});

describe('the admin board on node C shows agents and queues of nodes A and B, live', () => {
  const prefix = uniquePrefix();
  const nodes: RunningParley[] = [];

  before(async () => {
    const SQLITE_PATH = join(mkdtempSync(join(tmpdir(), 'parley-board-')), 'parley.sqlite');
    const env = { SQLITE_PATH, REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: prefix, NODE_HEARTBEAT_MS: '300', NODE_TTL_MS: '1500' };
    for (const id of ['node-a', 'node-b', 'node-c']) nodes.push(await startParley({ ...env, NODE_ID: id }));
  });
  after(async () => {
    await Promise.allSettled(nodes.map((n) => n.close()));
    await dropPrefix(prefix);
  });

  test('an agent available on A, a customer waiting on B: the board on C is pushed both; A stopping takes its agent off', async () => {
    const [a, b, c] = nodes as [RunningParley, RunningParley, RunningParley];
    const admin = await firstAdmin(a.url);
    const agent = await createAgent(a.url, admin, 'Ann Agent');
    const ep = await createEntryPoint(a.url, admin);
    const board = await RecordingSocket.open(c.url, '/admin', admin.token);
    const initial = await board.request<{ agents: Array<{ id: string; state: string }> }>('board:get');
    assert.equal(initial.agents.find((x) => x.id === agent.id)?.state, 'offline');

    const console_ = await RecordingSocket.open(a.url, '/consult', agent.token);
    await console_.request('agent:set-state', { state: 'available' });
    await board.waitFor('board', (x: { agents: Array<{ id: string; state: string }> }) => x.agents.some((y) => y.id === agent.id && y.state === 'available'), 10_000);

    const started = await callFrom(b.url, ep.entryToken, 'Bea Customer');
    const seen = await board.waitFor('board', (x: { queue: { length: number }; live: Array<{ id: string }> }) => x.queue.length >= 1 && x.live.some((l) => l.id === started.consultation.id), 10_000);
    assert.equal(seen.live.find((l: { id: string; status: string }) => l.id === started.consultation.id).status, 'RINGING');
    const asked = await board.request<{ queue: { length: number }; agents: Array<{ id: string; state: string }> }>('board:get');
    assert.ok(asked.queue.length >= 1, 'board:get on C counts the line on B');

    console_.close();
    const from = board.events.length;
    await nodes[0]!.close();
    await board.waitFor('board', (x: { agents: Array<{ id: string; state: string }> }) => x.agents.some((y) => y.id === agent.id && y.state === 'offline'), 10_000, from);
    board.close();
  });
});
