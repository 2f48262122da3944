/**
 * An `AudioTrack` is one participant's audio as server code reads it: an async iterator of
 * `AudioFrame | AudioGap` in media time (ms since the room started), plus what the track is
 * (`info`: producer, peer, appData), how its times are placed on the wall clock (`clock`) and
 * why it ended (`endReason`: 'producer-closed', 'closed', 'router-closed', 'room-closed').
 */
import { EventEmitter } from 'node:events';
import type { DirectConsumerStart, SenderReport } from '../../sfu/directPort.js';
import type { AudioFrame, AudioGap } from './audioFrame.js';

export type AudioItem = AudioFrame | AudioGap;

export function isGap(item: AudioItem): item is AudioGap {
  return (item as AudioGap).kind === 'gap';
}

/** How media time maps to the wall clock: wallClockMs = roomStartedAtMs + mediaMs. */
export interface TrackClock {
  roomStartedAtMs: number;
  /** 'sender-report': RTP timestamps placed by the sender's NTP↔RTP report; 'arrival': by the first packet's arrival. */
  source: 'arrival' | 'sender-report';
  senderReport?: SenderReport;
}

export type TrackInfo = Omit<DirectConsumerStart, 'type' | 'senderReport'>;

export interface AudioTrackEvents {
  start: [info: TrackInfo];
  clock: [clock: TrackClock];
  end: [reason: string];
}

/** Items kept for a slow reader (60 s of 20 ms frames); past that new audio becomes a gap. */
const DEFAULT_QUEUE_LIMIT = 3000;

export class AudioTrack extends EventEmitter<AudioTrackEvents> implements AsyncIterable<AudioItem> {
  info: TrackInfo | undefined;
  clock: TrackClock | undefined;
  endReason: string | undefined;
  /** Resolves with the end reason. */
  readonly ended: Promise<string>;
  private resolveEnded!: (reason: string) => void;
  private readonly queue: AudioItem[] = [];
  private waiter: (() => void) | undefined;
  private iterating = false;

  constructor(private readonly queueLimit = DEFAULT_QUEUE_LIMIT) {
    super();
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  protected setInfo(info: TrackInfo): void {
    this.info = info;
    this.emit('start', info);
  }

  protected setClock(clock: TrackClock): void {
    this.clock = clock;
    this.emit('clock', clock);
  }

  protected enqueue(item: AudioItem): void {
    if (this.endReason !== undefined) return;
    if (this.queue.length >= this.queueLimit) {
      const last = this.queue[this.queue.length - 1]!;
      const durationMs = isGap(item) ? item.durationMs : (item.samplesPerChannel / item.sampleRate) * 1000;
      if (isGap(last)) this.queue[this.queue.length - 1] = { kind: 'gap', timestampMs: last.timestampMs, durationMs: item.timestampMs + durationMs - last.timestampMs };
      else this.queue.push({ kind: 'gap', timestampMs: item.timestampMs, durationMs });
    } else {
      this.queue.push(item);
    }
    this.wake();
  }

  protected finish(reason: string): void {
    if (this.endReason !== undefined) return;
    this.endReason = reason;
    this.resolveEnded(reason);
    this.emit('end', reason);
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<AudioItem> {
    if (this.iterating) throw new Error('an AudioTrack has one reader; iterate it once');
    this.iterating = true;
    for (;;) {
      const item = this.queue.shift();
      if (item) {
        yield item;
        continue;
      }
      if (this.endReason !== undefined) return;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }
}
