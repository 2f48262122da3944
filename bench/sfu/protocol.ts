/** IPC messages between bench/sfu-fanout.ts and its child processes. */

/** Opus at 20 ms frames: 50 packets per second, RTP clock 48 kHz → 960 ticks per packet. */
export const PACKET_INTERVAL_MS = 20;
export const TICKS_PER_PACKET = 960;

// --- Parley (bench/sfu/server.ts) ---------------------------------------------------------
export type ToServer =
  /** Open (on) or close (off) one direct consumer on the producer, read by the audio pipeline worker (captions' media path). */
  | { type: 'direct'; roomId: string; producerId: string; on: boolean }
  | { type: 'router-stats'; seq: number; roomId: string }
  | { type: 'dump' }
  /** Collect garbage on the main thread (the server runs with --expose-gc), before reading RSS. */
  | { type: 'gc' }
  /** The main thread's event-loop delay since the last `loop` (then reset). */
  | { type: 'loop' }
  | { type: 'close' };
export type FromServer =
  | { type: 'direct-done'; frames: number; error?: string }
  | { type: 'ready'; url: string; pid: number }
  | { type: 'router-stats'; seq: number; stats: unknown; error?: string }
  | { type: 'gc-done' }
  | { type: 'loop'; p99Ms: number; maxMs: number }
  /** What the media workers still hold (rooms, transports, producers, consumers). */
  | { type: 'dump'; workers: Array<{ rooms: string[]; transports: number; producers: number; consumers: number } | { error: string }> };

/** The part of Router.stats() the benchmark reads. */
export interface RouterStatsView {
  consumers: Array<{ id: string; packetsSent: number; packetsRetransmitted: number }>;
  /** handledLateMs / fanOutMs: cumulative histograms as [bucket, count] (src/sfu/latencyHistogram.ts). */
  producers: Array<{ id: string; packetsReceived: number; handledLateMs?: Array<[number, number]>; fanOutMs?: Array<[number, number]> }>;
}

// --- Plain UDP forwarder (bench/sfu/udpForwarder.ts) -------------------------------------
export type ToForwarder = { type: 'set-receivers'; ports: number[] } | { type: 'close' };
export type FromForwarder = { type: 'ready'; port: number; pid: number } | { type: 'receivers-set'; count: number };

// --- Subscriber host (bench/sfu/subscriberHost.ts) ----------------------------------------
export type ToHost =
  /** Add `count` WebRTC subscribers of `producerId` in Parley's voice room. */
  | { type: 'add-webrtc'; count: number; url: string; roomId: string; producerId: string; concurrency: number }
  /** Add `count` werift subscribers of feed `feed` in Janus VideoRoom `room` (Janus HTTP API at `url`); answered with `added-webrtc`. */
  | { type: 'add-janus'; count: number; url: string; room: number; feed: number; concurrency: number }
  /** Add `count` plain UDP receivers; answered with their ports. */
  | { type: 'add-udp'; count: number }
  /** Close every UDP receiver (WebRTC subscribers stay). */
  | { type: 'close-udp' }
  /**
   * Record arrivals of packets whose RTP timestamp is `ts0 + k·960` for k in [0, packets):
   * the receive time of each, per subscriber. Packets outside that range are only counted.
   */
  | { type: 'record'; mode: 'webrtc' | 'udp'; ts0: number; packets: number }
  /** Stop recording; answer with per-subscriber receive counts and latencies (send times given). */
  | { type: 'report'; sendMs: number[] }
  /** How many subscribers have received at least one packet. */
  | { type: 'status' }
  | { type: 'close' };

export type FromHost =
  | { type: 'ready'; pid: number }
  | { type: 'added-webrtc'; total: number; failed: number; retries: number; errors: string[]; setupMs: number }
  | { type: 'added-udp'; ports: number[] }
  | { type: 'recording' }
  | {
      type: 'report';
      /** Received (in the window) per subscriber, in the order they were added. */
      received: number[];
      /** Packets seen in the window whose RTP timestamp repeated (duplicates). */
      duplicates: number;
      /** Every one-way latency in the window, in µs (publisher send → subscriber receive). */
      latenciesUs: number[];
      /** This host process's own CPU during the recording, ms (user + system). */
      cpuMs: number;
      rssBytes: number;
      /** Subscribers whose first packet never arrived. */
      silent: number;
      /** Packets of the window that werift decrypted and authenticated (SRTP) and delivered. */
      verified: number;
      /** Packets of the window that were handed to werift for that (every verifyEvery-th). */
      verifiable: number;
      /** This host's event-loop delay during the window (a busy host delays its arrivals). */
      loopDelayP99Ms: number;
      loopDelayMaxMs: number;
    }
  | { type: 'status'; webrtc: number; udp: number; seen: number; arrivals: number }
  | { type: 'error'; message: string };

/** Monotonic clock in ms, comparable across processes on one Linux machine (CLOCK_MONOTONIC). */
export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
