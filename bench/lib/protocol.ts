/**
 * Messages exchanged over IPC between the benchmark orchestrator (bench/signaling-relay.ts)
 * and its child processes: one server process (Parley or the bare Socket.IO baseline) and
 * one or more client processes. Children are forked with `serialization: 'advanced'` so
 * latency samples travel as Float64Array.
 */

export type Target = 'bare' | 'parley';

/** Orchestrator → server process. */
export type ToServer = { type: 'measure-start' } | { type: 'measure-stop' } | { type: 'close' };

/** Server process → orchestrator. */
export type FromServer =
  | { type: 'ready'; url: string; target: Target }
  | { type: 'measured'; stats: ServerStats }
  | { type: 'closed' }
  | { type: 'fatal'; message: string };

export interface ServerStats {
  /** CPU time (user + system) the server process used during the measured window, in ms. */
  cpuMs: number;
  wallMs: number;
  /** Event-loop delay of the server process during the window (perf_hooks histogram), in ms. */
  loopDelayP50Ms: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  rssMb: number;
  /** Relays the server performed since it started (offer + answer + ICE). */
  relayed: number;
  /** Parley only: socket events by outcome (ok, invalid, rate_limited, …) since start. */
  outcomes: Record<string, number>;
  /** Parley only: the longest consultation queue (waiting calls, offered ones included) seen during the window. */
  queueMax?: number;
}

export interface ClientJob {
  url: string;
  target: Target;
  /** Index of this process's first pair; global pair index gives the room name. */
  firstPair: number;
  pairs: number;
  /** ICE messages per second sent by each client to its partner. */
  rate: number;
  warmupMs: number;
  durationMs: number;
  drainMs: number;
  connectConcurrency: number;
  /** Distinguishes rooms of separate runs. */
  runId: string;
}

/** Orchestrator → client process. Phases are driven one at a time so all processes move together. */
export type ToClient =
  | { type: 'connect'; job: ClientJob }
  | { type: 'join' }
  | { type: 'negotiate' }
  | { type: 'stream' }
  | { type: 'close' };

/** Client process → orchestrator. */
export type FromClient =
  | { type: 'connected'; ms: number }
  | { type: 'joined'; ms: number }
  | { type: 'negotiated'; ms: number; handshakeMs: Float64Array }
  | { type: 'result'; result: ClientResult }
  | { type: 'closed' }
  | { type: 'fatal'; message: string };

export interface ClientResult {
  clients: number;
  /** ICE messages sent / received in total (warm-up + window). */
  sentTotal: number;
  receivedTotal: number;
  /** Messages sent during the measured window, and how many of those arrived before the drain deadline. */
  sentWindow: number;
  receivedWindow: number;
  /** Messages (of any phase) that arrived while the window was open: the delivered rate. */
  arrivedDuringWindow: number;
  windowMs: number;
  /** Relay latency (receiver clock − sender clock, same process) of window messages, in ms. */
  latencyMs: Float64Array;
  duplicates: number;
  outOfOrder: number;
  /** Messages from an unexpected sender (should stay 0). */
  misrouted: number;
  /** `error` events from the server, by code (Parley rejects: RATE_LIMITED, INVALID_PAYLOAD, …). */
  serverErrors: Record<string, number>;
  disconnects: number;
  /** Time still needed after the window to receive everything (or the drain limit). */
  drainMs: number;
  cpuMs: number;
  loopDelayP99Ms: number;
  /** How far behind schedule the sender fell at worst (client saturation indicator), in ms. */
  maxSendLagMs: number;
}
