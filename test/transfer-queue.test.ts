/**
 * The queue's side of transfers, as pure domain with a fake clock (node:test mock timers):
 * who rings, who is busy, who is free, where the call goes when the transfer is not taken,
 * and that a transferred call waits at the head of the queue.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { ParleyError } from '../src/errors.js';
import { ConsultationQueue } from '../src/domain/routing/consultationQueue.js';

describe('transfers in the consultation queue', () => {
  let queue: ConsultationQueue;
  const events: string[] = [];

  beforeEach(() => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    events.length = 0;
    queue = new ConsultationQueue({ offerTimeoutMs: 10_000, offerResendMs: 2_000, reofferCooldownMs: 10_000 });
    queue.on('offer', (o) => events.push(`offer ${o.callId}→${o.agentId}`));
    queue.on('transfer-offer', (t) => events.push(`transfer-offer ${t.callId}→${t.toAgentId}${t.resent ? ' (resent)' : ''}`));
    queue.on('transfer-withdrawn', (w) => events.push(`transfer-withdrawn ${w.callId} ${w.reason}`));
    queue.on('transferred', (t) => events.push(`transferred ${t.callId} ${t.fromAgentId}→${t.toAgentId}`));
    queue.setAgentState('a', 'available');
    queue.enqueue('k1', { customerName: 'Kim' });
    queue.accept('a', 'k1');
  });
  afterEach(() => {
    queue.close();
    mock.timers.reset();
  });

  const state = (agent: string) => queue.agent(agent)?.state;

  test('accepted: the colleague is busy with the call, the first agent in after-call work', () => {
    queue.setAgentState('b', 'available');
    queue.offerTransfer('a', 'k1', 'b', { transferredFrom: 'a' });
    assert.deepEqual([state('a'), state('b')], ['busy', 'ringing']);
    assert.equal(queue.transferFor('b')?.callId, 'k1');
    queue.reserveTransfer('b', 'k1');
    mock.timers.tick(60_000); // a reserved transfer never rings out
    queue.commitTransfer('b', 'k1');
    assert.deepEqual([state('a'), state('b'), queue.agent('b')?.callId, queue.agent('a')?.callId], ['after-call-work', 'busy', 'k1', undefined]);
    assert.deepEqual(events.slice(-2), ['transfer-offer k1→b', 'transferred k1 a→b']);
    assert.equal(queue.transferOf('k1'), undefined);
  });

  test('unacknowledged, it is announced again; rung out, the colleague goes offline and the call stays with the first agent', () => {
    queue.setAgentState('b', 'available');
    queue.offerTransfer('a', 'k1', 'b', {});
    mock.timers.tick(2_000);
    assert.ok(events.includes('transfer-offer k1→b (resent)'));
    assert.equal(queue.acknowledgeTransfer('b', 'k1'), true);
    const before = events.length;
    mock.timers.tick(4_000);
    assert.equal(events.length, before, 'no more resends once acknowledged');
    mock.timers.tick(4_000);
    assert.deepEqual(events.slice(-1), ['transfer-withdrawn k1 timeout']);
    assert.deepEqual([state('a'), queue.agent('a')?.callId, state('b')], ['busy', 'k1', 'offline']);
  });

  test('refused while ringing elsewhere, to oneself, to someone not available, or by someone not on the call', () => {
    const conflict = (fn: () => void, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof ParleyError && re.test(e.message));
    conflict(() => queue.offerTransfer('a', 'k1', 'b', {}), /that agent is offline/);
    conflict(() => queue.offerTransfer('a', 'k1', 'a', {}), /cannot transfer a call to yourself/);
    conflict(() => queue.offerTransfer('z', 'k1', 'b', {}), /not in progress with you/);
    queue.setAgentState('b', 'available');
    queue.setAgentState('c', 'available');
    queue.offerTransfer('a', 'k1', 'b', {});
    conflict(() => queue.offerTransfer('a', 'k1', 'c', {}), /already ringing/);
    conflict(() => queue.requeueTransfer('a', 'k1', {}), /already ringing/);
    conflict(() => queue.reserveTransfer('c', 'k1'), /not ringing for you/);
  });

  test('rejected: the colleague is available again; a colleague who goes offline stops ringing', () => {
    queue.setAgentState('b', 'available');
    queue.offerTransfer('a', 'k1', 'b', {});
    queue.rejectTransfer('b', 'k1');
    assert.deepEqual([state('a'), state('b')], ['busy', 'available']);
    queue.offerTransfer('a', 'k1', 'b', {});
    queue.agentGone('b');
    assert.deepEqual(events.slice(-1), ['transfer-withdrawn k1 agent-offline']);
    assert.equal(state('b'), 'offline');
  });

  test('to the queue: the call waits before everyone else and is offered to someone other than the first agent', () => {
    queue.enqueue('k2', {});
    queue.requeueTransfer('a', 'k1', { transferredFrom: 'a' });
    assert.equal(state('a'), 'after-call-work');
    assert.deepEqual(queue.queued().map((q) => q.callId), ['k1', 'k2']);
    queue.setAgentState('a', 'available');
    queue.setAgentState('b', 'available');
    // a declined it by sending it away: b, idle for less time, gets it; a gets the next caller.
    assert.deepEqual(events.filter((e) => e.startsWith('offer ')).slice(-2).sort(), ['offer k1→b', 'offer k2→a']);
  });

  test('a transfer not taken while the first agent is gone: the call waits at the head, the first agent offline', () => {
    queue.enqueue('k2', {});
    queue.requeueOrphan('k1', { transferredFrom: 'a' });
    assert.deepEqual(queue.queued().map((q) => q.callId), ['k1', 'k2']);
    assert.deepEqual([state('a'), queue.agent('a')?.callId], ['offline', undefined]);
  });
});
