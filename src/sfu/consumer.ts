/**
 * A Consumer: one producer's stream sent to one WebRtcTransport, rewritten to the
 * consumer's own SSRC, payload type and header-extension ids. Sequence numbers stay
 * continuous across pauses (dropped packets leave no gap the receiver would NACK), lost
 * packets are retransmitted from the producer's buffer, and key frame requests are passed
 * to the producer.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { RtpHeader, type RtpPacket } from 'werift';
import { EXT } from './routerCapabilities.js';
import type { Producer } from './producer.js';
import type { MediaKind, RtpParameters } from './rtpTypes.js';
import type { WebRtcTransport } from './webRtcTransport.js';

export type ConsumerCloseReason = 'closed' | 'producer-closed' | 'transport-closed' | 'router-closed';

export interface ConsumerEvents {
  close: [reason: ConsumerCloseReason];
}

/** Outgoing sequence numbers remembered for retransmission (power of two). */
const SENT_HISTORY = 1024;

interface Extension {
  id: number;
  payload: Buffer;
}

export class Consumer extends EventEmitter<ConsumerEvents> {
  readonly id = randomUUID();
  readonly kind: MediaKind;
  readonly ssrc: number;
  readonly payloadType: number;
  paused = false;
  packetsSent = 0;
  packetsRetransmitted = 0;
  private closed = false;
  /** outgoing seq = incoming seq − seqOffset (mod 2^16). */
  private seqOffset = 0;
  private lastOutSeq = -1;
  private resync = true;
  private readonly outExt: { mid?: number; audioLevel?: number; videoOrientation?: number };
  /** Video: which incoming sequence number each recent outgoing one carried (for NACKs). */
  private readonly sentOut: Int32Array;
  private readonly sentIn: Uint16Array;
  private readonly midPayload: Buffer;

  constructor(
    readonly producer: Producer,
    readonly transport: WebRtcTransport,
    readonly rtpParameters: RtpParameters,
    readonly appData: { peerId: string } & Record<string, unknown>,
  ) {
    super();
    this.kind = producer.kind;
    this.ssrc = rtpParameters.encodings![0]!.ssrc!;
    this.payloadType = rtpParameters.codecs[0]!.payloadType;
    const id = (uri: string) => rtpParameters.headerExtensions?.find((h) => h.uri === uri)?.id;
    this.outExt = { mid: id(EXT.mid), audioLevel: id(EXT.audioLevel), videoOrientation: id(EXT.videoOrientation) };
    this.midPayload = Buffer.from(rtpParameters.mid ?? '');
    const history = this.kind === 'video' ? SENT_HISTORY : 0;
    this.sentOut = new Int32Array(history).fill(-1);
    this.sentIn = new Uint16Array(history);
    transport.on('connected', () => producer.requestKeyFrame());
  }

  /** Hot path: one call per producer packet. */
  forward(packet: RtpPacket): void {
    if (this.paused || !this.transport.isConnected) {
      this.resync = true;
      return;
    }
    const inSeq = packet.header.sequenceNumber;
    if (this.resync) {
      this.seqOffset = this.lastOutSeq < 0 ? 0 : (inSeq - ((this.lastOutSeq + 1) & 0xffff)) & 0xffff;
      this.resync = false;
    }
    const outSeq = (inSeq - this.seqOffset) & 0xffff;
    if (this.sentOut.length > 0) {
      this.sentOut[outSeq & (SENT_HISTORY - 1)] = outSeq;
      this.sentIn[outSeq & (SENT_HISTORY - 1)] = inSeq;
    }
    this.send(packet, outSeq);
    this.lastOutSeq = outSeq;
    this.packetsSent++;
  }

  /** Answers a NACK for sequence numbers as this consumer sent them. */
  retransmit(outSeqs: number[]): void {
    for (const outSeq of outSeqs) {
      const slot = outSeq & (SENT_HISTORY - 1);
      if (this.sentOut[slot] !== outSeq) continue;
      const packet = this.producer.buffered(this.sentIn[slot]!);
      if (!packet) continue;
      this.send(packet, outSeq);
      this.packetsRetransmitted++;
    }
  }

  private send(packet: RtpPacket, sequenceNumber: number): void {
    const extensions: Extension[] = [];
    const src = this.producer.mapping.extensionIds;
    if (this.outExt.mid !== undefined) extensions.push({ id: this.outExt.mid, payload: this.midPayload });
    if (this.outExt.audioLevel !== undefined && src.audioLevel !== undefined) copyExtension(packet, src.audioLevel, this.outExt.audioLevel, extensions);
    if (this.outExt.videoOrientation !== undefined && src.videoOrientation !== undefined) copyExtension(packet, src.videoOrientation, this.outExt.videoOrientation, extensions);
    const header = new RtpHeader({
      payloadType: this.payloadType,
      sequenceNumber,
      timestamp: packet.header.timestamp,
      ssrc: this.ssrc,
      marker: packet.header.marker,
      extensionProfile: 0xbede,
      extension: extensions.length > 0,
      extensions,
    });
    this.transport.sendRtp(packet.payload, header);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.producer.requestKeyFrame();
  }

  close(reason: ConsumerCloseReason = 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    this.producer.consumers.delete(this);
    this.emit('close', reason);
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

function copyExtension(packet: RtpPacket, fromId: number, toId: number, out: Extension[]): void {
  for (const ext of packet.header.extensions) {
    if (ext.id === fromId) {
      out.push({ id: toId, payload: ext.payload });
      return;
    }
  }
}
