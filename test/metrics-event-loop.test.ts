/**
 * The event-loop delay gauges sample the main thread every METRICS_EVENT_LOOP_RESOLUTION_MS
 * (50 ms unless set): prom-client's own 10 ms woke an idle server 100 times a second.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { Metrics } from '../src/metrics/metrics.js';

const secret = 'test-secret-test-secret-test-secret-0123';

describe('METRICS_EVENT_LOOP_RESOLUTION_MS', () => {
  test('is 50 ms unless set, and a value outside 1–1000 ms is refused with its name', () => {
    assert.equal(loadConfig({ JWT_SECRET: secret }, () => secret).metrics.eventLoopResolutionMs, 50);
    assert.equal(loadConfig({ JWT_SECRET: secret, METRICS_EVENT_LOOP_RESOLUTION_MS: '20' }, () => secret).metrics.eventLoopResolutionMs, 20);
    for (const bad of ['0', '5000', 'often']) {
      assert.throws(
        () => loadConfig({ JWT_SECRET: secret, METRICS_EVENT_LOOP_RESOLUTION_MS: bad }, () => secret),
        (err: unknown) => err instanceof ConfigError && /METRICS_EVENT_LOOP_RESOLUTION_MS: must be/.test(err.message),
        bad,
      );
    }
  });

  test('the lag gauges still report the delay of a blocked loop', async () => {
    const metrics = new Metrics({ eventLoopResolutionMs: 20 });
    // Let the monitor take samples, then block the loop for 120 ms: one sample comes that late.
    await new Promise((r) => setTimeout(r, 100));
    const until = Date.now() + 120;
    while (Date.now() < until) {
      /* busy */
    }
    await new Promise((r) => setTimeout(r, 100));
    const text = await metrics.registry.metrics();
    const max = Number(/^parley_nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)?.[1]);
    assert.ok(max >= 0.08, `max lag ${max}s after a 120 ms block`);
  });
});
