/**
 * What this node shares with the others, chosen at start from REDIS_URL (LiveKit's
 * Local/Redis pattern): without it, a local bus and Socket.IO's in-memory adapter (one
 * node, as always); with it, a Redis bus and the Redis Streams adapter, so broadcasts,
 * relays by socket id and disconnectSockets() reach sockets on every node.
 *
 * Why the Streams adapter rather than the pub/sub one: its readers resume from their last
 * stream offset after a Redis disconnection, so a node that lost Redis for a moment does
 * not silently miss the packets sent meanwhile (pub/sub drops them), and it supports
 * Socket.IO's connection state recovery. Cost: one XADD per broadcast, trimmed (~MAXLEN).
 */
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { ServerOptions } from 'socket.io';
import type { Config } from '../config/config.js';
import { LocalMessageBus, type MessageBus } from '../events/messageBus.js';
import { RedisMessageBus } from '../events/redisMessageBus.js';
import type { Logger } from '../log/logger.js';
import { LocalDurableTimers, RedisDurableTimers, type DurableTimers } from './durableTimers.js';
import { LocalPresence, RedisPresence, type Presence } from './presence.js';
import { openRedis, type RedisConnection } from './redis/redisConnection.js';

export interface Cluster {
  nodeId: string;
  /** True when other nodes may exist (REDIS_URL set). */
  shared: boolean;
  bus: MessageBus;
  redis?: RedisConnection;
  /** Connection counts over every node (Local: this process). */
  presence: Presence;
  /** Timers that fire on exactly one node (Local: this process). */
  timers: DurableTimers;
  /** Socket.IO's adapter for this deployment (undefined: the in-memory default). */
  socketAdapter?: ServerOptions['adapter'];
  /** For /health: undefined without Redis. */
  redisState(): 'ok' | 'unreachable' | undefined;
  close(): Promise<void>;
}

export async function openCluster(config: Config['cluster'], logger: Logger): Promise<Cluster> {
  if (!config.redis) {
    const bus = new LocalMessageBus(config.nodeId);
    const presence = new LocalPresence();
    const timers = new LocalDurableTimers(logger);
    return {
      nodeId: config.nodeId,
      shared: false,
      bus,
      presence,
      timers,
      redisState: () => undefined,
      async close() {
        await timers.close();
        await bus.close();
      },
    };
  }
  const redis = await openRedis(config.redis.url, config.redis.keyPrefix, logger);
  const bus = new RedisMessageBus(config.nodeId, redis, logger);
  const prefix = config.redis.keyPrefix;
  const presence = new RedisPresence(redis, config.nodeId, { heartbeatMs: config.heartbeatMs, ttlMs: config.ttlMs, logger });
  const timers = new RedisDurableTimers(redis, logger, { pollMs: Math.min(250, config.heartbeatMs) });
  const socketAdapter = createAdapter(redis.adapter, {
    streamName: `${prefix}socket.io`,
    channelPrefix: `${prefix}socket.io`,
    sessionKeyPrefix: `${prefix}sio:session:`,
    // A stream read returns at least this often, so a node notices a closed client quickly.
    blockTimeInMs: 1_000,
  }) as ServerOptions['adapter'];
  return {
    nodeId: config.nodeId,
    shared: true,
    bus,
    redis,
    presence,
    timers,
    socketAdapter,
    redisState: () => redis.state(),
    async close() {
      await timers.close();
      await presence.close();
      await bus.close();
      await redis.close();
    },
  };
}
