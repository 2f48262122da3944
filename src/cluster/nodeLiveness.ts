/**
 * This node among the others on one database: it writes a heartbeat every `heartbeatMs`
 * that holds for `ttlMs` (each node states its own expiry, so nodes need not share their
 * settings), and on every beat fails the live calls of nodes whose heartbeat expired (a
 * node killed without a word). At start it fails only what its own previous run left (its id
 * is stable: NODE_ID, or hostname:PORT) and what gone nodes left — never another live
 * node's calls. A clean stop gives this node's live calls their final state and tells
 * the others at once.
 *
 * Several survivors may sweep the same dead node at once: every move is an optimistic
 * transition (status checked in the UPDATE), so exactly one of them records it.
 */
import type { Logger } from '../log/logger.js';
import type { CallRecord } from '../storage/callRepository.js';
import type { CallKeeper } from '../domain/calls/callService.js';
import type { NodeDirectory } from './ports.js';

/** The CallService's part this needs (closing calls whose media is gone). */
export interface InterruptedCalls {
  closeInterrupted(cause: string, scope: { hostedBy: string } | { orphanedAt: Date }, keep?: CallKeeper): Promise<CallRecord[]>;
}

export interface NodeLivenessOptions {
  nodeId: string;
  directory: NodeDirectory;
  calls: InterruptedCalls;
  heartbeatMs: number;
  ttlMs: number;
  logger: Logger;
  now?: () => Date;
  /** Live calls that outlive their node instead of failing with it (consultations waiting in a shared queue). */
  keep?: CallKeeper;
}

export interface NodeHealth {
  nodeId: string;
  /** ok: the last heartbeat was written; failing: storage refused it (the others will take this node for gone after the TTL). */
  state: 'ok' | 'failing';
  lastHeartbeatAt: string | null;
}

export class NodeLiveness {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastBeat: Date | null = null;
  private failing = false;
  private stopped = false;
  private readonly now: () => Date;

  constructor(private readonly o: NodeLivenessOptions) {
    this.now = o.now ?? (() => new Date());
  }

  get nodeId(): string {
    return this.o.nodeId;
  }

  /** Registers this node and closes what its previous run and gone nodes left live. */
  async start(): Promise<{ restarted: CallRecord[]; orphaned: CallRecord[] }> {
    const restarted = await this.o.calls.closeInterrupted('server-restarted', { hostedBy: this.o.nodeId }, this.o.keep);
    if (restarted.length > 0) this.o.logger.warn({ nodeId: this.o.nodeId, calls: restarted.map((c) => c.id) }, `closed ${restarted.length} call(s) this node's previous run left live as FAILED (server-restarted)`);
    const at = this.now();
    await this.o.directory.register(this.o.nodeId, at, this.o.ttlMs);
    this.lastBeat = at;
    const orphaned = await this.sweep();
    this.schedule();
    return { restarted, orphaned };
  }

  health(): NodeHealth {
    return { nodeId: this.o.nodeId, state: this.failing ? 'failing' : 'ok', lastHeartbeatAt: this.lastBeat?.toISOString() ?? null };
  }

  /** One beat now (tests drive it with a fake clock; the timer calls it otherwise). */
  beat(): Promise<void> {
    this.running ??= (async () => {
      try {
        const at = this.now();
        await this.o.directory.heartbeat(this.o.nodeId, at, this.o.ttlMs);
        this.lastBeat = at;
        if (this.failing) this.o.logger.info({ nodeId: this.o.nodeId }, 'heartbeat written again');
        this.failing = false;
        await this.sweep();
      } catch (err) {
        if (!this.failing) this.o.logger.error({ err, nodeId: this.o.nodeId, ttlMs: this.o.ttlMs }, 'node heartbeat could not be written: if storage stays down longer than NODE_TTL_MS, other nodes will fail this node\'s calls');
        this.failing = true;
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** A clean stop: this node's live calls get their final state; the others stop counting on it. */
  async stop(cause = 'server-shutdown'): Promise<CallRecord[]> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    const closed = await this.o.calls.closeInterrupted(cause, { hostedBy: this.o.nodeId }, this.o.keep);
    if (closed.length > 0) this.o.logger.info({ nodeId: this.o.nodeId, calls: closed.map((c) => c.id) }, `gave ${closed.length} live call(s) their final state (FAILED, ${cause})`);
    await this.o.directory.stopped(this.o.nodeId, this.now());
    return closed;
  }

  private async sweep(): Promise<CallRecord[]> {
    const orphaned = await this.o.calls.closeInterrupted('node-lost', { orphanedAt: this.now() }, this.o.keep);
    if (orphaned.length > 0) this.o.logger.warn({ nodeId: this.o.nodeId, calls: orphaned.map((c) => ({ id: c.id, node: c.nodeId })) }, `closed ${orphaned.length} call(s) of node(s) whose heartbeat expired (or that stopped) as FAILED (node-lost)`);
    return orphaned;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.beat().finally(() => this.schedule());
    }, this.o.heartbeatMs);
    this.timer.unref();
  }
}
