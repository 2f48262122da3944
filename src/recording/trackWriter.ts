/**
 * One participant's track, as it came off the wire, into a WebM file (werift's WebM container
 * writer; no decode, no transcode): Opus audio packet by packet, or VP8 video frame by frame
 * (werift's depacketizer joins a frame's packets up to the marker bit). A video file starts at
 * the first whole key frame: delta frames before it could not be decoded (a player shows black),
 * so they are dropped and the sender is asked for a key frame, as it is again whenever a packet
 * is lost, until the picture can be decoded. Fed with a direct consumer's messages (directPort.ts); block times come
 * from the RTP timestamps, so silences (DTX, mute) and frozen video keep their length. The track's place on the wall clock comes from the sender reports:
 * the first packet's RTP time mapped through a report onto the server's clock (the report's arrival), which survives
 * a sender whose clock is off. Of the reports seen, the one that arrived soonest after the sender stamped it is used
 * (the least of arrival minus NTP time): a report stamped late because the media worker was busy would otherwise move
 * the whole track by that delay. Captions place words on the sender's own clock (its NTP time, rtpAudioDecoder.ts),
 * so the summary also says how far the server's clock is from the sender's through that same report
 * (`senderClockOffsetMs`): a masked word's time plus that offset lands on this track's audio.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { DepacketizeBase, DurationPosition, replaceSegmentSize, RtpPacket, SegmentSizePosition, WebmCallback, type WebmOutput } from 'werift/nonstandard';
import type { DirectConsumerMessage, SenderReport } from '../sfu/directPort.js';

/** What a track carries: Opus audio or VP8 video (the router's codecs). */
export type TrackKind = 'audio' | 'video';

export interface TrackSummary {
  /** Server wall clock (Unix ms) of the track's first sample; undefined when no packet came. */
  startedAtMs?: number;
  /** Length of the media written, from the RTP timestamps (ms). */
  durationMs: number;
  /** RTP packets written (audio) or frames written (video). */
  packets: number;
  bytes: number;
  /** True when the start was placed through a sender report (else: the first packet's arrival). */
  placedBySenderReport: boolean;
  /** Wall clock of the room's media time 0 (from the consumer's start). */
  roomStartedAtMs?: number;
  /**
   * Server clock minus the sender's clock, ms, through the report that placed the track (network delay included):
   * a time on the sender's clock (captions' word times once a report came) plus this is the same instant on the
   * server's clock, where the track is placed. Undefined when no report came (both are placed by arrival then).
   */
  senderClockOffsetMs?: number;
  endReason: string;
  error?: string;
}

const UINT32 = 0x1_0000_0000;
/** How long a key frame request is given to be answered before it is sent again. */
const KEY_FRAME_RETRY_MS = 500;

export class TrackWriter {
  private file?: FileHandle;
  private readonly webm: WebmCallback;
  private writes: Promise<unknown> = Promise.resolve();
  private clockRate: number;
  /** Video only: RTP packets → whole VP8 frames, from the first key frame on. */
  private readonly depacketizer?: DepacketizeBase;
  private roomStartedAtMs?: number;
  private firstTs?: number;
  private lastExtTs?: number;
  private firstReceivedAtMs?: number;
  private report?: SenderReport;
  private packets = 0;
  private bytes = 0;
  private failed?: string;
  private ended = false;
  private readonly done: Promise<TrackSummary>;
  private resolveDone!: (s: TrackSummary) => void;
  private onEol?: () => void;
  /** Video: a whole key frame has been written, so what follows can be decoded. */
  private keyed = false;
  private lastSeq?: number;
  private lastKeyRequestMs = -Infinity;

