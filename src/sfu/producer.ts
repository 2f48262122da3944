/**
 * A Producer: one incoming RTP stream (one SSRC) on a WebRtcTransport. It fans packets out
 * to its consumers and taps, keeps recent video packets for NACK retransmission, reads the
 * audio level header extension, and asks its sender for key frames.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { PictureLossIndication, RtcpPayloadSpecificFeedback, type RtpPacket } from 'werift';
import type { Consumer } from './consumer.js';
import type { DirectConsumer } from './directConsumer.js';
import type { SenderReport } from './directPort.js';
import type { ProducerCodecMapping } from './ortc.js';
import type { MediaKind, RtpParameters } from './rtpTypes.js';
import { LatencyHistogram } from './latencyHistogram.js';
import { StaleGate } from './staleGate.js';
import { fanOutBatch } from './udpSend.js';
import type { WebRtcTransport } from './webRtcTransport.js';

/** Packets kept per video producer for retransmission (~1 s at 1 Mbit/s). */
const BUFFER_SIZE = 1024;
/** Key frame requests to one producer are at most this often. */
const KEYFRAME_INTERVAL_MS = 300;

export type ProducerCloseReason = 'closed' | 'transport-closed' | 'router-closed';

export interface ProducerEvents {
  close: [reason: ProducerCloseReason];
  pause: [];
  resume: [];
}

export type RtpTap = (packet: RtpPacket) => void;

export class Producer extends EventEmitter<ProducerEvents> {
  readonly id = randomUUID();
  readonly consumers = new Set<Consumer>();
  readonly taps = new Set<RtpTap>();
  /** Server-side readers of this stream (each writes to its own MessagePort). */
  readonly directConsumers = new Set<DirectConsumer>();
  /** The sender's last RTCP sender report (NTP↔RTP), once one arrived. */
  senderReport: SenderReport | undefined;
  paused = false;
  packetsReceived = 0;
  /** Packets not forwarded to the consumers because the worker handled them too late (staleGate.ts). */
  get packetsDroppedLate(): number {
    return this.staleGate.dropped;
  }
  /**
   * Where a forwarded packet's time goes inside the media worker (router stats; bench:sfu reads
   * them to tell the SFU's share of the latency from the rig's): how late each packet was
   * handled, in ms above its stream's best case (staleGate.ts; the sender's own jitter
   * included), and how long sending it to every consumer took (the last consumer's wait).
   */
  readonly handledLate = new LatencyHistogram();
  readonly fanOut = new LatencyHistogram();
  private closed = false;
  private readonly staleGate: StaleGate;
  private readonly buffer: Array<RtpPacket | undefined>;
  private lastKeyFrameRequest = 0;
  /** Sum and count of audio levels (0 = loudest … 127 = silence, in -dBov) since the last read. */
  private levelSum = 0;
  private levelCount = 0;

  constructor(
    readonly kind: MediaKind,
    readonly rtpParameters: RtpParameters,
    readonly mapping: ProducerCodecMapping,
    /** The transport the packets arrive on; undefined for a server-side (direct) producer. */
    readonly transport: WebRtcTransport | undefined,
    readonly appData: { peerId: string } & Record<string, unknown>,
  ) {
    super();
    this.buffer = kind === 'video' ? new Array<RtpPacket | undefined>(BUFFER_SIZE) : [];
    this.staleGate = new StaleGate({ clockRate: mapping.routerCodec.clockRate });
  }

  get ssrc(): number {
    return this.mapping.ssrc;
  }

  get cname(): string {
    return this.rtpParameters.rtcp?.cname ?? `parley-${this.id.slice(0, 8)}`;
  }

  /** Hot path: one call per received packet. */
  receive(packet: RtpPacket): void {
    this.packetsReceived++;
    if (this.kind === 'video') {
      this.buffer[packet.header.sequenceNumber & (BUFFER_SIZE - 1)] = packet;
    } else if (this.mapping.extensionIds.audioLevel !== undefined) {
      const id = this.mapping.extensionIds.audioLevel;
      for (const ext of packet.header.extensions) {
        if (ext.id === id && ext.payload.length > 0) {
          this.levelSum += ext.payload[0]! & 0x7f;
          this.levelCount++;
          break;
        }
      }
    }
    if (this.paused) return;
    // Late packets are not sent to listeners (they would only drain the worker further behind);
    // taps and direct consumers (captions, recording) still get every packet.
    if (this.consumers.size > 0) {
      const admitted = this.staleGate.admit(packet.header.timestamp);
      this.handledLate.add(this.staleGate.lastLateMs);
      if (admitted) {
        const started = performance.now();
        // Two phases (udpSend.ts SendBatch): every consumer's packet is encrypted first, then
        // all are sent in one loop. A consumer that throws leaves the others' packets to go out.
        const batch = fanOutBatch;
        try {
          for (const c of this.consumers) c.forward(packet, batch);
        } finally {
          batch.flush();
        }
        this.fanOut.add(performance.now() - started);
      }
    }
    for (const tap of this.taps) tap(packet);
    for (const d of this.directConsumers) d.forward(packet);
  }

  /** Records the sender's NTP↔RTP mapping and passes it to the direct consumers. */
  receiveSenderReport(report: SenderReport): void {
    this.senderReport = report;
    for (const d of this.directConsumers) d.senderReport(report);
  }

  /** The buffered packet with this sequence number, if still held. */
  buffered(sequenceNumber: number): RtpPacket | undefined {
    const p = this.buffer[sequenceNumber & (BUFFER_SIZE - 1)];
    return p && p.header.sequenceNumber === sequenceNumber ? p : undefined;
  }

  /** Mean audio level since the last call, as mediasoup reports it: dBov, 0 loudest, -127 silent. */
  takeAudioLevel(): number | undefined {
    if (this.levelCount === 0) return undefined;
    const mean = this.levelSum / this.levelCount;
    this.levelSum = 0;
    this.levelCount = 0;
    return -Math.round(mean);
  }

  requestKeyFrame(): void {
    if (this.kind !== 'video' || !this.transport) return;
    const now = Date.now();
    if (now - this.lastKeyFrameRequest < KEYFRAME_INTERVAL_MS) return;
    this.lastKeyFrameRequest = now;
    this.transport.sendRtcp([new RtcpPayloadSpecificFeedback({ feedback: new PictureLossIndication({ senderSsrc: 1, mediaSsrc: this.ssrc }) })]);
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.emit('pause');
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.emit('resume');
    this.requestKeyFrame();
  }

  close(reason: ProducerCloseReason = 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.consumers]) c.close('producer-closed');
    this.taps.clear();
    this.emit('close', reason);
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
