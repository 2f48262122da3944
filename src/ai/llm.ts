/**
 * Language-model port (after LiveKit agents-js `llm/llm.ts`): `chat(context, options)` returns an `LLMStream`, an
 * async iterable of chunks (text deltas and completed tool calls) that can be aborted mid-reply (barge-in). A
 * provider throws (or fails the stream with) `ProviderError`; the stream records when its first text arrived so a
 * session can report time to first token.
 */
import { ProviderStream } from './utils/providerStream.js';

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

export interface ToolCall {
  readonly id: string;
  readonly name: string;
  /** The arguments as the model produced them: a JSON object text. */
  readonly arguments: string;
}

export interface ChatMessage {
  readonly role: ChatRole;
  readonly content: string;
  /** On an assistant message: the tools it asked for. */
  readonly toolCalls?: readonly ToolCall[];
  /** On a tool message: the call it answers. */
  readonly toolCallId?: string;
}

/** A function the model may call, described by a JSON schema of its arguments (OpenAI's `tools[].function`). */
export interface ToolDefinition {
  readonly name: string;
  readonly description: string;
  readonly parameters: Readonly<Record<string, unknown>>;
}

export interface ChatContext {
  /** The system prompt first, then the conversation in order. */
  readonly messages: readonly ChatMessage[];
  /** The caller's language (`ko`, `en`) when known: embedded engines answer in it. */
  readonly language?: string;
}

export interface ChatOptions {
  readonly tools?: readonly ToolDefinition[];
  readonly signal?: AbortSignal;
}

export type ChatChunk =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'tool_call'; readonly call: ToolCall };

export abstract class LLM {
  /** Short engine name for logs, metrics and stored turns (`openai:gpt-4o`, `knowledge-base`). */
  abstract readonly label: string;
  abstract chat(context: ChatContext, options?: ChatOptions): LLMStream;
  async close(): Promise<void> {}
}

/**
 * One reply being generated. Providers `push` chunks and `end()` or `fail()`; the consumer iterates. `abort()` stops
 * the provider (its `signal` fires) and ends the iteration at once.
 */
export class LLMStream extends ProviderStream<ChatChunk> {
  /** Milliseconds from `chat()` to the first text chunk; undefined until one arrived. */
  get ttftMs(): number | undefined {
    return this.firstOutputMs;
  }

  push(chunk: ChatChunk): void {
    if (chunk.type === 'text' && chunk.text.length === 0) return;
    this.put(chunk, chunk.type === 'text');
  }

  /** The whole reply: its text and tool calls (for the non-streaming seed 001 route and tests). */
  async collect(): Promise<{ text: string; toolCalls: ToolCall[] }> {
    let text = '';
    const toolCalls: ToolCall[] = [];
    for await (const c of this) {
      if (c.type === 'text') text += c.text;
      else toolCalls.push(c.call);
    }
    return { text, toolCalls };
  }
}

/** The one tool a Parley agent has: hand the caller to a person. */
export const TRANSFER_TOOL: ToolDefinition = {
  name: 'transfer_to_human',
  description: 'Hand the caller over to a human agent when they ask for a person or when you cannot help.',
  parameters: {
    type: 'object',
    properties: { reason: { type: 'string', description: 'Why the caller is handed over, in a few words.' } },
    required: [],
    additionalProperties: false,
  },
};
