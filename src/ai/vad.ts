/**
 * Voice activity detection port (after LiveKit agents-js `vad.ts`): a `VAD` declares what audio it takes and opens
 * `VADStream`s; a stream is pushed frames (and gaps) and yields `VADEvent`s with media times.
 */
import type { AudioFrame, AudioGap } from '../media/audio/audioFrame.js';
import type { Utterance } from './utils/pcm.js';
import { AsyncQueue } from './utils/asyncQueue.js';

export interface VADCapabilities {
  /** The only sample rate the VAD takes (mono); the caller resamples. */
  readonly sampleRate: number;
}

export type VADEvent =
  | { readonly type: 'start_of_speech'; readonly timestampMs: number }
  | {
      readonly type: 'end_of_speech';
      /** The speech segment: its PCM and media time (start padded as the VAD reports it). */
      readonly speech: Utterance;
      readonly startMs: number;
      readonly endMs: number;
      /** Why the segment ended: silence, a gap in the input, `flush()`/`endInput()`. */
      readonly reason: 'silence' | 'gap' | 'flush';
    };

export abstract class VAD {
  abstract readonly label: string;
  abstract readonly capabilities: VADCapabilities;
  abstract stream(): VADStream;
  /** Releases what the VAD holds (models); streams already open keep working until closed. */
  async close(): Promise<void> {}
}

export abstract class VADStream implements AsyncIterable<VADEvent> {
  protected readonly events = new AsyncQueue<VADEvent>();
  #inputEnded = false;
  #closed = false;

  /** Audio (mono at `capabilities.sampleRate`) or a gap, in media-time order. */
  pushFrame(frame: AudioFrame | AudioGap): void {
    if (this.#inputEnded || this.#closed) throw new Error('VADStream: input already ended');
    if ('kind' in frame) this.onGap(frame);
    else this.onFrame(frame);
  }

  /** Ends the current speech segment now, if any (the stream stays open). */
  flush(): void {
    if (this.#inputEnded || this.#closed) return;
    this.onFlush();
  }

  /** No more input: the open segment, if any, is emitted and the event iteration ends. */
  endInput(): void {
    if (this.#inputEnded || this.#closed) return;
    this.#inputEnded = true;
    this.onFlush();
    this.onClose();
    this.events.close();
  }

  /** Stops at once: nothing more is emitted. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onClose();
    this.events.close();
  }

  protected abstract onFrame(frame: AudioFrame): void;
  protected abstract onGap(gap: AudioGap): void;
  protected abstract onFlush(): void;
  protected abstract onClose(): void;

  [Symbol.asyncIterator](): AsyncIterator<VADEvent> {
    return this.events;
  }
}
