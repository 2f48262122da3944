/**
 * VAD + a non-streaming STT = a streaming STT (agents-js `stt/stream_adapter.ts`): the VAD cuts the participant's
 * audio into utterances, each is recognised with `recognize`, and the stream yields start_of_speech, end_of_speech
 * and final_transcript per utterance, in order. A failed utterance yields `recognition_error` and the stream goes on.
 */
import { randomUUID } from 'node:crypto';
import type { AudioFrame, AudioGap } from '../media/audio/audioFrame.js';
import { ProviderError, isProviderError } from './providerError.js';
import { STT, SpeechStream, type RecognizeOptions, type SpeechData, type StreamOptions, type STTCapabilities } from './stt.js';
import type { Utterance } from './utils/pcm.js';
import type { VAD, VADStream } from './vad.js';

export class StreamAdapter extends STT {
  readonly label: string;
  readonly capabilities: STTCapabilities;

  constructor(
    readonly stt: STT,
    readonly vad: VAD,
  ) {
    super();
    if (vad.capabilities.sampleRate !== stt.capabilities.sampleRate)
      throw new ProviderError('misconfigured', stt.label, `the VAD takes ${vad.capabilities.sampleRate} Hz and ${stt.label} ${stt.capabilities.sampleRate} Hz; they must agree`, false);
    this.label = stt.label;
    this.capabilities = { ...stt.capabilities, streaming: true, interimResults: false };
  }

  recognize(utterance: Utterance, options?: RecognizeOptions): Promise<SpeechData> {
    return this.stt.recognize(utterance, options);
  }

  override stream(options?: StreamOptions): SpeechStream {
    return new StreamAdapterStream(this.stt, this.vad.stream(), options);
  }

  override async close(): Promise<void> {
    await this.stt.close();
  }
}

class StreamAdapterStream extends SpeechStream {
  readonly #stt: STT;
  readonly #vad: VADStream;
  readonly #options: StreamOptions | undefined;
  readonly #abort = new AbortController();
  readonly #prefix = randomUUID().slice(0, 8);
  #count = 0;
  #current: string | undefined;
  /** Recognitions run one after another so finals come out in speaking order. */
  #chain: Promise<void> = Promise.resolve();
  readonly #pump: Promise<void>;

  constructor(stt: STT, vad: VADStream, options?: StreamOptions) {
    super();
    this.#stt = stt;
    this.#vad = vad;
    this.#options = options;
    this.#pump = this.#run();
  }

  async #run(): Promise<void> {
    try {
      for await (const ev of this.#vad) {
        if (ev.type === 'start_of_speech') {
          this.#current = `${this.#prefix}-${++this.#count}`;
          this.events.put({ type: 'start_of_speech', utteranceId: this.#current, timestampMs: ev.timestampMs });
        } else {
          const id = this.#current ?? `${this.#prefix}-${++this.#count}`;
          this.#current = undefined;
          this.events.put({ type: 'end_of_speech', utteranceId: id, timestampMs: ev.endMs });
          this.#chain = this.#chain.then(() => this.#recognize(id, ev.speech));
        }
      }
    } catch (e) {
      this.events.fail(e);
    }
  }

  async #recognize(utteranceId: string, speech: Utterance): Promise<void> {
    if (this.#abort.signal.aborted) return;
    try {
      const result = await this.#stt.recognize(speech, { language: this.#options?.language, signal: this.#abort.signal });
      if (this.#abort.signal.aborted || result.text.trim() === '') return;
      this.events.put({ type: 'final_transcript', utteranceId, engine: result.engine ?? this.#stt.label, alternatives: [result] });
    } catch (e) {
      if (this.#abort.signal.aborted) return;
      const error = isProviderError(e) ? e : new ProviderError('engine_failed', this.#stt.label, (e as Error).message, true, { cause: e });
      this.events.put({ type: 'recognition_error', utteranceId, error });
    }
  }

  protected onInput(frame: AudioFrame | AudioGap): void {
    this.#vad.pushFrame(frame);
  }

  protected onFlush(): void {
    this.#vad.flush();
  }

  protected onEndInput(): void {
    this.#vad.endInput();
    void this.#pump.then(() => this.#chain).then(() => this.events.close());
  }

  protected onClose(): void {
    this.#abort.abort();
    this.#vad.close();
  }
}
