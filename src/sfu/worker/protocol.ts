/**
 * The messages between Parley's main thread and a media worker thread. Control is
 * request/reply; events flow back as notifications; tapped RTP travels as transferred bytes.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ErrorCode } from '../../errors.js';
import type { AudioLevel } from '../audioLevelObserver.js';
import type { DirectConsumerCloseReason } from '../directPort.js';
import type { RouterLimits } from '../router.js';
import type { ConsumerParameters, DtlsParameters, MediaKind, RtpCapabilities, RtpParameters, WebRtcTransportParameters } from '../rtpTypes.js';
import type { WebRtcTransportOptions } from '../webRtcTransport.js';

type Room = { roomId: string };
type Peer = Room & { peerId: string };

export interface ProducerInfo {
  producerId: string;
  peerId: string;
  kind: MediaKind;
  paused: boolean;
  /** A server-side producer (createDirectProducer) rather than a browser's. */
  direct: boolean;
  /** What the client passed to `produce` (e.g. `{ source: 'mic' }`), plus `peerId`. */
  appData: Record<string, unknown>;
}

export interface WorkerMethods {
  'router.create': { params: Room; result: { rtpCapabilities: RtpCapabilities } };
  'router.close': { params: Room; result: void };
  'router.producers': { params: Room; result: ProducerInfo[] };
  'router.stats': { params: Room; result: unknown };
  'transport.create': { params: Peer; result: WebRtcTransportParameters };
  'transport.connect': { params: Peer & { transportId: string; dtlsParameters: DtlsParameters }; result: void };
  'producer.create': { params: Peer & { transportId: string; kind: MediaKind; rtpParameters: RtpParameters; appData?: Record<string, unknown> }; result: { id: string } };
  'producer.pause': { params: Peer & { producerId: string }; result: void };
  'producer.resume': { params: Peer & { producerId: string }; result: void };
  'producer.close': { params: Peer & { producerId: string }; result: void };
  'consumer.create': { params: Peer & { transportId: string; producerId: string; rtpCapabilities: RtpCapabilities; paused?: boolean }; result: ConsumerParameters };
  'consumer.pause': { params: Peer & { consumerId: string }; result: void };
  'consumer.resume': { params: Peer & { consumerId: string }; result: void };
  'consumer.close': { params: Peer & { consumerId: string }; result: void };
  'peer.close': { params: Peer; result: void };
  'tap.create': { params: Room & { producerId: string }; result: { tapId: string } };
  'tap.close': { params: { tapId: string }; result: void };
  'directProducer.create': { params: Peer & { kind: MediaKind; rtpParameters: RtpParameters; appData?: Record<string, unknown> }; result: { id: string } };
  /** `port` is transferred: the worker writes the producer's RTP to it (see directPort.ts). */
  'directConsumer.create': { params: Room & { producerId: string; port: MessagePort; appData?: Record<string, unknown> }; result: { id: string; producer: ProducerInfo } };
  'directConsumer.close': { params: Room & { directConsumerId: string }; result: void };
  /**
   * A paced writer on a direct producer, run by this worker: PCM in (`writer-pcm` messages), Opus-encoded, packetized
   * and sent into the producer every 20 ms on the worker's own clock (pacedWriter.ts). `seq` orders the writer's
   * operations: each push, flush and clear carries the next one; playout notifications say the last one they saw.
   */
  /** `clearFlag` (Int32 in shared memory): the main thread stores a clear's `seq` there before sending `writer.clear`, so the writer stops at its next packet even when this worker's messages are backed up. */
  'writer.create': { params: Room & { producerId: string; ssrc: number; payloadType?: number; clearFlag: SharedArrayBuffer }; result: void };
  /** Drops everything not sent yet (barge-in); `lastPacketAtMs` (Unix ms, sub-ms precision) is when the last packet went out. */
  'writer.clear': { params: Room & { producerId: string; seq: number }; result: { droppedMs: number; lastPacketAtMs: number | null } };
  'writer.close': { params: Room & { producerId: string }; result: void };
  /** Sets the worker thread's own scheduling priority (nice); answers the value now in force. */
  'worker.priority': { params: { nice: number }; result: { nice: number } };
  'worker.dump': { params: Record<string, never>; result: { rooms: string[]; transports: number; producers: number; consumers: number } };
}

export type WorkerMethod = keyof WorkerMethods;

export interface WorkerRequest {
  type: 'request';
  id: number;
  method: WorkerMethod;
  params: unknown;
}

export type WorkerReply = { type: 'reply'; id: number; ok: true; result: unknown } | { type: 'reply'; id: number; ok: false; error: { code: ErrorCode; message: string } };

export interface WorkerNotifications {
  'producer.new': ProducerInfo;
  'directConsumer.closed': { directConsumerId: string; producerId: string; reason: DirectConsumerCloseReason };
  'producer.closed': { producerId: string; peerId: string; reason: string };
  'producer.paused': { producerId: string; peerId: string };
  'producer.resumed': { producerId: string; peerId: string };
  'consumer.closed': { consumerId: string; producerId: string; peerId: string; reason: string };
  'transport.closed': { transportId: string; peerId: string; reason: string };
  'audio.volumes': { levels: AudioLevel[] };
  'audio.activeSpeaker': AudioLevel;
  /** A paced writer's talkspurt started: its first packet went out at `atMs` (Unix ms). */
  'writer.playoutStart': { producerId: string; seq: number; atMs: number };
  /** A paced writer's queue ran dry, or was cleared. */
  'writer.playoutEnd': { producerId: string; seq: number; cleared: boolean; sentFrames: number; atMs: number };
}

export type WorkerNotification = { [E in keyof WorkerNotifications]: { type: 'notification'; roomId: string; event: E; data: WorkerNotifications[E] } }[keyof WorkerNotifications];

/** RTP out of a tap (worker → main) or into a direct producer (main → worker). */
export interface WorkerRtpOut {
  type: 'rtp';
  tapId: string;
  packet: Uint8Array;
}
export interface WorkerRtpIn {
  type: 'rtp-in';
  roomId: string;
  producerId: string;
  packet: Uint8Array;
}

/** PCM (or the end of an utterance: `flush`) for a direct producer's paced writer (main → worker). */
export type WorkerWriterIn =
  | { type: 'writer-pcm'; roomId: string; producerId: string; seq: number; samples: Int16Array; sampleRate: number }
  | { type: 'writer-flush'; roomId: string; producerId: string; seq: number };

export interface MediaWorkerData {
  transport: Omit<WebRtcTransportOptions, 'appData'>;
  audioLevelIntervalMs: number;
  /** Per-peer limits and the transport connect timeout (defaults: router.ts). */
  limits?: RouterLimits;
  /** The media thread's nice value (MEDIA_WORKER_NICE); unset: the process's. */
  nice?: number;
}
