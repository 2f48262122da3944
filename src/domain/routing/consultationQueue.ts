/**
 * The consultation queue and its routing (seed 003): calls wait in arrival order; each is
 * offered to the longest-idle available agent; an agent accepts or rejects; a rejected or
 * unanswered offer goes to the next agent; a caller may hang up while waiting. Agents are
 * available / ringing / busy / after-call work / offline, changed by themselves and by calls.
 *
 * Pure domain: no sockets, no SQL. The edges turn its events into socket messages and
 * stored call transitions.
 */
import { EventEmitter } from 'node:events';
import { ParleyError } from '../../errors.js';

export type AgentState = 'available' | 'ringing' | 'busy' | 'after-call-work' | 'offline';

export type WithdrawReason = 'rejected' | 'timeout' | 'hung-up' | 'agent-offline';

export interface QueuedCall {
  callId: string;
  enqueuedAt: number;
  /** Agents who rejected or missed this call: it is not offered to them again. */
  declinedBy: Set<string>;
  offeredTo?: string;
  offerExpiresAt?: number;
  /** Whatever the edge wants shown with the offer (customer name, phone, inquiry). */
  details: Record<string, unknown>;
}

export interface AgentSnapshot {
  agentId: string;
  state: AgentState;
  /** When the agent last became available (longest idle = smallest). */
  idleSince: number;
  /** When the agent entered the current state. */
  since: number;
  callId?: string;
}

export interface QueueEvents {
  offer: [{ callId: string; agentId: string; expiresAt: number; details: Record<string, unknown> }];
  'offer-withdrawn': [{ callId: string; agentId: string; reason: WithdrawReason }];
  assigned: [{ callId: string; agentId: string }];
  abandoned: [{ callId: string; waitedMs: number }];
  'agent-state': [AgentSnapshot];
  'queue-changed': [];
}

export interface QueueOptions {
  /** How long an agent's phone rings before the offer moves on. */
  offerTimeoutMs: number;
  /** Where an agent who let an offer ring out goes: 'offline' (default) keeps absent agents out of routing. */
  stateAfterMissedOffer?: 'available' | 'offline';
  /** Handle time assumed until calls have been measured, for the estimated wait. */
  defaultHandleTimeMs?: number;
  now?: () => number;
}

export class ConsultationQueue extends EventEmitter<QueueEvents> {
  private readonly waiting: QueuedCall[] = [];
  private readonly agentStates = new Map<string, AgentSnapshot>();
  private readonly offerTimers = new Map<string, NodeJS.Timeout>();
  private readonly handleTimes: number[] = [];
  private readonly now: () => number;

  constructor(private readonly options: QueueOptions) {
    super();
    this.now = options.now ?? Date.now;
  }

  /** An agent changes their own state (available, after-call work done, offline). */
  setAgentState(agentId: string, state: 'available' | 'offline' | 'after-call-work'): AgentSnapshot {
    const agent = this.agentStates.get(agentId) ?? { agentId, state: 'offline' as AgentState, idleSince: this.now(), since: this.now() };
    if (agent.state === 'busy' || agent.state === 'ringing') {
      throw new ParleyError('CONFLICT', `agent is ${agent.state}; finish or answer the call first`);
    }
    if (state === 'available' && agent.state !== 'available') agent.idleSince = this.now();
    if (state !== agent.state) agent.since = this.now();
    agent.state = state;
    this.agentStates.set(agentId, agent);
    this.emit('agent-state', { ...agent });
    this.dispatch();
    return { ...agent };
  }

  /** A customer's call joins the end of the queue. */
  enqueue(callId: string, details: Record<string, unknown> = {}): void {
    if (this.find(callId)) throw new ParleyError('CONFLICT', `call ${callId} is already queued`);
    this.waiting.push({ callId, enqueuedAt: this.now(), declinedBy: new Set(), details });
    this.emit('queue-changed');
    this.dispatch();
  }

  accept(agentId: string, callId: string): void {
    const call = this.find(callId);
    if (!call || call.offeredTo !== agentId) throw new ParleyError('CONFLICT', `call ${callId} is not ringing for you`);
    this.clearOffer(callId);
    this.waiting.splice(this.waiting.indexOf(call), 1);
    const agent = this.agentStates.get(agentId)!;
    agent.state = 'busy';
    agent.since = this.now();
    agent.callId = callId;
    this.emit('agent-state', { ...agent });
    this.emit('assigned', { callId, agentId });
    this.emit('queue-changed');
  }

  reject(agentId: string, callId: string): void {
    const call = this.find(callId);
    if (!call || call.offeredTo !== agentId) throw new ParleyError('CONFLICT', `call ${callId} is not ringing for you`);
    this.withdraw(call, 'rejected', 'available');
  }

  /** The customer hangs up while waiting (or while an agent's phone rings). */
  hangUp(callId: string): void {
    const call = this.find(callId);
    if (!call) throw new ParleyError('NOT_FOUND', `call ${callId} is not waiting`);
    if (call.offeredTo) this.withdraw(call, 'hung-up', 'available', false);
    this.waiting.splice(this.waiting.indexOf(call), 1);
    this.emit('abandoned', { callId, waitedMs: this.now() - call.enqueuedAt });
    this.emit('queue-changed');
    this.dispatch();
  }

