/**
 * The routing store: the consultation queue's shared state — the waiting list in order,
 * offers with their expiry, agents' states — behind one port with a Local and a Redis
 * implementation (LiveKit's pattern, chosen at start from REDIS_URL).
 *
 * The one decision that must never be taken twice is "which agent gets this call": two
 * nodes offering one agent two calls, or one call to two agents. `offerNext` makes it in one
 * step: the oldest waiting call without an offer goes to the longest-idle available agent
 * who has not declined it, the agent becomes ringing and the offer gets its expiry — in
 * Redis, one Lua script, so concurrent nodes are serialised by Redis itself.
 *
 * Redis layout under the deployment's prefix: `rq:waiting` (zset, score = place: tail
 * entries count up from 0, head entries count down), `rq:call:<id>` (hash: enqueuedAt,
 * details JSON, offeredTo, offerExpiresAt), `rq:declined:<id>` (set), `rq:agents` (hash
 * agent → snapshot JSON) and `rq:idle` (zset of available agents by idleSince).
 */
import type { AgentSnapshot } from '../domain/routing/consultationQueue.js';
import type { RedisConnection } from './redis/redisConnection.js';

export interface WaitingCall {
  callId: string;
  enqueuedAt: number;
  details: Record<string, unknown>;
  offeredTo?: string;
  offerExpiresAt?: number;
}

export interface Offer {
  callId: string;
  agentId: string;
  expiresAt: number;
}

export interface RoutingStore {
  /** Adds a call at the end (or the head) of the line; false when it is already there. */
  enqueue(call: { callId: string; enqueuedAt: number; details: Record<string, unknown> }, where?: 'tail' | 'head'): Promise<boolean>;
  /** Takes a call out of the line (accepted, hung up); false when it was not there. */
  remove(callId: string): Promise<boolean>;
  /** The line in order, first first. */
  waiting(): Promise<WaitingCall[]>;
  setAgent(agent: AgentSnapshot): Promise<void>;
  agents(): Promise<AgentSnapshot[]>;
  /** Atomically: the oldest call without an offer to the longest-idle available agent who has not declined it. */
  offerNext(now: number, offerTimeoutMs: number): Promise<Offer | undefined>;
  /**
   * The offer of `callId` to `agentId` stops ringing (rejected, rang out…): the agent goes to
   * `agentState`, and with `declined` is not asked again for this call. False when that offer was not ringing.
   */
  withdrawOffer(callId: string, agentId: string, agentState: 'available' | 'offline', now: number, declined: boolean): Promise<boolean>;
  /** Offers whose expiry passed (for the node that handles ring-outs). */
  expiredOffers(now: number): Promise<Offer[]>;
  close(): Promise<void>;
}

export class LocalRoutingStore implements RoutingStore {
  private readonly line: Array<WaitingCall & { declined: Set<string> }> = [];
  private readonly agentMap = new Map<string, AgentSnapshot>();

  async enqueue(call: { callId: string; enqueuedAt: number; details: Record<string, unknown> }, where: 'tail' | 'head' = 'tail'): Promise<boolean> {
    if (this.line.some((c) => c.callId === call.callId)) return false;
    const entry = { ...call, declined: new Set<string>() };
    if (where === 'head') this.line.unshift(entry);
    else this.line.push(entry);
    return true;
  }

  async remove(callId: string): Promise<boolean> {
    const i = this.line.findIndex((c) => c.callId === callId);
    if (i === -1) return false;
    this.line.splice(i, 1);
    return true;
  }

  async waiting(): Promise<WaitingCall[]> {
    return this.line.map(({ declined: _declined, ...c }) => ({ ...c }));
  }

  async setAgent(agent: AgentSnapshot): Promise<void> {
    this.agentMap.set(agent.agentId, { ...agent });
  }

  async agents(): Promise<AgentSnapshot[]> {
    return [...this.agentMap.values()].map((a) => ({ ...a }));
  }

