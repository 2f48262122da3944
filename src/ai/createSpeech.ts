/**
 * Builds the configured VAD and STT chain from `Config['speech']` (the composition root calls this once at
 * start-up). Each engine that cannot start is reported with its `ProviderError` (naming the package or file to
 * install) and left out; when none starts, captions are off and the server goes on serving.
 */
import type { Config } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import { FallbackAdapter } from './fallbackAdapter.js';
import { ProviderError, isProviderError } from './providerError.js';
import { OpenAISTT } from './providers/openaiStt.js';
import { PocketsphinxSTT } from './providers/pocketsphinx.js';
import { SherpaOnnxSTT } from './providers/sherpaOnnxStt.js';
import { SileroVAD } from './providers/sileroVad.js';
import { StreamAdapter } from './streamAdapter.js';
import type { STT } from './stt.js';
import type { VAD } from './vad.js';

export interface Speech {
  readonly vad: VAD;
  /** Streaming STT (VAD-cut, fallback-chained): `stt.stream()` per participant. */
  readonly stt: StreamAdapter;
  /** The engines that started, in fallback order. */
  readonly engines: readonly string[];
  close(): Promise<void>;
}

export interface SpeechStartup {
  /** Undefined when captions are off (STT_ENGINE=none) or nothing could start. */
  readonly speech: Speech | undefined;
  /** One per engine (or the VAD) that could not start. */
  readonly problems: readonly ProviderError[];
}

export async function createEngine(name: Config['speech']['engines'][number], c: Config['speech']): Promise<STT> {
  switch (name) {
    case 'pocketsphinx':
      return PocketsphinxSTT.create({ modelDir: c.pocketsphinx.modelDir, poolSize: c.pocketsphinx.decoders });
    case 'sherpa-onnx':
      if (!c.sherpa.modelDir) throw new ProviderError('misconfigured', 'sherpa-onnx', 'STT_ENGINE includes sherpa-onnx but STT_SHERPA_MODEL_DIR is not set; see docs/speech.md', false);
      return SherpaOnnxSTT.create({ modelDir: c.sherpa.modelDir, modelType: c.sherpa.modelType, language: c.language, numThreads: c.sherpa.numThreads });
    case 'openai':
      return new OpenAISTT({ baseUrl: c.openai.baseUrl, apiKey: c.openai.apiKey, model: c.openai.model, language: c.language, timeoutMs: c.openai.timeoutMs, maxRetries: c.openai.maxRetries });
  }
}

export async function createSpeech(c: Config['speech'], log?: Logger): Promise<SpeechStartup> {
  const problems: ProviderError[] = [];
  const note = (e: unknown, engine: string) => {
    const err = isProviderError(e) ? e : new ProviderError('engine_failed', engine, (e as Error).message, false, { cause: e });
    problems.push(err);
    log?.warn({ engine: err.engine, code: err.code }, `speech engine not started: ${err.message}`);
  };
  if (c.engines.length === 0) return { speech: undefined, problems };
  let vad: VAD;
  try {
    vad = SileroVAD.load(c.vad);
  } catch (e) {
    note(e, 'silero-vad');
    log?.warn('captions are off: no VAD');
    return { speech: undefined, problems };
  }
  const engines: STT[] = [];
  for (const name of c.engines) {
    try {
      engines.push(await createEngine(name, c));
    } catch (e) {
      note(e, name);
    }
  }
  if (engines.length === 0) {
    log?.warn('captions are off: no speech engine started');
    return { speech: undefined, problems };
  }
  const chain = engines.length === 1 ? engines[0]! : new FallbackAdapter(engines, c.fallback);
  const stt = new StreamAdapter(chain, vad);
  log?.info({ engines: engines.map((e) => e.label) }, 'speech engines ready');
  return {
    speech: { vad, stt, engines: engines.map((e) => e.label), close: async () => { await stt.close(); await vad.close(); } },
    problems,
  };
}
