/**
 * Builds the agent's engines from `Config['agent']` once at start-up: the model (OpenAI-compatible when configured,
 * else the embedded knowledge base: one per entry point, `<id>.json` in AGENT_KNOWLEDGE_DIR, falling back to
 * `default.json`), the voice (espeak-ng or OpenAI-compatible speech) and the sentiment analyzer, and one
 * `ConversationService` per entry point. An engine that cannot start is reported and the agent is off; the server
 * goes on serving.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import type { LLM } from '../ai/llm.js';
import { EmbeddedSentimentAnalyzer } from '../ai/providers/embeddedSentiment.js';
import { EspeakTTS } from '../ai/providers/espeakTts.js';
import { KnowledgeBaseLLM, loadKnowledgeBase } from '../ai/providers/knowledgeBaseLlm.js';
import { OpenAILLM } from '../ai/providers/openaiLlm.js';
import { OpenAITTS } from '../ai/providers/openaiTts.js';
import type { SentimentAnalyzer } from '../ai/sentiment.js';
import type { TTS } from '../ai/tts.js';
import type { AgentTurnStore } from '../domain/agents/agentTurn.js';
import { ConversationService, DEFAULT_APOLOGY } from '../domain/agents/conversationService.js';

export interface AgentEngines {
  /** Undefined when AGENT_TTS=none: the agent answers in text only. */
  readonly tts: TTS | undefined;
  readonly sentiment: SentimentAnalyzer;
  /** The conversation for an entry point (its knowledge base), or the default one. */
  conversationFor(entryPointId?: string): ConversationService;
  readonly llmLabel: string;
  /** What the bot says when the caller arrives (the knowledge base's greeting, or a default). */
  greeting(entryPointId: string | undefined, language: 'ko' | 'en'): string;
}

const DEFAULT_GREETING = { ko: '안녕하세요, AI 상담 도우미입니다. 무엇을 도와드릴까요?', en: 'Hello, this is the AI assistant. How can I help you?' };

const ID = /^[A-Za-z0-9_-]{1,80}$/;

export function createAgentEngines(c: Config['agent'], store: AgentTurnStore, log?: Logger): AgentEngines {
  const sentiment = new EmbeddedSentimentAnalyzer();
  const tts: TTS | undefined =
    c.tts === 'espeak' ? new EspeakTTS() : c.tts === 'openai' ? new OpenAITTS({ baseUrl: c.openaiTts.baseUrl, apiKey: c.openai.apiKey, model: c.openaiTts.model, voice: c.openaiTts.voice }) : undefined;
  const cache = new Map<string, ConversationService>();
  const greetings = new Map<string, { ko: string; en: string }>();
  const make = (llm: LLM, apology = DEFAULT_APOLOGY) =>
    new ConversationService({ llm, sentiment, store, defaultSystemPrompt: c.systemPrompt, llmTimeoutMs: c.openai.timeoutMs, apology });

  if (c.llm === 'openai') {
    const service = make(new OpenAILLM({ baseUrl: c.openai.baseUrl, apiKey: c.openai.apiKey, model: c.openai.model, timeoutMs: c.openai.timeoutMs, idleTimeoutMs: c.openai.timeoutMs }));
    log?.info({ llm: service.engine, tts: tts?.label ?? 'none' }, 'AI agent ready');
    return { tts, sentiment, conversationFor: () => service, llmLabel: service.engine, greeting: (_id, lang) => DEFAULT_GREETING[lang] };
  }
  const defaultFile = join(c.knowledgeDir, 'default.json');
  const fallback = loadKnowledgeBase(defaultFile);
  const defaultService = make(new KnowledgeBaseLLM(fallback), fallback.apology ?? DEFAULT_APOLOGY);
  log?.info({ llm: 'knowledge-base', knowledgeDir: c.knowledgeDir, tts: tts?.label ?? 'none' }, 'AI agent ready');
  return {
    tts,
    sentiment,
    llmLabel: 'knowledge-base',
    greeting(entryPointId, lang) {
      if (entryPointId) this.conversationFor(entryPointId);
      return (entryPointId ? greetings.get(entryPointId) : undefined)?.[lang] ?? fallback.greeting[lang];
    },
    conversationFor(entryPointId) {
      if (!entryPointId || !ID.test(entryPointId)) return defaultService;
      const hit = cache.get(entryPointId);
      if (hit) return hit;
      const file = join(c.knowledgeDir, `${entryPointId}.json`);
      let service = defaultService;
      if (existsSync(file)) {
        try {
          const kb = loadKnowledgeBase(file);
          service = make(new KnowledgeBaseLLM(kb), kb.apology ?? DEFAULT_APOLOGY);
          greetings.set(entryPointId, kb.greeting);
        } catch (err) {
          log?.warn({ err, file }, 'knowledge base not loaded; the default one answers for this entry point');
        }
      }
      cache.set(entryPointId, service);
      return service;
    },
  };
}
