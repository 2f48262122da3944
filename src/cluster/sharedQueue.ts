/**
 * The consultation queue shared by every node (REDIS_URL set; issue 13): one node, the
 * routing owner, holds a lease in Redis and runs the one real `ConsultationQueue`; the
 * others send it their changes over the bus and read the line from the owner's snapshots.
 *
 * Why one owner rather than the routing store's Lua scripts for every change: the queue's
 * rules (re-offer cool-downs, the two-phase accept, transfers to a colleague, resends of an
 * unacknowledged offer, the wait estimate) are one tested state machine with its own timers;
 * an owner runs exactly that machine, so the nodes cannot disagree, every offer timeout fires
 * on exactly one node (the owner's), and nothing of the rules is written twice (TypeScript
 * and Lua). The cost is a bus round trip for a change made on another node.
 *
 * - Lease: `rq:owner` = node id with a TTL (`leaseMs`, the node TTL), renewed every
 *   `renewMs`; a node takes it when it is free. Each taking sets a larger `rq:epoch` (Redis's
 *   clock in ms, above the last), so snapshots of a newer owner win, also after Redis restarted empty.
 * - Changes: `routing:req` { rid, from, to, op, args } to the owner; it answers on
 *   `routing:rep:<node>` with the result (or `{ error: { code, message } }`) and the sequence
 *   number of the snapshot that holds the change; the asking node's change resolves once it
 *   has that snapshot, so it reads its own change.
 * - Snapshots: after the changes of one tick the owner publishes the whole line, agents and
 *   transfers once (`routing:snapshot`, with epoch and sequence) and stores it in `rq:snapshot`.
 * - Take-over (the owner stopped or was killed, its lease expired): the new owner loads the
 *   newest snapshot it has (its own copy or Redis's) and resumes: calls wait in the same
 *   order, offers that were ringing are made again, agents keep their states.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ConsultationQueue, type AgentSnapshot, type PendingTransfer, type QueueEvents, type QueueOptions, type QueueSnapshot } from '../domain/routing/consultationQueue.js';
import { queueChangeNames, type QueueChanges, type QueuePort } from '../domain/routing/queuePort.js';
import { ParleyError, type ErrorCode } from '../errors.js';
import type { MessageBus } from '../events/messageBus.js';
import type { Logger } from '../log/logger.js';
import type { RedisConnection } from './redis/redisConnection.js';

const queueEventNames = ['offer', 'offer-withdrawn', 'assigned', 'abandoned', 'overflowed', 'agent-state', 'queue-changed', 'transfer-offer', 'transfer-withdrawn', 'transferred'] as const satisfies ReadonlyArray<keyof QueueEvents>;

const request = z.object({ rid: z.string(), from: z.string(), to: z.string(), op: z.enum(queueChangeNames), args: z.array(z.unknown()) });
const snapshotMessage = z.object({ owner: z.string(), epoch: z.number().int(), seq: z.number().int(), state: z.custom<QueueSnapshot>((v) => typeof v === 'object' && v !== null && Array.isArray((v as { waiting?: unknown }).waiting)) });
const reply = z.object({ rid: z.string(), result: z.unknown().optional(), error: z.object({ code: z.string(), message: z.string() }).optional(), epoch: z.number().int(), seq: z.number().int() });
type SnapshotMessage = z.infer<typeof snapshotMessage>;

/** Given waiting entries, those whose call storage no longer has waiting (`agentId`: an agent has it). */
export type LineCheck = (waiting: Array<{ callId: string; details: Record<string, unknown> }>) => Promise<Array<{ callId: string; agentId?: string; ended?: boolean }>>;
/** How long a new owner waits for storage before routing the inherited line unchecked. */
const STALE_CHECK_MS = 2_000;

