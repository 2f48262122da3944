/**
 * sherpa-onnx (npm `sherpa-onnx-node`, native binary inside) with a model directory the operator downloads:
 * Whisper, SenseVoice, Paraformer, non-streaming or streaming zipformer transducers (docs/speech.md lists the exact
 * model archives). Files are found by name inside the directory; a missing one is named in the error.
 */
import { closeSync, existsSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ProviderError } from '../providerError.js';
import { STT, assertAudioFits, type RecognizeOptions, type SpeechData, type STTCapabilities } from '../stt.js';
import { int16ToFloat32, utteranceEndMs, type Utterance } from '../utils/pcm.js';
import { loadSherpaOnnx, type SherpaOfflineRecognizer, type SherpaOnlineRecognizer } from './sherpaOnnxModule.js';

export const SHERPA_MODEL_TYPES = ['whisper', 'sense_voice', 'paraformer', 'transducer', 'streaming_transducer'] as const;
export type SherpaModelType = (typeof SHERPA_MODEL_TYPES)[number];

export interface SherpaOnnxSTTOptions {
  /** Directory of an unpacked sherpa-onnx model archive. */
  readonly modelDir: string;
  readonly modelType: SherpaModelType;
  /** `ko`, `en`, … or `auto` (Whisper multilingual, SenseVoice). Default auto. */
  readonly language?: string;
  /** Threads per decode. Default 1. */
  readonly numThreads?: number;
}

const ENGINE = 'sherpa-onnx';
const SAMPLE_RATE = 16_000;

/** Which files each model type needs, as name patterns (an `.int8.onnx` is preferred where both exist). */
const NEEDS: Record<SherpaModelType, Record<string, RegExp>> = {
  whisper: { encoder: /encoder.*\.onnx$/, decoder: /decoder.*\.onnx$/, tokens: /tokens\.txt$/ },
  sense_voice: { model: /^model.*\.onnx$/, tokens: /^tokens\.txt$/ },
  paraformer: { model: /^model.*\.onnx$/, tokens: /^tokens\.txt$/ },
  transducer: { encoder: /encoder.*\.onnx$/, decoder: /decoder.*\.onnx$/, joiner: /joiner.*\.onnx$/, tokens: /tokens\.txt$/ },
  streaming_transducer: { encoder: /encoder.*\.onnx$/, decoder: /decoder.*\.onnx$/, joiner: /joiner.*\.onnx$/, tokens: /tokens\.txt$/ },
};

/** Finds each needed file in `dir`; throws a `ProviderError` naming the first one that is missing. */
export function findSherpaModelFiles(dir: string, type: SherpaModelType): Record<string, string> {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new ProviderError('model_missing', ENGINE, `the sherpa-onnx model directory ${dir} does not exist (STT_SHERPA_MODEL_DIR); see docs/speech.md for the models that work`, false);
  const names = readdirSync(dir);
  const found: Record<string, string> = {};
  for (const [role, pattern] of Object.entries(NEEDS[type])) {
    const matches = names.filter((n) => pattern.test(n)).sort((a, b) => Number(b.includes('.int8.')) - Number(a.includes('.int8.')));
    if (matches.length === 0)
      throw new ProviderError('model_missing', ENGINE, `the sherpa-onnx ${type} model in ${dir} has no ${role} file (a name matching ${pattern}); see docs/speech.md`, false);
    found[role] = join(dir, matches[0]!);
    if (found[role]!.endsWith('.onnx') && !looksLikeOnnx(found[role]!))
      throw new ProviderError('model_missing', ENGINE, `${found[role]} is not an ONNX model (truncated download or a Git LFS pointer?); unpack the archive again`, false);
  }
  return found;
}

/**
 * onnxruntime aborts the whole process (an uncaught C++ exception) on a file it cannot parse, so the files are
 * checked first: an ONNX model is a protobuf whose first field is `ir_version` (tag byte 0x08).
 */
function looksLikeOnnx(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(1);
    return readSync(fd, head, 0, 1, 0) === 1 && head[0] === 0x08 && statSync(path).size > 1024;
  } finally {
    closeSync(fd);
  }
}

