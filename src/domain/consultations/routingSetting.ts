/**
 * Who answers an entry point's calls (issue 11): `human` — the agents' queue; `ai_first` — the AI assistant, which
 * hands the caller to the queue when asked (or when it cannot answer); `ai_overflow` — the queue, and the assistant
 * takes the call when no agent is available or none answered within `overflowAfterSeconds`.
 */
export const entryPointRoutings = ['human', 'ai_first', 'ai_overflow'] as const;
export type EntryPointRouting = (typeof entryPointRoutings)[number];

export interface EntryPointAiSettings {
  routing: EntryPointRouting;
  /** ai_overflow: seconds a call waits for an agent before the assistant takes it (0: at once). */
  overflowAfterSeconds: number;
  /** The assistant's system prompt for this entry point (seed 001's `systemPrompt`); null: the server's default. */
  systemPrompt: string | null;
}

/** An AI conversation's outcome: the bot finished it, handed it to a person, or the caller left first. */
export const aiOutcomes = ['resolved_by_bot', 'transferred', 'abandoned'] as const;
export type AiOutcome = (typeof aiOutcomes)[number];
