/**
 * Any OpenAI-compatible `POST {baseUrl}/chat/completions` with `stream: true` (OpenAI, Azure, Groq, vLLM, Ollama,
 * llama.cpp server): server-sent events of `chat.completion.chunk`, text deltas pushed as they arrive, tool-call
 * deltas assembled by index and pushed when the choice finishes. A reply that gives no first event within
 * `timeoutMs`, or goes silent for `idleTimeoutMs`, fails with a `timeout` ProviderError (the session apologises and
 * transfers); OpenAI's error body is carried into the error.
 */
import { EventSourceParserStream } from 'eventsource-parser/stream';
import { z } from 'zod';
import { LLM, LLMStream, type ChatContext, type ChatMessage, type ChatOptions } from '../llm.js';
import { ProviderError } from '../providerError.js';
import { readStream } from '../utils/readStream.js';

export interface OpenAILLMOptions {
  /** Default https://api.openai.com/v1. */
  readonly baseUrl?: string;
  /** Bearer key (OPENAI_API_KEY); optional for self-hosted servers. Never logged. */
  readonly apiKey?: string;
  /** OPENAI_MODEL; default gpt-4o (seed 001's default). */
  readonly model?: string;
  /** Time to the response's first event. Default 8000 ms. */
  readonly timeoutMs?: number;
  /** Longest silence between two events. Default 8000 ms. */
  readonly idleTimeoutMs?: number;
  readonly temperature?: number;
  readonly maxTokens?: number;
}

const chunkSchema = z.object({
  choices: z
    .array(
      z.object({
        index: z.number().optional(),
        delta: z
          .object({
            content: z.string().nullable().optional(),
            tool_calls: z
              .array(
                z.object({
                  index: z.number(),
                  id: z.string().optional(),
                  function: z.object({ name: z.string().optional(), arguments: z.string().optional() }).optional(),
                }),
              )
              .optional(),
          })
          .optional(),
        finish_reason: z.string().nullable().optional(),
      }),
    )
    .default([]),
});

const errorBody = z.object({ error: z.object({ message: z.string(), code: z.union([z.string(), z.number()]).optional().nullable() }) });

export class OpenAILLM extends LLM {
  readonly label: string;
  readonly #url: string;
  readonly #o: { model: string; timeoutMs: number; idleTimeoutMs: number; apiKey?: string; temperature?: number; maxTokens?: number };

  constructor(options: OpenAILLMOptions = {}) {
    super();
    const base = (options.baseUrl ?? 'https://api.openai.com/v1').replace(/\/+$/, '');
    try {
      this.#url = new URL(`${base}/chat/completions`).toString();
    } catch {
      throw new ProviderError('misconfigured', 'openai', `OPENAI_BASE_URL is not a URL: ${base}`, false);
    }
    this.#o = { model: 'gpt-4o', timeoutMs: 8000, idleTimeoutMs: 8000, ...options };
    this.label = `openai:${this.#o.model}`;
  }

  chat(context: ChatContext, options: ChatOptions = {}): LLMStream {
    const stream = new LLMStream(this.label, options.signal);
    this.#run(stream, context, options).catch((e: unknown) => stream.fail(e));
    return stream;
  }

  async #run(stream: LLMStream, context: ChatContext, options: ChatOptions): Promise<void> {
    const body: Record<string, unknown> = {
      model: this.#o.model,
      stream: true,
      messages: context.messages.map(wireMessage),
    };
    if (this.#o.temperature !== undefined) body.temperature = this.#o.temperature;
    if (this.#o.maxTokens !== undefined) body.max_tokens = this.#o.maxTokens;
    if (options.tools && options.tools.length > 0) {
      body.tools = options.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
    }
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
    if (this.#o.apiKey) headers.authorization = `Bearer ${this.#o.apiKey}`;

    const local = new AbortController();
    const onAbort = () => local.abort();
    stream.signal.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    let timer = setTimeout(() => {
      timedOut = true;
      local.abort();
    }, this.#o.timeoutMs);
    let started = false;
    const rearm = () => {
      started = true;
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        local.abort();
      }, this.#o.idleTimeoutMs);
    };
    const timeoutError = (e?: unknown) =>
      new ProviderError('timeout', this.label, `${this.#url} gave no answer within ${started ? this.#o.idleTimeoutMs : this.#o.timeoutMs} ms`, true, { cause: e });

    try {
      let res: Response;
      try {
        res = await fetch(this.#url, { method: 'POST', headers, body: JSON.stringify(body), signal: local.signal });
      } catch (e) {
        if (timedOut) throw timeoutError(e);
        if (stream.signal.aborted) return;
        const cause = (e as { cause?: { code?: string } }).cause;
        throw new ProviderError('unreachable', this.label, `cannot reach ${this.#url}: ${cause?.code ?? (e as Error).message}`, true, { cause: e });
      }
      if (!res.ok || !res.body) {
        const text = await res.text().catch(() => '');
        const err = errorBody.safeParse(safeJson(text));
        const detail = err.success ? err.data.error.message : text.slice(0, 200);
        throw new ProviderError('http_error', this.label, `${this.#url} answered ${res.status}: ${detail}`, res.status === 429 || res.status >= 500, { status: res.status });
      }
      const calls = new Map<number, { id: string; name: string; arguments: string }>();
      const flushCalls = () => {
        for (const [, c] of [...calls.entries()].sort((a, b) => a[0] - b[0])) stream.push({ type: 'tool_call', call: { id: c.id, name: c.name, arguments: c.arguments || '{}' } });
        calls.clear();
      };
      const events = res.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
      try {
        for await (const ev of readStream(events)) {
          rearm();
          if (ev.data === '[DONE]') break;
          const parsed = chunkSchema.safeParse(safeJson(ev.data));
          if (!parsed.success) throw new ProviderError('bad_response', this.label, `${this.#url} sent an event that is not a chat.completion.chunk: ${ev.data.slice(0, 120)}`, true);
          for (const choice of parsed.data.choices) {
            if ((choice.index ?? 0) !== 0) continue;
            const content = choice.delta?.content;
            if (content) stream.push({ type: 'text', text: content });
            for (const d of choice.delta?.tool_calls ?? []) {
              const c = calls.get(d.index) ?? { id: d.id ?? `call_${d.index}`, name: '', arguments: '' };
              if (d.id) c.id = d.id;
              if (d.function?.name) c.name += d.function.name;
              if (d.function?.arguments) c.arguments += d.function.arguments;
              calls.set(d.index, c);
            }
            if (choice.finish_reason) flushCalls();
          }
        }
      } catch (e) {
        if (e instanceof ProviderError) throw e;
        if (timedOut) throw timeoutError(e);
        if (stream.signal.aborted) return;
        throw new ProviderError('unreachable', this.label, `${this.#url} broke off the reply: ${(e as Error).message}`, true, { cause: e });
      }
      flushCalls();
      stream.end();
    } finally {
      clearTimeout(timer);
      stream.signal.removeEventListener('abort', onAbort);
    }
  }
}

function wireMessage(m: ChatMessage): Record<string, unknown> {
  if (m.role === 'tool') return { role: 'tool', content: m.content, tool_call_id: m.toolCallId ?? '' };
  if (m.role === 'assistant' && m.toolCalls && m.toolCalls.length > 0) {
    return {
      role: 'assistant',
      content: m.content || null,
      tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
    };
  }
  return { role: m.role, content: m.content };
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