export class SherpaOnnxSTT extends STT {
  readonly label: string;
  readonly capabilities: STTCapabilities;
  readonly #offline: SherpaOfflineRecognizer | undefined;
  readonly #online: SherpaOnlineRecognizer | undefined;
  readonly #language: string;

  private constructor(options: SherpaOnnxSTTOptions, offline: SherpaOfflineRecognizer | undefined, online: SherpaOnlineRecognizer | undefined) {
    super();
    this.label = `sherpa-onnx:${options.modelType}`;
    this.#language = options.language ?? 'auto';
    this.#offline = offline;
    this.#online = online;
    this.capabilities = { streaming: false, interimResults: false, wordTimings: false, sampleRate: SAMPLE_RATE, languages: 'any' };
  }

  /** Checks the package and the model files and builds the recognizer. Throws `ProviderError`. */
  static create(options: SherpaOnnxSTTOptions): SherpaOnnxSTT {
    const files = findSherpaModelFiles(options.modelDir, options.modelType);
    const sherpa = loadSherpaOnnx(ENGINE);
    const lang = options.language && options.language !== 'auto' ? options.language : '';
    const common = { tokens: files.tokens, numThreads: options.numThreads ?? 1, provider: 'cpu', debug: 0 };
    const featConfig = { sampleRate: SAMPLE_RATE, featureDim: 80 };
    try {
      if (options.modelType === 'streaming_transducer') {
        const online = new sherpa.OnlineRecognizer({ featConfig, modelConfig: { transducer: { encoder: files.encoder, decoder: files.decoder, joiner: files.joiner }, ...common }, decodingMethod: 'greedy_search' });
        return new SherpaOnnxSTT(options, undefined, online);
      }
      const model =
        options.modelType === 'whisper'
          ? { whisper: { encoder: files.encoder, decoder: files.decoder, language: lang, task: 'transcribe' } }
          : options.modelType === 'sense_voice'
            ? { senseVoice: { model: files.model, language: lang || 'auto', useInverseTextNormalization: 1 } }
            : options.modelType === 'paraformer'
              ? { paraformer: { model: files.model } }
              : { transducer: { encoder: files.encoder, decoder: files.decoder, joiner: files.joiner } };
      const offline = new sherpa.OfflineRecognizer({ featConfig, modelConfig: { ...model, ...common }, decodingMethod: 'greedy_search' });
      return new SherpaOnnxSTT(options, offline, undefined);
    } catch (e) {
      throw new ProviderError('model_missing', ENGINE, `sherpa-onnx could not load the ${options.modelType} model in ${options.modelDir}: ${(e as Error).message}`, false, { cause: e });
    }
  }

  async recognize(u: Utterance, options?: RecognizeOptions): Promise<SpeechData> {
    assertAudioFits(this, u.sampleRate);
    const wave = { samples: int16ToFloat32(u.samples), sampleRate: SAMPLE_RATE };
    let text: string;
    let lang: string | undefined;
    try {
      if (this.#online) {
        const s = this.#online.createStream();
        s.acceptWaveform(wave);
        s.inputFinished();
        for (let i = 0; i < 100_000 && this.#online.isReady(s); i++) this.#online.decode(s);
        text = this.#online.getResult(s).text;
      } else {
        const s = this.#offline!.createStream();
        s.acceptWaveform(wave);
        this.#offline!.decode(s);
        const r = this.#offline!.getResult(s);
        text = r.text;
        lang = r.lang?.replace(/[<|>]/g, '') || undefined;
      }
    } catch (e) {
      throw new ProviderError('engine_failed', this.label, `sherpa-onnx failed to decode: ${(e as Error).message}`, true, { cause: e });
    }
    const requested = options?.language ?? this.#language;
    return { text: text.trim(), language: lang ?? (requested === 'auto' ? 'und' : requested), startMs: u.startMs, endMs: utteranceEndMs(u), confidence: 1 };
  }
}
