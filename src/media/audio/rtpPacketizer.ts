/**
 * Opus payloads → RTP packets (RFC 3550, RFC 7587) with werift's `RtpPacket`: one SSRC, a sequence number that
 * wraps at 2^16, a 48 kHz timestamp, and the marker bit on the first packet of a talkspurt (after silence).
 */
import { RtpHeader, RtpPacket } from 'werift';

export class RtpPacketizer {
  #seq: number;
  #timestamp: number;

  constructor(
    readonly ssrc: number,
    readonly payloadType = 111,
    readonly clockRate = 48_000,
    start: { sequenceNumber?: number; timestamp?: number } = {},
  ) {
    this.#seq = start.sequenceNumber ?? Math.floor(Math.random() * 0x10000);
    this.#timestamp = start.timestamp ?? Math.floor(Math.random() * 0x1_0000_0000);
  }

  get sequenceNumber(): number {
    return this.#seq;
  }

  get timestamp(): number {
    return this.#timestamp;
  }

  /** Moves the RTP clock on by `samples` without sending (the silence between talkspurts). */
  skip(samples: number): void {
    this.#timestamp = (this.#timestamp + Math.round(samples)) >>> 0;
  }

  /** One packet carrying `payload`, which lasts `samples` at the clock rate. */
  packetize(payload: Uint8Array, samples: number, marker = false): Uint8Array {
    const header = new RtpHeader({ payloadType: this.payloadType, sequenceNumber: this.#seq, timestamp: this.#timestamp, ssrc: this.ssrc, marker });
    const bytes = new RtpPacket(header, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)).serialize();
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#timestamp = (this.#timestamp + samples) >>> 0;
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}
