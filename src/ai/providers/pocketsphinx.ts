/**
 * CMU PocketSphinx (Debian `libpocketsphinx3` + `pocketsphinx-en-us`), English, in-process through `koffi`.
 * Decoders are loaded once at start-up (about a second each) and kept warm in a pool sized to the cores; the heavy
 * calls (`ps_process_raw`, `ps_end_utt`) run on libuv's thread pool, never on the event loop. Word timings come
 * from the decoder's segments (100 frames per second).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ProviderError } from '../providerError.js';
import { STT, assertAudioFits, type IncrementalRecognition, type RecognizeOptions, type SpeechData, type SpeechWord, type STTCapabilities } from '../stt.js';
import { utteranceEndMs, type Utterance } from '../utils/pcm.js';

export interface PocketsphinxOptions {
  /** Model directory holding `en-us/` (acoustic model), `en-us.lm.bin` and `cmudict-en-us.dict`. Default /usr/share/pocketsphinx/model/en-us. */
  readonly modelDir?: string;
  /** Warm decoders (parallel utterances). Default: the number of cores. */
  readonly poolSize?: number;
  /** Shared library to load. Default libpocketsphinx.so.3. */
  readonly library?: string;
}

const ENGINE = 'pocketsphinx';
const FRAME_MS = 10;
const require = createRequire(import.meta.url);

type KoffiFn = ((...args: unknown[]) => unknown) & { async: (...args: unknown[]) => void };
interface KoffiModule {
  load(path: string): { func(signature: string): KoffiFn };
  struct(name: string, fields: Record<string, string>): unknown;
  decode(ptr: unknown, type: unknown): unknown;
}

interface Api {
  cmd_ln_init: KoffiFn;
  ps_args: KoffiFn;
  ps_init: KoffiFn;
  ps_free: KoffiFn;
  ps_start_stream: KoffiFn;
  ps_start_utt: KoffiFn;
  ps_process_raw: KoffiFn;
  ps_end_utt: KoffiFn;
  ps_get_hyp: KoffiFn;
  ps_get_logmath: KoffiFn;
  logmath_exp: KoffiFn;
  ps_get_feat: KoffiFn;
  cmn_live_get: KoffiFn;
  cmn_live_set: KoffiFn;
  /** The leading fields of sphinxbase's `feat_t`, up to `cmn_struct`. */
  featOf(ps: unknown): { cepsize: number; cmn: unknown };
  ps_seg_iter: KoffiFn;
  ps_seg_next: KoffiFn;
  ps_seg_word: KoffiFn;
  ps_seg_frames: KoffiFn;
  ps_seg_prob: KoffiFn;
}

const apis = new Map<string, Api>();

/** The library's functions, bound once per process (koffi type names are global). */
function loadApi(library: string): Api {
  const known = apis.get(library);
  if (known) return known;
  const api = bindApi(library);
  apis.set(library, api);
  return api;
}

