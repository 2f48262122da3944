/**
 * Presence: how many connections an agent or a customer has open, counted over every node,
 * so a page that reloads onto another node is still "there" (chosen at start from REDIS_URL).
 *
 * Local: a count per key in this process.
 * Redis: a hash per key (field = node id, value = that node's count) and, per node, a
 * liveness key refreshed every `heartbeatMs` that expires after `ttlMs`. A count sums only
 * the fields of nodes whose liveness key exists (Lua, one round trip), so the connections
 * of a node killed without a word stop counting once its TTL passes, with no sweeper.
 */
import type { Logger } from '../log/logger.js';
import type { RedisConnection } from './redis/redisConnection.js';

export interface Presence {
  /** A connection for `key` opened on this node; the count over all nodes after it. */
  opened(key: string): Promise<number>;
  /** A connection for `key` closed on this node; the count over all nodes after it. */
  closed(key: string): Promise<number>;
  /** Open connections for `key` over all live nodes. */
  count(key: string): Promise<number>;
  /** Open connections for `key` on this node only (no round trip). */
  localCount(key: string): number;
  close(): Promise<void>;
}

export class LocalPresence implements Presence {
  protected readonly counts = new Map<string, number>();

  async opened(key: string): Promise<number> {
    return this.bump(key, 1);
  }

  async closed(key: string): Promise<number> {
    return this.bump(key, -1);
  }

  async count(key: string): Promise<number> {
    return this.localCount(key);
  }

  localCount(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  async close(): Promise<void> {}

  protected bump(key: string, by: number): number {
    const n = Math.max(0, (this.counts.get(key) ?? 0) + by);
    if (n === 0) this.counts.delete(key);
    else this.counts.set(key, n);
    return n;
  }
}

// KEYS[1] the key's hash; ARGV: node-key prefix, this node, new local count ('' to only read).
const countScript = `
if ARGV[3] ~= '' then
  if tonumber(ARGV[3]) > 0 then redis.call('HSET', KEYS[1], ARGV[2], ARGV[3]) else redis.call('HDEL', KEYS[1], ARGV[2]) end
end
local all = redis.call('HGETALL', KEYS[1])
local total = 0
for i = 1, #all, 2 do
  if redis.call('EXISTS', ARGV[1] .. all[i]) == 1 then total = total + tonumber(all[i + 1])
  else redis.call('HDEL', KEYS[1], all[i]) end
end
return total`;

export class RedisPresence extends LocalPresence {
  private readonly timer: NodeJS.Timeout;
  private readonly nodeKey: string;

  constructor(
    private readonly redis: RedisConnection,
    private readonly nodeId: string,
    private readonly o: { heartbeatMs: number; ttlMs: number; logger: Logger },
  ) {
    super();
    this.nodeKey = `${redis.keyPrefix}presence-node:${nodeId}`;
    this.timer = setInterval(() => void this.beat(), o.heartbeatMs);
    this.timer.unref();
    void this.beat();
  }

  override async opened(key: string): Promise<number> {
    return this.write(key, this.bump(key, 1));
  }

  override async closed(key: string): Promise<number> {
    return this.write(key, this.bump(key, -1));
  }

  override async count(key: string): Promise<number> {
    return this.script(key, '');
  }

  override async close(): Promise<void> {
    clearInterval(this.timer);
    // This node's connections stop counting at once (they are closing with it).
    await this.redis.commands.del(this.nodeKey).catch(() => undefined);
  }

  private async write(key: string, local: number): Promise<number> {
    await this.beat();
    return this.script(key, String(local));
  }

  private async script(key: string, local: string): Promise<number> {
    const n = await this.redis.commands.eval(countScript, { keys: [`${this.redis.keyPrefix}presence:${key}`], arguments: [`${this.redis.keyPrefix}presence-node:`, this.nodeId, local] });
    return Number(n);
  }

  private async beat(): Promise<void> {
    try {
      const before = await this.redis.commands.set(this.nodeKey, '1', { PX: this.o.ttlMs, GET: true });
      // The key had expired (an outage, a stall): the others may have dropped this node's counts; write them again.
      if (before === null) for (const [key, n] of this.counts) await this.script(key, String(n));
    } catch (err) {
      this.o.logger.debug({ err: err instanceof Error ? err.message : String(err) }, 'presence heartbeat not written (Redis away)');
    }
  }
}
