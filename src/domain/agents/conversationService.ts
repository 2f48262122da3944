/**
 * The agent's thinking, one caller message at a time: the call's history (its stored turns), the system prompt of
 * the entry point or request, the model with the one tool it has (`transfer_to_human`), and the caller's sentiment.
 * A model that fails or gives no first token in time is not the caller's problem: the reply becomes a spoken
 * apology and the call is handed to a person. Used by seed 001's `conversation/process` and by `AgentSession`.
 */
import { TRANSFER_TOOL, type ChatMessage, type LLM, type LLMStream } from '../../ai/llm.js';
import { ProviderError, isProviderError } from '../../ai/providerError.js';
import { guessLanguage, type Sentiment, type SentimentAnalyzer } from '../../ai/sentiment.js';
import type { AgentTurn, AgentTurnStore, NewAgentTurn, TurnMetrics, TurnOutcome } from './agentTurn.js';

export interface Phrases {
  readonly ko: string;
  readonly en: string;
}

export const DEFAULT_APOLOGY: Phrases = {
  ko: '죄송합니다, 지금 답변을 드리기 어렵습니다. 상담원에게 연결해 드리겠습니다.',
  en: 'I am sorry, I cannot answer right now. I will connect you with an agent.',
};

export interface ConversationOptions {
  readonly llm: LLM;
  readonly sentiment: SentimentAnalyzer;
  readonly store: AgentTurnStore;
  readonly defaultSystemPrompt: string;
  /** The model's first token must come within this; otherwise apology and transfer. */
  readonly llmTimeoutMs: number;
  readonly apology?: Phrases;
  /** Turns of history sent with each request. Default 20. */
  readonly historyTurns?: number;
}

export interface ReplyInput {
  readonly callId: string;
  readonly userText: string;
  /** `ko`/`en`; guessed from the text when absent. */
  readonly language?: string;
  readonly systemPrompt?: string;
  /** Each text delta as the model produces it (the session speaks sentence by sentence from these). */
  readonly onText?: (delta: string) => void;
  readonly signal?: AbortSignal;
}

export interface Reply {
  readonly userMessage: string;
  readonly aiResponse: string;
  readonly language: 'ko' | 'en';
  readonly sentiment: Sentiment;
  /** Set when the bot hands the caller to a person (the model asked, or it failed). */
  readonly transfer?: { readonly reason: string };
  /** The provider failure that turned the reply into an apology. */
  readonly failure?: ProviderError;
  readonly engine: string;
  readonly metrics: Pick<TurnMetrics, 'llmTtftMs' | 'llmMs'>;
  readonly timestamp: Date;
}

export class ConversationService {
  readonly #o: ConversationOptions;

  constructor(options: ConversationOptions) {
    this.#o = options;
  }

  get engine(): string {
    return this.#o.llm.label;
  }

  history(callId: string): Promise<AgentTurn[]> {
    return this.#o.store.forCall(callId);
  }

  /** The model's answer to one caller message (not stored: the caller records it once it is known how it ended). */
  async reply(input: ReplyInput): Promise<Reply> {
    const language = input.language === 'ko' || input.language === 'en' ? input.language : guessLanguage(input.userText);
    const [past, sentiment] = await Promise.all([
      this.#o.store.forCall(input.callId, this.#o.historyTurns ?? 20),
      this.#o.sentiment.analyze(input.userText, language).catch((): Sentiment => ({ sentiment: 'neutral', score: 0.5 })),
    ]);
    const messages: ChatMessage[] = [{ role: 'system', content: input.systemPrompt?.trim() || this.#o.defaultSystemPrompt }];
    for (const t of past) {
      if (t.userMessage) messages.push({ role: 'user', content: t.userMessage });
      if (t.aiResponse) messages.push({ role: 'assistant', content: t.aiResponse });
    }
    if (input.userText) messages.push({ role: 'user', content: input.userText });

    const started = performance.now();
    const stream = this.#o.llm.chat({ messages, language }, { tools: [TRANSFER_TOOL], signal: input.signal });
    let text = '';
    let transfer: { reason: string } | undefined;
    let failure: ProviderError | undefined;
    try {
      await this.#consume(stream, (d) => {
        text += d;
        input.onText?.(d);
      }, (reason) => {
        transfer = { reason };
      });
    } catch (e) {
      failure = isProviderError(e) ? e : new ProviderError('engine_failed', this.#o.llm.label, (e as Error).message, true, { cause: e });
    }
    if (failure && !input.signal?.aborted) {
      const apology = (this.#o.apology ?? DEFAULT_APOLOGY)[language];
      // What was already said stays said; the apology follows it.
      const sep = text && !/\s$/.test(text) ? ' ' : '';
      input.onText?.(sep + apology);
      text += sep + apology;
      transfer = { reason: `provider-failed:${failure.code}` };
    }
    return {
      userMessage: input.userText,
      aiResponse: text.trim(),
      language,
      sentiment,
      ...(transfer ? { transfer } : {}),
      ...(failure ? { failure } : {}),
      engine: this.#o.llm.label,
      metrics: { ...(stream.ttftMs !== undefined ? { llmTtftMs: round(stream.ttftMs) } : {}), llmMs: round(performance.now() - started) },
      timestamp: new Date(),
    };
  }

  /** Stores a turn (after it was spoken, interrupted or handed over). */
  record(reply: Reply, callId: string, outcome: TurnOutcome, extra: { metrics?: TurnMetrics; spokenText?: string } = {}): Promise<AgentTurn> {
    const turn: NewAgentTurn = {
      callId,
      userMessage: reply.userMessage,
      aiResponse: extra.spokenText ?? reply.aiResponse,
      language: reply.language,
      sentiment: reply.sentiment,
      outcome,
      engine: reply.engine,
      metrics: { ...reply.metrics, ...extra.metrics },
    };
    return this.#o.store.add(turn);
  }

  async #consume(stream: LLMStream, onText: (d: string) => void, onTransfer: (reason: string) => void): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const firstToken = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        stream.abort();
        reject(new ProviderError('timeout', stream.label, `${stream.label} gave no first token within ${this.#o.llmTimeoutMs} ms`, true));
      }, this.#o.llmTimeoutMs);
    });
    firstToken.catch(() => {});
    const run = (async () => {
      for await (const c of stream) {
        clearTimeout(timer);
        if (c.type === 'text') onText(c.text);
        else if (c.call.name === TRANSFER_TOOL.name) onTransfer(reasonOf(c.call.arguments));
      }
    })();
    try {
      await Promise.race([run, firstToken]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function reasonOf(args: string): string {
  try {
    const v = JSON.parse(args) as { reason?: unknown };
    return typeof v.reason === 'string' && v.reason ? v.reason.slice(0, 200) : 'caller asked for a person';
  } catch {
    return 'caller asked for a person';
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;
