/**
 * An entry point's recording setting on its dashboard card (issue 12): whether consultations
 * that start there are recorded, always only when the customer agreed. `inherit` follows the
 * server's default (RECORD_CONSULTATIONS). Admins change it; the server decides and answers
 * with what it kept (PUT /api/v1/entry-points/:id/recording).
 */
import { useSignal } from '@preact/signals';
import type { JSX } from 'preact';
import { text } from '../../ui/i18n.js';

export type RecordingSetting = 'inherit' | 'on' | 'off';
const settings: readonly RecordingSetting[] = ['inherit', 'on', 'off'];

/** One entry card's setting; `save` sends it and resolves with what the server kept. */
export function EntryRecordingControl(props: { entryId: string; value: RecordingSetting; save(recording: RecordingSetting): Promise<RecordingSetting> }): JSX.Element {
  const t = text.value.entryRecording;
  const value = useSignal(props.value);
  const state = useSignal<'idle' | 'saving' | 'saved' | 'failed'>('idle');
  const id = `entry-recording-${props.entryId}`;
  const onChange = (e: Event): void => {
    const next = (e.currentTarget as HTMLSelectElement).value as RecordingSetting;
    const before = value.value;
    value.value = next;
    state.value = 'saving';
    props.save(next).then(
      (kept) => {
        value.value = kept;
        state.value = 'saved';
      },
      () => {
        value.value = before;
        state.value = 'failed';
      },
    );
  };
  return (
    <div class="entry-recording row" data-recording={value.value}>
      <label for={id}>{t.label}</label>
      <select id={id} class="entry-recording-select" value={value.value} disabled={state.value === 'saving'} onChange={onChange}>
        {settings.map((s) => (
          <option key={s} value={s}>
            {t[s]}
          </option>
        ))}
      </select>
      <span class="muted consent-note">{t.consentOnly}</span>
      {state.value === 'saved' && <span class="muted saved" role="status">{t.saved}</span>}
      {state.value === 'failed' && <span class="inline-error" role="alert">{t.failed}</span>}
    </div>
  );
}
