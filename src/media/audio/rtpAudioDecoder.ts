/**
 * Turns a direct consumer's messages (directPort.ts) into `AudioFrame | AudioGap`, in order:
 * a reorder buffer (reorderBuffer.ts) puts packets in order (a hole waited for up to `jitterLatencyMs` of RTP time), Opus is
 * decoded to 48 kHz mono, resampled to `sampleRate`, and stamped with media time. Audio that
 * never arrived (loss, a paused or silent sender, a corrupt packet) is an `AudioGap` of the
 * missing RTP time, never silence. Synchronous and clock-free, so tests drive it directly.
 */
import { RtpPacket } from 'werift';
import type { DirectConsumerMessage, DirectConsumerStart, SenderReport } from '../../sfu/directPort.js';
import { createFrame, type AudioGap } from './audioFrame.js';
import type { AudioItem, TrackClock } from './audioTrack.js';
import { OpusDecoder } from './opusDecoder.js';
import { ReorderBuffer } from './reorderBuffer.js';
import { Resampler } from './resampler.js';

export interface RtpAudioDecoderOptions {
  /** Output rate (speech engines: 16000). Default 16000. */
  sampleRate?: number;
  /** How long (RTP time) a reordered packet is waited for before its slot is a gap. Default 100 ms. */
  jitterLatencyMs?: number;
}

const DECODE_RATE = 48000;

export class RtpAudioDecoder {
  info: DirectConsumerStart | undefined;
  clock: TrackClock | undefined;
  endReason: string | undefined;
  /** Packets decoded / dropped as late duplicates / undecodable. */
  readonly stats = { packets: 0, late: 0, corrupt: 0, gaps: 0 };
  private readonly outRate: number;
  private readonly latencyMs: number;
  private jitter: ReorderBuffer | undefined;
  private decoder: OpusDecoder | undefined;
  private resampler: Resampler;
  private pendingReport: SenderReport | undefined;
  private lastArrivalMs = 0;
  /** Extended (unwrapped) RTP timestamp of the last packet, and the next one expected. */
  private lastTs: number | undefined;
  private expectedTs: number | undefined;
  /** mediaMs = offsetMs + extTs · 1000 / clockRate. */
  private offsetMs = 0;
  private segmentStartMs = 0;
  private segmentSamples = 0;
  /** Whether PCM went into the resampler since the segment started (only then is there a tail). */
  private segmentOpen = false;
  private onClock?: (clock: TrackClock) => void;

  constructor(options: RtpAudioDecoderOptions = {}) {
    this.outRate = options.sampleRate ?? 16000;
    this.latencyMs = options.jitterLatencyMs ?? 100;
    this.resampler = new Resampler(DECODE_RATE, this.outRate);
  }

  /** Called when the wall-clock mapping is set or changes source. */
  onClockChange(listener: (clock: TrackClock) => void): void {
    this.onClock = listener;
  }

  push(msg: DirectConsumerMessage): AudioItem[] {
    const out: AudioItem[] = [];
    if (this.endReason !== undefined) return out;
    switch (msg.type) {
      case 'start':
        if (msg.mimeType.toLowerCase() !== 'audio/opus') throw new Error(`an audio track reader decodes Opus, not ${msg.mimeType}`);
        this.info = msg;
        this.jitter = new ReorderBuffer({ clockRate: msg.clockRate, latencyMs: this.latencyMs });
        this.decoder = new OpusDecoder(DECODE_RATE, 1);
        this.pendingReport = msg.senderReport;
        break;
      case 'rtp': {
        if (!this.jitter) throw new Error('rtp before start on a direct consumer port');
        this.lastArrivalMs = msg.receivedAtMs;
        const packet = RtpPacket.deSerialize(Buffer.from(msg.packet.buffer, msg.packet.byteOffset, msg.packet.byteLength));
        if (packet.header.payloadType !== this.info!.payloadType) break;
        for (const p of this.jitter.push(packet)) this.decodePacket(p, out);
        break;
      }
      case 'sender-report':
        if (this.lastTs === undefined) this.pendingReport = msg;
        else this.applyReport(msg);
        break;
      case 'pause':
        this.endSegment(out);
        break;
      case 'resume':
        break;
      case 'close':
        if (this.jitter) for (const p of this.jitter.flush()) this.decodePacket(p, out);
        this.endSegment(out);
        this.endReason = msg.reason;
        this.decoder?.close();
        break;
    }
    return out;
  }