function bindApi(library: string): Api {
  let koffi: KoffiModule;
  try {
    koffi = require('koffi') as KoffiModule;
  } catch (e) {
    throw new ProviderError('package_missing', ENGINE, `pocketsphinx needs the npm package koffi: npm install koffi (${(e as Error).message})`, false, { cause: e });
  }
  let lib: ReturnType<KoffiModule['load']>;
  try {
    lib = koffi.load(library);
  } catch (e) {
    throw new ProviderError('package_missing', ENGINE, `pocketsphinx needs ${library}: apt-get install libpocketsphinx3 pocketsphinx-en-us (${(e as Error).message})`, false, { cause: e });
  }
  let base: ReturnType<KoffiModule['load']>;
  try {
    base = koffi.load('libsphinxbase.so.3');
  } catch (e) {
    throw new ProviderError('package_missing', ENGINE, `pocketsphinx needs libsphinxbase.so.3: apt-get install libsphinxbase3 (${(e as Error).message})`, false, { cause: e });
  }
  // sphinxbase/feat.h, `struct feat_s` up to `cmn_struct` (koffi lays it out with the C ABI's alignment).
  const featPrefix = koffi.struct(`parley_feat_prefix_${apis.size}`, {
    refcount: 'int', name: 'void *', cepsize: 'int32_t', n_stream: 'int32_t', stream_len: 'void *', window_size: 'int32_t', n_sv: 'int32_t',
    sv_len: 'void *', subvecs: 'void *', sv_buf: 'void *', sv_dim: 'int32_t', cmn: 'int', varnorm: 'int32_t', agc: 'int', compute_feat: 'void *', cmn_struct: 'void *',
  });
  const ps_get_feat = lib.func('void *ps_get_feat(void *ps)');
  return {
    ps_get_feat,
    cmn_live_get: base.func('void cmn_live_get(void *cmn, _Out_ float *vec)'),
    cmn_live_set: base.func('void cmn_live_set(void *cmn, const float *vec)'),
    featOf: (ps) => {
      const f = koffi.decode(ps_get_feat(ps), featPrefix) as { cepsize: number; cmn_struct: unknown };
      return { cepsize: f.cepsize, cmn: f.cmn_struct };
    },
    cmd_ln_init: lib.func('void *cmd_ln_init(void *inout, void *defn, int32_t strict, ...)'),
    ps_args: lib.func('void *ps_args(void)'),
    ps_init: lib.func('void *ps_init(void *config)'),
    ps_free: lib.func('int ps_free(void *ps)'),
    ps_start_stream: lib.func('int ps_start_stream(void *ps)'),
    ps_start_utt: lib.func('int ps_start_utt(void *ps)'),
    ps_process_raw: lib.func('int ps_process_raw(void *ps, const int16_t *data, size_t n, int no_search, int full_utt)'),
    ps_end_utt: lib.func('int ps_end_utt(void *ps)'),
    ps_get_hyp: lib.func('const char *ps_get_hyp(void *ps, _Out_ int32_t *score)'),
    ps_get_logmath: lib.func('void *ps_get_logmath(void *ps)'),
    logmath_exp: lib.func('double logmath_exp(void *lmath, int logb_p)'),
    ps_seg_iter: lib.func('void *ps_seg_iter(void *ps)'),
    ps_seg_next: lib.func('void *ps_seg_next(void *seg)'),
    ps_seg_word: lib.func('const char *ps_seg_word(void *seg)'),
    ps_seg_frames: lib.func('void ps_seg_frames(void *seg, _Out_ int *sf, _Out_ int *ef)'),
    ps_seg_prob: lib.func('int32_t ps_seg_prob(void *seg, _Out_ int32_t *ascr, _Out_ int32_t *lscr, _Out_ int32_t *lback)'),
  };
}

function callAsync<T>(fn: KoffiFn, ...args: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => fn.async(...args, (err: unknown, res: T) => (err ? reject(err) : resolve(res))));
}

/** Fillers and sentence marks the decoder puts among the words. */
const NON_WORD = /^(<s>|<\/s>|<sil>|\[.*\]|\+.*\+)$/;

export class PocketsphinxSTT extends STT {
  readonly label = ENGINE;
  readonly capabilities: STTCapabilities = { streaming: false, interimResults: true, wordTimings: true, sampleRate: 16_000, languages: ['en'] };
  readonly #api: Api;
  readonly #idle: unknown[];
  readonly #all: unknown[];
  readonly #waiting: Array<(ps: unknown) => void> = [];
  /** Each decoder's cepstral-mean state as loaded, restored before every utterance (see #begin). */
  readonly #cmnInit = new Map<unknown, { cmn: unknown; mean: Float32Array }>();
  #closed = false;

  private constructor(api: Api, decoders: unknown[]) {
    super();
    this.#api = api;
    this.#all = decoders;
    this.#idle = [...decoders];
    for (const ps of decoders) {
      const { cepsize, cmn } = api.featOf(ps);
      if (!cmn || cepsize <= 0 || cepsize > 64) continue;
      const mean = new Float32Array(cepsize);
      api.cmn_live_get(cmn, mean);
      this.#cmnInit.set(ps, { cmn, mean });
    }
  }