  async offerNext(now: number, offerTimeoutMs: number): Promise<Offer | undefined> {
    const free = [...this.agentMap.values()].filter((a) => a.state === 'available').sort((a, b) => a.idleSince - b.idleSince);
    for (const call of this.line) {
      if (call.offeredTo) continue;
      const agent = free.find((a) => !call.declined.has(a.agentId));
      if (!agent) continue;
      agent.state = 'ringing';
      agent.since = now;
      call.offeredTo = agent.agentId;
      call.offerExpiresAt = now + offerTimeoutMs;
      return { callId: call.callId, agentId: agent.agentId, expiresAt: call.offerExpiresAt };
    }
    return undefined;
  }

  async withdrawOffer(callId: string, agentId: string, agentState: 'available' | 'offline', now: number, declined: boolean): Promise<boolean> {
    const call = this.line.find((c) => c.callId === callId);
    if (!call || call.offeredTo !== agentId) return false;
    call.offeredTo = undefined;
    call.offerExpiresAt = undefined;
    if (declined) call.declined.add(agentId);
    const agent = this.agentMap.get(agentId);
    if (agent) {
      if (agentState === 'available' && agent.state !== 'available') agent.idleSince = now;
      agent.state = agentState;
      agent.since = now;
    }
    return true;
  }

  async expiredOffers(now: number): Promise<Offer[]> {
    return this.line.filter((c) => c.offeredTo && (c.offerExpiresAt ?? Infinity) <= now).map((c) => ({ callId: c.callId, agentId: c.offeredTo!, expiresAt: c.offerExpiresAt! }));
  }

  async close(): Promise<void> {}
}

// KEYS: waiting zset, head counter, tail counter. ARGV: call key prefix, call id, enqueuedAt, details JSON, 'head'|'tail'.
const enqueueScript = `
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then return 0 end
local place
if ARGV[5] == 'head' then place = -redis.call('INCR', KEYS[2]) else place = redis.call('INCR', KEYS[3]) end
redis.call('ZADD', KEYS[1], place, ARGV[2])
redis.call('HSET', ARGV[1] .. ARGV[2], 'enqueuedAt', ARGV[3], 'details', ARGV[4])
return 1`;
// KEYS: waiting zset. ARGV: call key prefix, declined key prefix, call id.
const removeScript = `
local n = redis.call('ZREM', KEYS[1], ARGV[3])
redis.call('DEL', ARGV[1] .. ARGV[3], ARGV[2] .. ARGV[3])
return n`;
// KEYS: agents hash, idle zset. ARGV: agent id, snapshot JSON, state, idleSince.
const setAgentScript = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == 'available' then redis.call('ZADD', KEYS[2], tonumber(ARGV[4]), ARGV[1]) else redis.call('ZREM', KEYS[2], ARGV[1]) end
return 1`;
// KEYS: waiting zset, agents hash, idle zset. ARGV: call key prefix, declined key prefix, now, offer timeout, scan limit.
const offerNextScript = `
local free = redis.call('ZRANGE', KEYS[3], 0, -1)
if #free == 0 then return false end
local calls = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[5]) - 1)
for _, callId in ipairs(calls) do
  local ck = ARGV[1] .. callId
  if not redis.call('HGET', ck, 'offeredTo') then
    for _, agentId in ipairs(free) do
      if redis.call('SISMEMBER', ARGV[2] .. callId, agentId) == 0 then
        local now = tonumber(ARGV[3])
        local expires = now + tonumber(ARGV[4])
        redis.call('HSET', ck, 'offeredTo', agentId, 'offerExpiresAt', expires)
        redis.call('ZREM', KEYS[3], agentId)
        local a = cjson.decode(redis.call('HGET', KEYS[2], agentId))
        a.state = 'ringing'
        a.since = now
        redis.call('HSET', KEYS[2], agentId, cjson.encode(a))
        return {callId, agentId, tostring(expires)}
      end
    end
  end
end
return false`;
// KEYS: agents hash, idle zset. ARGV: call key prefix, declined key prefix, call id, agent id, new state, now, declined.
const withdrawScript = `
local ck = ARGV[1] .. ARGV[3]
if redis.call('HGET', ck, 'offeredTo') ~= ARGV[4] then return 0 end
redis.call('HDEL', ck, 'offeredTo', 'offerExpiresAt')
if ARGV[7] == '1' then redis.call('SADD', ARGV[2] .. ARGV[3], ARGV[4]) end
local raw = redis.call('HGET', KEYS[1], ARGV[4])
if raw then
  local a = cjson.decode(raw)
  local now = tonumber(ARGV[6])
  if ARGV[5] == 'available' and a.state ~= 'available' then a.idleSince = now end
  a.state = ARGV[5]
  a.since = now
  redis.call('HSET', KEYS[1], ARGV[4], cjson.encode(a))
  if ARGV[5] == 'available' then redis.call('ZADD', KEYS[2], a.idleSince, ARGV[4]) else redis.call('ZREM', KEYS[2], ARGV[4]) end
