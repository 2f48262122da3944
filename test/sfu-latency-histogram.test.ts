/**
 * The media worker's timing histograms (src/sfu/latencyHistogram.ts): a window is the
 * difference of two snapshots, percentiles are read at bucket upper edges (0.1 ms below 20 ms,
 * 1 ms above), and what came before the first snapshot does not count.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bucketOf, bucketUpperMs, LatencyHistogram, percentileBetween } from '../src/sfu/latencyHistogram.js';

describe('latency histogram', () => {
  test('buckets: 0.1 ms below 20 ms, 1 ms above, the last one open', () => {
    assert.equal(bucketOf(0), 0);
    assert.equal(bucketOf(-3), 0);
    assert.equal(bucketOf(0.05), 0);
    assert.equal(bucketUpperMs(bucketOf(0.05)), 0.1);
    assert.equal(bucketUpperMs(bucketOf(1.234)), 1.3);
    assert.equal(bucketUpperMs(bucketOf(19.99)), 20);
    assert.equal(bucketUpperMs(bucketOf(20)), 21);
    assert.equal(bucketUpperMs(bucketOf(250.5)), 251);
    assert.equal(bucketOf(5000), bucketOf(1_000_000));
  });

  test('percentiles of a window: the samples between two snapshots only', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 1000; i++) h.add(300); // before the window
    const before = h.snapshot();
    for (let i = 0; i < 98; i++) h.add(1.05);
    h.add(7.5);
    h.add(42.2);
    const after = h.snapshot();
    assert.equal(percentileBetween(before, after, 50), 1.1);
    assert.equal(percentileBetween(before, after, 99), 7.6);
    assert.equal(percentileBetween(before, after, 100), 43);
    assert.equal(percentileBetween(undefined, after, 50), 300 + 1); // everything, from the start
    assert.ok(Number.isNaN(percentileBetween(after, after, 99)));
  });
});