  /**
   * Starts an utterance as a freshly loaded decoder would: live cepstral mean normalisation otherwise carries the
   * previous utterance's mean over — another speaker's, since decoders are pooled — and costs words; and a new
   * stream makes segment times utterance-relative (they are stream-wide).
   */
  #begin(ps: unknown): void {
    const init = this.#cmnInit.get(ps);
    if (init) this.#api.cmn_live_set(init.cmn, init.mean);
    this.#api.ps_start_stream(ps);
    if ((this.#api.ps_start_utt(ps) as number) < 0) throw new ProviderError('engine_failed', ENGINE, 'ps_start_utt failed', true);
  }

  /** Loads the library, checks the model files and warms `poolSize` decoders. Throws `ProviderError`. */
  static async create(options: PocketsphinxOptions = {}): Promise<PocketsphinxSTT> {
    const modelDir = options.modelDir ?? '/usr/share/pocketsphinx/model/en-us';
    const files = { hmm: join(modelDir, 'en-us'), lm: join(modelDir, 'en-us.lm.bin'), dict: join(modelDir, 'cmudict-en-us.dict') };
    for (const [what, path] of Object.entries(files))
      if (!existsSync(path)) throw new ProviderError('model_missing', ENGINE, `pocketsphinx's ${what} model ${path} is missing: apt-get install pocketsphinx-en-us, or set STT_POCKETSPHINX_MODEL_DIR`, false);
    const api = loadApi(options.library ?? 'libpocketsphinx.so.3');
    const size = Math.max(1, options.poolSize ?? availableParallelism());
    const decoders: unknown[] = [];
    for (let i = 0; i < size; i++) {
      const args: unknown[] = [];
      for (const [k, v] of [['-hmm', files.hmm], ['-lm', files.lm], ['-dict', files.dict], ['-logfn', '/dev/null']] as const) args.push('str', k, 'str', v);
      args.push('str', null);
      const config = api.cmd_ln_init(null, api.ps_args(), 1, ...args);
      if (!config) throw new ProviderError('misconfigured', ENGINE, 'pocketsphinx rejected its configuration', false);
      const ps = await callAsync<unknown>(api.ps_init, config);
      if (!ps) throw new ProviderError('model_missing', ENGINE, `pocketsphinx could not load its models from ${modelDir}`, false);
      decoders.push(ps);
    }
    return new PocketsphinxSTT(api, decoders);
  }

  get poolSize(): number {
    return this.#all.length;
  }

  async recognize(utterance: Utterance, options?: RecognizeOptions): Promise<SpeechData> {
    assertAudioFits(this, utterance.sampleRate);
    const ps = await this.#acquire();
    try {
      if (options?.signal?.aborted) throw new ProviderError('closed', ENGINE, 'recognition aborted', false);
      return await this.#decode(ps, utterance);
    } finally {
      this.#release(ps);
    }
  }

  async #decode(ps: unknown, u: Utterance): Promise<SpeechData> {
    const a = this.#api;
    this.#begin(ps);
    const processed = await callAsync<number>(a.ps_process_raw, ps, u.samples, u.samples.length, 0, 1);
    const ended = await callAsync<number>(a.ps_end_utt, ps);
    if (processed < 0 || ended < 0) throw new ProviderError('engine_failed', ENGINE, 'pocketsphinx failed to decode the utterance', true);
    return this.#result(ps, u.startMs, utteranceEndMs(u));
  }

