/**
 * VAD + a non-streaming STT = a streaming STT (agents-js `stt/stream_adapter.ts`): the VAD cuts the participant's
 * audio into utterances and the stream yields start_of_speech, end_of_speech and final_transcript per utterance, in
 * order. Engines that decode incrementally (`STT.beginUtterance`, pocketsphinx) are fed from the start of speech
 * on and asked for interim hypotheses every `interimEveryMs` of audio, so the final only waits for the tail of the
 * decode; others get the whole utterance through `recognize`. A failed utterance yields `recognition_error` and the
 * stream goes on. A gap in the input ends the utterance at once: nothing after it is fed into it.
 */
import { randomUUID } from 'node:crypto';
import type { AudioFrame, AudioGap } from '../media/audio/audioFrame.js';
import { frameDurationMs } from '../media/audio/audioFrame.js';
import { ProviderError, isProviderError } from './providerError.js';
import { STT, SpeechStream, type IncrementalRecognition, type RecognizeOptions, type SpeechData, type StreamOptions, type STTCapabilities } from './stt.js';
import type { Utterance } from './utils/pcm.js';
import type { VAD, VADStream } from './vad.js';

export interface StreamAdapterOptions {
  /** Audio between interim hypotheses of an incremental engine. Default 1000 ms; 0 turns interims off. */
  readonly interimEveryMs?: number;
}

export class StreamAdapter extends STT {
  readonly label: string;
  readonly capabilities: STTCapabilities;

  constructor(
    readonly stt: STT,
    readonly vad: VAD,
    readonly options: StreamAdapterOptions = {},
  ) {
    super();
    if (vad.capabilities.sampleRate !== stt.capabilities.sampleRate)
      throw new ProviderError('misconfigured', stt.label, `the VAD takes ${vad.capabilities.sampleRate} Hz and ${stt.label} ${stt.capabilities.sampleRate} Hz; they must agree`, false);
    this.label = stt.label;
    this.capabilities = { ...stt.capabilities, streaming: true };
  }

  recognize(utterance: Utterance, options?: RecognizeOptions): Promise<SpeechData> {
    return this.stt.recognize(utterance, options);
  }

  override stream(options?: StreamOptions): SpeechStream {
    return new StreamAdapterStream(this.stt, this.vad.stream(), options, this.options.interimEveryMs ?? 1000);
  }

  override async close(): Promise<void> {
    await this.stt.close();
  }
}

/** Frames kept to replay into an incremental recognition when the VAD reports a start of speech late. */
const REPLAY_MS = 3000;
/** Audio fed before the VAD's start of speech. */
const PRE_ROLL_MS = 300;

interface Live {
  readonly id: string;
  readonly rec: IncrementalRecognition;
  sinceInterimMs: number;
  lastInterim: string;
  /** Set once the final is out: later partials are dropped. */
  finished: boolean;
}

class StreamAdapterStream extends SpeechStream {
  readonly #stt: STT;
  readonly #vad: VADStream;
  readonly #options: StreamOptions | undefined;
  readonly #interimEveryMs: number;
  readonly #abort = new AbortController();
  readonly #prefix = randomUUID().slice(0, 8);
  #count = 0;
  #current: string | undefined;
  /** Recent input since the last gap, for replay. */
  #recent: AudioFrame[] = [];
  #nextMs: number | undefined;
  /** The utterance being fed now, and those cut by a gap whose end the VAD has not reported yet. */
  #live: Live | undefined;
  readonly #detached = new Map<string, Live>();
  /** Results come out one after another so finals are in speaking order. */
  #chain: Promise<void> = Promise.resolve();
  readonly #pump: Promise<void>;

  constructor(stt: STT, vad: VADStream, options: StreamOptions | undefined, interimEveryMs: number) {
    super();
    this.#stt = stt;
    this.#vad = vad;
    this.#options = options;
    this.#interimEveryMs = interimEveryMs;
    this.#pump = this.#run();
  }

