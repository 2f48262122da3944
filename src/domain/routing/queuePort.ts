/**
 * What the consultation service needs of the queue (seed 003, issue 13). `ConsultationQueue`
 * is it on one node, as always; with several nodes a shared queue (src/cluster/sharedQueue.ts)
 * is it, whose changes go to the node that routes and so may answer later: changes are
 * `Awaitable`, and callers `await` them. Reads answer at once (from the line as last seen).
 */
import type { EventEmitter } from 'node:events';
import type { AgentSnapshot, PendingTransfer, QueueEvents } from './consultationQueue.js';

export type Awaitable<T> = T | Promise<T>;

export interface QueueReads {
  position(callId: string): { position: number; estimatedWaitMs?: number; agentsOnline: number } | undefined;
  positions(): Array<{ callId: string; position: number; estimatedWaitMs?: number; agentsOnline: number }>;
  details(callId: string): Record<string, unknown> | undefined;
  agents(): AgentSnapshot[];
  agent(agentId: string): AgentSnapshot | undefined;
  agentsOnline(): number;
  /** Waiting calls in order; `reserved` while an agent's accept of it is being stored. */
  queued(): Array<{ callId: string; enqueuedAt: number; offeredTo?: string; reserved?: boolean }>;
  offerFor(agentId: string): { callId: string; details: Record<string, unknown>; expiresAt: number } | undefined;
  transferOf(callId: string): PendingTransfer | undefined;
  transferFor(agentId: string): PendingTransfer | undefined;
}

/** The queue's changes, by name: what a shared queue sends to the node that routes. */
export interface QueueChanges {
  setAgentState(agentId: string, state: 'available' | 'offline' | 'after-call-work'): Awaitable<AgentSnapshot>;
  enqueue(callId: string, details?: Record<string, unknown>): Awaitable<void>;
  offerTransfer(fromAgentId: string, callId: string, toAgentId: string, details: Record<string, unknown>): Awaitable<PendingTransfer>;
  reserveTransfer(toAgentId: string, callId: string): Awaitable<PendingTransfer>;
  commitTransfer(toAgentId: string, callId: string): Awaitable<void>;
  releaseTransfer(toAgentId: string, callId: string): Awaitable<void>;
  rejectTransfer(toAgentId: string, callId: string): Awaitable<void>;
  cancelTransfer(callId: string): Awaitable<void>;
  requeueTransfer(fromAgentId: string, callId: string, details: Record<string, unknown>): Awaitable<void>;
  requeueOrphan(callId: string, details: Record<string, unknown>): Awaitable<void>;
  acknowledgeTransfer(agentId: string, callId: string): Awaitable<boolean>;
  reserve(agentId: string, callId: string): Awaitable<void>;
  commitAccept(agentId: string, callId: string): Awaitable<void>;
  releaseAccept(agentId: string, callId: string): Awaitable<void>;
  acknowledgeOffer(agentId: string, callId: string): Awaitable<boolean>;
  reject(agentId: string, callId: string): Awaitable<void>;
  hangUp(callId: string): Awaitable<void>;
  overflow(callId: string): Awaitable<'taken' | 'accepting' | 'gone'>;
  settle(gone: Array<{ callId: string; agentId?: string; ended?: boolean }>, redispatch?: boolean): Awaitable<void>;
  agentGone(agentId: string): Awaitable<void>;
  callEnded(agentId: string, handledMs?: number): Awaitable<void>;
}

export const queueChangeNames = [
  'setAgentState', 'enqueue', 'offerTransfer', 'reserveTransfer', 'commitTransfer', 'releaseTransfer', 'rejectTransfer', 'cancelTransfer',
  'requeueTransfer', 'requeueOrphan', 'acknowledgeTransfer', 'reserve', 'commitAccept', 'releaseAccept', 'acknowledgeOffer', 'reject',
  'hangUp', 'overflow', 'settle', 'agentGone', 'callEnded',
] as const satisfies ReadonlyArray<keyof QueueChanges>;

export type QueuePort = QueueReads & QueueChanges & Pick<EventEmitter<QueueEvents>, 'on'> & { close(): void | Promise<void> };

/** `fn` of the value, at once when it is there (one node: no tick lost), else when it comes. */
export function after<T, R>(value: Awaitable<T>, fn: (v: T) => R): R | Promise<R> {
  return value instanceof Promise ? value.then(fn) : fn(value);
}