  /** Decodes while the utterance is spoken: PCM goes to `ps_process_raw` in 100 ms batches on the thread pool. */
  override beginUtterance(startMs: number): IncrementalRecognition {
    const a = this.#api;
    let ps: unknown;
    let fed = 0;
    let pending: Int16Array[] = [];
    let pendingSamples = 0;
    let done = false;
    let chain: Promise<void> = this.#acquire().then((d) => {
      ps = d;
      this.#begin(ps);
    });
    chain.catch(() => undefined); // surfaced by finish(); never an unhandled rejection
    const dispatch = () => {
      if (pendingSamples === 0) return;
      const batch = new Int16Array(pendingSamples);
      let o = 0;
      for (const p of pending) {
        batch.set(p, o);
        o += p.length;
      }
      pending = [];
      pendingSamples = 0;
      fed += batch.length;
      chain = chain.then(async () => {
        if ((await callAsync<number>(a.ps_process_raw, ps, batch, batch.length, 0, 0)) < 0) throw new ProviderError('engine_failed', ENGINE, 'ps_process_raw failed', true);
      });
      chain.catch(() => undefined);
    };
    const endMs = () => startMs + (fed / 16_000) * 1000;
    const release = () => {
      if (ps !== undefined) this.#release(ps);
    };
    return {
      push: (samples) => {
        if (done) return;
        pending.push(samples);
        pendingSamples += samples.length;
        if (pendingSamples >= 1600) dispatch();
      },
      partial: async () => {
        dispatch();
        await chain;
        const score = [0];
        const text = ((a.ps_get_hyp(ps, score) as string | null) ?? '').trim();
        return { text, language: 'en', startMs, endMs: endMs(), confidence: 0 };
      },
      finish: async () => {
        done = true;
        dispatch();
        try {
          await chain;
          if ((await callAsync<number>(a.ps_end_utt, ps)) < 0) throw new ProviderError('engine_failed', ENGINE, 'ps_end_utt failed', true);
          return this.#result(ps, startMs, endMs());
        } finally {
          release();
        }
      },
      cancel: () => {
        if (done) return;
        done = true;
        void chain
          .then(() => callAsync<number>(a.ps_end_utt, ps))
          .catch(() => undefined)
          .finally(release);
      },
    };
  }

  #result(ps: unknown, startMs: number, endMs: number): SpeechData {
    const a = this.#api;
    const score = [0];
    const hyp = (a.ps_get_hyp(ps, score) as string | null) ?? '';
    const lmath = a.ps_get_logmath(ps);
    const words: SpeechWord[] = [];
    const sf = [0];
    const ef = [0];
    const ascr = [0];
    const lscr = [0];
    const lback = [0];
    for (let seg = a.ps_seg_iter(ps); seg; seg = a.ps_seg_next(seg)) {
      const raw = (a.ps_seg_word(seg) as string | null) ?? '';
      if (NON_WORD.test(raw)) continue;
      a.ps_seg_frames(seg, sf, ef);
      const post = a.ps_seg_prob(seg, ascr, lscr, lback) as number;
      words.push({
        word: raw.replace(/\(\d+\)$/, ''),
        startMs: startMs + sf[0]! * FRAME_MS,
        endMs: startMs + (ef[0]! + 1) * FRAME_MS,
        confidence: Math.min(1, Math.max(0, a.logmath_exp(lmath, post) as number)),
      });
    }
    const text = hyp.trim();
    // The utterance posterior (ps_get_prob) shrinks with length; the mean word posterior is comparable across utterances.
    const confidence = words.length > 0 ? words.reduce((n, w) => n + (w.confidence ?? 0), 0) / words.length : 0;
    return { text, language: 'en', startMs, endMs, confidence, words };
  }

  #acquire(): Promise<unknown> {
    if (this.#closed) return Promise.reject(new ProviderError('closed', ENGINE, 'pocketsphinx is closed', false));
    const ps = this.#idle.pop();
    if (ps !== undefined) return Promise.resolve(ps);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #release(ps: unknown): void {
    const next = this.#waiting.shift();
    if (next) next(ps);
    else if (this.#closed) this.#api.ps_free(ps);
    else this.#idle.push(ps);
  }

  override async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const ps of this.#idle.splice(0)) this.#api.ps_free(ps);
  }
}
