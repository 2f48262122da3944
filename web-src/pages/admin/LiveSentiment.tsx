/**
 * The caller's sentiment, live, on the supervisor's board (issue 11): each AI assistant turn (`agent:turn` on
 * /admin) carries the sentiment of what the caller just said; the live call's row shows the latest, in words.
 */
import { signal } from '@preact/signals';
import type { JSX } from 'preact';
import type { AgentTurnPush } from '../../../src/contracts/admin.js';
import { text } from '../../ui/i18n.js';

/** The latest caller sentiment per consultation. */
export const liveSentiment = signal<ReadonlyMap<string, AgentTurnPush['sentiment'] & { at: number }>>(new Map());

export function onAgentTurn(t: AgentTurnPush): void {
  if (!t.consultationId) return;
  const next = new Map(liveSentiment.value);
  next.set(t.consultationId, { ...t.sentiment, at: Date.now() });
  liveSentiment.value = next;
}

export function LiveSentiment(props: { consultationId: string }): JSX.Element | null {
  const s = liveSentiment.value.get(props.consultationId);
  if (!s) return null;
  const t = text.value.liveSentiment;
  const kind = s.sentiment === 'positive' || s.sentiment === 'negative' ? s.sentiment : 'neutral';
  return (
    <span class={`live-sentiment badge ${kind}`} data-sentiment={kind} title={t.title}>
      {t[kind](Math.round(s.score * 100))}
    </span>
  );
}
