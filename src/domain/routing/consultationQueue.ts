/**
 * The consultation queue and its routing (seed 003): calls wait in arrival order; each is
 * offered to the longest-idle available agent; an agent accepts or rejects; a rejected or
 * unanswered offer goes to another agent first, and back to an agent who declined it once
 * their cool-down (`reofferCooldownMs`) has passed, so a call never waits for nobody; a
 * caller may hang up while waiting. Agents are available / ringing / busy / after-call work /
 * offline, changed by themselves and by calls.
 *
 * Offers are delivered reliably: an offer the agent's console has not acknowledged
 * (`acknowledgeOffer`) is announced again every `offerResendMs` while it rings.
 *
 * Accepting is two-phase so that the queue changes only when storage has committed:
 * `reserve` (the offer stops ringing and cannot be taken by anyone else), then `commitAccept`
 * (the call leaves the queue, the agent is busy) or `releaseAccept` (the offer is back as it
 * was, or moves on when the agent can no longer take it).
 *
 * Transfers: an agent busy with a call may hand it to one available colleague
 * (`offerTransfer`: that colleague rings, the call stays the first agent's until the
 * colleague accepts with `reserveTransfer`/`commitTransfer`, or rejects / rings out —
 * `transfer-withdrawn`) or back to the queue (`requeueTransfer`: the call waits at the head,
 * the first agent goes to after-call work).
 *
 * Pure domain: no sockets, no SQL. The edges turn its events into socket messages and
 * stored call transitions.
 */
import { EventEmitter } from 'node:events';
import { ParleyError } from '../../errors.js';

export type AgentState = 'available' | 'ringing' | 'busy' | 'after-call-work' | 'offline';

/** `overflowed`: nobody took the call in time and the AI assistant took it (an ai_overflow entry point). */
export type WithdrawReason = 'rejected' | 'timeout' | 'hung-up' | 'agent-offline' | 'accept-failed' | 'overflowed';

export interface QueuedCall {
  callId: string;
  enqueuedAt: number;
  /** Agents who rejected or missed this call, and when: others are asked first; they are asked again after the cool-down. */
  declinedBy: Map<string, number>;
  offeredTo?: string;
  offerExpiresAt?: number;
  /** The agent's console confirmed it shows the current offer. */
  offerAcked?: boolean;
  /** The current offer is being accepted (storage is writing): it neither rings out nor moves. */
  reserved?: boolean;
  /** Whatever the edge wants shown with the offer (customer name, phone, inquiry). */
  details: Record<string, unknown>;
}

/** A call being handed from the agent who has it to one colleague, ringing at the colleague. */
export interface PendingTransfer {
  callId: string;
  fromAgentId: string;
  toAgentId: string;
  expiresAt: number;
  acked: boolean;
  /** Being accepted (storage is writing): it neither rings out nor moves. */
  reserved: boolean;
  details: Record<string, unknown>;
}

export type TransferWithdrawReason = 'rejected' | 'timeout' | 'agent-offline' | 'hung-up' | 'accept-failed';

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
  /** A new offer (`resent` false), or the same offer announced again because the console has not acknowledged it. */
  offer: [{ callId: string; agentId: string; expiresAt: number; details: Record<string, unknown>; resent: boolean }];
  'offer-withdrawn': [{ callId: string; agentId: string; reason: WithdrawReason }];
  assigned: [{ callId: string; agentId: string }];
  /** The caller hung up while waiting. */
  abandoned: [{ callId: string; waitedMs: number }];
  /** The call left the line for the AI assistant (ai_overflow): answered, not abandoned. */
  overflowed: [{ callId: string; waitedMs: number }];
  'agent-state': [AgentSnapshot];
  'queue-changed': [];
  /** A transfer rings at `toAgentId` (`resent`: announced again, the console has not acknowledged it). */
  'transfer-offer': [PendingTransfer & { resent: boolean }];
  /** A transfer stopped ringing without being accepted; the call is still `fromAgentId`'s. */
  'transfer-withdrawn': [{ callId: string; fromAgentId: string; toAgentId: string; reason: TransferWithdrawReason }];
  /** A transfer was accepted: `toAgentId` is busy with the call, `fromAgentId` in after-call work. */
  transferred: [{ callId: string; fromAgentId: string; toAgentId: string }];
}

