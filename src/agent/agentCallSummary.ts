/**
 * How an AI call (the `/ai/` page's) went, from its stored turns: the caller's sentiment turn by turn and one
 * outcome in the words the admin history uses for consultations — in progress while the bot is in the room, then
 * transferred (a turn handed the caller over), resolved by the bot (it answered at least once), or abandoned.
 */
import type { Sentiment } from '../ai/sentiment.js';
import type { AgentTurn, TurnOutcome } from '../domain/agents/agentTurn.js';

export type AgentCallOutcome = 'in_progress' | 'resolved_by_bot' | 'transferred' | 'abandoned';

export interface AgentCallSummary {
  readonly live: boolean;
  readonly outcome: AgentCallOutcome;
  readonly turns: Array<{ readonly seq: number; readonly outcome: TurnOutcome; readonly sentiment: Sentiment; readonly at: string }>;
}

export function summarizeAgentCall(turns: readonly AgentTurn[], live: boolean): AgentCallSummary {
  const outcome: AgentCallOutcome = turns.some((t) => t.outcome === 'transferred')
    ? 'transferred'
    : live
      ? 'in_progress'
      : turns.some((t) => t.outcome === 'answered')
        ? 'resolved_by_bot'
        : 'abandoned';
  return {
    live,
    outcome,
    turns: turns.map((t) => ({ seq: t.seq, outcome: t.outcome, sentiment: { sentiment: t.sentiment.sentiment, score: t.sentiment.score }, at: t.createdAt.toISOString() })),
  };
}
