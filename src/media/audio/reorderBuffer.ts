/**
 * Jitter/reorder buffer for one RTP stream, driven by RTP time (no timers, so it is exact in
 * tests): packets come out in sequence order; a missing packet is waited for until the newest
 * packet held is `latencyMs` of RTP time past it, then skipped (the reader turns the skipped
 * time into an AudioGap). Duplicates and packets older than what was already released are
 * dropped.
 *
 * werift ships `JitterBufferBase` (werift/nonstandard); it was tried first and kept here only
 * as the model: after a timeout it releases the timed-out packets and the newest one but leaves
 * the packets in between in its buffer until the end of the stream, turning one lost packet
 * into a loss of `latency` ms (the two-lost-packets case of test/media-audio-pipeline.test.ts
 * got a second, 100 ms gap with it).
 */
import type { RtpPacket } from 'werift';

export interface ReorderBufferOptions {
  clockRate: number;
  /** How long (RTP time) a missing packet is waited for. */
  latencyMs: number;
  /** Packets held at most (beyond that the oldest hole is skipped). Default 500. */
  maxPackets?: number;
}

export class ReorderBuffer {
  /** Extended sequence number → packet. */
  private readonly held = new Map<number, RtpPacket>();
  /** Extended sequence number of the next packet to release. */
  private next: number | undefined;
  private highest = -1;
  private readonly latencyTicks: number;
  private readonly maxPackets: number;
  dropped = 0;

  constructor(options: ReorderBufferOptions) {
    this.latencyTicks = (options.latencyMs * options.clockRate) / 1000;
    this.maxPackets = options.maxPackets ?? 500;
  }

  private extend(seq: number): number {
    if (this.highest < 0) return seq;
    const base = this.highest & 0xffff;
    let delta = seq - base;
    if (delta > 0x8000) delta -= 0x10000;
    else if (delta < -0x8000) delta += 0x10000;
    return this.highest + delta;
  }

  /** Adds a packet; returns the packets now releasable, in order. */
  push(packet: RtpPacket): RtpPacket[] {
    const ext = this.extend(packet.header.sequenceNumber);
    if (this.next === undefined) this.next = ext;
    if (ext < this.next || this.held.has(ext)) {
      this.dropped++;
      return [];
    }
    this.held.set(ext, packet);
    if (ext > this.highest) this.highest = ext;
    return this.release(packet.header.timestamp);
  }

  /** End of stream: everything held, in order. */
  flush(): RtpPacket[] {
    const keys = [...this.held.keys()].sort((a, b) => a - b);
    const out = keys.map((k) => this.held.get(k)!);
    this.held.clear();
    if (keys.length > 0) this.next = keys.at(-1)! + 1;
    return out;
  }

  private release(newestTs: number): RtpPacket[] {
    const out: RtpPacket[] = [];
    // Bounded: each turn releases or skips one sequence number up to the highest held.
    while (this.held.size > 0 && this.next! <= this.highest) {
      const p = this.held.get(this.next!);
      if (p) {
        this.held.delete(this.next!);
        out.push(p);
        this.next!++;
        continue;
      }
      // A hole: skip it once the oldest held packet is older than the latency, or when full.
      let oldest = Infinity;
      for (const k of this.held.keys()) if (k < oldest) oldest = k;
      const waited = (newestTs - this.held.get(oldest)!.header.timestamp + 0x1_0000_0000) % 0x1_0000_0000;
      if (waited >= this.latencyTicks || this.held.size > this.maxPackets) this.next = oldest;
      else break;
    }
    return out;
  }
}
