/**
 * One exchange of a conversation with the AI agent: what the caller said, what the bot answered (or began to answer
 * before it was interrupted), the caller's sentiment, and the turn's latency breakdown as LiveKit agents reports it.
 */
import type { Sentiment } from '../../ai/sentiment.js';

export interface TurnMetrics {
  /** End of the caller's speech → the end-of-turn decision (endpointing delay). */
  readonly eouDelayMs?: number;
  /** Recognition of the caller's utterance. */
  readonly sttMs?: number;
  /** Request to the model → its first token. */
  readonly llmTtftMs?: number;
  /** Request to the model → its last token. */
  readonly llmMs?: number;
  /** First sentence to the speech engine → its first audio. */
  readonly ttsTtfbMs?: number;
  /** End of the caller's speech → the bot's first audio packet. */
  readonly voiceToVoiceMs?: number;
}

export type TurnOutcome = 'answered' | 'interrupted' | 'transferred' | 'failed';

export interface NewAgentTurn {
  readonly callId: string;
  readonly userMessage: string;
  readonly aiResponse: string;
  readonly language: string;
  readonly sentiment: Sentiment;
  readonly outcome: TurnOutcome;
  /** The engines: `knowledge-base`, `openai:gpt-4o`, … */
  readonly engine: string;
  readonly metrics: TurnMetrics;
}

export interface AgentTurn extends NewAgentTurn {
  readonly id: string;
  /** 1, 2, … within the call. */
  readonly seq: number;
  readonly createdAt: Date;
}

/** Where turns are kept (storage implements it). */
export interface AgentTurnStore {
  add(turn: NewAgentTurn): Promise<AgentTurn>;
  /** The call's turns in order; the last `limit` when given. */
  forCall(callId: string, limit?: number): Promise<AgentTurn[]>;
}
