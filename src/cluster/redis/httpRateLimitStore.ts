/**
 * @fastify/rate-limit's own Redis store (its Lua script, its keys), counted in the Redis every
 * node shares, so a client gets RATE_LIMIT_MAX requests per window from the whole cluster,
 * not from each node. The store is written for ioredis (`defineCommand`); Parley speaks to
 * Redis with node-redis, so this gives it the two calls it uses, over EVAL.
 */
import type { RedisConnection } from './redisConnection.js';

type Callback = (err: Error | null, result?: unknown) => void;

/** The part of ioredis that @fastify/rate-limit's RedisStore calls, over node-redis. */
export function rateLimitRedis(redis: RedisConnection): Record<string, unknown> {
  const commands: Record<string, unknown> = {};
  commands.defineCommand = (name: string, def: { numberOfKeys: number; lua: string }) => {
    commands[name] = (...args: unknown[]) => {
      const cb = args.pop() as Callback;
      const values = args.map(String);
      redis.commands
        .eval(def.lua, { keys: values.slice(0, def.numberOfKeys), arguments: values.slice(def.numberOfKeys) })
        .then((r) => cb(null, r), (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))));
    };
  };
  return commands;
}
