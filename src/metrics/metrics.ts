/**
 * Prometheus metrics (prom-client) on a registry owned by one Parley instance, so that
 * several instances in one process (tests) do not share counters.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly socketConnections = new Gauge({ name: 'parley_socket_connections', help: 'Open Socket.IO connections', labelNames: ['namespace'] as const, registers: [this.registry] });
  readonly socketEvents = new Counter({
    name: 'parley_socket_events_total',
    help: 'Socket events received, by outcome (ok, invalid, forbidden, rate_limited, error)',
    labelNames: ['namespace', 'event', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly relayedMessages = new Counter({ name: 'parley_signaling_relayed_total', help: 'Offers, answers and ICE candidates relayed', labelNames: ['namespace', 'kind'] as const, registers: [this.registry] });
  readonly audioBytes = new Counter({ name: 'parley_session_audio_bytes_total', help: 'Bytes received through seed 001 audio-data', registers: [this.registry] });
  readonly httpRequests = new Counter({ name: 'parley_http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status'] as const, registers: [this.registry] });
  readonly httpDuration = new Histogram({
    name: 'parley_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });

  /**
   * `eventLoopResolutionMs`: the sampling period of the event-loop delay gauges
   * (METRICS_EVENT_LOOP_RESOLUTION_MS; prom-client's own default, 10 ms, wakes the main thread
   * 100 times a second on an idle server).
   */
  constructor(options: { eventLoopResolutionMs: number }) {
    collectDefaultMetrics({ register: this.registry, prefix: 'parley_', eventLoopMonitoringPrecision: options.eventLoopResolutionMs });
  }

  /**
   * SFU gauges read from the media workers at scrape time: rooms, transports, producers and
   * consumers per worker.
   */
  observeMedia(source: () => Promise<Array<{ worker: number; rooms: number; transports: number; producers: number; consumers: number }>>): void {
    const names = ['rooms', 'transports', 'producers', 'consumers'] as const;
    let pending: Promise<Awaited<ReturnType<typeof source>>> | undefined;
    // One read of the workers per scrape, shared by the four gauges.
    const read = () => {
      pending ??= source().finally(() => setTimeout(() => (pending = undefined), 0));
      return pending;
    };
    for (const name of names) {
      new Gauge({
        name: `parley_sfu_${name}`,
        help: `SFU ${name} per media worker`,
        labelNames: ['worker'] as const,
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const w of await read()) this.set({ worker: String(w.worker) }, w[name]);
        },
      });
    }
  }
}
