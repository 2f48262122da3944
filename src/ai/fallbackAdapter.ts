/**
 * Several engines as one (agents-js `stt/fallback_adapter.ts`): an utterance goes to the first available engine;
 * when it fails or takes longer than `attemptTimeoutMs`, the next one gets the same audio. A failed engine is set
 * aside for `recoveryMs`, then tried again first — it is back as soon as it answers. Each result names the engine
 * that produced it (`SpeechData.engine`).
 */
import { EventEmitter } from 'node:events';
import { ProviderError, isProviderError } from './providerError.js';
import { STT, type RecognizeOptions, type SpeechData, type STTCapabilities } from './stt.js';
import type { Utterance } from './utils/pcm.js';

export interface FallbackAdapterOptions {
  /** One engine's time for one utterance before the next is asked. Default 10 000 ms. */
  readonly attemptTimeoutMs?: number;
  /** A failed engine is skipped this long, then tried again. Default 30 000 ms. */
  readonly recoveryMs?: number;
  /** Retries on the same engine for a retryable error before moving on. Default 0. */
  readonly retriesPerEngine?: number;
  /** Clock (tests pass a fake one). */
  readonly now?: () => number;
}

export interface FallbackAdapterEvents {
  /** An engine was set aside (`available: false`, with the error) or answered again (`available: true`). */
  availability_changed: [{ engine: string; available: boolean; error?: ProviderError }];
}

interface EngineState {
  readonly stt: STT;
  available: boolean;
  retryAt: number;
}

export class FallbackAdapter extends STT {
  readonly label: string;
  readonly capabilities: STTCapabilities;
  readonly observer = new EventEmitter<FallbackAdapterEvents>();
  readonly #engines: EngineState[];
  readonly #attemptTimeoutMs: number;
  readonly #recoveryMs: number;
  readonly #retries: number;
  readonly #now: () => number;

  constructor(engines: readonly STT[], options: FallbackAdapterOptions = {}) {
    super();
    if (engines.length === 0) throw new ProviderError('misconfigured', 'fallback', 'FallbackAdapter needs at least one engine', false);
    const rate = engines[0]!.capabilities.sampleRate;
    const odd = engines.find((e) => e.capabilities.sampleRate !== rate);
    if (odd) throw new ProviderError('misconfigured', 'fallback', `every engine of a fallback chain must take the same sample rate (${engines[0]!.label}: ${rate} Hz, ${odd.label}: ${odd.capabilities.sampleRate} Hz)`, false);
    this.#engines = engines.map((stt) => ({ stt, available: true, retryAt: 0 }));
    this.label = engines.map((e) => e.label).join('>');
    this.capabilities = {
      streaming: false,
      interimResults: false,
      wordTimings: engines.every((e) => e.capabilities.wordTimings),
      sampleRate: rate,
      languages: engines.some((e) => e.capabilities.languages === 'any') ? 'any' : [...new Set(engines.flatMap((e) => e.capabilities.languages as readonly string[]))],
    };
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? 10_000;
    this.#recoveryMs = options.recoveryMs ?? 30_000;
    this.#retries = options.retriesPerEngine ?? 0;
    this.#now = options.now ?? Date.now;
  }

  /** Which engines are in use now, in order. */
  get status(): ReadonlyArray<{ engine: string; available: boolean }> {
    return this.#engines.map((e) => ({ engine: e.stt.label, available: e.available }));
  }

  async recognize(utterance: Utterance, options?: RecognizeOptions): Promise<SpeechData> {
    const now = this.#now();
    // Available engines first, in order; then those whose recovery time has come; never-failed order kept.
    const candidates = this.#engines.filter((e) => e.available || now >= e.retryAt);
    const tried: string[] = [];
    for (const e of candidates.length > 0 ? candidates : this.#engines) {
      for (let attempt = 0; attempt <= this.#retries; attempt++) {
        if (options?.signal?.aborted) throw new ProviderError('closed', this.label, 'recognition aborted', false);
        try {
          const result = await this.#attempt(e.stt, utterance, options);
          this.#mark(e, true);
          return { ...result, engine: result.engine ?? e.stt.label };
        } catch (err) {
          const error = isProviderError(err) ? err : new ProviderError('engine_failed', e.stt.label, (err as Error).message, true, { cause: err });
          tried.push(`${e.stt.label}: ${error.message}`);
          if (!error.retryable || attempt === this.#retries) {
            this.#mark(e, false, error);
            break;
          }
        }
      }
    }
    throw new ProviderError('all_failed', this.label, `every speech engine failed — ${tried.join('; ')}`, true);
  }

  async #attempt(stt: STT, utterance: Utterance, options?: RecognizeOptions): Promise<SpeechData> {
    const ctrl = new AbortController();
    const onAbort = () => ctrl.abort();
    options?.signal?.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        ctrl.abort();
        reject(new ProviderError('timeout', stt.label, `${stt.label} gave no result within ${this.#attemptTimeoutMs} ms`, true));
      }, this.#attemptTimeoutMs);
    });
    try {
      return await Promise.race([stt.recognize(utterance, { ...options, signal: ctrl.signal }), timeout]);
    } finally {
      clearTimeout(timer);
      options?.signal?.removeEventListener('abort', onAbort);
    }
  }

  #mark(e: EngineState, available: boolean, error?: ProviderError): void {
    if (!available) e.retryAt = this.#now() + this.#recoveryMs;
    if (e.available === available) return;
    e.available = available;
    this.observer.emit('availability_changed', { engine: e.stt.label, available, error });
  }

  override async close(): Promise<void> {
    await Promise.all(this.#engines.map((e) => e.stt.close()));
  }
}