  /** Ends the stream without a close message (the port went away). */
  end(reason: string): AudioItem[] {
    if (this.endReason !== undefined) return [];
    return this.push({ type: 'close', reason: reason as 'closed' });
  }

  private unwrap(ts: number): number {
    if (this.lastTs === undefined) return ts;
    const last32 = this.lastTs % 0x1_0000_0000;
    let delta = ts - last32;
    if (delta > 0x8000_0000) delta -= 0x1_0000_0000;
    else if (delta < -0x8000_0000) delta += 0x1_0000_0000;
    return this.lastTs + delta;
  }

  private mediaMs(extTs: number): number {
    return this.offsetMs + (extTs * 1000) / this.info!.clockRate;
  }

  private applyReport(report: SenderReport): void {
    if (this.clock?.source === 'sender-report') {
      this.clock = { ...this.clock, senderReport: report };
      return;
    }
    const extTs = this.unwrap(report.rtpTimestamp);
    const before = this.offsetMs;
    this.offsetMs = report.ntpMs - this.info!.roomStartedAtMs - (extTs * 1000) / this.info!.clockRate;
    // The open segment moves with the clock: its next frames are on the sender's timeline.
    this.segmentStartMs += this.offsetMs - before;
    this.setClock({ roomStartedAtMs: this.info!.roomStartedAtMs, source: 'sender-report', senderReport: report });
  }

  private setClock(clock: TrackClock): void {
    this.clock = clock;
    this.onClock?.(clock);
  }

  private decodePacket(packet: RtpPacket, out: AudioItem[]): void {
    const info = this.info!;
    const extTs = this.unwrap(packet.header.timestamp);
    if (this.lastTs === undefined) {
      this.offsetMs = this.lastArrivalMs - info.roomStartedAtMs - (extTs * 1000) / info.clockRate;
      this.lastTs = extTs;
      this.setClock({ roomStartedAtMs: info.roomStartedAtMs, source: 'arrival' });
      if (this.pendingReport) this.applyReport(this.pendingReport);
      this.pendingReport = undefined;
    }
    if (!this.segmentOpen) this.startSegment(extTs);
    const expected = this.expectedTs ?? extTs;
    const tolerance = info.clockRate / 1000; // 1 ms
    if (extTs < expected - tolerance) {
      this.stats.late++;
      return;
    }
    if (extTs > expected + tolerance) {
      this.endSegment(out);
      this.pushGap(out, expected, extTs);
      this.startSegment(extTs);
    }
    this.segmentOpen = true;
    this.lastTs = Math.max(this.lastTs, extTs);
    let pcm: Int16Array;
    try {
      pcm = this.decoder!.decode(packet.payload);
    } catch {
      this.stats.corrupt++;
      const next = extTs + (20 * info.clockRate) / 1000;
      this.endSegment(out);
      this.pushGap(out, extTs, next);
      this.expectedTs = next;
      return;
    }
    this.stats.packets++;
    this.expectedTs = extTs + (pcm.length * info.clockRate) / DECODE_RATE;
    this.emitPcm(this.resampler.process(pcm), out);
  }

  private startSegment(extTs: number): void {
    this.segmentStartMs = this.mediaMs(extTs);
    this.segmentSamples = 0;
    this.resampler.reset();
  }

  private endSegment(out: AudioItem[]): void {
    if (!this.segmentOpen) return;
    this.emitPcm(this.resampler.flush(), out);
    this.segmentOpen = false;
  }

  private emitPcm(pcm: Int16Array, out: AudioItem[]): void {
    if (pcm.length === 0) return;
    const ts = this.segmentStartMs - this.resampler.delayMs + (this.segmentSamples * 1000) / this.outRate;
    this.segmentSamples += pcm.length;
    out.push(createFrame(pcm, this.outRate, 1, ts));
  }

  private pushGap(out: AudioItem[], fromTs: number, toTs: number): void {
    const gap: AudioGap = { kind: 'gap', timestampMs: this.mediaMs(fromTs), durationMs: ((toTs - fromTs) * 1000) / this.info!.clockRate };
    this.stats.gaps++;
    out.push(gap);
  }
}