  /**
   * The agent's console is gone (every socket closed and the grace passed): an offer ringing
   * for them moves on, and they stop being routed to. A call in progress stays theirs.
   */
  agentGone(agentId: string): void {
    const agent = this.agentStates.get(agentId);
    if (!agent || agent.state === 'offline' || agent.state === 'busy') return;
    const ringing = this.waiting.find((c) => c.offeredTo === agentId);
    if (ringing) {
      this.withdraw(ringing, 'agent-offline', 'offline');
      return;
    }
    agent.state = 'offline';
    agent.since = this.now();
    this.emit('agent-state', { ...agent });
  }

  /** Every queued call with its 1-based position and estimated wait. */
  positions(): Array<{ callId: string; position: number; estimatedWaitMs: number }> {
    const estimate = this.waitEstimator();
    return this.waiting.map((c, i) => ({ callId: c.callId, position: i + 1, estimatedWaitMs: estimate(i) }));
  }

  agents(): AgentSnapshot[] {
    return [...this.agentStates.values()].map((a) => ({ ...a }));
  }

  /** What the edge attached to a queued call (customer name, inquiry…). */
  details(callId: string): Record<string, unknown> | undefined {
    return this.find(callId)?.details;
  }

  /** The offer ringing for an agent, if any. */
  offerFor(agentId: string): { callId: string; details: Record<string, unknown>; expiresAt: number } | undefined {
    const call = this.waiting.find((c) => c.offeredTo === agentId);
    return call ? { callId: call.callId, details: call.details, expiresAt: call.offerExpiresAt ?? this.now() } : undefined;
  }

  /** The agent's call ended: after-call work until the agent says they are available. */
  callEnded(agentId: string, handledMs?: number): void {
    const agent = this.agentStates.get(agentId);
    if (!agent || agent.state !== 'busy') throw new ParleyError('CONFLICT', 'you have no call in progress');
    if (handledMs !== undefined) this.handleTimes.push(handledMs);
    if (this.handleTimes.length > 50) this.handleTimes.shift();
    agent.state = 'after-call-work';
    agent.since = this.now();
    agent.callId = undefined;
    this.emit('agent-state', { ...agent });
  }

  /** 1-based place in the queue and the estimated wait; undefined when not waiting. */
  position(callId: string): { position: number; estimatedWaitMs: number } | undefined {
    const i = this.waiting.findIndex((c) => c.callId === callId);
    if (i === -1) return undefined;
    return { position: i + 1, estimatedWaitMs: this.waitEstimator()(i) };
  }

  /** Estimated wait of the caller with `ahead` calls before them: the calls ahead share the staffed agents. */
  private waitEstimator(): (ahead: number) => number {
    let staffed = 0;
    for (const a of this.agentStates.values()) if (a.state !== 'offline') staffed += 1;
    const handle = this.handleTimes.length > 0 ? this.handleTimes.reduce((a, b) => a + b, 0) / this.handleTimes.length : (this.options.defaultHandleTimeMs ?? 180_000);
    return (ahead) => Math.round((ahead * handle) / Math.max(1, staffed));
  }

  queued(): Array<{ callId: string; enqueuedAt: number; offeredTo?: string }> {
    return this.waiting.map((c) => ({ callId: c.callId, enqueuedAt: c.enqueuedAt, offeredTo: c.offeredTo }));
  }

  agent(agentId: string): AgentSnapshot | undefined {
    const a = this.agentStates.get(agentId);
    return a ? { ...a } : undefined;
  }

  close(): void {
    for (const t of this.offerTimers.values()) clearTimeout(t);
    this.offerTimers.clear();
    this.removeAllListeners();
  }

  private find(callId: string): QueuedCall | undefined {
    return this.waiting.find((c) => c.callId === callId);
  }

  private withdraw(call: QueuedCall, reason: WithdrawReason, agentState: AgentState, redispatch = true): void {
    const agentId = call.offeredTo!;
    this.clearOffer(call.callId);
    call.offeredTo = undefined;
    if (reason !== 'hung-up') call.declinedBy.add(agentId);
    const agent = this.agentStates.get(agentId)!;
    agent.state = agentState;
    agent.since = this.now();
    this.emit('offer-withdrawn', { callId: call.callId, agentId, reason });
    this.emit('agent-state', { ...agent });
    if (redispatch) this.dispatch();
  }

  private clearOffer(callId: string): void {
    clearTimeout(this.offerTimers.get(callId));
    this.offerTimers.delete(callId);
  }

  /** Offers every waiting call, oldest first, to the longest-idle agent who has not declined it. */
  private dispatch(): void {
    const free = [...this.agentStates.values()].filter((a) => a.state === 'available').sort((a, b) => a.idleSince - b.idleSince);
    for (const call of this.waiting) {
      if (free.length === 0) return;
      if (call.offeredTo) continue;
      const i = free.findIndex((a) => !call.declinedBy.has(a.agentId));
      if (i === -1) continue;
      const agent = free.splice(i, 1)[0]!;
      agent.state = 'ringing';
      agent.since = this.now();
      call.offeredTo = agent.agentId;
      const expiresAt = this.now() + this.options.offerTimeoutMs;
      call.offerExpiresAt = expiresAt;
      const timer = setTimeout(() => {
        if (call.offeredTo === agent.agentId && this.waiting.includes(call)) this.withdraw(call, 'timeout', this.options.stateAfterMissedOffer ?? 'offline');
      }, this.options.offerTimeoutMs);
      timer.unref();
      this.offerTimers.set(call.callId, timer);
      this.emit('agent-state', { ...agent });
      this.emit('offer', { callId: call.callId, agentId: agent.agentId, expiresAt, details: call.details });
    }
  }
}
