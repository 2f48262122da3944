/**
 * A Consumer: one producer's stream sent to one WebRtcTransport, rewritten to the
 * consumer's own SSRC, payload type and header-extension ids. Sequence numbers stay
 * continuous across pauses (dropped packets leave no gap the receiver would NACK), lost
 * packets are retransmitted from the producer's buffer, and key frame requests are passed
 * to the producer. A consumer holds no listener on its transport: the Router asks the
 * producers of a transport's consumers for a key frame when that transport connects.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { RtcpSenderInfo, RtcpSrPacket, RtpHeader, type RtpPacket } from 'werift';
import { EXT } from './routerCapabilities.js';
import type { Producer } from './producer.js';
import type { SendBatch } from './udpSend.js';
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
  /** Payload octets sent (RTCP sender report). */
  octetsSent = 0;
  private closed = false;
  /** outgoing seq = incoming seq − seqOffset (mod 2^16). */
  private seqOffset = 0;
  private lastOutSeq = -1;
  private resync = true;
  /** Video: which incoming sequence number each recent outgoing one carried (for NACKs). */
  private readonly sentOut: Int32Array;
  private readonly sentIn: Uint16Array;
  private readonly header: RtpHeader;
  /**
   * The header's extension list for each combination of what the incoming packet carries
   * (bit 0: audio level, bit 1: video orientation), made once: the header points at one of
   * them per packet instead of an array emptied and refilled (setting an array's length is a
   * runtime call).
   */
  private readonly extensionLists: Extension[][];
  private readonly levelId: number | undefined;
  private readonly orientationId: number | undefined;
  private readonly midExt?: Extension;
  private readonly levelExt?: Extension;
  private readonly orientationExt?: Extension;

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
    const out = { mid: id(EXT.mid), audioLevel: id(EXT.audioLevel), videoOrientation: id(EXT.videoOrientation) };
    const src = producer.mapping.extensionIds;
    if (out.mid !== undefined) this.midExt = { id: out.mid, payload: Buffer.from(rtpParameters.mid ?? '') };
    if (out.audioLevel !== undefined && src.audioLevel !== undefined) this.levelExt = { id: out.audioLevel, payload: Buffer.alloc(0) };
    if (out.videoOrientation !== undefined && src.videoOrientation !== undefined) this.orientationExt = { id: out.videoOrientation, payload: Buffer.alloc(0) };
    this.levelId = this.levelExt ? src.audioLevel : undefined;
    this.orientationId = this.orientationExt ? src.videoOrientation : undefined;
    this.extensionLists = [0, 1, 2, 3].map((bits) => {
      const list: Extension[] = [];
      if (this.midExt) list.push(this.midExt);
      if (bits & 1 && this.levelExt) list.push(this.levelExt);
      if (bits & 2 && this.orientationExt) list.push(this.orientationExt);
      return list;
    });
    this.header = new RtpHeader({ payloadType: this.payloadType, ssrc: this.ssrc, extensionProfile: 0xbede, extensions: this.extensionLists[0] });
    const history = this.kind === 'video' ? SENT_HISTORY : 0;
    this.sentOut = new Int32Array(history).fill(-1);
    this.sentIn = new Uint16Array(history);
  }

  /**
   * Hot path: one call per producer packet. With a batch (the producer's fan-out) the packet is
   * encrypted into it and sent at the batch's flush; without, it is sent at once.
   */
  forward(packet: RtpPacket, batch?: SendBatch): void {
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
    this.send(packet, outSeq, batch);
    this.lastOutSeq = outSeq;
    this.packetsSent++;
    this.octetsSent += packet.payload.length;
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

  /**
   * Writes one packet. The header and extension objects are this consumer's own and reused
   * for every packet: the transport serializes and encrypts synchronously in `sendRtp` and
   * `queueRtp`.
   */
  private send(packet: RtpPacket, sequenceNumber: number, batch?: SendBatch): void {
    let carried = 0;
    if (this.levelExt) {
      const payload = findExtension(packet, this.levelId);
      if (payload) {
        this.levelExt.payload = payload;
        carried |= 1;
      }
    }
    if (this.orientationExt) {
      const payload = findExtension(packet, this.orientationId);
      if (payload) {
        this.orientationExt.payload = payload;
        carried |= 2;
      }
    }
    const ext = this.extensionLists[carried]!;
    const h = this.header;
    h.extensions = ext;
    h.sequenceNumber = sequenceNumber;
    h.timestamp = packet.header.timestamp;
    h.marker = packet.header.marker;
    h.extension = ext.length > 0;
    if (batch) this.transport.queueRtp(packet.payload, h, batch);
    else this.transport.sendRtp(packet.payload, h);
  }

  /** An RTCP sender report for this consumer's stream, with the producer's NTP↔RTP mapping. */
  sendSenderReport(ntpTimestamp: bigint, rtpTimestamp: number): void {
    if (this.paused || this.packetsSent === 0 || !this.transport.isConnected) return;
    this.transport.sendRtcp([
      new RtcpSrPacket({
        ssrc: this.ssrc,
        senderInfo: new RtcpSenderInfo({ ntpTimestamp, rtpTimestamp, packetCount: this.packetsSent & 0xffffffff, octetCount: this.octetsSent % 0x100000000 }),
      }),
    ]);
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

function findExtension(packet: RtpPacket, id: number | undefined): Buffer | undefined {
  if (id === undefined) return undefined;
  const extensions = packet.header.extensions;
  for (let i = 0; i < extensions.length; i++) if (extensions[i]!.id === id) return extensions[i]!.payload;
  return undefined;
}
