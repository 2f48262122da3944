/**
 * Ports of the cluster: what the domain needs to know about the other nodes sharing its
 * database (and Redis, when there is one). Storage and the Redis client implement them.
 */

export interface NodeRecord {
  id: string;
  startedAt: Date;
  heartbeatAt: Date;
  /** The node's last heartbeat plus its own TTL: past it, the others fail its calls. */
  expiresAt: Date;
  /** Set when the node stopped cleanly (its calls were given a final state then). */
  stoppedAt: Date | null;
}

/** Where nodes write their heartbeats (the shared database: it works with and without Redis). */
export interface NodeDirectory {
  /** This node starts (again): alive from now, whatever a previous run left. */
  register(id: string, at: Date, ttlMs: number): Promise<void>;
  heartbeat(id: string, at: Date, ttlMs: number): Promise<void>;
  /** A clean stop: the others need not wait for the heartbeat to expire. */
  stopped(id: string, at: Date): Promise<void>;
  list(): Promise<NodeRecord[]>;
}