  constructor(
    private readonly path: string,
    /** Called once, at the first failed write. */
    private readonly onError: (error: string) => void = () => undefined,
    readonly kind: TrackKind = 'audio',
    /** Video: asks the sender for a key frame (the direct consumer's port). */
    private readonly requestKeyFrame: () => void = () => undefined,
  ) {
    this.clockRate = kind === 'video' ? 90_000 : 48_000;
    const track = kind === 'video' ? ({ kind: 'video', codec: 'VP8', clockRate: 90_000, trackNumber: 1 } as const) : ({ kind: 'audio', codec: 'OPUS', clockRate: 48_000, trackNumber: 1 } as const);
    this.webm = new WebmCallback([track], { duration: 24 * 3600 * 1000 });
    if (kind === 'video') this.depacketizer = new DepacketizeBase('VP8', { isFinalPacketInSequence: (h) => h.marker });
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** Opens the file and writes the header; rejects when the file cannot be created. */
  async open(): Promise<void> {
    this.file = await open(this.path, 'w');
    this.webm.pipe((out) => this.output(out));
  }

  /** Resolves once the file is complete (or failed). */
  get finished(): Promise<TrackSummary> {
    return this.done;
  }

  handle(msg: DirectConsumerMessage): void {
    if (this.ended) return;
    switch (msg.type) {
      case 'start':
        this.clockRate = msg.clockRate;
        this.roomStartedAtMs = msg.roomStartedAtMs;
        if (msg.senderReport) this.noteReport(msg.senderReport);
        break;
      case 'sender-report':
        this.noteReport({ ntpMs: msg.ntpMs, rtpTimestamp: msg.rtpTimestamp, receivedAtMs: msg.receivedAtMs });
        break;
      case 'rtp':
        this.rtp(msg.packet, msg.receivedAtMs);
        break;
      case 'close':
        void this.finish(msg.reason);
        break;
      default:
        break;
    }
  }

  /** Keeps the report that arrived soonest after the sender stamped it (ties: the newer one). */
  private noteReport(r: SenderReport): void {
    if (!this.report || r.receivedAtMs - r.ntpMs <= this.report.receivedAtMs - this.report.ntpMs) this.report = r;
  }

  private rtp(bytes: Uint8Array, receivedAtMs: number): void {
    if (this.failed) return;
    const packet = RtpPacket.deSerialize(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    if (packet.payload.length === 0) return;
    if (this.depacketizer) {
      const seq = packet.header.sequenceNumber;
      // A gap: the frame it belonged to is lost, and what refers to it will not decode cleanly.
      if (this.lastSeq !== undefined && ((seq - this.lastSeq) & 0xffff) > 1 && ((seq - this.lastSeq) & 0xffff) < 0x8000) this.askForKeyFrame(receivedAtMs);
      this.lastSeq = seq;
      for (const out of this.depacketizer.processInput({ rtp: packet, time: receivedAtMs })) {
        if (!out.frame) continue;
        if (!this.keyed && !out.frame.isKeyframe) {
          this.askForKeyFrame(receivedAtMs);
          continue;
        }
        this.keyed = true;
        this.block(out.frame.data, out.frame.isKeyframe, packet.header.timestamp, receivedAtMs);
      }
      return;
    }
    this.block(packet.payload, true, packet.header.timestamp, receivedAtMs);
  }

  /** At most one request in KEY_FRAME_RETRY_MS: the sender answers one with one key frame. */
  private askForKeyFrame(nowMs: number): void {
    if (nowMs - this.lastKeyRequestMs < KEY_FRAME_RETRY_MS) return;
    this.lastKeyRequestMs = nowMs;
    this.requestKeyFrame();
  }

  /** One Opus packet or one whole VP8 frame, at RTP time `ts`. */
  private block(data: Buffer, isKeyframe: boolean, ts: number, receivedAtMs: number): void {
    let ext: number;
    if (this.lastExtTs === undefined) {
      this.firstTs = ts;
      this.firstReceivedAtMs = receivedAtMs;
      ext = ts;
    } else {
      // Unwrap the 32-bit timestamp around the last one seen.
      const last = this.lastExtTs;
      const cycle = Math.floor(last / UINT32) * UINT32;
      ext = cycle + ts;
      if (ext - last > UINT32 / 2) ext -= UINT32;
      else if (last - ext > UINT32 / 2) ext += UINT32;
      // A late or repeated packet: WebM blocks go forward in time only.
      if (ext <= last) return;
    }
    this.lastExtTs = ext;
    this.packets++;
    const frame = { data, isKeyframe, time: ((ext - this.firstTs!) * 1000) / this.clockRate };
    if (this.kind === 'video') this.webm.inputVideo({ frame });
    else this.webm.inputAudio({ frame });
  }

  /** Ends the file: cues, duration and segment size written, the file closed. Idempotent. */
  finish(reason = 'stopped'): Promise<TrackSummary> {
    if (this.ended) return this.done;
    this.ended = true;
    void (async () => {
      if (this.packets > 0 && !this.failed) {
        // The container writer queues its output: wait for the end of file to come through.
        const eol = new Promise<void>((resolve) => (this.onEol = resolve));
        if (this.kind === 'video') this.webm.inputVideo({ eol: true });
        else this.webm.inputAudio({ eol: true });
        await eol;
      }
      await this.writes;
      await this.file?.close().catch(() => undefined);
      this.webm.destroy();
      this.resolveDone(this.summary(reason));
    })();
    return this.done;
  }

  private summary(endReason: string): TrackSummary {
    // The last block lasts one Opus packet (20 ms) or, for video, about one frame.
    const lastBlockMs = this.kind === 'video' ? 33 : 20;
    const durationMs = this.firstTs === undefined || this.lastExtTs === undefined ? 0 : ((this.lastExtTs - this.firstTs) * 1000) / this.clockRate + lastBlockMs;
    let startedAtMs: number | undefined;
    if (this.firstTs !== undefined) {
      startedAtMs = this.report ? this.report.receivedAtMs + ((this.firstTs - this.unwrapNear(this.report.rtpTimestamp)) * 1000) / this.clockRate : this.firstReceivedAtMs;
    }
    return { startedAtMs, durationMs, packets: this.packets, bytes: this.bytes, placedBySenderReport: this.report !== undefined, roomStartedAtMs: this.roomStartedAtMs, ...(this.report ? { senderClockOffsetMs: this.report.receivedAtMs - this.report.ntpMs } : {}), endReason, ...(this.failed ? { error: this.failed } : {}) };
  }

  /** A report's 32-bit RTP timestamp on the same unwrapped scale as the first packet's. */
  private unwrapNear(ts: number): number {
    const first = this.firstTs!;
    let v = ts;
    while (v - first > UINT32 / 2) v -= UINT32;
    while (first - v > UINT32 / 2) v += UINT32;
    return v;
  }

  private output(out: WebmOutput): Promise<void> {
    const file = this.file;
    const next = this.writes.then(async () => {
      try {
        if (!file || this.failed) return;
        if (out.saveToFile) {
          await file.write(out.saveToFile);
          this.bytes += out.saveToFile.length;
        } else if (out.eol) {
          const { durationElement } = out.eol;
          await file.write(durationElement, 0, durationElement.length, DurationPosition);
          const size = (await file.stat()).size;
          const resize = replaceSegmentSize(size);
          await file.write(resize, 0, resize.length, SegmentSizePosition);
        }
      } catch (err) {
        this.failed = err instanceof Error ? `${(err as NodeJS.ErrnoException).code ?? 'EIO'}: ${err.message}` : String(err);
        this.onError(this.failed);
      } finally {
        if (out.eol) this.onEol?.();
      }
    });
    this.writes = next;
    return next;
  }

  /** Whether a write failed (disk full, file gone); the track stops taking packets then. */
  get error(): string | undefined {
    return this.failed;
  }
}
