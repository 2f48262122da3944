/**
 * The message bus port: domain events that every node must hear (a revoked sign-in, room
 * memberships, …). One interface, a local implementation (one process: delivered in
 * process) and a Redis one (pub/sub between the nodes); chosen at start from REDIS_URL.
 *
 * Delivery is at most once and in order per publisher, like Redis pub/sub: a node that
 * was cut off misses what was said meanwhile, so whatever needs to converge republishes
 * its state (see roomReplication's hello).
 */
import { EventEmitter } from 'node:events';

export interface BusEnvelope<T = unknown> {
  /** The node that published it (a node ignores its own messages when it asks to). */
  from: string;
  data: T;
}

export type BusHandler = (message: BusEnvelope) => void;

export interface MessageBus {
  readonly nodeId: string;
  publish(channel: string, data: unknown): Promise<void>;
  /** Every message on `channel`, this node's own included; returns the unsubscribe. */
  subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** One node: messages go straight to this process's subscribers. */
export class LocalMessageBus implements MessageBus {
  private readonly emitter = new EventEmitter();

  constructor(readonly nodeId = 'local') {
    this.emitter.setMaxListeners(0);
  }

  async publish(channel: string, data: unknown): Promise<void> {
    // Async like the Redis bus, so callers cannot come to rely on a synchronous delivery.
    const envelope: BusEnvelope = { from: this.nodeId, data: structuredClone(data) };
    queueMicrotask(() => this.emitter.emit(channel, envelope));
  }

  async subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>> {
    this.emitter.on(channel, handler);
    return async () => {
      this.emitter.off(channel, handler);
    };
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}
