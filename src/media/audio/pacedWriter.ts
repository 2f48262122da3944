/**
 * The bot's mouth: PCM in (any rate, as a speech engine makes it), Opus-encoded in 20 ms frames, packetized as RTP
 * and sent at real-time pace (one packet every 20 ms on a drift-free schedule) to a sink, the room's direct
 * producer. `clearQueue()` drops everything not yet sent: barge-in silences the bot within one packet interval.
 * Between talkspurts the RTP clock moves on with the wall clock, and the first packet after silence is marked.
 */
import { EventEmitter } from 'node:events';
import { OpusEncoder } from './opusDecoder.js';
import { Resampler } from './resampler.js';
import { RtpPacketizer } from './rtpPacketizer.js';

const RATE = 48_000;
const FRAME = 960; // 20 ms at 48 kHz
const FRAME_MS = 20;

export interface PacedWriterClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: PacedWriterClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface PacedWriterOptions {
  /** Receives each RTP packet when it is due (e.g. `directProducer.send`). */
  readonly sink: (packet: Uint8Array) => void;
  readonly ssrc: number;
  readonly payloadType?: number;
  readonly clock?: PacedWriterClock;
  /**
   * Asked before each due packet: true when a clear was asked for out of band (e.g. a flag in shared memory that
   * another thread sets), and the hook has called `clearQueue()` itself. Lets barge-in stop the packets at the
   * next tick even while the thread's message queue is backed up.
   */
  readonly interrupted?: () => boolean;
}

export interface PacedWriterEvents {
  /** The first packet of a talkspurt went out. */
  'playout-start': [];
  /** The queue ran dry (everything pushed was sent), or it was cleared. */
  'playout-end': [info: { cleared: boolean; sentFrames: number }];
}

/** One 20 ms frame of 48 kHz PCM, encoded when it is due (the encoder's cost spreads over the talkspurt). */
type Queued = Int16Array;

export class PacedWriter extends EventEmitter<PacedWriterEvents> {
  readonly #o: PacedWriterOptions;
  readonly #clock: PacedWriterClock;
  readonly #encoder = new OpusEncoder(RATE, 1);
  readonly #packetizer: RtpPacketizer;
  #resampler: Resampler | undefined;
  #pending = new Int16Array(0);
  #queue: Queued[] = [];
  #timer: unknown;
  /** Schedule of the current talkspurt: when packet 0 went out, and how many since. */
  #spurtStart = 0;
  #spurtSent = 0;
  #lastSentAt: number | undefined;
  #closed = false;
  /** Frames sent in total. */
  sentFrames = 0;


  constructor(options: PacedWriterOptions) {
    super();
    this.#o = options;
    this.#clock = options.clock ?? realClock;
    this.#packetizer = new RtpPacketizer(options.ssrc, options.payloadType ?? 111, RATE);
  }

  /** Whether packets are queued or going out. */
  get playing(): boolean {
    return this.#timer !== undefined;
  }

  /** When the last packet went to the sink (the clock's time), if one did. */
  get lastSentAt(): number | undefined {
    return this.#lastSentAt;
  }

  /** Milliseconds of audio queued and not yet sent. */
  get queuedMs(): number {
    return this.#queue.length * FRAME_MS;
  }

  get packetizer(): RtpPacketizer {
    return this.#packetizer;
  }

  /** Mono PCM at `sampleRate`; queued as 20 ms frames, each encoded and sent when due. */
  push(samples: Int16Array, sampleRate: number): void {
    if (this.#closed || samples.length === 0) return;
    let pcm = samples;
    if (sampleRate !== RATE) {
      if (!this.#resampler || this.#resampler.inRate !== sampleRate) this.#resampler = new Resampler(sampleRate, RATE);
      pcm = this.#resampler.process(samples);
    }
    const all = new Int16Array(this.#pending.length + pcm.length);
    all.set(this.#pending);
    all.set(pcm, this.#pending.length);
    let o = 0;
    for (; o + FRAME <= all.length; o += FRAME) this.#queue.push(all.slice(o, o + FRAME));
    this.#pending = all.slice(o);
    this.#start();
  }

  /** The end of an utterance: the resampler's tail and the last partial frame (padded with silence) are queued. */
  flush(): void {
    if (this.#closed) return;
    const tail = this.#resampler?.flush() ?? new Int16Array(0);
    this.#resampler = undefined;
    const all = new Int16Array(this.#pending.length + tail.length);
    all.set(this.#pending);
    all.set(tail, this.#pending.length);
    this.#pending = new Int16Array(0);
    for (let o = 0; o < all.length; o += FRAME) {
      const frame = new Int16Array(FRAME);
      frame.set(all.subarray(o, Math.min(all.length, o + FRAME)));
      this.#queue.push(frame);
    }
    this.#start();
  }

  /** Drops everything not sent yet (barge-in). Returns the milliseconds of audio dropped. */
  clearQueue(): number {
    const dropped = this.#queue.length * FRAME_MS + Math.round((this.#pending.length / RATE) * 1000);
    this.#queue = [];
    this.#pending = new Int16Array(0);
    this.#resampler = undefined;
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
      this.emit('playout-end', { cleared: true, sentFrames: this.sentFrames });
    }
    return dropped;
  }

  close(): void {
    if (this.#closed) return;
    this.clearQueue();
    this.#closed = true;
    this.#encoder.close();
  }

  #start(): void {
    if (this.#timer !== undefined || this.#queue.length === 0) return;
    const now = this.#clock.now();
    // The RTP clock runs on through the silence since the last packet.
    if (this.#lastSentAt !== undefined) this.#packetizer.skip(Math.max(0, now - this.#lastSentAt - FRAME_MS) * (RATE / 1000));
    this.#spurtStart = now;
    this.#spurtSent = 0;
    this.emit('playout-start');
    this.#tick(true);
  }

  #tick(first = false): void {
    if (!first && this.#o.interrupted?.()) return;
    this.#timer = undefined;
    const item = this.#queue.shift();
    if (!item) {
      this.emit('playout-end', { cleared: false, sentFrames: this.sentFrames });
      return;
    }
    this.#o.sink(this.#packetizer.packetize(this.#encoder.encode(item), FRAME, first));
    this.sentFrames++;
    this.#spurtSent++;
    this.#lastSentAt = this.#clock.now();
    const due = this.#spurtStart + this.#spurtSent * FRAME_MS;
    this.#timer = this.#clock.setTimeout(() => this.#tick(), Math.max(0, due - this.#clock.now()));
  }
}
