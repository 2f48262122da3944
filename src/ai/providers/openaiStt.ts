/**
 * Any OpenAI-compatible `POST {baseUrl}/audio/transcriptions` (OpenAI, Groq, a self-hosted whisper server): one
 * utterance as a WAV file in multipart form data, `response_format=verbose_json` for the detected language,
 * segments and (where the server has them) word timings. Timeouts and retries with backoff on 429/5xx and network
 * errors; OpenAI's error body (`{error:{message,type,code}}`) is carried into the `ProviderError`.
 */
import { z } from 'zod';
import { ProviderError } from '../providerError.js';
import { STT, assertAudioFits, type RecognizeOptions, type SpeechData, type SpeechWord, type STTCapabilities } from '../stt.js';
import { encodeWav, utteranceEndMs, type Utterance } from '../utils/pcm.js';

export interface OpenAISTTOptions {
  /** Default https://api.openai.com/v1. */
  readonly baseUrl?: string;
  /** Bearer key; optional for self-hosted servers that take none. Never logged. */
  readonly apiKey?: string;
  /** Default whisper-1 (Groq: whisper-large-v3-turbo). */
  readonly model?: string;
  /** `ko`, `en`, … or `auto` (the server detects it). Default auto. */
  readonly language?: string;
  /** One request's time limit. Default 15 000 ms. */
  readonly timeoutMs?: number;
  /** Retries after a retryable failure. Default 2. */
  readonly maxRetries?: number;
  /** Asks for word timings (`timestamp_granularities[]=word`). Default true. */
  readonly wordTimestamps?: boolean;
  /** Base delay between retries, doubled each time. Default 250 ms. */
  readonly retryBaseMs?: number;
}

const verboseJson = z.object({
  text: z.string(),
  language: z.string().optional(),
  duration: z.union([z.number(), z.string()]).optional(),
  segments: z.array(z.object({ start: z.number(), end: z.number(), text: z.string(), avg_logprob: z.number().optional(), no_speech_prob: z.number().optional() })).optional().nullable(),
  words: z.array(z.object({ word: z.string(), start: z.number(), end: z.number() })).optional().nullable(),
});

const errorBody = z.object({ error: z.object({ message: z.string(), type: z.string().optional().nullable(), code: z.union([z.string(), z.number()]).optional().nullable() }) });

/** verbose_json names the language in English ("korean"); captions want the ISO 639-1 code. */
const LANGUAGE_CODES: Record<string, string> = {
  english: 'en', korean: 'ko', japanese: 'ja', chinese: 'zh', spanish: 'es', french: 'fr', german: 'de', russian: 'ru', portuguese: 'pt', italian: 'it', vietnamese: 'vi', thai: 'th', indonesian: 'id', arabic: 'ar', hindi: 'hi',
};

export function languageCode(name: string | undefined, fallback: string): string {
  if (!name) return fallback;
  const n = name.trim().toLowerCase();
  return LANGUAGE_CODES[n] ?? (n.length <= 3 ? n : fallback);
}

export class OpenAISTT extends STT {
  readonly label: string;
  readonly capabilities: STTCapabilities;
  readonly #url: string;
  readonly #o: Required<Omit<OpenAISTTOptions, 'apiKey' | 'baseUrl'>> & { apiKey?: string };

