/**
 * Speech-to-text port (after LiveKit agents-js `stt/stt.ts`). An `STT` declares its capabilities; a non-streaming
 * engine implements `recognize` (one utterance in, one result out), a streaming one `stream()`. The
 * `StreamAdapter` makes any non-streaming engine streaming with a VAD; the `FallbackAdapter` chains engines.
 */
import type { AudioFrame, AudioGap } from '../media/audio/audioFrame.js';
import type { Utterance } from './utils/pcm.js';
import { AsyncQueue } from './utils/asyncQueue.js';
import { ProviderError } from './providerError.js';

export interface STTCapabilities {
  /** `stream()` is native: frames in, interim/final events out, without a VAD in front. */
  readonly streaming: boolean;
  /** Partial results arrive before the final one. */
  readonly interimResults: boolean;
  /** Results carry per-word start/end times. */
  readonly wordTimings: boolean;
  /** The only sample rate the engine takes (mono, signed 16-bit); the caller resamples. */
  readonly sampleRate: number;
  /** BCP-47 primary tags the engine recognises (`en`, `ko`), or `'any'`. */
  readonly languages: readonly string[] | 'any';
}

export interface SpeechWord {
  readonly word: string;
  /** Media time, ms since the stream (room) started. */
  readonly startMs: number;
  readonly endMs: number;
  /** 0..1 when the engine reports one. */
  readonly confidence?: number;
}

export interface SpeechData {
  readonly text: string;
  /** Language of the text: the requested one, or the one the engine detected (`en`, `ko`). */
  readonly language: string;
  /** Media time of the utterance, ms since the stream (room) started. */
  readonly startMs: number;
  readonly endMs: number;
  /** 0..1; 1 when the engine gives none. */
  readonly confidence: number;
  /** Word timings, when the engine has them. */
  readonly words?: readonly SpeechWord[];
  /** The engine that produced it, when an adapter chose among several (`FallbackAdapter`). */
  readonly engine?: string;
}

export type SpeechEvent =
  | { readonly type: 'start_of_speech'; readonly utteranceId: string; readonly timestampMs: number }
  | { readonly type: 'interim_transcript'; readonly utteranceId: string; readonly engine: string; readonly alternatives: readonly SpeechData[] }
  | { readonly type: 'final_transcript'; readonly utteranceId: string; readonly engine: string; readonly alternatives: readonly SpeechData[] }
  | { readonly type: 'end_of_speech'; readonly utteranceId: string; readonly timestampMs: number }
  /** An utterance could not be recognised (every engine failed); the stream goes on with the next one. */
  | { readonly type: 'recognition_error'; readonly utteranceId: string; readonly error: ProviderError };

export interface RecognizeOptions {
  /** `en`, `ko`, or `auto` (the engine detects it, where it can). Default: the engine's configured language. */
  readonly language?: string;
  readonly signal?: AbortSignal;
}

export interface StreamOptions {
  readonly language?: string;
}

/**
 * One utterance fed while it is spoken, for engines that decode incrementally (pocketsphinx): the StreamAdapter
 * pushes PCM from the VAD's start of speech on, asks for partial hypotheses, and finishes at the end of speech, so
 * the final costs only the tail of the decode instead of the whole utterance.
 */
export interface IncrementalRecognition {
  /** Contiguous mono PCM at the engine's rate, following what was pushed before. */
  push(samples: Int16Array): void;
  /** The hypothesis so far (empty text when none yet). */
  partial(): Promise<SpeechData>;
  /** Ends the utterance and returns the final result. */
  finish(): Promise<SpeechData>;
  /** Drops the utterance. */
  cancel(): void;
}

export abstract class STT {
  /** Short engine name that appears in captions and transcripts (`pocketsphinx`, `openai:whisper-1`). */
  abstract readonly label: string;
  abstract readonly capabilities: STTCapabilities;

  /**
   * Recognises one utterance (mono PCM at `capabilities.sampleRate`). Returns the result with times in the
   * utterance's media time; an empty `text` when nothing was recognised. Throws `ProviderError`.
   */
  abstract recognize(utterance: Utterance, options?: RecognizeOptions): Promise<SpeechData>;

  /**
   * Starts an incrementally decoded utterance whose first pushed sample is at media time `startMs`; undefined when
   * the engine only takes whole utterances (the default).
   */
  beginUtterance(_startMs: number, _options?: RecognizeOptions): IncrementalRecognition | undefined {
    return undefined;
  }

  /** A streaming session; only engines with `capabilities.streaming`. Others are wrapped in a `StreamAdapter`. */
  stream(_options?: StreamOptions): SpeechStream {
    throw new ProviderError('misconfigured', this.label, `${this.label} does not stream; wrap it in a StreamAdapter with a VAD`, false);
  }

  /** Releases what the engine holds (decoders, connections). */
  async close(): Promise<void> {}
}

/** One participant's audio in, speech events out (`for await (const ev of stream)`). */
export abstract class SpeechStream implements AsyncIterable<SpeechEvent> {
  protected readonly events = new AsyncQueue<SpeechEvent>();
  #inputEnded = false;
  #closed = false;

  get inputEnded(): boolean {
    return this.#inputEnded || this.#closed;
  }

  /** Mono PCM at the engine's sample rate, or a gap (lost packets, pause) — in media-time order. */
  pushFrame(frame: AudioFrame | AudioGap): void {
    if (this.inputEnded) throw new ProviderError('closed', 'stream', 'SpeechStream: input already ended', false);
    this.onInput(frame);
  }

  /** Ends the current utterance now: its final transcript follows. */
  flush(): void {
    if (!this.inputEnded) this.onFlush();
  }

  /** No more input: outstanding utterances are finished, then the iteration ends. */
  endInput(): void {
    if (this.inputEnded) return;
    this.#inputEnded = true;
    this.onEndInput();
  }

  /** Stops at once; pending results are dropped and the iteration ends. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onClose();
    this.events.close();
  }

  protected abstract onInput(frame: AudioFrame | AudioGap): void;
  protected abstract onFlush(): void;
  /** Must close `events` once every outstanding result is out. */
  protected abstract onEndInput(): void;
  protected abstract onClose(): void;

  [Symbol.asyncIterator](): AsyncIterator<SpeechEvent> {
    return this.events;
  }
}

/** Throws unless `utterance` is what `stt` takes. */
export function assertAudioFits(stt: STT, sampleRate: number): void {
  if (sampleRate !== stt.capabilities.sampleRate)
    throw new ProviderError('unsupported_audio', stt.label, `${stt.label} takes ${stt.capabilities.sampleRate} Hz mono; got ${sampleRate} Hz (resample first)`, false);
}
