/**
 * rate-limiter-flexible counters kept in Redis, so every node counts one client together
 * (a sign-in guesser cannot get N times the attempts by spreading them over N nodes). While
 * Redis is away each node falls back to counting in its own memory (the library's
 * insurance limiter) rather than refusing every sign-in.
 */
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import type { LimiterFactory } from '../../auth/signInThrottle.js';
import type { RedisConnection } from './redisConnection.js';

export function redisLimiters(redis: RedisConnection): LimiterFactory {
  return (o) =>
    new RateLimiterRedis({
      storeClient: redis.commands,
      useRedisPackage: true,
      keyPrefix: `${redis.keyPrefix}rl:${o.keyPrefix}`,
      points: o.points,
      duration: o.duration,
      insuranceLimiter: new RateLimiterMemory(o),
    });
}