  async #run(): Promise<void> {
    try {
      for await (const ev of this.#vad) {
        if (ev.type === 'start_of_speech') {
          const id = `${this.#prefix}-${++this.#count}`;
          this.#current = id;
          this.events.put({ type: 'start_of_speech', utteranceId: id, timestampMs: ev.timestampMs });
          this.#startLive(id, ev.timestampMs);
        } else {
          const id = this.#current ?? `${this.#prefix}-${++this.#count}`;
          this.#current = undefined;
          this.events.put({ type: 'end_of_speech', utteranceId: id, timestampMs: ev.endMs });
          let live: Live | undefined = this.#detached.get(id);
          this.#detached.delete(id);
          if (this.#live?.id === id) {
            live = this.#live;
            this.#live = undefined;
          }
          const seg = { startMs: ev.startMs, endMs: ev.endMs };
          const speech = ev.speech;
          const work = live
            ? () =>
                live.rec.finish().finally(() => {
                  live.finished = true;
                })
            : () => this.#stt.recognize(speech, { language: this.#options?.language, signal: this.#abort.signal });
          this.#chain = this.#chain.then(() => this.#final(id, work, seg));
        }
      }
    } catch (e) {
      this.events.fail(e);
    }
  }

  #startLive(id: string, startMs: number): void {
    // The VAD reports a start of speech a little late (it needs VAD_MIN_SPEECH_MS of speech): lead in so the
    // first word is not clipped.
    const from = Math.max(this.#recent[0]?.timestampMs ?? startMs, startMs - PRE_ROLL_MS);
    const replay = this.#recent.filter((f) => f.timestampMs + frameDurationMs(f) > from);
    // The start is older than what is kept (or than the last gap): that utterance goes through `recognize`.
    if (replay.length === 0 || replay[0]!.timestampMs > from + frameDurationMs(replay[0]!)) return;
    const rec = this.#stt.beginUtterance(replay[0]!.timestampMs, { language: this.#options?.language });
    if (!rec) return;
    const live: Live = { id, rec, sinceInterimMs: 0, lastInterim: '', finished: false };
    for (const f of replay) this.#feed(live, f);
    this.#live = live;
  }

  #feed(live: Live, frame: AudioFrame): void {
    live.rec.push(frame.data);
    live.sinceInterimMs += frameDurationMs(frame);
    if (this.#interimEveryMs > 0 && live.sinceInterimMs >= this.#interimEveryMs) {
      live.sinceInterimMs = 0;
      void live.rec.partial().then(
        (p) => {
          if (this.#abort.signal.aborted || live.finished || p.text === '' || p.text === live.lastInterim) return;
          live.lastInterim = p.text;
          this.events.put({ type: 'interim_transcript', utteranceId: live.id, engine: this.#stt.label, alternatives: [p] });
        },
        () => undefined,
      );
    }
  }

  async #final(utteranceId: string, work: () => Promise<SpeechData>, seg: { startMs: number; endMs: number }): Promise<void> {
    if (this.#abort.signal.aborted) return;
    try {
      const result = await work();
      if (this.#abort.signal.aborted || result.text.trim() === '') return;
      // The VAD's segment bounds the utterance, widened to the words (the engine's own times, lead-in included).
      const words = result.words ?? [];
      const startMs = Math.min(seg.startMs, words[0]?.startMs ?? seg.startMs);
      const endMs = Math.max(seg.endMs, words.at(-1)?.endMs ?? seg.endMs);
      this.events.put({ type: 'final_transcript', utteranceId, engine: result.engine ?? this.#stt.label, alternatives: [{ ...result, startMs, endMs }] });
    } catch (e) {
      if (this.#abort.signal.aborted) return;
      const error = isProviderError(e) ? e : new ProviderError('engine_failed', this.#stt.label, (e as Error).message, true, { cause: e });
      this.events.put({ type: 'recognition_error', utteranceId, error });
    }
  }

  /** Stops feeding the live utterance (its end comes from the VAD). */
  #cut(): void {
    if (this.#live) this.#detached.set(this.#live.id, this.#live);
    this.#live = undefined;
    this.#recent = [];
    this.#nextMs = undefined;
  }

  protected onInput(frame: AudioFrame | AudioGap): void {
    if ('kind' in frame) this.#cut();
    else {
      if (this.#nextMs !== undefined && Math.abs(frame.timestampMs - this.#nextMs) > 1) this.#cut();
      this.#nextMs = frame.timestampMs + frameDurationMs(frame);
      this.#recent.push(frame);
      let keptMs = this.#recent.length * frameDurationMs(frame);
      while (keptMs > REPLAY_MS && this.#recent.length > 1) {
        keptMs -= frameDurationMs(this.#recent.shift()!);
      }
      if (this.#live) this.#feed(this.#live, frame);
    }
    this.#vad.pushFrame(frame);
  }

  protected onFlush(): void {
    this.#cut();
    this.#vad.flush();
  }

  protected onEndInput(): void {
    this.#cut();
    this.#vad.endInput();
    void this.#pump.then(() => this.#chain).then(() => this.events.close());
  }

  protected onClose(): void {
    this.#abort.abort();
    this.#live?.rec.cancel();
    for (const l of this.#detached.values()) l.rec.cancel();
    this.#live = undefined;
    this.#detached.clear();
    this.#vad.close();
  }
}
