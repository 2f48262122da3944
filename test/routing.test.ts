/**
 * Consultation routing: three agents, five customers. Calls are offered oldest first to the
 * longest-idle available agent; a rejected or unanswered offer moves to the next agent; a
 * customer can hang up while waiting; positions and estimated waits follow the queue.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, mock, test } from 'node:test';
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
    assert.deepEqual(queue.position('k4'), { position: 4, agentsOnline: 3, estimatedWaitMs: Math.round((3 * 120_000) / 3) });
    assert.equal(queue.position('k5')?.position, 5);

    for (const [agent, call] of [['c', 'k1'], ['a', 'k2'], ['b', 'k3']] as const) queue.accept(agent, call);
    assert.deepEqual(queue.queued().map((c) => c.callId), ['k4', 'k5']);
    assert.deepEqual(queue.position('k4'), { position: 1, agentsOnline: 3, estimatedWaitMs: 0 });
    assert.equal(queue.agent('a')?.state, 'busy');

    // a finishes first; after-call work holds k4 until a is available again.
    clock += 60_000;
    queue.callEnded('a', 60_000);
    assert.equal(queue.agent('a')?.state, 'after-call-work');
    assert.equal(offers.length, 3);
    queue.setAgentState('a', 'available');
    assert.deepEqual(offers.at(-1), { callId: 'k4', agentId: 'a' });
    // The measured handle time now drives the estimate.
    assert.deepEqual(queue.position('k5'), { position: 2, agentsOnline: 3, estimatedWaitMs: 20_000 });
  });

  test('a rejected call goes to the next agent, not back to the one who rejected it within the cool-down', () => {
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
    assert.equal(queue.queued()[0]?.offeredTo, undefined, 'everyone declined just now: the call waits out the cool-down');
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

  test('the AI assistant takes a waiting call: it leaves the line as overflowed, not abandoned; a call being accepted is not taken', () => {
    make();
    const overflowed: string[] = [];
    queue.on('overflowed', (o) => overflowed.push(o.callId));
    queue.enqueue('k1');
    queue.enqueue('k2');
    queue.reserve('c', 'k1');
    assert.equal(queue.overflow('k1'), 'accepting', 'an accept being stored keeps the call');
    assert.equal(queue.overflow('k2'), 'taken');
    assert.equal(queue.overflow('k2'), 'gone');
    assert.deepEqual(withdrawn.at(-1), { callId: 'k2', agentId: 'a', reason: 'overflowed' });
    assert.equal(queue.agent('a')?.state, 'available', 'the agent it rang for is free (and not counted as declining)');
    assert.deepEqual([overflowed, abandoned], [['k2'], []]);
    assert.deepEqual(queue.queued().map((c) => c.callId), ['k1']);
  });

  test('settle: calls storage no longer has waiting leave the line; an accept storage kept makes its agent busy', () => {
    make();
    for (const call of ['k1', 'k2', 'k3', 'k4']) queue.enqueue(call);
    queue.reserve('c', 'k1'); // c's accept was stored, its commit never came
    queue.settle([{ callId: 'k1', agentId: 'c' }, { callId: 'k2', agentId: 'b' }, { callId: 'k3', ended: true }, { callId: 'nope' }]);
    assert.deepEqual(queue.queued().map((c) => c.callId), ['k4']);
    assert.deepEqual([queue.agent('c')?.state, queue.agent('c')?.callId], ['busy', 'k1']);
    assert.deepEqual([queue.agent('b')?.state, queue.agent('b')?.callId], ['busy', 'k2'], 'b, ringing for k3, has k2 per storage');
    assert.deepEqual(abandoned, ['k3'], 'a call that ended while its hang-up was lost counts as abandoned');
    assert.equal(queue.offerFor('a')?.callId, 'k4', 'routing goes on with the rest');
  });
});

/**
 * Issue 9 item 12: a call never waits for nobody, offers reach a console that has just become
 * available, and accepting changes the queue only once storage has committed. Fake clocks:
 * the queue's own timers and its `now` both run on node:test's mock timers.
 */