  constructor(options: OpenAISTTOptions = {}) {
    super();
    const base = (options.baseUrl ?? 'https://api.openai.com/v1').replace(/\/+$/, '');
    let parsed: URL;
    try {
      parsed = new URL(`${base}/audio/transcriptions`);
    } catch {
      throw new ProviderError('misconfigured', 'openai', `STT_OPENAI_BASE_URL is not a URL: ${base}`, false);
    }
    this.#url = parsed.toString();
    this.#o = { model: 'whisper-1', language: 'auto', timeoutMs: 15_000, maxRetries: 2, wordTimestamps: true, retryBaseMs: 250, ...options };
    this.label = `openai:${this.#o.model}`;
    this.capabilities = { streaming: false, interimResults: false, wordTimings: this.#o.wordTimestamps, sampleRate: 16_000, languages: 'any' };
  }

  async recognize(utterance: Utterance, options?: RecognizeOptions): Promise<SpeechData> {
    assertAudioFits(this, utterance.sampleRate);
    const language = options?.language ?? this.#o.language;
    let last: ProviderError | undefined;
    for (let attempt = 0; attempt <= this.#o.maxRetries; attempt++) {
      if (attempt > 0) await sleep(this.#o.retryBaseMs * 2 ** (attempt - 1), options?.signal);
      try {
        return await this.#request(utterance, language, options?.signal);
      } catch (e) {
        if (!(e instanceof ProviderError) || !e.retryable || options?.signal?.aborted) throw e;
        last = e;
      }
    }
    throw last!;
  }

  async #request(u: Utterance, language: string, signal: AbortSignal | undefined): Promise<SpeechData> {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(encodeWav(u))], { type: 'audio/wav' }), 'utterance.wav');
    form.append('model', this.#o.model);
    form.append('response_format', 'verbose_json');
    if (language !== 'auto') form.append('language', language);
    if (this.#o.wordTimestamps) {
      form.append('timestamp_granularities[]', 'word');
      form.append('timestamp_granularities[]', 'segment');
    }
    const headers: Record<string, string> = {};
    if (this.#o.apiKey) headers.authorization = `Bearer ${this.#o.apiKey}`;
    const timeout = AbortSignal.timeout(this.#o.timeoutMs);
    let res: Response;
    try {
      res = await fetch(this.#url, { method: 'POST', body: form, headers, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (e) {
      if (timeout.aborted) throw new ProviderError('timeout', this.label, `${this.#url} gave no answer within ${this.#o.timeoutMs} ms; check that the endpoint is up, or raise STT_OPENAI_TIMEOUT_MS`, true, { cause: e });
      if (signal?.aborted) throw new ProviderError('closed', this.label, 'recognition aborted', false, { cause: e });
      const cause = (e as { cause?: { code?: string } }).cause;
      throw new ProviderError('unreachable', this.label, `cannot reach ${this.#url}: ${cause?.code ?? (e as Error).message}; check STT_OPENAI_BASE_URL and that the transcription server is running`, true, { cause: e });
    }
    const body = await res.text().catch(() => '');
    if (!res.ok) {
      const err = errorBody.safeParse(safeJson(body));
      const detail = err.success ? `${err.data.error.message}${err.data.error.code ? ` (${err.data.error.code})` : ''}` : body.slice(0, 200);
      const retryable = res.status === 429 || res.status >= 500;
      throw new ProviderError('http_error', this.label, `${this.#url} answered ${res.status}: ${detail}${res.status === 401 || res.status === 403 ? '; check OPENAI_API_KEY' : res.status === 404 ? '; check STT_OPENAI_BASE_URL (it should end in /v1) and STT_OPENAI_MODEL' : ''}`, retryable, { status: res.status });
    }
    const parsed = verboseJson.safeParse(safeJson(body));
    if (!parsed.success) throw new ProviderError('bad_response', this.label, `${this.#url} answered 200 with a body that is not verbose_json: ${parsed.error.issues[0]?.message ?? ''}`, true);
    const d = parsed.data;
    const words: SpeechWord[] | undefined = d.words?.map((w) => ({ word: w.word.trim(), startMs: u.startMs + w.start * 1000, endMs: u.startMs + w.end * 1000 }));
    const segs = d.segments ?? [];
    const confidence = segs.length > 0 ? Math.exp(segs.reduce((n, s) => n + (s.avg_logprob ?? 0), 0) / segs.length) : 1;
    return {
      text: d.text.trim(),
      language: languageCode(d.language, language === 'auto' ? 'und' : language),
      startMs: u.startMs,
      endMs: utteranceEndMs(u),
      confidence: Math.min(1, Math.max(0, confidence)),
      ...(words && words.length > 0 ? { words } : {}),
    };
  }
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}
