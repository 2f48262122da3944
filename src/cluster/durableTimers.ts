/**
 * Durable timers (offer timeout, customer grace…): a timer set on one node fires on exactly
 * one node, even when the node that set it is gone by then (LiveKit's Local/Redis pattern:
 * one interface, chosen at start from REDIS_URL).
 *
 * Local: setTimeout in this process (one node, as always).
 * Redis: a sorted set `timers` (member "kind␀id", score = due time in Redis's own clock, so
 * the nodes' clocks need not agree). Every node polls every `pollMs`; a Lua script takes the
 * due members out with ZREM in the same step it reads them, so each due timer is handed to
 * exactly one poller. Delivery is at most once: a node killed between taking a timer and
 * running its handler loses it (the handlers here are checks that a later event repeats).
 */
import type { Logger } from '../log/logger.js';
import type { RedisConnection } from './redis/redisConnection.js';

export type TimerHandler = (id: string) => void | Promise<void>;

export interface DurableTimers {
  /** What a timer of `kind` does when it fires (every node registers the same handlers). */
  handle(kind: string, fn: TimerHandler): void;
  /** (Re)sets the timer `kind`/`id` to fire in `delayMs`. */
  set(kind: string, id: string, delayMs: number): Promise<void>;
  cancel(kind: string, id: string): Promise<void>;
  /**
   * `fn` runs (on one node) when the timers were lost — Redis restarted empty — so that what
   * they were for can be armed again from the database. Local: never (they die with the process).
   */
  onLost(fn: () => void | Promise<void>): void;
  close(): Promise<void>;
}

abstract class Handlers {
  private readonly handlers = new Map<string, TimerHandler>();
  constructor(protected readonly logger: Logger) {}

  handle(kind: string, fn: TimerHandler): void {
    this.handlers.set(kind, fn);
  }

  protected readonly lostHandlers: Array<() => void | Promise<void>> = [];
  onLost(fn: () => void | Promise<void>): void {
    this.lostHandlers.push(fn);
  }

  protected run(kind: string, id: string): void {
    const fn = this.handlers.get(kind);
    if (!fn) {
      this.logger.warn({ kind, id }, 'a timer fired that no handler on this node knows; are all nodes running the same version?');
      return;
    }
    Promise.resolve()
      .then(() => fn(id))
      .catch((err: unknown) => this.logger.error({ err, kind, id }, 'a timer handler failed'));
  }
}

/** What a local timer runs on: this process's clock, or a test's fake one. */
export interface TimerClock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const processClock: TimerClock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class LocalDurableTimers extends Handlers implements DurableTimers {
  private readonly timers = new Map<string, unknown>();

  constructor(
    logger: Logger,
    private readonly clock: TimerClock = processClock,
  ) {
    super(logger);
  }

  async set(kind: string, id: string, delayMs: number): Promise<void> {
    const key = `${kind}\0${id}`;
    this.clear(key);
    const timer = this.clock.setTimeout(() => {
      this.timers.delete(key);
      this.run(kind, id);
    }, delayMs);
    this.timers.set(key, timer);
  }

  async cancel(kind: string, id: string): Promise<void> {
    this.clear(`${kind}\0${id}`);
  }

  private clear(key: string): void {
    const timer = this.timers.get(key);
    if (timer !== undefined) this.clock.clearTimeout(timer);
    this.timers.delete(key);
  }

  async close(): Promise<void> {
    for (const t of this.timers.values()) this.clock.clearTimeout(t);
    this.timers.clear();
  }
}

// KEYS[1] the timers zset; ARGV: member, delay ms. Due time in Redis's clock.
const setScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return now`;
// KEYS[1] the timers zset, KEYS[2] the marker every node sets at start; ARGV: at most this many.
// Reads and removes in one step. Returns {lost, due}: lost = 1 for the one poller that finds the
// marker gone (Redis restarted empty: every timer set before is gone too), which sets it again.
const takeScript = `
local lost = 0
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[2], '1')
  lost = 1
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, m in ipairs(due) do redis.call('ZREM', KEYS[1], m) end
return {lost, due}`;

export class RedisDurableTimers extends Handlers implements DurableTimers {
  private readonly key: string;
  private readonly marker: string;
  private readonly timer: NodeJS.Timeout;
  private polling: Promise<void> | undefined;
  private failing = false;

  constructor(
    private readonly redis: RedisConnection,
    logger: Logger,
    private readonly o: { pollMs: number; batch?: number } = { pollMs: 250 },
  ) {
    super(logger);
    this.key = `${redis.keyPrefix}timers`;
    this.marker = `${redis.keyPrefix}timers:alive`;
    // Sent before the first poll on the same connection: a fresh Redis is not taken for a lost one.
    void redis.commands.set(this.marker, '1', { NX: true }).catch(() => undefined);
    this.timer = setInterval(() => void this.poll(), o.pollMs);
    this.timer.unref();
  }

  async set(kind: string, id: string, delayMs: number): Promise<void> {
    await this.redis.commands.eval(setScript, { keys: [this.key], arguments: [`${kind}\0${id}`, String(Math.max(0, Math.round(delayMs)))] });
  }

  async cancel(kind: string, id: string): Promise<void> {
    await this.redis.commands.zRem(this.key, `${kind}\0${id}`);
  }

  /** Takes the due timers (those no other node took) and runs them; the interval calls it. */
  poll(): Promise<void> {
    this.polling ??= (async () => {
      try {
        const [lost, due] = (await this.redis.commands.eval(takeScript, { keys: [this.key, this.marker], arguments: [String(this.o.batch ?? 100)] })) as [number, string[]];
        if (this.failing) this.logger.info('durable timers read from Redis again');
        this.failing = false;
        if (Number(lost) === 1) {
          this.logger.warn({ handlers: this.lostHandlers.length }, 'Redis lost the durable timers (it restarted empty): arming them again from the database');
          for (const fn of this.lostHandlers) Promise.resolve().then(fn).catch((err: unknown) => this.logger.error({ err }, 'durable timers could not be armed again'));
        }
        for (const member of due) {
          const cut = member.indexOf('\0');
          if (cut > 0) this.run(member.slice(0, cut), member.slice(cut + 1));
        }
      } catch (err) {
        if (!this.failing) this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'durable timers cannot be read (Redis away); they fire once it is back');
        this.failing = true;
      } finally {
        this.polling = undefined;
      }
    })();
    return this.polling;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
  }
}