describe('queue reliability', () => {
  let queue: ConsultationQueue;
  const offers: Array<{ callId: string; agentId: string; resent: boolean }> = [];
  const withdrawn: Array<{ callId: string; agentId: string; reason: string }> = [];

  const make = (options: { offerTimeoutMs?: number; reofferCooldownMs?: number; offerResendMs?: number } = {}) => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    offers.length = 0;
    withdrawn.length = 0;
    queue = new ConsultationQueue({ offerTimeoutMs: 20_000, reofferCooldownMs: 10_000, offerResendMs: 2_000, defaultHandleTimeMs: 120_000, ...options, now: () => Date.now() });
    queue.on('offer', (o) => offers.push({ callId: o.callId, agentId: o.agentId, resent: o.resent }));
    queue.on('offer-withdrawn', (w) => withdrawn.push(w));
  };
  afterEach(() => {
    queue?.close();
    mock.timers.reset();
  });

  test('the only agent rejects: the call comes back to them after the cool-down', () => {
    make();
    queue.setAgentState('solo', 'available');
    queue.enqueue('k1');
    queue.reject('solo', 'k1');
    assert.equal(queue.agent('solo')?.state, 'available');
    mock.timers.tick(9_999);
    assert.equal(offers.filter((o) => !o.resent).length, 1, 'not back before the cool-down');
    mock.timers.tick(1);
    assert.deepEqual(offers.at(-1), { callId: 'k1', agentId: 'solo', resent: false });
    assert.equal(queue.agent('solo')?.state, 'ringing');
    queue.accept('solo', 'k1');
    assert.equal(queue.agent('solo')?.state, 'busy');
  });

  test('a rejected call goes to another available agent first, then back after the cool-down', () => {
    make();
    queue.setAgentState('a', 'available');
    mock.timers.tick(10);
    queue.setAgentState('b', 'available');
    queue.enqueue('k1');
    assert.equal(offers.at(-1)?.agentId, 'a');
    queue.reject('a', 'k1');
    assert.equal(offers.at(-1)?.agentId, 'b', 'another agent first, with no wait');
    queue.reject('b', 'k1');
    mock.timers.tick(10_000);
    assert.deepEqual(offers.at(-1), { callId: 'k1', agentId: 'a', resent: false }, 'after the cool-down, the agent who declined first');
  });

  test('the only agent lets it ring out: offline; once available again the call is offered after the cool-down', () => {
    make({ offerTimeoutMs: 5_000 });
    queue.setAgentState('solo', 'available');
    queue.enqueue('k1');
    mock.timers.tick(5_000);
    assert.deepEqual(withdrawn.at(-1), { callId: 'k1', agentId: 'solo', reason: 'timeout' });
    assert.equal(queue.agent('solo')?.state, 'offline');
    mock.timers.tick(1_000);
    queue.setAgentState('solo', 'available');
    mock.timers.tick(8_999);
    assert.equal(queue.agent('solo')?.state, 'available', 'within the cool-down (10 s from the ring-out): not yet');
    mock.timers.tick(1);
    assert.equal(queue.agent('solo')?.state, 'ringing');
    assert.equal(offers.at(-1)?.callId, 'k1');
  });

  test('an unacknowledged offer is announced again until the console acknowledges it', () => {
    make();
    queue.setAgentState('a', 'available');
    queue.enqueue('k1');
    assert.deepEqual(offers, [{ callId: 'k1', agentId: 'a', resent: false }]);
    mock.timers.tick(2_000);
    mock.timers.tick(2_000);
    assert.deepEqual(offers.map((o) => o.resent), [false, true, true]);
    assert.equal(queue.acknowledgeOffer('a', 'k1'), true);
    mock.timers.tick(10_000);
    assert.equal(offers.length, 3, 'an acknowledged offer is not sent again');
    assert.equal(queue.acknowledgeOffer('b', 'k1'), false, 'only the agent it rings for can acknowledge it');
  });

  test('the estimate is honest: no agent online, no estimate; the count of agents online is given', () => {
    make();
    queue.enqueue('k1');
    queue.enqueue('k2');
    assert.deepEqual(queue.position('k2'), { position: 2, agentsOnline: 0, estimatedWaitMs: undefined });
    queue.setAgentState('a', 'after-call-work');
    assert.deepEqual(queue.position('k2'), { position: 2, agentsOnline: 1, estimatedWaitMs: 120_000 });
  });

  test('accept is two-phase: the queue changes only on commit; a release puts everything back', () => {
    make({ offerTimeoutMs: 5_000 });
    queue.setAgentState('a', 'available');
    queue.enqueue('k1');
    queue.reserve('a', 'k1');
    assert.deepEqual(queue.queued().map((c) => c.callId), ['k1'], 'still queued while storage writes');
    assert.equal(queue.agent('a')?.state, 'ringing');
    assert.throws(() => queue.reserve('a', 'k1'), /not ringing for you/, 'a second accept is refused');
    assert.throws(() => queue.reject('a', 'k1'), /not ringing for you/);
    mock.timers.tick(6_000);
    assert.equal(withdrawn.length, 0, 'a reserved offer does not ring out');
    queue.agentGone('a');
    assert.equal(queue.agent('a')?.state, 'ringing', 'nor is it withdrawn while being accepted');

    queue.releaseAccept('a', 'k1');
    assert.deepEqual(withdrawn.at(-1), { callId: 'k1', agentId: 'a', reason: 'accept-failed' });
    assert.equal(queue.agent('a')?.state, 'ringing', 'not counted as declined: offered again');
    assert.deepEqual(offers.at(-1), { callId: 'k1', agentId: 'a', resent: false });

    queue.reserve('a', 'k1');
    queue.commitAccept('a', 'k1');
    assert.deepEqual(queue.queued(), []);
    assert.equal(queue.agent('a')?.state, 'busy');
  });

  test('the customer hangs up while the accept is being written: the agent is free, commit is refused', () => {
    make();
    queue.setAgentState('a', 'available');
    queue.enqueue('k1');
    queue.reserve('a', 'k1');
    queue.hangUp('k1');
    assert.equal(queue.agent('a')?.state, 'available');
    assert.throws(() => queue.commitAccept('a', 'k1'), (e: unknown) => e instanceof ParleyError && e.code === 'CONFLICT');
    assert.equal(queue.agent('a')?.state, 'available');
  });
});
