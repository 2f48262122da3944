/**
 * Text-to-speech port (after LiveKit agents-js `tts/tts.ts`): `synthesize(text)` returns a `ChunkedStream` of PCM
 * frames for one piece of text; `SentenceStream` takes text while a language model is still generating it, cuts it
 * into sentences and synthesizes them one after the other, so the first sentence is heard before the reply is done.
 * Both record the time to the first audio byte and can be aborted (barge-in).
 */
import { createFrame, type AudioFrame } from '../media/audio/audioFrame.js';
import { AsyncQueue } from './utils/asyncQueue.js';
import { ProviderStream } from './utils/providerStream.js';

export interface TTSCapabilities {
  /** Rate of the frames the engine produces (mono, signed 16-bit). */
  readonly sampleRate: number;
  /** BCP-47 primary tags it speaks, or `'any'`. */
  readonly languages: readonly string[] | 'any';
}

export interface SynthesizeOptions {
  /** `ko`, `en`: picks the voice for the language where the engine has several. */
  readonly language?: string;
  readonly signal?: AbortSignal;
}

export abstract class TTS {
  abstract readonly label: string;
  abstract readonly capabilities: TTSCapabilities;
  abstract synthesize(text: string, options?: SynthesizeOptions): ChunkedStream;
  async close(): Promise<void> {}
}

/** PCM frames of one synthesis, in order; `timestampMs` counts from the start of this text. */
export class ChunkedStream extends ProviderStream<AudioFrame> {
  #samples = 0;
  #pending: Int16Array = new Int16Array(0);

  constructor(
    label: string,
    readonly sampleRate: number,
    signal?: AbortSignal,
  ) {
    super(label, signal);
  }

  /** Milliseconds from `synthesize()` to the first audio; undefined until some arrived. */
  get ttfbMs(): number | undefined {
    return this.firstOutputMs;
  }

  /** Raw PCM as the engine delivers it; cut into 20 ms frames. */
  pushPcm(samples: Int16Array): void {
    if (this.aborted || samples.length === 0) return;
    const all = new Int16Array(this.#pending.length + samples.length);
    all.set(this.#pending);
    all.set(samples, this.#pending.length);
    const per = Math.round(this.sampleRate / 50);
    let o = 0;
    for (; o + per <= all.length; o += per) this.#emit(all.slice(o, o + per));
    this.#pending = all.slice(o);
  }

  override end(): void {
    if (this.#pending.length > 0) this.#emit(this.#pending);
    this.#pending = new Int16Array(0);
    super.end();
  }

  /** Every sample of the synthesis as one buffer (the seed 001 route answers a whole file). */
  async collect(): Promise<Int16Array> {
    const parts: Int16Array[] = [];
    for await (const f of this) parts.push(f.data);
    const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  #emit(data: Int16Array): void {
    this.put(createFrame(data, this.sampleRate, 1, (this.#samples / this.sampleRate) * 1000));
    this.#samples += data.length;
  }
}

/** Where a sentence ends: . ! ? … and their full-width forms, Korean final endings followed by space, or a newline. */
const SENTENCE_END = /([.!?…。！？]+["')\]]*)(\s+|$)|\n+/u;

/**
 * Splits streamed text into sentences: `push` deltas, `take()` the sentences completed so far, `rest()` what is
 * left at the end. A sentence shorter than `minChars` waits for the next one so espeak does not speak in fragments.
 */
export class SentenceSplitter {
  #buf = '';
  constructor(private readonly minChars = 12) {}

  push(text: string): string[] {
    this.#buf += text;
    const out: string[] = [];
    let from = 0;
    for (;;) {
      const m = SENTENCE_END.exec(this.#buf.slice(from));
      if (!m) break;
      const end = from + m.index + m[0].length;
      const candidate = this.#buf.slice(0, end).trim();
      from = end;
      if (candidate.length >= this.minChars || m[0].includes('\n')) {
        if (candidate) out.push(candidate);
        this.#buf = this.#buf.slice(end);
        from = 0;
      }
    }
    return out;
  }

  rest(): string {
    const r = this.#buf.trim();
    this.#buf = '';
    return r;
  }
}

export interface SpokenSentence {
  readonly text: string;
  readonly frames: ChunkedStream;
}

/**
 * Text in while it is generated, one synthesis per sentence out, in order. The consumer iterates sentences and
 * plays each one's frames; `abort()` stops the running synthesis and drops the rest.
 */
export class SentenceStream implements AsyncIterable<SpokenSentence> {
  readonly #splitter = new SentenceSplitter();
  readonly #queue = new AsyncQueue<SpokenSentence>();
  readonly #abort = new AbortController();
  readonly #started: ChunkedStream[] = [];

  constructor(
    private readonly tts: TTS,
    private readonly options: SynthesizeOptions = {},
  ) {}

  pushText(delta: string): void {
    for (const s of this.#splitter.push(delta)) this.#speak(s);
  }

  endInput(): void {
    const r = this.#splitter.rest();
    if (r) this.#speak(r);
    this.#queue.close();
  }

  abort(): void {
    this.#abort.abort();
    for (const s of this.#started) s.abort();
    this.#queue.close();
  }

  #speak(text: string): void {
    if (this.#abort.signal.aborted) return;
    const frames = this.tts.synthesize(text, { ...this.options, signal: this.#abort.signal });
    this.#started.push(frames);
    this.#queue.put({ text, frames });
  }

  [Symbol.asyncIterator](): AsyncIterator<SpokenSentence> {
    return this.#queue;
  }
}
