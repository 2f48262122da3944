/**
 * The embedded, offline "language model": an operator-written knowledge base (questions with example phrasings →
 * answers, in Korean and English; `config/knowledge/*.json`) matched with MiniSearch (BM25 full-text search with
 * fuzzy and prefix matching). Korean words carry particles and endings (시간이, 시간은), so Korean text is also
 * indexed as character bigrams, which match across them. It greets when the conversation has no caller message
 * yet, says it did not understand below the score threshold, and calls `transfer_to_human` when the caller asks for
 * a person. Replies stream word by word like a real model so the session's sentence streaming is exercised.
 */
import { readFileSync } from 'node:fs';
import MiniSearch from 'minisearch';
import { z } from 'zod';
import { LLM, LLMStream, TRANSFER_TOOL, type ChatContext, type ChatOptions } from '../llm.js';
import { ProviderError } from '../providerError.js';
import { guessLanguage } from '../sentiment.js';

const bilingual = z.object({ ko: z.string().min(1), en: z.string().min(1) });
const phrasings = z.object({ ko: z.array(z.string().min(1)).default([]), en: z.array(z.string().min(1)).default([]) });

export const knowledgeBaseSchema = z.object({
  name: z.string().default('knowledge base'),
  greeting: bilingual,
  notUnderstood: bilingual,
  transfer: bilingual,
  /** Said when a provider fails and the call goes to a person. */
  apology: bilingual.optional(),
  transferPhrases: phrasings,
  entries: z.array(z.object({ id: z.string().min(1), questions: phrasings, answer: bilingual })).min(1, 'a knowledge base needs at least one entry'),
});

export type KnowledgeBase = z.infer<typeof knowledgeBaseSchema>;

/** Reads and validates a knowledge-base file; the error names the file and the first problem. */
export function loadKnowledgeBase(file: string): KnowledgeBase {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ProviderError('model_missing', 'knowledge-base', `cannot read knowledge base ${file}: ${(e as Error).message}`, false, { cause: e });
  }
  const parsed = knowledgeBaseSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new ProviderError('misconfigured', 'knowledge-base', `knowledge base ${file}: ${i.path.join('.')}: ${i.message}`, false);
  }
  return parsed.data;
}

export interface KnowledgeMatch {
  /** The entry id, `transfer`, or undefined when nothing matched well enough. */
  readonly entryId: string | undefined;
  readonly score: number;
}

const HANGUL = /[\uac00-\ud7a3]/u;

/** English function words: they match every question and none in particular. */
const STOP_WORDS = new Set('a an the is are am was were be been do does did i me my you your we our it its this that to of on in at for with and or can could would will please what when where how who why there here today'.split(' '));

/** Words, lower-cased; each Korean word also as its character bigrams. */
export function tokenizeBilingual(text: string): string[] {
  const out: string[] = [];
  for (const w of text.toLowerCase().normalize('NFC').split(/[^\p{L}\p{N}]+/u)) {
    if (!w || STOP_WORDS.has(w)) continue;
    out.push(w);
    if (HANGUL.test(w) && w.length > 2) for (let i = 0; i + 2 <= w.length; i++) out.push(w.slice(i, i + 2));
  }
  return out;
}

export interface KnowledgeBaseLLMOptions {
  /** Lowest MiniSearch score accepted as an answer. Default 4. */
  readonly minScore?: number;
  /** Delay between streamed words, to behave like a model. Default 0. */
  readonly wordDelayMs?: number;
}

export class KnowledgeBaseLLM extends LLM {
  readonly label = 'knowledge-base';
  readonly #kb: KnowledgeBase;
  readonly #index: MiniSearch<{ id: string; entry: string; text: string }>;
  readonly #minScore: number;
  readonly #wordDelayMs: number;

  constructor(kb: KnowledgeBase, options: KnowledgeBaseLLMOptions = {}) {
    super();
    this.#kb = kb;
    this.#minScore = options.minScore ?? 4;
    this.#wordDelayMs = options.wordDelayMs ?? 0;
    this.#index = new MiniSearch({ fields: ['text'], storeFields: ['entry'], tokenize: tokenizeBilingual, searchOptions: { fuzzy: (t) => (HANGUL.test(t) ? false : t.length > 4 ? 0.2 : false), prefix: (t) => !HANGUL.test(t) && t.length > 3 } });
    let n = 0;
    const add = (entry: string, texts: readonly string[]) => {
      for (const text of texts) this.#index.add({ id: String(n++), entry, text });
    };
    add('transfer', [...kb.transferPhrases.ko, ...kb.transferPhrases.en]);
    for (const e of kb.entries) add(e.id, [...e.questions.ko, ...e.questions.en]);
  }

  get knowledgeBase(): KnowledgeBase {
    return this.#kb;
  }

  /** The best entry for one caller message (exposed for tests and the admin's "try a question"). */
  match(text: string): KnowledgeMatch {
    const hits = this.#index.search(text);
    const best = new Map<string, number>();
    for (const h of hits) best.set(h.entry as string, Math.max(best.get(h.entry as string) ?? 0, h.score));
    let entryId: string | undefined;
    let score = 0;
    for (const [id, s] of best) if (s > score) [entryId, score] = [id, s];
    return score >= this.#minScore ? { entryId, score } : { entryId: undefined, score };
  }

  chat(context: ChatContext, options: ChatOptions = {}): LLMStream {
    const stream = new LLMStream(this.label, options.signal);
    const lastUser = [...context.messages].reverse().find((m) => m.role === 'user');
    const lang = context.language === 'ko' || context.language === 'en' ? context.language : lastUser ? guessLanguage(lastUser.content) : 'ko';
    let text: string;
    let transfer = false;
    if (!lastUser || !lastUser.content.trim()) text = this.#kb.greeting[lang];
    else {
      const m = this.match(lastUser.content);
      if (m.entryId === 'transfer') {
        text = this.#kb.transfer[lang];
        transfer = true;
      } else if (m.entryId) text = this.#kb.entries.find((e) => e.id === m.entryId)!.answer[lang];
      else text = this.#kb.notUnderstood[lang];
    }
    const canTransfer = options.tools?.some((t) => t.name === TRANSFER_TOOL.name) ?? false;
    void this.#stream(stream, text, transfer && canTransfer);
    return stream;
  }

  async #stream(stream: LLMStream, text: string, transfer: boolean): Promise<void> {
    const words = text.split(/(?<=\s)/u);
    for (const w of words) {
      if (stream.signal.aborted) return;
      if (this.#wordDelayMs > 0) await new Promise((r) => setTimeout(r, this.#wordDelayMs));
      else await Promise.resolve();
      stream.push({ type: 'text', text: w });
    }
    if (transfer) stream.push({ type: 'tool_call', call: { id: 'kb-transfer', name: TRANSFER_TOOL.name, arguments: JSON.stringify({ reason: 'caller asked for a person' }) } });
    stream.end();
  }
}
