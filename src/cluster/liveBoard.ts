/**
 * The admin's live board over every node (chosen at start from REDIS_URL). The calls on the
 * board come from the shared database already; what lives in each node's memory is its
 * agents' states and its waiting line, so:
 *
 * Local: this node's board as it is.
 * Redis: each node writes its part (agents not offline, its line's length and oldest wait)
 * to `board:<node>` with a TTL, refreshed every heartbeat and on every change, and says on
 * the bus that its board changed; a node reading the board merges the live nodes' parts into
 * its own (an agent's state is the freshest one not offline; queue lengths add up), and a
 * change anywhere makes every node push the board to its admins.
 */
import { z } from 'zod';
import type { Board } from '../domain/consultations/consultationView.js';
import type { MessageBus } from '../events/messageBus.js';
import type { Logger } from '../log/logger.js';
import { coalesce } from '../util/coalesce.js';
import type { RedisConnection } from './redis/redisConnection.js';

/** What the board is built from on this node. */
export interface BoardSource {
  board(): Promise<Board>;
  on(event: 'board-changed', listener: () => void): unknown;
}

export interface LiveBoard {
  get(): Promise<Board>;
  onChange(listener: () => void): void;
  close(): Promise<void>;
}

export class LocalLiveBoard implements LiveBoard {
  constructor(private readonly source: BoardSource) {}
  get(): Promise<Board> {
    return this.source.board();
  }
  onChange(listener: () => void): void {
    this.source.on('board-changed', listener);
  }
  async close(): Promise<void> {}
}

const part = z.object({
  nodeId: z.string(),
  agents: z.array(z.object({ id: z.string(), state: z.enum(['available', 'ringing', 'busy', 'after-call-work', 'offline']), since: z.string().nullable(), consultationId: z.string().optional() })),
  queue: z.object({ length: z.number().int().nonnegative(), oldestAt: z.number().nullable() }),
});
type BoardPart = z.infer<typeof part>;

const PUBLISH_MS = 250;

export class RedisLiveBoard implements LiveBoard {
  private readonly listeners = new Set<() => void>();
  private readonly timer: NodeJS.Timeout;
  private readonly nodesKey: string;
  private readonly partKey: (node: string) => string;
  private readonly publish = coalesce(() => void this.writePart(true), PUBLISH_MS);
  private unsubscribe: (() => Promise<void>) | undefined;

  private constructor(
    private readonly source: BoardSource,
    private readonly redis: RedisConnection,
    private readonly bus: MessageBus,
    private readonly o: { heartbeatMs: number; ttlMs: number; logger: Logger; queueShared?: boolean },
  ) {
    this.nodesKey = `${redis.keyPrefix}board-nodes`;
    this.partKey = (node) => `${redis.keyPrefix}board:${node}`;
    source.on('board-changed', () => {
      for (const l of this.listeners) l();
      this.publish();
    });
    this.timer = setInterval(() => void this.writePart(false), o.heartbeatMs);
    this.timer.unref();
  }

  static async open(source: BoardSource, redis: RedisConnection, bus: MessageBus, o: { heartbeatMs: number; ttlMs: number; logger: Logger; queueShared?: boolean }): Promise<RedisLiveBoard> {
    const board = new RedisLiveBoard(source, redis, bus, o);
    board.unsubscribe = await bus.subscribe('board', ({ from }) => {
      if (from === bus.nodeId) return;
      for (const l of board.listeners) l();
    });
    await board.writePart(true);
    return board;
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  async get(): Promise<Board> {
    const local = await this.source.board();
    let others: BoardPart[] = [];
    try {
      others = await this.otherParts();
    } catch (err) {
      this.o.logger.warn({ err: err instanceof Error ? err.message : String(err) }, "the board shows this node's agents and queue only: the other nodes' parts cannot be read (Redis away)");
    }
    return merge(local, others);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.publish.cancel();
    await this.unsubscribe?.();
    await this.redis.commands.del(this.partKey(this.bus.nodeId)).catch(() => undefined);
    await this.bus.publish('board', { op: 'changed' }).catch(() => undefined);
  }

  private async otherParts(): Promise<BoardPart[]> {
    const nodes = (await this.redis.commands.sMembers(this.nodesKey)).filter((n) => n !== this.bus.nodeId);
    if (nodes.length === 0) return [];
    const raws = await this.redis.commands.mGet(nodes.map(this.partKey));
    const parts: BoardPart[] = [];
    for (const [i, raw] of raws.entries()) {
      if (raw === null) {
        // Its TTL passed: the node is gone (or stopped); forget it.
        await this.redis.commands.sRem(this.nodesKey, nodes[i]!);
        continue;
      }
      const parsed = part.safeParse(JSON.parse(raw));
      if (parsed.success) parts.push(parsed.data);
    }
    return parts;
  }

  /** This node's part to Redis (and, on a change, a word to the others). */
  private async writePart(changed: boolean): Promise<void> {
    try {
      const b = await this.source.board();
      const p: BoardPart = {
        nodeId: this.bus.nodeId,
        // A shared queue (src/cluster/sharedQueue.ts), its agents and its line, is on every node's
        // board already, fresher than a part: each node's part then only says that something changed.
        agents: this.o.queueShared ? [] : b.agents.filter((a) => a.state !== 'offline').map((a) => ({ id: a.id, state: a.state, since: a.since, ...(a.consultationId ? { consultationId: a.consultationId } : {}) })),
        queue: this.o.queueShared ? { length: 0, oldestAt: null } : { length: b.queue.length, oldestAt: b.queue.length > 0 ? Date.parse(b.at) - b.queue.longestWaitSeconds * 1000 : null },
      };
      await this.redis.commands.set(this.partKey(this.bus.nodeId), JSON.stringify(p), { PX: this.o.ttlMs });
      await this.redis.commands.sAdd(this.nodesKey, this.bus.nodeId);
      if (changed) await this.bus.publish('board', { op: 'changed' });
    } catch (err) {
      this.o.logger.debug({ err: err instanceof Error ? err.message : String(err) }, "this node's part of the board was not shared (Redis away); it is on the next change or heartbeat");
    }
  }
}

/** This node's board with the other nodes' agents and queues folded in. */
export function merge(local: Board, others: BoardPart[]): Board {
  if (others.length === 0) return local;
  const sinceOf = (s: string | null) => (s ? Date.parse(s) : 0);
  const agents = local.agents.map((a) => {
    let best: { state: Board['agents'][number]['state']; since: string | null; consultationId?: string } | undefined = a.state === 'offline' ? undefined : { state: a.state, since: a.since, consultationId: a.consultationId };
    for (const p of others) {
      const o = p.agents.find((x) => x.id === a.id);
      if (o && (!best || sinceOf(o.since) > sinceOf(best.since))) best = { state: o.state, since: o.since, consultationId: o.consultationId };
    }
    if (!best) return a;
    const { consultationId: _drop, ...rest } = a;
    return { ...rest, state: best.state, since: best.since, ...(best.consultationId ? { consultationId: best.consultationId } : {}) };
  });
  const at = Date.parse(local.at);
  let length = local.queue.length;
  let oldest = local.queue.length > 0 ? at - local.queue.longestWaitSeconds * 1000 : Infinity;
  for (const p of others) {
    length += p.queue.length;
    if (p.queue.oldestAt !== null) oldest = Math.min(oldest, p.queue.oldestAt);
  }
  return { ...local, agents, queue: { length, longestWaitSeconds: length > 0 && Number.isFinite(oldest) ? Math.max(0, Math.round((at - oldest) / 1000)) : 0 } };
}
