/** Per-turn latencies of the AI agent in Prometheus (the names LiveKit agents reports), and calls in progress. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { TurnMetrics, TurnOutcome } from '../domain/agents/agentTurn.js';

const buckets = [0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8];

export class AgentMetrics {
  readonly #h: Record<keyof TurnMetrics, Histogram>;
  readonly turns: Counter<'outcome'>;
  readonly sessions: Gauge;
  readonly bargeInStopMs: Histogram;

  constructor(registry: Registry) {
    const h = (name: string, help: string) => new Histogram({ name, help, buckets, registers: [registry] });
    this.#h = {
      eouDelayMs: h('parley_agent_eou_delay_seconds', 'End of the caller\'s speech to the end-of-turn decision'),
      sttMs: h('parley_agent_stt_seconds', 'Recognition of the caller\'s utterance'),
      llmTtftMs: h('parley_agent_llm_ttft_seconds', 'Language model time to first token'),
      llmMs: h('parley_agent_llm_seconds', 'Language model time to the whole reply'),
      ttsTtfbMs: h('parley_agent_tts_ttfb_seconds', 'Speech synthesis time to first audio'),
      voiceToVoiceMs: h('parley_agent_voice_to_voice_seconds', 'End of the caller\'s speech to the bot\'s first audio packet'),
    };
    this.turns = new Counter({ name: 'parley_agent_turns_total', help: 'Agent turns by outcome', labelNames: ['outcome'] as const, registers: [registry] });
    this.sessions = new Gauge({ name: 'parley_agent_sessions', help: 'AI agent calls in progress', registers: [registry] });
    this.bargeInStopMs = new Histogram({ name: 'parley_agent_barge_in_stop_seconds', help: 'Caller speech detected to the bot\'s last packet', buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5], registers: [registry] });
  }

  observeTurn(m: TurnMetrics, outcome: TurnOutcome): void {
    for (const [k, v] of Object.entries(m) as Array<[keyof TurnMetrics, number | undefined]>) if (v !== undefined) this.#h[k].observe(v / 1000);
    this.turns.inc({ outcome });
  }
}