export interface QueueOptions {
  /** How long an agent's phone rings before the offer moves on. */
  offerTimeoutMs: number;
  /** Where an agent who let an offer ring out goes: 'offline' (default) keeps absent agents out of routing. */
  stateAfterMissedOffer?: 'available' | 'offline';
  /** Handle time assumed until calls have been measured, for the estimated wait. */
  defaultHandleTimeMs?: number;
  /** How long a call is kept from an agent who rejected or missed it while someone else could take it (default 10 s). */
  reofferCooldownMs?: number;
  /** How often an unacknowledged offer is announced again (default 2 s). */
  offerResendMs?: number;
  now?: () => number;
}

/**
 * The queue's state as plain data: what a routing owner hands to the other nodes (issue 13),
 * so that they read the same line and a node taking over goes on from it.
 */
export interface QueueSnapshot {
  waiting: Array<{ callId: string; enqueuedAt: number; declinedBy: Array<[string, number]>; offeredTo?: string; offerExpiresAt?: number; offerAcked?: boolean; reserved?: boolean; details: Record<string, unknown> }>;
  agents: AgentSnapshot[];
  transfers: PendingTransfer[];
  handleTimes: number[];
}

export class ConsultationQueue extends EventEmitter<QueueEvents> {
  private readonly waiting: QueuedCall[] = [];
  private readonly agentStates = new Map<string, AgentSnapshot>();
  private readonly offerTimers = new Map<string, NodeJS.Timeout>();
  private readonly resendTimers = new Map<string, NodeJS.Timeout>();
  /** Transfers ringing, by call id, with their ring-out and resend timers. */
  private readonly transfers = new Map<string, PendingTransfer & { timer?: NodeJS.Timeout; resend?: NodeJS.Timeout }>();
  /** Wakes dispatch when the earliest cool-down ends. */
  private cooldownTimer: { at: number; timer: NodeJS.Timeout } | undefined;
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
    this.waiting.push({ callId, enqueuedAt: this.now(), declinedBy: new Map(), details });
    this.emit('queue-changed');
    this.dispatch();
  }

  // --- transfers ----------------------------------------------------------------------

  /**
   * The agent busy with `callId` hands it to `toAgentId`, who must be available: the
   * colleague rings for `offerTimeoutMs`. CONFLICT when the call is not the first agent's,
   * a transfer is already ringing, or the colleague is not available.
   */
  offerTransfer(fromAgentId: string, callId: string, toAgentId: string, details: Record<string, unknown>): PendingTransfer {
    const from = this.agentStates.get(fromAgentId);
    if (!from || from.state !== 'busy' || from.callId !== callId) throw new ParleyError('CONFLICT', `call ${callId} is not in progress with you; only the agent on the call can transfer it`);
    if (this.transfers.has(callId)) throw new ParleyError('CONFLICT', `a transfer of call ${callId} is already ringing; wait for it to be answered`);
    if (toAgentId === fromAgentId) throw new ParleyError('INVALID_PAYLOAD', 'to.agentId: you cannot transfer a call to yourself');
    const to = this.agentStates.get(toAgentId);
    if (!to || to.state !== 'available') throw new ParleyError('CONFLICT', `that agent is ${to?.state ?? 'offline'}; a call can be transferred only to an available agent`);
    to.state = 'ringing';
    to.since = this.now();
    const t: PendingTransfer & { timer?: NodeJS.Timeout; resend?: NodeJS.Timeout } = { callId, fromAgentId, toAgentId, expiresAt: this.now() + this.options.offerTimeoutMs, acked: false, reserved: false, details };
    t.timer = setTimeout(() => {
      if (this.transfers.get(callId) === t && !t.reserved) this.withdrawTransfer(t, 'timeout', this.options.stateAfterMissedOffer ?? 'offline');
    }, this.options.offerTimeoutMs);
    t.timer.unref();
    this.transfers.set(callId, t);
    this.scheduleTransferResend(t);
    this.emit('agent-state', { ...to });
    this.emit('transfer-offer', { ...this.plainTransfer(t), resent: false });
    return this.plainTransfer(t);
  }

  /** The transfer of a call, ringing or being accepted. */
  transferOf(callId: string): PendingTransfer | undefined {
    const t = this.transfers.get(callId);
    return t ? this.plainTransfer(t) : undefined;
  }

  /** The transfer ringing for an agent, if any. */
  transferFor(agentId: string): PendingTransfer | undefined {
    for (const t of this.transfers.values()) if (t.toAgentId === agentId) return this.plainTransfer(t);
    return undefined;
  }

  /** The colleague pressed accept: the transfer stops ringing and stays theirs while storage writes. */
  reserveTransfer(toAgentId: string, callId: string): PendingTransfer {
    const t = this.transfers.get(callId);
    if (!t || t.toAgentId !== toAgentId || t.reserved) throw new ParleyError('CONFLICT', `call ${callId} is not ringing for you`);
    this.clearTransferTimers(t);
    t.reserved = true;
    return this.plainTransfer(t);
  }

  /** Storage committed: the colleague is busy with the call, the first agent in after-call work. */
  commitTransfer(toAgentId: string, callId: string): void {
    const t = this.transfers.get(callId);
    if (!t || t.toAgentId !== toAgentId || !t.reserved) throw new ParleyError('CONFLICT', `call ${callId} is not being accepted by you`);
    this.transfers.delete(callId);
    const to = this.agentStates.get(toAgentId)!;
    to.state = 'busy';
    to.since = this.now();
    to.callId = callId;
    this.emit('agent-state', { ...to });
    this.release(t.fromAgentId, callId);
    this.emit('transferred', { callId, fromAgentId: t.fromAgentId, toAgentId });
  }

  /** Storage did not commit: the call stays with the first agent, the colleague is available. */
  releaseTransfer(toAgentId: string, callId: string): void {
    const t = this.transfers.get(callId);
    if (!t || t.toAgentId !== toAgentId || !t.reserved) return;
    this.withdrawTransfer(t, 'accept-failed', 'available');
  }

  rejectTransfer(toAgentId: string, callId: string): void {
    const t = this.transfers.get(callId);
    if (!t || t.toAgentId !== toAgentId || t.reserved) throw new ParleyError('CONFLICT', `call ${callId} is not ringing for you`);
    this.withdrawTransfer(t, 'rejected', 'available');
  }

  /** The call ended while its transfer rang: the colleague stops ringing. */
  cancelTransfer(callId: string): void {
    const t = this.transfers.get(callId);
    if (t) this.withdrawTransfer(t, 'hung-up', 'available');
  }

  /**
   * The agent busy with `callId` sends it back to the queue: it waits at the head (before
   * every other caller) and the agent goes to after-call work. `details` replace the call's.
   */
  requeueTransfer(fromAgentId: string, callId: string, details: Record<string, unknown>): void {
    const from = this.agentStates.get(fromAgentId);
    if (!from || from.state !== 'busy' || from.callId !== callId) throw new ParleyError('CONFLICT', `call ${callId} is not in progress with you; only the agent on the call can transfer it`);
    if (this.transfers.has(callId)) throw new ParleyError('CONFLICT', `a transfer of call ${callId} is already ringing; wait for it to be answered`);
    this.release(fromAgentId, callId);
    // The customer has waited already: at the head, their wait counted from the hand-over.
    this.waiting.unshift({ callId, enqueuedAt: this.now(), declinedBy: new Map([[fromAgentId, this.now()]]), details });
    this.emit('queue-changed');
    this.dispatch();
  }

  /** A call whose transfer failed while its first agent was gone waits at the head of the queue. */
  requeueOrphan(callId: string, details: Record<string, unknown>): void {
    if (this.find(callId)) return;
    const holder = [...this.agentStates.values()].find((a) => a.callId === callId);
    if (holder) {
      holder.state = 'offline';
      holder.since = this.now();
      holder.callId = undefined;
      this.emit('agent-state', { ...holder });
    }
    this.waiting.unshift({ callId, enqueuedAt: this.now(), declinedBy: holder ? new Map([[holder.agentId, this.now()]]) : new Map(), details });
    this.emit('queue-changed');
    this.dispatch();
  }

  /** Acknowledges a transfer ringing for the agent (no more resends). */
  acknowledgeTransfer(agentId: string, callId: string): boolean {
    const t = this.transfers.get(callId);
    if (!t || t.toAgentId !== agentId) return false;
    t.acked = true;
    clearTimeout(t.resend);
    return true;
  }

  /** The agent (busy with `callId`) is no longer on it: after-call work. */
  private release(agentId: string, callId: string): void {
    const from = this.agentStates.get(agentId);
    if (!from || from.callId !== callId) return;
    from.state = 'after-call-work';
    from.since = this.now();
    from.callId = undefined;
    this.emit('agent-state', { ...from });
  }

  private withdrawTransfer(t: PendingTransfer & { timer?: NodeJS.Timeout; resend?: NodeJS.Timeout }, reason: TransferWithdrawReason, toState: AgentState): void {
    this.clearTransferTimers(t);
    this.transfers.delete(t.callId);
    const to = this.agentStates.get(t.toAgentId);
    if (to && to.state === 'ringing') {
      to.state = toState;
      to.since = this.now();
      if (toState === 'available') to.idleSince = this.now();
      this.emit('agent-state', { ...to });
    }
    this.emit('transfer-withdrawn', { callId: t.callId, fromAgentId: t.fromAgentId, toAgentId: t.toAgentId, reason });
    this.dispatch();
  }

  private clearTransferTimers(t: { timer?: NodeJS.Timeout; resend?: NodeJS.Timeout }): void {
    clearTimeout(t.timer);
    clearTimeout(t.resend);
    t.timer = undefined;
    t.resend = undefined;
  }

  private scheduleTransferResend(t: PendingTransfer & { resend?: NodeJS.Timeout }): void {
    t.resend = setTimeout(() => {
      if (this.transfers.get(t.callId) !== t || t.acked || t.reserved) return;
      this.emit('transfer-offer', { ...this.plainTransfer(t), resent: true });
      this.scheduleTransferResend(t);
    }, this.options.offerResendMs ?? 2_000);
    t.resend.unref();
  }

  private plainTransfer(t: PendingTransfer): PendingTransfer {
    return { callId: t.callId, fromAgentId: t.fromAgentId, toAgentId: t.toAgentId, expiresAt: t.expiresAt, acked: t.acked, reserved: t.reserved, details: t.details };
  }

  /** Accept in one step (no storage in between): reserve and commit. */
  accept(agentId: string, callId: string): void {
    this.reserve(agentId, callId);
    this.commitAccept(agentId, callId);
  }

  /**
   * The agent pressed accept: the offer stops ringing and stays theirs while storage writes.
   * CONFLICT when it is not ringing for them (or is already being accepted).
   */
  reserve(agentId: string, callId: string): void {
    const call = this.find(callId);
    if (!call || call.offeredTo !== agentId || call.reserved) throw new ParleyError('CONFLICT', `call ${callId} is not ringing for you`);
    this.clearOffer(callId);
    call.reserved = true;
  }

  /** Storage committed the accept: the call leaves the queue and the agent is busy with it. */
  commitAccept(agentId: string, callId: string): void {
    const call = this.find(callId);
    if (!call || call.offeredTo !== agentId || !call.reserved) throw new ParleyError('CONFLICT', `call ${callId} is not being accepted by you`);
    this.waiting.splice(this.waiting.indexOf(call), 1);
    const agent = this.agentStates.get(agentId)!;
    agent.state = 'busy';
    agent.since = this.now();
    agent.callId = callId;
    this.emit('agent-state', { ...agent });
    this.emit('assigned', { callId, agentId });
    this.emit('queue-changed');
  }

  /**
   * Storage did not commit the accept: nothing changed. The call (when still waiting) goes back
   * to the queue without counting as declined, and the agent is available again.
   */
  releaseAccept(agentId: string, callId: string): void {
    const call = this.find(callId);
    if (!call || call.offeredTo !== agentId || !call.reserved) return;
    call.reserved = false;
    this.withdraw(call, 'accept-failed', 'available');
  }

  /** The agent's console shows the offer: stop announcing it again. */
  acknowledgeOffer(agentId: string, callId: string): boolean {
    const call = this.find(callId);
    if (!call || call.offeredTo !== agentId) return false;
    call.offerAcked = true;
    clearTimeout(this.resendTimers.get(callId));
    this.resendTimers.delete(callId);
    return true;
  }

  reject(agentId: string, callId: string): void {
    const call = this.find(callId);
    if (!call || call.offeredTo !== agentId || call.reserved) throw new ParleyError('CONFLICT', `call ${callId} is not ringing for you`);
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
   * The AI assistant takes a waiting call (an ai_overflow entry point's delay passed, or
   * nobody is available): it leaves the line as answered, not abandoned, and an offer ringing
   * for it stops (the agent is available again, not counted as declining). Checked and done
   * in one step, so an accept cannot slip in between: `accepting` when an agent's accept of
   * it is being stored (nothing changes; look again later), `gone` when it is not waiting.
   */
  overflow(callId: string): 'taken' | 'accepting' | 'gone' {
    const call = this.find(callId);
    if (!call) return 'gone';
    if (call.reserved) return 'accepting';
    if (call.offeredTo) this.withdraw(call, 'overflowed', 'available', false);
    this.waiting.splice(this.waiting.indexOf(call), 1);
    this.emit('overflowed', { callId, waitedMs: this.now() - call.enqueuedAt });
    this.emit('queue-changed');
    this.dispatch();
    return 'taken';
  }

  /**
   * Storage says these calls no longer wait (checked by whoever reads storage): each leaves the
   * line, not declined by anyone. `ended`: the call is over (its hang-up never reached the
   * queue): abandoned. `agentId`: that agent has the call now (their accept was stored but never
   * reached the queue, e.g. the routing owner died mid-accept) and is busy with it, unless busy
   * with another. An offer ringing for a call that leaves stops. Calls not waiting here are
   * skipped. `redispatch` false: a queue about to `resume` routes afterwards.
   */
  settle(gone: Array<{ callId: string; agentId?: string; ended?: boolean }>, redispatch = true): void {
    let changed = false;
    for (const g of gone) {
      const call = this.find(g.callId);
      if (!call) continue;
      changed = true;
      if (g.ended) {
        if (call.offeredTo) this.withdraw(call, 'hung-up', 'available', false);
        this.waiting.splice(this.waiting.indexOf(call), 1);
        this.emit('abandoned', { callId: call.callId, waitedMs: this.now() - call.enqueuedAt });
        continue;
      }
      const ringing = call.offeredTo;
      this.clearOffer(call.callId);
      this.waiting.splice(this.waiting.indexOf(call), 1);
      const taker = g.agentId ? this.agentStates.get(g.agentId) : undefined;
      if (ringing && ringing !== taker?.agentId) {
        const agent = this.agentStates.get(ringing);
        if (agent?.state === 'ringing') {
          Object.assign(agent, { state: 'available' as AgentState, since: this.now() });
          this.emit('offer-withdrawn', { callId: call.callId, agentId: ringing, reason: 'accept-failed' });
          this.emit('agent-state', { ...agent });
        }
      }
      if (taker && taker.state !== 'busy') {
        // Storage has them on this call: whatever else rang for them meanwhile goes to someone else.
        const other = this.waiting.find((c) => c.offeredTo === taker.agentId && !c.reserved);
        if (other) this.withdraw(other, 'accept-failed', 'available', false);
        Object.assign(taker, { state: 'busy' as AgentState, since: this.now(), callId: call.callId });
        this.emit('agent-state', { ...taker });
        this.emit('assigned', { callId: call.callId, agentId: taker.agentId });
      }
    }
    if (!changed) return;
    this.emit('queue-changed');
    if (redispatch) this.dispatch();
  }

  /**
   * The agent's console is gone (every socket closed and the grace passed): an offer ringing
   * for them moves on, and they stop being routed to. A call in progress stays theirs.
   */
  agentGone(agentId: string): void {
    const agent = this.agentStates.get(agentId);
    if (!agent || agent.state === 'offline' || agent.state === 'busy') return;
    // An accept being written finishes first (commit makes them busy, release moves the offer on).
    if (this.waiting.some((c) => c.offeredTo === agentId && c.reserved)) return;
    const transfer = [...this.transfers.values()].find((t) => t.toAgentId === agentId);
    if (transfer) {
      if (!transfer.reserved) this.withdrawTransfer(transfer, 'agent-offline', 'offline');
      return;
    }
    const ringing = this.waiting.find((c) => c.offeredTo === agentId && !c.reserved);
    if (ringing) {
      this.withdraw(ringing, 'agent-offline', 'offline');
      return;
    }
    agent.state = 'offline';
    agent.since = this.now();
    this.emit('agent-state', { ...agent });
  }

  /**
   * Every queued call with its 1-based position and estimated wait. With no agent online
   * (every agent offline) there is no honest estimate: `estimatedWaitMs` is undefined.
   */
  positions(): Array<{ callId: string; position: number; estimatedWaitMs?: number; agentsOnline: number }> {
    const estimate = this.waitEstimator();
    return this.waiting.map((c, i) => ({ callId: c.callId, position: i + 1, agentsOnline: estimate.staffed, estimatedWaitMs: estimate(i) }));
  }

  /** Agents not offline (available, ringing, busy or in after-call work). */
  agentsOnline(): number {
    let n = 0;
    for (const a of this.agentStates.values()) if (a.state !== 'offline') n += 1;
    return n;
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

  /** 1-based place in the queue and the estimated wait (undefined with no agent online); undefined when not waiting. */
  position(callId: string): { position: number; estimatedWaitMs?: number; agentsOnline: number } | undefined {
    const i = this.waiting.findIndex((c) => c.callId === callId);
    if (i === -1) return undefined;
    const estimate = this.waitEstimator();
    return { position: i + 1, agentsOnline: estimate.staffed, estimatedWaitMs: estimate(i) };
  }

  /** Estimated wait of the caller with `ahead` calls before them: the calls ahead share the staffed agents; none staffed, no estimate. */
  private waitEstimator(): ((ahead: number) => number | undefined) & { staffed: number } {
    const staffed = this.agentsOnline();
    const handle = this.handleTimes.length > 0 ? this.handleTimes.reduce((a, b) => a + b, 0) / this.handleTimes.length : (this.options.defaultHandleTimeMs ?? 180_000);
    return Object.assign((ahead: number) => (staffed === 0 ? undefined : Math.round((ahead * handle) / staffed)), { staffed });
  }

  /** `reserved`: an agent pressed accept and storage is writing it. */
  queued(): Array<{ callId: string; enqueuedAt: number; offeredTo?: string; reserved?: boolean }> {
    return this.waiting.map((c) => ({ callId: c.callId, enqueuedAt: c.enqueuedAt, offeredTo: c.offeredTo, ...(c.reserved ? { reserved: true } : {}) }));
  }

  agent(agentId: string): AgentSnapshot | undefined {
    const a = this.agentStates.get(agentId);
    return a ? { ...a } : undefined;
  }

  /** The whole state as plain data (no timers). */
  snapshot(): QueueSnapshot {
    return {
      waiting: this.waiting.map((c) => ({ callId: c.callId, enqueuedAt: c.enqueuedAt, declinedBy: [...c.declinedBy], offeredTo: c.offeredTo, offerExpiresAt: c.offerExpiresAt, offerAcked: c.offerAcked, reserved: c.reserved, details: c.details })),
      agents: this.agents(),
      transfers: [...this.transfers.values()].map((t) => this.plainTransfer(t)),
      handleTimes: [...this.handleTimes],
    };
  }

  /**
   * Replaces the state with a snapshot, as it was: no timers armed, no events, no dispatch
   * (a node that only reads the line another node routes).
   */
  load(s: QueueSnapshot): void {
    this.clearAllTimers();
    this.transfers.clear();
    this.waiting.splice(0, this.waiting.length, ...s.waiting.map((c) => ({ ...c, declinedBy: new Map(c.declinedBy) })));
    this.agentStates.clear();
    for (const a of s.agents) this.agentStates.set(a.agentId, { ...a });
    for (const t of s.transfers) this.transfers.set(t.callId, { ...t });
    this.handleTimes.splice(0, this.handleTimes.length, ...s.handleTimes);
  }

  /**
   * This queue takes over from a routing owner that is gone (its timers with it): offers and
   * transfers that were ringing stop (their agents are available again, without counting as
   * declined), and routing starts again from the line as it was, in order.
   */
  resume(): void {
    for (const t of [...this.transfers.values()]) {
      this.transfers.delete(t.callId);
      const to = this.agentStates.get(t.toAgentId);
      if (to?.state === 'ringing') this.emit('agent-state', Object.assign(to, { state: 'available' as AgentState, since: this.now() }));
      this.emit('transfer-withdrawn', { callId: t.callId, fromAgentId: t.fromAgentId, toAgentId: t.toAgentId, reason: 'accept-failed' });
    }
    for (const call of this.waiting) {
      if (!call.offeredTo) continue;
      const agentId = call.offeredTo;
      call.offeredTo = undefined;
      call.offerExpiresAt = undefined;
      call.offerAcked = undefined;
      call.reserved = undefined;
      const agent = this.agentStates.get(agentId);
      if (agent?.state === 'ringing') Object.assign(agent, { state: 'available' as AgentState, since: this.now() });
      this.emit('offer-withdrawn', { callId: call.callId, agentId, reason: 'accept-failed' });
      if (agent) this.emit('agent-state', { ...agent });
    }
    this.emit('queue-changed');
    this.dispatch();
  }

  private clearAllTimers(): void {
    for (const t of [...this.offerTimers.values(), ...this.resendTimers.values()]) clearTimeout(t);
    for (const t of this.transfers.values()) this.clearTransferTimers(t);
    this.offerTimers.clear();
    this.resendTimers.clear();
    if (this.cooldownTimer) clearTimeout(this.cooldownTimer.timer);
    this.cooldownTimer = undefined;
  }

  close(): void {
    for (const t of [...this.offerTimers.values(), ...this.resendTimers.values()]) clearTimeout(t);
    for (const t of this.transfers.values()) this.clearTransferTimers(t);
    this.transfers.clear();
    this.offerTimers.clear();
    this.resendTimers.clear();
    if (this.cooldownTimer) clearTimeout(this.cooldownTimer.timer);
    this.cooldownTimer = undefined;
    this.removeAllListeners();
  }

  private find(callId: string): QueuedCall | undefined {
    return this.waiting.find((c) => c.callId === callId);
  }

  private withdraw(call: QueuedCall, reason: WithdrawReason, agentState: AgentState, redispatch = true): void {
    const agentId = call.offeredTo!;
    this.clearOffer(call.callId);
    call.offeredTo = undefined;
    call.offerAcked = undefined;
    call.reserved = undefined;
    if (reason === 'rejected' || reason === 'timeout' || reason === 'agent-offline') call.declinedBy.set(agentId, this.now());
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
    clearTimeout(this.resendTimers.get(callId));
    this.resendTimers.delete(callId);
  }

  /**
   * Offers every waiting call, oldest first, to the longest-idle agent who has not declined
   * it; when every free agent has declined it, to the one whose cool-down ended first. A
   * cool-down still running wakes dispatch when it ends.
   */
  private dispatch(): void {
    const cooldown = this.options.reofferCooldownMs ?? 10_000;
    const now = this.now();
    let nextWake = Infinity;
    const free = [...this.agentStates.values()].filter((a) => a.state === 'available').sort((a, b) => a.idleSince - b.idleSince);
    for (const call of this.waiting) {
      if (free.length === 0) break;
      if (call.offeredTo) continue;
      let i = free.findIndex((a) => !call.declinedBy.has(a.agentId));
      if (i === -1) {
        // Everyone free has declined this call: the one whose cool-down is over, earliest decline first.
        let best = -1;
        for (const [j, a] of free.entries()) {
          const declinedAt = call.declinedBy.get(a.agentId)!;
          if (declinedAt + cooldown <= now) {
            if (best === -1 || declinedAt < call.declinedBy.get(free[best]!.agentId)!) best = j;
          } else nextWake = Math.min(nextWake, declinedAt + cooldown);
        }
        if (best === -1) continue;
        i = best;
      }
      const agent = free.splice(i, 1)[0]!;
      agent.state = 'ringing';
      agent.since = this.now();
      call.offeredTo = agent.agentId;
      call.offerAcked = false;
      const expiresAt = this.now() + this.options.offerTimeoutMs;
      call.offerExpiresAt = expiresAt;
      const timer = setTimeout(() => {
        if (call.offeredTo === agent.agentId && !call.reserved && this.waiting.includes(call)) this.withdraw(call, 'timeout', this.options.stateAfterMissedOffer ?? 'offline');
      }, this.options.offerTimeoutMs);
      timer.unref();
      this.offerTimers.set(call.callId, timer);
      this.scheduleResend(call, agent.agentId);
      this.emit('agent-state', { ...agent });
      this.emit('offer', { callId: call.callId, agentId: agent.agentId, expiresAt, details: call.details, resent: false });
    }
    this.wakeAt(nextWake);
  }

  /** Announces the offer again until the console acknowledges it (or it stops ringing). */
  private scheduleResend(call: QueuedCall, agentId: string): void {
    const every = this.options.offerResendMs ?? 2_000;
    const timer = setTimeout(() => {
      this.resendTimers.delete(call.callId);
      if (call.offeredTo !== agentId || call.offerAcked || call.reserved || !this.waiting.includes(call)) return;
      this.emit('offer', { callId: call.callId, agentId, expiresAt: call.offerExpiresAt ?? this.now(), details: call.details, resent: true });
      this.scheduleResend(call, agentId);
    }, every);
    timer.unref();
    this.resendTimers.set(call.callId, timer);
  }

  /** Runs dispatch again when the earliest cool-down ends (one timer for the whole queue). */
  private wakeAt(at: number): void {
    if (!Number.isFinite(at)) return;
    if (this.cooldownTimer && this.cooldownTimer.at <= at) return;
    if (this.cooldownTimer) clearTimeout(this.cooldownTimer.timer);
    const timer = setTimeout(() => {
      this.cooldownTimer = undefined;
      this.dispatch();
    }, Math.max(0, at - this.now()));
    timer.unref();
    this.cooldownTimer = { at, timer };
  }
}