end
return 1`;

/** How many waiting calls one `offerNext` looks at (the head of the line; the rest wait for it to move). */
const SCAN_LIMIT = 500;

export class RedisRoutingStore implements RoutingStore {
  private readonly k: { waiting: string; head: string; tail: string; call: string; declined: string; agents: string; idle: string };

  constructor(private readonly redis: RedisConnection) {
    const p = `${redis.keyPrefix}rq:`;
    this.k = { waiting: `${p}waiting`, head: `${p}head`, tail: `${p}tail`, call: `${p}call:`, declined: `${p}declined:`, agents: `${p}agents`, idle: `${p}idle` };
  }

  async enqueue(call: { callId: string; enqueuedAt: number; details: Record<string, unknown> }, where: 'tail' | 'head' = 'tail'): Promise<boolean> {
    const n = await this.redis.commands.eval(enqueueScript, { keys: [this.k.waiting, this.k.head, this.k.tail], arguments: [this.k.call, call.callId, String(call.enqueuedAt), JSON.stringify(call.details), where] });
    return Number(n) === 1;
  }

  async remove(callId: string): Promise<boolean> {
    const n = await this.redis.commands.eval(removeScript, { keys: [this.k.waiting], arguments: [this.k.call, this.k.declined, callId] });
    return Number(n) === 1;
  }

  async waiting(): Promise<WaitingCall[]> {
    const ids = await this.redis.commands.zRange(this.k.waiting, 0, -1);
    const rows = await Promise.all(ids.map((id) => this.redis.commands.hGetAll(`${this.k.call}${id}`)));
    return ids.flatMap((callId, i) => {
      const r = rows[i];
      if (!r?.enqueuedAt) return [];
      const c: WaitingCall = { callId, enqueuedAt: Number(r.enqueuedAt), details: JSON.parse(r.details ?? '{}') as Record<string, unknown> };
      if (r.offeredTo) {
        c.offeredTo = r.offeredTo;
        c.offerExpiresAt = Number(r.offerExpiresAt);
      }
      return [c];
    });
  }

  async setAgent(agent: AgentSnapshot): Promise<void> {
    await this.redis.commands.eval(setAgentScript, { keys: [this.k.agents, this.k.idle], arguments: [agent.agentId, JSON.stringify(agent), agent.state, String(agent.idleSince)] });
  }

  async agents(): Promise<AgentSnapshot[]> {
    const all = await this.redis.commands.hGetAll(this.k.agents);
    return Object.values(all).map((raw) => JSON.parse(raw) as AgentSnapshot);
  }

  async offerNext(now: number, offerTimeoutMs: number): Promise<Offer | undefined> {
    const r = (await this.redis.commands.eval(offerNextScript, { keys: [this.k.waiting, this.k.agents, this.k.idle], arguments: [this.k.call, this.k.declined, String(now), String(offerTimeoutMs), String(SCAN_LIMIT)] })) as [string, string, string] | null;
    return r ? { callId: r[0], agentId: r[1], expiresAt: Number(r[2]) } : undefined;
  }

  async withdrawOffer(callId: string, agentId: string, agentState: 'available' | 'offline', now: number, declined: boolean): Promise<boolean> {
    const n = await this.redis.commands.eval(withdrawScript, { keys: [this.k.agents, this.k.idle], arguments: [this.k.call, this.k.declined, callId, agentId, agentState, String(now), declined ? '1' : '0'] });
    return Number(n) === 1;
  }

  async expiredOffers(now: number): Promise<Offer[]> {
    return (await this.waiting()).filter((c) => c.offeredTo && (c.offerExpiresAt ?? Infinity) <= now).map((c) => ({ callId: c.callId, agentId: c.offeredTo!, expiresAt: c.offerExpiresAt! }));
  }

  async close(): Promise<void> {}
}
