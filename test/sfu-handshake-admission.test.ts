/**
 * DTLS handshakes admitted a few at a time (src/sfu/handshakeAdmission.ts), on a fake clock:
 * the first ones start at once (synchronously), the rest wait in order and start as slots come
 * back; a slot held too long is taken back; while the thread is late only one runs.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, mock, test } from 'node:test';
import { HandshakeAdmission, type Release } from '../src/sfu/handshakeAdmission.js';

afterEach(() => mock.timers.reset());

describe('handshake admission', () => {
  test('four at once start synchronously; the fifth waits for a slot, in order', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
    const a = new HandshakeAdmission({ concurrent: 4, holdMs: 10_000, lagLimitMs: 1_000 });
    const now = [1, 2, 3, 4].map(() => a.acquire());
    assert.ok(now.every((r) => typeof r === 'function'), 'the first four are admitted without waiting');
    const order: number[] = [];
    const later = [5, 6].map((i) => Promise.resolve(a.acquire()).then((r) => (order.push(i), r)));
    assert.equal(a.queued, 2);
    (now[0] as Release)();
    (now[0] as Release)(); // a second release of the same slot does nothing
    await Promise.resolve();
    await Promise.resolve();
    assert.deepEqual(order, [5]);
    assert.equal(a.inFlight, 4);
    (now[1] as Release)();
    const [r5, r6] = await Promise.all(later);
    assert.deepEqual(order, [5, 6]);
    for (const r of [now[2], now[3], r5, r6]) (r as Release)();
    assert.equal(a.inFlight, 0);
  });

  test('a slot held longer than holdMs is taken back and given to the next', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
    const a = new HandshakeAdmission({ concurrent: 1, holdMs: 500, lagLimitMs: 1_000 });
    assert.equal(typeof a.acquire(), 'function');
    let second = false;
    void Promise.resolve(a.acquire()).then(() => (second = true));
    mock.timers.tick(499);
    await Promise.resolve();
    assert.equal(second, false);
    mock.timers.tick(1);
    await Promise.resolve();
    await Promise.resolve();
    assert.equal(second, true);
  });

  test('while the event loop is late, only one handshake runs', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    let clock = 1_000;
    const a = new HandshakeAdmission({ concurrent: 4, holdMs: 60_000, lagLimitMs: 20, sampleMs: 20, now: () => clock });
    const first = a.acquire() as Release;
    // The thread falls behind: the sampler's 20 ms tick runs 120 ms late.
    clock += 140;
    mock.timers.tick(20);
    assert.ok(a.lagMs > 20, `lag ${a.lagMs}`);
    const second = a.acquire();
    assert.notEqual(typeof second, 'function', 'a second handshake waits while the thread is late');
    first();
    await Promise.resolve(second);
    assert.equal(a.inFlight, 1);
  });
});
