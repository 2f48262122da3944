/**
 * The slice of `sherpa-onnx-node` (no bundled type declarations) that Parley uses, loaded on demand so that a
 * machine without the package gets a message naming it instead of a crash at import time.
 */
import { createRequire } from 'node:module';
import { ProviderError } from '../providerError.js';

export interface SherpaSpeechSegment {
  /** First sample of the segment, counted from the detector's creation. */
  readonly start: number;
  readonly samples: Float32Array;
}

export interface SherpaVad {
  acceptWaveform(samples: Float32Array): void;
  isEmpty(): boolean;
  isDetected(): boolean;
  front(): SherpaSpeechSegment;
  pop(): void;
  flush(): void;
  reset(): void;
}

export interface SherpaOfflineStream {
  acceptWaveform(wave: { samples: Float32Array; sampleRate: number }): void;
}

export interface SherpaOfflineResult {
  readonly text: string;
  readonly lang?: string;
  readonly tokens?: readonly string[];
  readonly timestamps?: readonly number[];
}

export interface SherpaOfflineRecognizer {
  createStream(): SherpaOfflineStream;
  decode(stream: SherpaOfflineStream): void;
  getResult(stream: SherpaOfflineStream): SherpaOfflineResult;
}

export interface SherpaOnlineStream {
  acceptWaveform(wave: { samples: Float32Array; sampleRate: number }): void;
  inputFinished(): void;
}

export interface SherpaOnlineRecognizer {
  createStream(): SherpaOnlineStream;
  isReady(stream: SherpaOnlineStream): boolean;
  decode(stream: SherpaOnlineStream): void;
  getResult(stream: SherpaOnlineStream): SherpaOfflineResult;
}

export interface SherpaOnnxModule {
  Vad: new (config: Record<string, unknown>, bufferSizeInSeconds: number) => SherpaVad;
  OfflineRecognizer: new (config: Record<string, unknown>) => SherpaOfflineRecognizer;
  OnlineRecognizer: new (config: Record<string, unknown>) => SherpaOnlineRecognizer;
  version: string;
}

const require = createRequire(import.meta.url);
let loaded: SherpaOnnxModule | undefined;

export function loadSherpaOnnx(engine: string): SherpaOnnxModule {
  if (loaded) return loaded;
  try {
    loaded = require('sherpa-onnx-node') as SherpaOnnxModule;
    return loaded;
  } catch (e) {
    throw new ProviderError(
      'package_missing',
      engine,
      `${engine} needs the npm package sherpa-onnx-node (with its platform binary sherpa-onnx-linux-x64 or the one for this OS): npm install sherpa-onnx-node (${(e as Error).message})`,
      false,
      { cause: e },
    );
  }
}
