/**
 * The media worker's stale-packet gate (src/sfu/staleGate.ts), on a fake clock: packets handled
 * on time pass; a backlog (packets handled long after their media time, in a burst) is dropped
 * until the queue is fresh again; a slow sender clock, a timestamp wrap and a jump in the
 * sender's timestamps do not make it drop a live stream.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StaleGate } from '../src/sfu/staleGate.js';

const OPUS = 48_000;
const TICKS = 960; // 20 ms

function gate(start = 1000) {
  const clock = { t: start };
  return { clock, g: new StaleGate({ clockRate: OPUS, maxLateMs: 300, now: () => clock.t }) };
}

describe('stale-packet gate', () => {
  test('a stream handled on time, with jitter up to 100 ms, is all forwarded', () => {
    const { clock, g } = gate();
    for (let k = 0; k < 3000; k++) {
      clock.t = 1000 + k * 20 + ((k * 37) % 100);
      assert.equal(g.admit(k * TICKS), true, `packet ${k}`);
    }
    assert.equal(g.dropped, 0);
  });

  test('a backlog is dropped while it is late, and forwarding resumes once the queue is fresh', () => {
    const { clock, g } = gate();
    let k = 0;
    for (; k < 100; k++) {
      clock.t = 1000 + k * 20;
      assert.equal(g.admit(k * TICKS), true);
    }
    // The worker stalls for 2 s; 100 packets wait in the socket and are handled in one burst.
    const stalledUntil = 1000 + k * 20 + 2000;
    const burst: boolean[] = [];
    for (let i = 0; i < 100; i++, k++) {
      clock.t = stalledUntil + i * 0.05;
      burst.push(g.admit(k * TICKS));
    }
    // Packets older than 300 ms when handled are not forwarded; the last ~15 (300 ms) are.
    const forwarded = burst.filter(Boolean).length;
    assert.ok(forwarded >= 14 && forwarded <= 17, `forwarded ${forwarded} of the 100 late packets`);
    assert.equal(burst.slice(0, 80).some(Boolean), false, 'the oldest packets of the burst were forwarded');
    // Then packets arrive on time again.
    for (let i = 0; i < 50; i++, k++) {
      clock.t = 1000 + k * 20;
      assert.equal(g.admit(k * TICKS), true, `packet ${k} after the burst`);
    }
  });

  test('a sender clock 0.1 % slow, over 10 minutes, is not taken for lateness', () => {
    const { clock, g } = gate();
    for (let k = 0; k < 30_000; k++) {
      clock.t = 1000 + k * 20 * 1.001;
      assert.equal(g.admit(k * TICKS), true, `packet ${k} at ${Math.round(clock.t)} ms`);
    }
  });

  test('the RTP timestamp wraps past 2^32 without a drop', () => {
    const { clock, g } = gate();
    const first = 0xffffffff - 50 * TICKS;
    for (let k = 0; k < 200; k++) {
      clock.t = 1000 + k * 20;
      assert.equal(g.admit((first + k * TICKS) >>> 0), true, `packet ${k}`);
    }
  });

  test('a sender whose timestamps jump back (a new source on the same SSRC) is forwarded after at most the reset threshold', () => {
    const clock = { t: 1000 };
    const g = new StaleGate({ clockRate: OPUS, maxLateMs: 300, resetAfterMs: 10_000, now: () => clock.t });
    let k = 0;
    for (; k < 100; k++) {
      clock.t = 1000 + k * 20;
      g.admit(k * TICKS);
    }
    // Timestamps restart 60 s back: read as 60 s late, which is past the reset threshold.
    const base = k;
    for (let i = 0; i < 100; i++, k++) {
      clock.t = 1000 + k * 20;
      assert.equal(g.admit(((base - 3000 + i) * TICKS) >>> 0), true, `packet ${i} after the jump`);
    }
  });

  test('a sender that pauses 3 s and resumes without advancing its timestamps loses at most 10 packets', () => {
    const { clock, g } = gate();
    let k = 0;
    for (; k < 100; k++) {
      clock.t = 1000 + k * 20;
      g.admit(k * TICKS);
    }
    const resumedAt = 1000 + k * 20 + 3000;
    let dropped = 0;
    for (let i = 0; i < 200; i++, k++) {
      clock.t = resumedAt + i * 20 + ((i * 7) % 3);
      if (!g.admit(k * TICKS)) dropped++;
      else if (dropped > 0) assert.ok(i >= dropped, 'forwarding came back before the drops stopped');
    }
    assert.ok(dropped <= 10, `dropped ${dropped} packets after the pause`);
  });

  test('a backlog that keeps arriving late in bursts is not taken for a resumed sender', () => {
    const { clock, g } = gate();
    let k = 0;
    for (; k < 100; k++) {
      clock.t = 1000 + k * 20;
      g.admit(k * TICKS);
    }
    // Starved worker: in each 80 ms time slice it handles 80 ms of packets at once, 1 s behind (for 4 s, within the floor's window).
    let forwardedLate = 0;
    for (let slice = 0; slice < 50; slice++) {
      const sliceAt = 1000 + 100 * 20 + 1000 + slice * 80;
      for (let i = 0; i < 4; i++, k++) {
        clock.t = sliceAt + i * 0.1;
        if (g.admit(k * TICKS)) forwardedLate++;
      }
    }
    assert.equal(forwardedLate, 0, `${forwardedLate} packets 1 s late were forwarded`);
  });
});
