/** The AI agent's turns on SQLite and PostgreSQL; `seq` counts within a call (unique, retried on a race). */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { sentimentOf } from '../ai/sentiment.js';
import type { AgentTurn, AgentTurnStore, NewAgentTurn, TurnMetrics, TurnOutcome } from '../domain/agents/agentTurn.js';
import { toDate, type AgentTurnsTable, type Database } from './schema.js';

function toTurn(r: AgentTurnsTable): AgentTurn {
  const s = sentimentOf(Number(r.sentiment_score));
  return {
    id: r.id,
    callId: r.call_id,
    seq: Number(r.seq),
    userMessage: r.user_message,
    aiResponse: r.ai_response,
    language: r.language,
    sentiment: { sentiment: r.sentiment as typeof s.sentiment, score: s.score },
    outcome: r.outcome as TurnOutcome,
    engine: r.engine,
    metrics: JSON.parse(r.metrics) as TurnMetrics,
    createdAt: toDate(r.created_at),
  };
}

export class AgentTurnRepository implements AgentTurnStore {
  constructor(private readonly db: Kysely<Database>) {}

  async add(t: NewAgentTurn): Promise<AgentTurn> {
    for (let attempt = 0; ; attempt++) {
      const last = await this.db.selectFrom('agent_turns').select((eb) => eb.fn.max('seq').as('seq')).where('call_id', '=', t.callId).executeTakeFirst();
      const row: AgentTurnsTable = {
        id: randomUUID(),
        call_id: t.callId,
        seq: Number(last?.seq ?? 0) + 1,
        user_message: t.userMessage,
        ai_response: t.aiResponse,
        language: t.language,
        sentiment: t.sentiment.sentiment,
        sentiment_score: t.sentiment.score,
        outcome: t.outcome,
        engine: t.engine,
        metrics: JSON.stringify(t.metrics),
        created_at: new Date().toISOString(),
      };
      try {
        await this.db.insertInto('agent_turns').values(row).execute();
        return toTurn(row);
      } catch (e) {
        // Two turns of one call at once took the same seq: the unique constraint refused one; take the next.
        if (attempt >= 3) throw e;
      }
    }
  }

  async forCall(callId: string, limit?: number): Promise<AgentTurn[]> {
    let q = this.db.selectFrom('agent_turns').selectAll().where('call_id', '=', callId).orderBy('seq', 'desc');
    if (limit !== undefined) q = q.limit(limit);
    return (await q.execute()).map(toTurn).reverse();
  }
}
