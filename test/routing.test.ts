/**
 * Consultation routing: three agents, five customers. Calls are offered oldest first to the
 * longest-idle available agent; a rejected or unanswered offer moves to the next agent; a
 * customer can hang up while waiting; positions and estimated waits follow the queue.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { ParleyError } from '../src/errors.js';
import { ConsultationQueue } from '../src/domain/routing/consultationQueue.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('consultation queue and routing', () => {
  let queue: ConsultationQueue;
  let clock = 0;
  const offers: Array<{ callId: string; agentId: string }> = [];
  const withdrawn: Array<{ callId: string; agentId: string; reason: string }> = [];
  const abandoned: string[] = [];

  const make = (offerTimeoutMs = 10_000) => {
    clock = 1000;
    offers.length = 0;
    withdrawn.length = 0;
    abandoned.length = 0;
    queue = new ConsultationQueue({ offerTimeoutMs, defaultHandleTimeMs: 120_000, now: () => clock });
    queue.on('offer', (o) => offers.push({ callId: o.callId, agentId: o.agentId }));
    queue.on('offer-withdrawn', (w) => withdrawn.push(w));
    queue.on('abandoned', (a) => abandoned.push(a.callId));
    // Agents become available in the order c, a, b: c has been idle longest.
    for (const agent of ['c', 'a', 'b']) {
      clock += 1000;
      queue.setAgentState(agent, 'available');
    }
  };
  afterEach(() => queue?.close());

  test('five customers, three agents: offers go oldest call first to the longest-idle agent', () => {
    make();
    for (const call of ['k1', 'k2', 'k3', 'k4', 'k5']) {
      clock += 100;
      queue.enqueue(call, { name: `customer ${call}` });
    }
    assert.deepEqual(offers, [
      { callId: 'k1', agentId: 'c' },
      { callId: 'k2', agentId: 'a' },
      { callId: 'k3', agentId: 'b' },
    ]);
    assert.equal(queue.agent('c')?.state, 'ringing');
    assert.deepEqual(queue.position('k4'), { position: 4, estimatedWaitMs: Math.round((3 * 120_000) / 3) });
    assert.equal(queue.position('k5')?.position, 5);

    for (const [agent, call] of [['c', 'k1'], ['a', 'k2'], ['b', 'k3']] as const) queue.accept(agent, call);
    assert.deepEqual(queue.queued().map((c) => c.callId), ['k4', 'k5']);
    assert.deepEqual(queue.position('k4'), { position: 1, estimatedWaitMs: 0 });
    assert.equal(queue.agent('a')?.state, 'busy');

    // a finishes first; after-call work holds k4 until a is available again.
    clock += 60_000;
    queue.callEnded('a', 60_000);
    assert.equal(queue.agent('a')?.state, 'after-call-work');
    assert.equal(offers.length, 3);
    queue.setAgentState('a', 'available');
    assert.deepEqual(offers.at(-1), { callId: 'k4', agentId: 'a' });
    // The measured handle time now drives the estimate.
    assert.deepEqual(queue.position('k5'), { position: 2, estimatedWaitMs: 20_000 });
  });

  test('a rejected call goes to the next agent and never back to the one who rejected it', () => {
    make();
    queue.enqueue('k1');
    assert.deepEqual(offers.at(-1), { callId: 'k1', agentId: 'c' });
    queue.reject('c', 'k1');
    assert.deepEqual(withdrawn.at(-1), { callId: 'k1', agentId: 'c', reason: 'rejected' });
    assert.deepEqual(offers.at(-1), { callId: 'k1', agentId: 'a' });
    assert.equal(queue.agent('c')?.state, 'available');
    queue.reject('a', 'k1');
    assert.deepEqual(offers.at(-1), { callId: 'k1', agentId: 'b' });
    queue.reject('b', 'k1');
    assert.equal(queue.queued()[0]?.offeredTo, undefined, 'everyone declined: the call waits');
    queue.enqueue('k2');
    assert.deepEqual(offers.at(-1), { callId: 'k2', agentId: 'c' }, 'other calls are still routed');
    queue.setAgentState('d', 'available');
    assert.deepEqual(offers.at(-1), { callId: 'k1', agentId: 'd' }, 'a new agent gets the declined call');
  });

  test('an unanswered offer times out to the next agent; the agent who missed it goes offline', async () => {
    make(80);
    queue.enqueue('k1');
    assert.deepEqual(offers.at(-1), { callId: 'k1', agentId: 'c' });
    await sleep(150);
    assert.deepEqual(withdrawn.at(-1), { callId: 'k1', agentId: 'c', reason: 'timeout' });
    assert.deepEqual(offers.at(-1), { callId: 'k1', agentId: 'a' });
    assert.equal(queue.agent('c')?.state, 'offline');
    queue.accept('a', 'k1');
    await sleep(150);
    assert.equal(withdrawn.length, 1, 'an accepted offer does not time out');
  });

  test('a customer hangs up while queued or while ringing; the queue closes up', () => {
    make();
    for (const call of ['k1', 'k2', 'k3', 'k4', 'k5']) queue.enqueue(call);
    queue.hangUp('k4');
    assert.deepEqual(abandoned, ['k4']);
    assert.equal(queue.position('k5')?.position, 4);
    queue.hangUp('k2');
    assert.deepEqual(withdrawn.at(-1), { callId: 'k2', agentId: 'a', reason: 'hung-up' });
    assert.deepEqual(offers.at(-1), { callId: 'k5', agentId: 'a' }, 'the freed agent gets the next call');
    assert.throws(() => queue.accept('a', 'k2'), (e: unknown) => e instanceof ParleyError && e.code === 'CONFLICT');
    assert.throws(() => queue.hangUp('k2'), (e: unknown) => e instanceof ParleyError && e.code === 'NOT_FOUND');
  });

  test('agents cannot go offline while ringing or busy, nor accept calls not offered to them', () => {
    make();
    queue.enqueue('k1');
    assert.throws(() => queue.setAgentState('c', 'offline'), /agent is ringing/);
    assert.throws(() => queue.accept('a', 'k1'), /not ringing for you/);
    queue.accept('c', 'k1');
    assert.throws(() => queue.setAgentState('c', 'available'), /agent is busy/);
    assert.throws(() => queue.callEnded('a'), /no call in progress/);
    queue.enqueue('k2');
    assert.throws(() => queue.enqueue('k2'), (e: unknown) => e instanceof ParleyError && e.code === 'CONFLICT', 'a waiting call cannot be queued twice');
  });
});
