/**
 * Parley's connections to Redis (REDIS_URL): one for commands, one subscriber for the
 * message bus (a subscribed connection can do nothing else); the Socket.IO adapter
 * duplicates its own from the command one. Reconnects by itself with a capped backoff,
 * and keeps a state /health reports.
 *
 * Commands fail at once while Redis is away (no offline queue): new work is refused with
 * REDIS_UNAVAILABLE instead of hanging until Redis returns.
 */
import { createClient, type RedisClientType } from 'redis';
import type { Logger } from '../../log/logger.js';

export type RedisState = 'ok' | 'unreachable';

export interface RedisConnection {
  /** Commands (no offline queue: fails fast while disconnected). */
  readonly commands: RedisClientType;
  /** For the Socket.IO adapter: queues while disconnected, so its stream reader resumes. */
  readonly adapter: RedisClientType;
  readonly subscriber: RedisClientType;
  readonly keyPrefix: string;
  state(): RedisState;
  /** Whether it has been unreachable since, for how long (ms). */
  downForMs(): number;
  close(): Promise<void>;
}

/** 100 ms doubling up to 2 s: a restarted Redis is found again within two seconds. */
const reconnectStrategy = (retries: number) => Math.min(100 * 2 ** retries, 2_000);

export async function openRedis(url: string, keyPrefix: string, logger: Logger, connectTimeoutMs = 30_000): Promise<RedisConnection> {
  const socket = { reconnectStrategy, connectTimeout: 2_000 };
  const commands: RedisClientType = createClient({ url, socket, disableOfflineQueue: true });
  const adapter: RedisClientType = createClient({ url, socket });
  const subscriber: RedisClientType = createClient({ url, socket });
  let downSince: number | undefined;
  const shown = url.replace(/\/\/([^@/]*)@/, '//***@');
  for (const [name, client] of [['commands', commands], ['adapter', adapter], ['subscriber', subscriber]] as const) {
    client.on('error', (err: unknown) => {
      if (name !== 'commands') return;
      if (downSince === undefined) {
        downSince = Date.now();
        logger.error({ err: err instanceof Error ? err.message : String(err), redis: shown }, 'Redis unreachable: calls in progress go on, new calls and sign-ins are refused until it is back (reconnecting by itself)');
      }
    });
    client.on('ready', () => {
      if (name !== 'commands' || downSince === undefined) return;
      logger.info({ redis: shown, downMs: Date.now() - downSince }, 'Redis reachable again');
      downSince = undefined;
    });
  }
  const started = Date.now();
  const connectAll = Promise.all([commands.connect(), adapter.connect(), subscriber.connect()]);
  const progress = setInterval(() => logger.warn({ redis: shown, waitedMs: Date.now() - started }, 'still waiting for Redis (REDIS_URL); is it running and reachable from this node?'), 5_000);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      connectAll,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis at ${shown} did not answer within ${connectTimeoutMs} ms: start it, or unset REDIS_URL to run one node without it`)), connectTimeoutMs);
      }),
    ]);
  } catch (err) {
    await Promise.allSettled([commands, adapter, subscriber].map((c) => c.destroy()));
    throw err;
  } finally {
    clearInterval(progress);
    clearTimeout(timer);
  }
  logger.info({ redis: shown, keyPrefix }, 'connected to Redis: live state is shared with the other nodes');
  return {
    commands,
    adapter,
    subscriber,
    keyPrefix,
    state: () => (downSince === undefined && commands.isReady ? 'ok' : 'unreachable'),
    downForMs: () => (downSince === undefined ? 0 : Date.now() - downSince),
    async close() {
      await Promise.allSettled([commands, adapter, subscriber].map((c) => (c.isOpen ? c.close() : Promise.resolve())));
    },
  };
}
