/**
 * The call's recording state, shown to both sides (the customer page and the agent console):
 * from the `recording` push on /consult. Nothing is shown until the server says a recording runs.
 */
import { signal } from '@preact/signals';
import type { JSX } from 'preact';
import type { ConsultPush } from '../client/consult.js';
import { text } from '../ui/i18n.js';

export type RecordingPush = ConsultPush<'recording'>;

/** The last `recording` push of the current call; null when none (or a new call began). */
export const recordingState = signal<RecordingPush | null>(null);

export function RecordingState(): JSX.Element | null {
  const r = recordingState.value;
  if (!r) return null;
  const t = text.value.recording;
  const sentence = r.status === 'recording' ? t.on : r.status === 'finalizing' ? t.finalizing : r.status === 'ready' ? t.ready : t.failed;
  const tone = r.status === 'failed' ? 'warn' : 'info';
  return (
    <div id="recording-banner" class={`banner ${tone} recording-${r.status}`} role="status" data-status={r.status}>
      {r.status === 'recording' && <span class="rec-dot" aria-hidden="true" />}
      {sentence}
    </div>
  );
}
