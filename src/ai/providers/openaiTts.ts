/**
 * Any OpenAI-compatible `POST {baseUrl}/audio/speech` (OpenAI, or a self-hosted server with that API):
 * `response_format: "pcm"` is raw 24 kHz signed 16-bit little-endian mono, read as the body streams in. A selectable
 * voice (`alloy`, `nova`, …); timeouts to the first byte and between chunks.
 */
import { z } from 'zod';
import { ProviderError } from '../providerError.js';
import { readStream } from '../utils/readStream.js';
import { ChunkedStream, TTS, type SynthesizeOptions, type TTSCapabilities } from '../tts.js';

export interface OpenAITTSOptions {
  readonly baseUrl?: string;
  readonly apiKey?: string;
  /** Default tts-1. */
  readonly model?: string;
  /** Default alloy. */
  readonly voice?: string;
  /** Time to the first audio byte. Default 8000 ms. */
  readonly timeoutMs?: number;
}

const SAMPLE_RATE = 24_000;
const errorBody = z.object({ error: z.object({ message: z.string() }) });

export class OpenAITTS extends TTS {
  readonly label: string;
  readonly capabilities: TTSCapabilities = { sampleRate: SAMPLE_RATE, languages: 'any' };
  readonly #url: string;
  readonly #o: { model: string; voice: string; timeoutMs: number; apiKey?: string };

  constructor(options: OpenAITTSOptions = {}) {
    super();
    const base = (options.baseUrl ?? 'https://api.openai.com/v1').replace(/\/+$/, '');
    try {
      this.#url = new URL(`${base}/audio/speech`).toString();
    } catch {
      throw new ProviderError('misconfigured', 'openai-tts', `TTS_OPENAI_BASE_URL is not a URL: ${base}`, false);
    }
    this.#o = { model: 'tts-1', voice: 'alloy', timeoutMs: 8000, ...options };
    this.label = `openai:${this.#o.model}`;
  }

  synthesize(text: string, options: SynthesizeOptions = {}): ChunkedStream {
    const out = new ChunkedStream(this.label, SAMPLE_RATE, options.signal);
    this.#run(out, text).catch((e: unknown) => out.fail(e));
    return out;
  }

  async #run(out: ChunkedStream, text: string): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.#o.apiKey) headers.authorization = `Bearer ${this.#o.apiKey}`;
    const local = new AbortController();
    const onAbort = () => local.abort();
    out.signal.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    let timer = setTimeout(() => {
      timedOut = true;
      local.abort();
    }, this.#o.timeoutMs);
    const rearm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        local.abort();
      }, this.#o.timeoutMs);
    };
    try {
      let res: Response;
      try {
        res = await fetch(this.#url, {
          method: 'POST',
          headers,
          body: JSON.stringify({ model: this.#o.model, input: text, voice: this.#o.voice, response_format: 'pcm' }),
          signal: local.signal,
        });
      } catch (e) {
        if (timedOut) throw new ProviderError('timeout', this.label, `${this.#url} gave no audio within ${this.#o.timeoutMs} ms`, true, { cause: e });
        if (out.signal.aborted) return;
        throw new ProviderError('unreachable', this.label, `cannot reach ${this.#url}: ${(e as Error).message}`, true, { cause: e });
      }
      if (!res.ok || !res.body) {
        const body = await res.text().catch(() => '');
        let detail = body.slice(0, 200);
        try {
          const p = errorBody.safeParse(JSON.parse(body));
          if (p.success) detail = p.data.error.message;
        } catch {
          /* not JSON: keep the text */
        }
        throw new ProviderError('http_error', this.label, `${this.#url} answered ${res.status}: ${detail}`, res.status === 429 || res.status >= 500, { status: res.status });
      }
      let odd: Uint8Array | undefined;
      try {
        for await (const chunk of readStream(res.body)) {
          rearm();
          let b: Uint8Array = chunk;
          if (odd) {
            const j = new Uint8Array(odd.length + b.length);
            j.set(odd);
            j.set(b, odd.length);
            b = j;
            odd = undefined;
          }
          if (b.length % 2 === 1) {
            odd = b.slice(b.length - 1);
            b = b.subarray(0, b.length - 1);
          }
          const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
          const samples = new Int16Array(b.length / 2);
          for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(i * 2, true);
          out.pushPcm(samples);
        }
      } catch (e) {
        if (timedOut) throw new ProviderError('timeout', this.label, `${this.#url} stopped sending audio for ${this.#o.timeoutMs} ms`, true, { cause: e });
        if (out.signal.aborted) return;
        throw new ProviderError('unreachable', this.label, `${this.#url} broke off the audio: ${(e as Error).message}`, true, { cause: e });
      }
      out.end();
    } finally {
      clearTimeout(timer);
      out.signal.removeEventListener('abort', onAbort);
    }
  }
}
