/**
 * Seed 002's `GET /health` and `GET /metrics` (JSON), plus Prometheus text:
 * `GET /metrics` answers Prometheus text when the Accept header asks for
 * `text/plain` or `application/openmetrics-text` (as Prometheus' scraper does), and
 * `GET /metrics/prometheus` always does.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isReservedRoomName } from '../../domain/roomRef.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { MetricsGate, MetricsView } from '../metricsAccess.js';

const nodeHealth = z
  .object({ id: z.string(), heartbeat: z.enum(['ok', 'failing']), lastHeartbeatAt: z.string().nullable() })
  .describe('This node among those sharing the database; failing: its heartbeat cannot be written, and after NODE_TTL_MS the other nodes fail its calls');
const redisHealth = z.enum(['ok', 'unreachable']).describe('Only with REDIS_URL. unreachable: calls in progress go on, new work is refused until Redis is back');
const healthOk = z.object({ status: z.literal('ok'), connections: z.number(), uptime: z.number(), timestamp: z.string(), storage: z.literal('ok'), node: nodeHealth.optional(), redis: z.literal('ok').optional() });
const healthDown = z.object({
  node: nodeHealth.optional(),
  redis: redisHealth.optional(),
  status: z.enum(['draining', 'error']),
  connections: z.number(),
  uptime: z.number(),
  timestamp: z.string(),
  storage: z.enum(['ok', 'unreachable', 'failing']).describe('failing: reads work, writes do not (disk full, read-only)'),
  reason: z.string(),
});
/** What `GET /health` answers (200 or 503); the home page reads it. */
export type HealthAnswer = z.infer<typeof healthOk> | z.infer<typeof healthDown>;

export interface HealthSource {
  connections(): number;
  rooms(): Array<{ name: string; participants: number }>;
  /** Throws (within about a second) when storage cannot be reached or written. */
  checkStorage(): Promise<void>;
  /** The storage state the last statements saw: ok, unreachable, or failing (cannot write). */
  storageState(): 'ok' | 'unreachable' | 'failing';
  draining(): boolean;
  node?(): { nodeId: string; state: 'ok' | 'failing'; lastHeartbeatAt: string | null };
  /** undefined: no Redis configured. */
  redis?(): 'ok' | 'unreachable' | undefined;
}

function wantsPrometheus(accept: string | undefined): boolean {
  if (!accept) return false;
  const first = accept.split(',')[0]?.trim().toLowerCase() ?? '';
  return first.startsWith('text/plain') || first.startsWith('application/openmetrics-text');
}

export const healthRoutes =
  ({ source, metrics, metricsGate, health = true }: { source: HealthSource; metrics: Metrics; metricsGate: MetricsGate; health?: boolean }): FastifyPluginAsyncZod =>
  async (app) => {
    const noLimit = { rateLimit: false } as const;

    if (health) app.get(
      '/health',
      {
        config: noLimit,
        schema: {
          tags: ['operations'],
          summary: 'Liveness and readiness (503 while draining or when storage is down)',
          response: {
            200: healthOk,
            503: healthDown,
          },
        },
      },
      async (_req, reply) => {
        const n = source.node?.();
        const base = { connections: source.connections(), uptime: process.uptime(), timestamp: new Date().toISOString(), ...(n ? { node: { id: n.nodeId, heartbeat: n.state, lastHeartbeatAt: n.lastHeartbeatAt } } : {}) };
        if (source.draining()) return reply.status(503).send({ status: 'draining' as const, ...base, storage: source.storageState(), reason: 'server is shutting down' });
        try {
          await source.checkStorage();
        } catch (err) {
          const state = source.storageState();
          const storage = state === 'ok' ? ('unreachable' as const) : state;
          const what = storage === 'failing' ? 'storage cannot be written (disk full or read-only)' : 'storage unreachable';
          return reply.status(503).send({ status: 'error' as const, ...base, storage, reason: `${what}: ${err instanceof Error ? err.message : String(err)}` });
        }
        const redis = source.redis?.();
        if (redis === 'unreachable') return reply.status(503).send({ status: 'error' as const, ...base, storage: 'ok' as const, redis, reason: 'Redis unreachable (REDIS_URL): calls in progress go on, new calls are refused until it is back; this node reconnects by itself' });
        return { status: 'ok' as const, ...base, storage: 'ok' as const, ...(redis ? { redis } : {}) };
      },
    );

    /** Seed 002's JSON; a `public` view leaves consultations' rooms out of the details (their count stays). */
    const jsonMetrics = (view: MetricsView) => {
      const all = source.rooms();
      const roomDetails = view === 'full' ? all : all.filter((r) => !isReservedRoomName(r.name.slice(r.name.indexOf(':') + 1)));
      return { connections: source.connections(), rooms: all.length, roomDetails, memory: process.memoryUsage(), uptime: process.uptime() };
    };

    app.get(
      '/metrics',
      { config: noLimit, schema: { tags: ['operations'], summary: 'Seed 002 metrics as JSON; Prometheus text when Accept asks for text/plain' } },
      async (req, reply) => {
        const view = await metricsGate(req);
        if (wantsPrometheus(req.headers.accept)) return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
        return jsonMetrics(view);
      },
    );

    app.get('/metrics/prometheus', { config: noLimit, schema: { tags: ['operations'], summary: 'Prometheus text exposition' } }, async (req, reply) => {
      await metricsGate(req);
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
  };
