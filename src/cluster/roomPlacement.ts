/**
 * SFU rooms are pinned to one node (a room's media cannot span nodes): the first join pins
 * the room to the node it reached, and a join that reaches another node is refused with
 * WRONG_NODE naming the pinned node (`error.node` in the join-room ack), so the client can
 * reconnect there (the balancer routes on it: docs/cluster.md). Stock mediasoup-client is
 * not involved: this is Parley's own join-room signaling.
 *
 * Local: every room is on this node. Redis: a hash room → node, claimed atomically in Lua,
 * with each node's liveness as a key that expires; a room whose node's key expired is taken
 * over by the next join.
 *
 * Placement by capacity (`place`, used when a consultation is accepted, before anyone joins):
 * the live node hosting the fewest pinned rooms gets it, the accepting node on a tie; its
 * members' pages are sent there by WRONG_NODE. Rooms, not CPU, are the measure: a node's
 * media load is its rooms' (two to four peers each in a consultation).
 */
import type { RedisConnection } from './redis/redisConnection.js';
import { ParleyError } from '../errors.js';
import type { Logger } from '../log/logger.js';

export interface RoomPlacement {
  /** Pins the room here, or throws WRONG_NODE naming the node it is pinned to. */
  claim(roomId: string): Promise<void>;
  /**
   * Pins a room nobody has joined yet to the live node hosting the fewest pinned rooms (this
   * node on a tie) and returns that node; a room already pinned to a live node stays there.
   */
  place(roomId: string): Promise<string>;
  /** The room emptied on this node: unpin it (only if it is still pinned here). */
  release(roomId: string): Promise<void>;
  close(): Promise<void>;
}

export class LocalRoomPlacement implements RoomPlacement {
  constructor(private readonly nodeId = 'local') {}
  async claim(): Promise<void> {}
  async place(): Promise<string> {
    return this.nodeId;
  }
  async release(): Promise<void> {}
  async close(): Promise<void> {}
}

// KEYS[1] the pins hash; ARGV: room, this node, node-key prefix.
const claimScript = `
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if owner and owner ~= ARGV[2] and redis.call('EXISTS', ARGV[3] .. owner) == 1 then return owner end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return ARGV[2]`;
// KEYS[1] the pins hash, KEYS[2] the set of node ids; ARGV: room, this node, node-key prefix.
// The rule: fewest pinned rooms among the nodes whose liveness key exists; this node wins a tie.
const placeScript = `
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if owner and redis.call('EXISTS', ARGV[3] .. owner) == 1 then return owner end
local load = {}
load[ARGV[2]] = 0
for _, n in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('EXISTS', ARGV[3] .. n) == 1 then load[n] = 0 elseif n ~= ARGV[2] then redis.call('SREM', KEYS[2], n) end
end
local pins = redis.call('HGETALL', KEYS[1])
for i = 2, #pins, 2 do
  if load[pins[i]] then load[pins[i]] = load[pins[i]] + 1 end
end
local best, bestLoad = ARGV[2], load[ARGV[2]]
for n, l in pairs(load) do
  if l < bestLoad or (l == bestLoad and best ~= ARGV[2] and n < best) then best, bestLoad = n, l end
end
redis.call('HSET', KEYS[1], ARGV[1], best)
return best`;
const releaseScript = `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0`;

export class RedisRoomPlacement implements RoomPlacement {
  private readonly timer: NodeJS.Timeout;
  private readonly pins: string;
  private readonly nodeKeys: string;
  private readonly nodeSet: string;

  constructor(
    private readonly redis: RedisConnection,
    private readonly nodeId: string,
    private readonly o: { heartbeatMs: number; ttlMs: number; logger: Logger },
  ) {
    this.pins = `${redis.keyPrefix}voice-room-pins`;
    this.nodeKeys = `${redis.keyPrefix}node:`;
    this.nodeSet = `${redis.keyPrefix}voice-nodes`;
    this.timer = setInterval(() => void this.beat(), o.heartbeatMs);
    this.timer.unref();
    void this.beat();
  }

  async claim(roomId: string): Promise<void> {
    await this.beat();
    let owner: unknown;
    try {
      owner = await this.redis.commands.eval(claimScript, { keys: [this.pins], arguments: [roomId, this.nodeId, this.nodeKeys] });
    } catch (err) {
      throw new ParleyError('CLUSTER_UNAVAILABLE', `this server cannot reach Redis to place room "${roomId}"; try again in a few seconds (${err instanceof Error ? err.message : String(err)})`);
    }
    if (owner !== this.nodeId) throw new ParleyError('WRONG_NODE', `room "${roomId}" is hosted by server "${String(owner)}"; connect there to join it`, { node: String(owner) });
  }

  async place(roomId: string): Promise<string> {
    await this.beat();
    try {
      return String(await this.redis.commands.eval(placeScript, { keys: [this.pins, this.nodeSet], arguments: [roomId, this.nodeId, this.nodeKeys] }));
    } catch (err) {
      throw new ParleyError('CLUSTER_UNAVAILABLE', `this server cannot reach Redis to place room "${roomId}"; try again in a few seconds (${err instanceof Error ? err.message : String(err)})`);
    }
  }

  async release(roomId: string): Promise<void> {
    await this.redis.commands.eval(releaseScript, { keys: [this.pins], arguments: [roomId, this.nodeId] }).catch((err: unknown) => this.o.logger.warn({ err: err instanceof Error ? err.message : String(err), roomId }, 'could not unpin an empty room (Redis away); it is taken over once this node stops'));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.commands.del(`${this.nodeKeys}${this.nodeId}`).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    await this.redis.commands.set(`${this.nodeKeys}${this.nodeId}`, '1', { PX: this.o.ttlMs }).catch(() => undefined);
    await this.redis.commands.sAdd(this.nodeSet, this.nodeId).catch(() => undefined);
  }
}