// KEYS: owner key, epoch key. ARGV: node id, lease ms, '1' when this node holds the lease in memory.
// Returns {1, 0} renewed, {2, epoch} taken now, {0, 0} someone else holds it. The epoch only
// grows, also when Redis restarted empty: at least Redis's clock in ms, above the last one.
const leaseScript = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] and ARGV[3] == '1' then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return {1, 0}
end
if cur and cur ~= ARGV[1] then return {0, 0} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
local t = redis.call('TIME')
local epoch = math.max(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), tonumber(redis.call('GET', KEYS[2]) or '0') + 1)
redis.call('SET', KEYS[2], epoch)
return {2, epoch}`;
// KEYS: owner key. ARGV: node id. Gives the lease up when this node holds it.
const releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface SharedQueueOptions {
  redis: RedisConnection;
  bus: MessageBus;
  nodeId: string;
  queue: QueueOptions;
  /** The lease's TTL: how long the others wait for a silent owner. */
  leaseMs: number;
  renewMs: number;
  /** How long a change waits for the owner's answer. */
  requestTimeoutMs?: number;
  logger: Logger;
}

export class SharedConsultationQueue extends EventEmitter<QueueEvents> implements QueuePort {
  /** The real queue, while this node is the routing owner. */
  private owned: ConsultationQueue | undefined;
  /** The line as the owner last published it (read while another node owns the queue). */
  private readonly mirror: ConsultationQueue;
  private epoch = 0;
  private seq = 0;
  private ownerId: string | undefined;
  private readonly waitingReplies = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void; timer: NodeJS.Timeout }>();
  private readonly unsubscribe: Array<() => Promise<void>> = [];
  private renewTimer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private publishQueued = false;
  /** Changes answered before their snapshot came: resolved when it does. */
  private awaitingSnapshot: Array<{ epoch: number; seq: number; done: () => void }> = [];
  private closed = false;
  /** Whether any snapshot was ever seen (from the bus or Redis): without one, the line is rebuilt from storage. */
  private everSnapshot = false;
  private recover: (() => Promise<Array<{ callId: string; details: Record<string, unknown> }>>) | undefined;
  private check: LineCheck | undefined;
  private readonly keys: { owner: string; epoch: string; snapshot: string };

  private constructor(private readonly o: SharedQueueOptions) {
    super();
    this.mirror = new ConsultationQueue(o.queue);
    const p = `${o.redis.keyPrefix}rq:`;
    this.keys = { owner: `${p}owner`, epoch: `${p}epoch`, snapshot: `${p}snapshot` };
  }

  static async open(o: SharedQueueOptions): Promise<SharedConsultationQueue> {
    const q = new SharedConsultationQueue(o);
    q.unsubscribe.push(await o.bus.subscribe('routing:req', ({ data }) => q.onRequest(data)));
    q.unsubscribe.push(await o.bus.subscribe(`routing:rep:${o.nodeId}`, ({ data }) => q.onReply(data)));
    q.unsubscribe.push(await o.bus.subscribe('routing:snapshot', ({ from, data }) => {
      if (from !== o.nodeId) q.onSnapshot(data);
    }));
    const stored = await o.redis.commands.get(q.keys.snapshot).catch(() => null);
    if (stored) q.onSnapshot(JSON.parse(stored) as unknown);
    await q.renew();
    q.renewTimer = setInterval(() => void q.renew(), o.renewMs);
    q.renewTimer.unref();
    return q;
  }

  /** Whether this node routes the queue now (for logs and tests). */
  isOwner(): boolean {
    return this.owned !== undefined;
  }

  // --- reads: the real queue here, or the owner's last snapshot --------------------------

  private get reader(): ConsultationQueue {
    return this.owned ?? this.mirror;
  }
  position(callId: string) {
    return this.reader.position(callId);
  }
  positions() {
    return this.reader.positions();
  }
  details(callId: string) {
    return this.reader.details(callId);
  }
  agents(): AgentSnapshot[] {
    return this.reader.agents();
  }
  agent(agentId: string): AgentSnapshot | undefined {
    return this.reader.agent(agentId);
  }
  agentsOnline(): number {
    return this.reader.agentsOnline();
  }
  queued() {
    return this.reader.queued();
  }
  offerFor(agentId: string) {
    return this.reader.offerFor(agentId);
  }
  transferOf(callId: string): PendingTransfer | undefined {
    return this.reader.transferOf(callId);
  }
  transferFor(agentId: string): PendingTransfer | undefined {
    return this.reader.transferFor(agentId);
  }

  // --- changes: made here when this node owns the queue, else sent to the owner ---------

  setAgentState(...a: Parameters<QueueChanges['setAgentState']>) {
    return this.change('setAgentState', a);
  }
  enqueue(...a: Parameters<QueueChanges['enqueue']>) {
    return this.change('enqueue', a);
  }
  offerTransfer(...a: Parameters<QueueChanges['offerTransfer']>) {
    return this.change('offerTransfer', a);
  }
  reserveTransfer(...a: Parameters<QueueChanges['reserveTransfer']>) {
    return this.change('reserveTransfer', a);
  }
  commitTransfer(...a: Parameters<QueueChanges['commitTransfer']>) {
    return this.change('commitTransfer', a);
  }
  releaseTransfer(...a: Parameters<QueueChanges['releaseTransfer']>) {
    return this.change('releaseTransfer', a);
  }
  rejectTransfer(...a: Parameters<QueueChanges['rejectTransfer']>) {
    return this.change('rejectTransfer', a);
  }
  cancelTransfer(...a: Parameters<QueueChanges['cancelTransfer']>) {
    return this.change('cancelTransfer', a);
  }
  requeueTransfer(...a: Parameters<QueueChanges['requeueTransfer']>) {
    return this.change('requeueTransfer', a);
  }
  requeueOrphan(...a: Parameters<QueueChanges['requeueOrphan']>) {
    return this.change('requeueOrphan', a);
  }
  acknowledgeTransfer(...a: Parameters<QueueChanges['acknowledgeTransfer']>) {
    return this.change('acknowledgeTransfer', a);
  }
  reserve(...a: Parameters<QueueChanges['reserve']>) {
    return this.change('reserve', a);
  }
  commitAccept(...a: Parameters<QueueChanges['commitAccept']>) {
    return this.change('commitAccept', a);
  }
  releaseAccept(...a: Parameters<QueueChanges['releaseAccept']>) {
    return this.change('releaseAccept', a);
  }
  acknowledgeOffer(...a: Parameters<QueueChanges['acknowledgeOffer']>) {
    return this.change('acknowledgeOffer', a);
  }
  reject(...a: Parameters<QueueChanges['reject']>) {
    return this.change('reject', a);
  }
  hangUp(...a: Parameters<QueueChanges['hangUp']>) {
    return this.change('hangUp', a);
  }
  overflow(...a: Parameters<QueueChanges['overflow']>) {
    return this.change('overflow', a);
  }
  settle(...a: Parameters<QueueChanges['settle']>) {
    return this.change('settle', a);
  }
  agentGone(...a: Parameters<QueueChanges['agentGone']>) {
    return this.change('agentGone', a);
  }
  callEnded(...a: Parameters<QueueChanges['callEnded']>) {
    return this.change('callEnded', a);
  }

  private change<K extends keyof QueueChanges>(op: K, args: Parameters<QueueChanges[K]>): ReturnType<QueueChanges[K]> {
    if (this.owned) {
      try {
        return this.apply(this.owned, op, args) as ReturnType<QueueChanges[K]>;
      } finally {
        this.publishSoon();
      }
    }
    return this.remote(op, args) as ReturnType<QueueChanges[K]>;
  }

  private apply(queue: ConsultationQueue, op: keyof QueueChanges, args: unknown[]): unknown {
    return (queue[op] as (...a: unknown[]) => unknown).apply(queue, args);
  }

  private async remote(op: keyof QueueChanges, args: unknown[]): Promise<unknown> {
    for (let attempt = 0; attempt < 2; attempt++) {
      let to = this.ownerId;
      if (!to || attempt > 0) {
        await this.renew();
        if (this.owned) return this.change(op, args as never);
        to = (await this.o.redis.commands.get(this.keys.owner).catch(() => null)) ?? undefined;
      }
      if (!to) continue;
      const rid = randomUUID();
      const answer = new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.waitingReplies.delete(rid);
          reject(new ParleyError('CLUSTER_UNAVAILABLE', 'the node that routes consultations did not answer; try again in a few seconds'));
        }, this.o.requestTimeoutMs ?? 3_000);
        timer.unref();
        this.waitingReplies.set(rid, { resolve, reject, timer });
      });
      try {
        await this.o.bus.publish('routing:req', { rid, from: this.o.nodeId, to, op, args }).catch((err: unknown) => {
          throw new ParleyError('CLUSTER_UNAVAILABLE', `the consultation queue cannot be reached (Redis: ${err instanceof Error ? err.message : String(err)}); try again in a few seconds`);
        });
        return await answer;
      } catch (err) {
        this.waitingReplies.get(rid) && clearTimeout(this.waitingReplies.get(rid)!.timer);
        this.waitingReplies.delete(rid);
        if (!(err instanceof ParleyError && err.code === 'CLUSTER_UNAVAILABLE') || attempt > 0) throw err;
        this.o.logger.warn({ op, owner: to }, 'the routing owner did not answer; asking whoever holds the lease now');
      }
    }
    throw new ParleyError('CLUSTER_UNAVAILABLE', 'no node routes consultations right now; try again in a few seconds');
  }

  private onRequest(data: unknown): void {
    const r = request.safeParse(data);
    if (!r.success) return this.o.logger.warn({ issues: r.error.issues.length }, 'a routing request that is not one was ignored');
    const { rid, from, to, op, args } = r.data;
    if (to !== this.o.nodeId || !this.owned) return;
    let answer: { result?: unknown; error?: { code: string; message: string } };
    try {
      answer = { result: this.apply(this.owned, op, args) };
    } catch (err) {
      answer = { error: err instanceof ParleyError ? { code: err.code, message: err.message } : { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) } };
    }
    const seq = this.publishSoon();
    void this.o.bus.publish(`routing:rep:${from}`, { rid, ...answer, epoch: this.epoch, seq }).catch((err: unknown) => this.o.logger.warn({ err: err instanceof Error ? err.message : String(err), op }, 'a routing answer could not be sent'));
  }

  private onReply(data: unknown): void {
    const r = reply.safeParse(data);
    if (!r.success) return;
    const waiting = this.waitingReplies.get(r.data.rid);
    if (!waiting) return;
    this.waitingReplies.delete(r.data.rid);
    clearTimeout(waiting.timer);
    const { epoch, seq, error, result } = r.data;
    const done = () => (error ? waiting.reject(new ParleyError(error.code as ErrorCode, error.message)) : waiting.resolve(result));
    if (this.seen(epoch, seq)) return done();
    // The snapshot holding the change follows the answer: wait for it (a while at most).
    const entry = { epoch, seq, done };
    this.awaitingSnapshot.push(entry);
    setTimeout(() => {
      const i = this.awaitingSnapshot.indexOf(entry);
      if (i === -1) return;
      this.awaitingSnapshot.splice(i, 1);
      this.o.logger.warn({ epoch, seq }, "the routing owner's snapshot did not come; the change is done, this node's reads may lag");
      done();
    }, this.o.requestTimeoutMs ?? 3_000).unref();
  }

  private onSnapshot(data: unknown): void {
    const r = snapshotMessage.safeParse(data);
    if (!r.success) return;
    const s = r.data;
    if (s.epoch < this.epoch || (s.epoch === this.epoch && s.seq <= this.seq)) return;
    if (this.owned && s.owner !== this.o.nodeId) this.stepDown(`node ${s.owner} routes the queue now`);
    if (this.owned) return;
    this.epoch = s.epoch;
    this.seq = s.seq;
    this.ownerId = s.owner;
    this.everSnapshot = true;
    this.mirror.load(s.state);
    const ready = this.awaitingSnapshot.filter((w) => this.seen(w.epoch, w.seq));
    if (ready.length === 0) return;
    this.awaitingSnapshot = this.awaitingSnapshot.filter((w) => !ready.includes(w));
    for (const w of ready) w.done();
  }

  /** Whether this node has the owner's snapshot `seq` of `epoch` (or a newer one). */
  private seen(epoch: number, seq: number): boolean {
    return this.epoch > epoch || (this.epoch === epoch && this.seq >= seq);
  }

  private snapshotMessage(): SnapshotMessage {
    this.seq += 1;
    return { owner: this.o.nodeId, epoch: this.epoch, seq: this.seq, state: this.owned!.snapshot() };
  }

  /** After a change on the owner: one snapshot per tick to the others and to Redis; returns the sequence it will carry. */
  private publishSoon(): number {
    if (this.publishQueued) return this.seq + 1;
    this.publishQueued = true;
    queueMicrotask(() => {
      this.publishQueued = false;
      if (!this.owned || this.closed) return;
      const message = this.snapshotMessage();
      const fail = (err: unknown) => this.o.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'the queue snapshot could not be shared (Redis away?)');
      void this.o.bus.publish('routing:snapshot', message).catch(fail);
      void this.o.redis.commands.set(this.keys.snapshot, JSON.stringify(message)).catch(fail);
    });
    return this.seq + 1;
  }

  // --- the lease ------------------------------------------------------------------------

  private renew(): Promise<void> {
    this.renewing ??= (async () => {
      try {
        if (this.closed) return;
        const [status, epoch] = (await this.o.redis.commands.eval(leaseScript, { keys: [this.keys.owner, this.keys.epoch], arguments: [this.o.nodeId, String(this.o.leaseMs), this.owned ? '1' : '0'] })) as [number, number];
        if (Number(status) === 2) await this.takeOver(Number(epoch));
        else if (Number(status) === 0 && this.owned) this.stepDown('another node holds the routing lease');
      } catch (err) {
        this.o.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'the routing lease could not be renewed (Redis away?)');
      } finally {
        this.renewing = undefined;
      }
    })();
    return this.renewing;
  }

  private async takeOver(epoch: number): Promise<void> {
    if (this.owned) {
      // Redis lost the lease (restarted empty) and this node took it again: the line here is the newest.
      this.epoch = epoch;
      this.seq = 0;
      this.o.logger.info({ epoch }, 'the routing lease was taken again after Redis lost it; the line is shared again');
      this.publishSoon();
      return;
    }
    const stored = await this.o.redis.commands.get(this.keys.snapshot).catch(() => null);
    if (stored) this.onSnapshot(JSON.parse(stored) as unknown);
    // The line as the dead owner left it may hold calls storage no longer has waiting (an accept
    // stored while the owner died, before it heard the commit): asked before routing resumes.
    const gone = await this.stale(this.mirror.snapshot().waiting);
    if (this.closed) return;
    const queue = new ConsultationQueue(this.o.queue);
    queue.load(this.mirror.snapshot());
    for (const name of queueEventNames) {
      queue.on(name, (...args: unknown[]) => {
        (this.emit as (n: string, ...a: unknown[]) => boolean)(name, ...args);
        this.publishSoon();
      });
    }
    this.owned = queue;
    this.epoch = epoch;
    this.seq = 0;
    this.ownerId = this.o.nodeId;
    this.o.logger.info({ epoch, waiting: queue.queued().length, agents: queue.agents().length }, 'this node routes the consultation queue now');
    if (gone.length > 0) {
      queue.settle(gone, false);
      this.o.logger.warn({ gone }, 'calls the previous routing owner left in line are no longer waiting in storage: taken out (an accept stored as it died is committed)');
    }
    queue.resume();
    this.publishSoon();
    if (!this.everSnapshot) await this.rebuildFromStorage();
  }

  /**
   * How a new owner checks the line it inherits against storage: given the waiting entries,
   * those whose call no longer waits (with `agentId` when an agent has it). Set once the
   * consultation service exists.
   */
  async checkWith(fn: LineCheck): Promise<void> {
    this.check = fn;
    // This node took the lease while it started, before it could check: the line is checked now.
    const queue = this.owned;
    if (!queue) return;
    const gone = await this.stale(queue.snapshot().waiting);
    if (gone.length === 0 || this.owned !== queue) return;
    queue.settle(gone);
    this.publishSoon();
  }

  /** The inherited line's entries storage no longer has waiting; none when storage does not answer in time (routing must resume). */
  private async stale(waiting: QueueSnapshot['waiting']): Promise<Array<{ callId: string; agentId?: string; ended?: boolean }>> {
    if (!this.check || waiting.length === 0) return [];
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`storage did not answer in ${STALE_CHECK_MS} ms`)), STALE_CHECK_MS);
    });
    try {
      return await Promise.race([this.check(waiting.map((w) => ({ callId: w.callId, details: w.details }))), late]);
    } catch (err) {
      this.o.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'the inherited line could not be checked against storage; routing it as it is (an accept refused later takes its call out)');
      return [];
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Where the waiting consultations are when no snapshot of the line exists anywhere (Redis
   * lost it and no node holds a copy: a new deployment, or every node and Redis restarted):
   * the database's waiting calls, oldest first. Called once the consultation service exists;
   * when this node already owns the queue, the line is rebuilt now.
   */
  async recoverWith(fn: () => Promise<Array<{ callId: string; details: Record<string, unknown> }>>): Promise<void> {
    this.recover = fn;
    if (this.owned && !this.everSnapshot) await this.rebuildFromStorage();
  }

  private async rebuildFromStorage(): Promise<void> {
    const queue = this.owned;
    if (!queue || !this.recover) return;
    this.everSnapshot = true;
    const known = new Set(queue.queued().map((c) => c.callId));
    let added = 0;
    for (const w of await this.recover()) {
      if (known.has(w.callId) || queue.agents().some((a) => a.callId === w.callId)) continue;
      queue.enqueue(w.callId, w.details);
      added += 1;
    }
    if (added > 0) this.o.logger.warn({ added }, 'no copy of the consultation line existed (Redis lost it): waiting consultations put back in line from the database, oldest first');
    this.publishSoon();
  }

  private stepDown(why: string): void {
    const queue = this.owned;
    if (!queue) return;
    this.owned = undefined;
    this.mirror.load(queue.snapshot());
    queue.close();
    this.o.logger.warn({ why }, 'this node no longer routes the consultation queue');
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.renewTimer);
    await this.renewing;
    if (this.owned) {
      // A clean stop hands the line on at once: the last snapshot, then the lease.
      const message = this.snapshotMessage();
      await this.o.redis.commands.set(this.keys.snapshot, JSON.stringify(message)).catch(() => undefined);
      await this.o.redis.commands.eval(releaseScript, { keys: [this.keys.owner], arguments: [this.o.nodeId] }).catch(() => undefined);
      this.owned.close();
      this.owned = undefined;
    }
    for (const w of this.waitingReplies.values()) {
      clearTimeout(w.timer);
      w.reject(new ParleyError('SHUTTING_DOWN', 'this node is stopping'));
    }
    this.waitingReplies.clear();
    await Promise.allSettled(this.unsubscribe.map((u) => u()));
    this.mirror.close();
    this.removeAllListeners();
  }
}


/** The consultation queue for this deployment: this process's own without Redis (as always), the shared one with it. */
export async function openConsultationQueue(o: { redis?: RedisConnection; bus: MessageBus; nodeId: string; queue: QueueOptions; leaseMs: number; renewMs: number; logger: Logger }): Promise<QueuePort> {
  if (!o.redis) return new ConsultationQueue(o.queue);
  return SharedConsultationQueue.open({ ...o, redis: o.redis });
}
