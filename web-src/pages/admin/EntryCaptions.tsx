/**
 * An entry point's caption setting on the dashboard (issue 10 §4): the choice in the "New QR
 * entry point" form, and a control on each entry card that changes it (admins only; the
 * server decides). `inherit` follows the server's default (CAPTIONS_CONSULTATIONS).
 */
import { signal, useSignal } from '@preact/signals';
import type { JSX } from 'preact';
import { text } from '../../ui/i18n.js';

export type CaptionsSetting = 'inherit' | 'on' | 'off';
const settings: readonly CaptionsSetting[] = ['inherit', 'on', 'off'];

/** What the create form sends as `captions`. */
export const newEntryCaptions = signal<CaptionsSetting>('inherit');

function Options(): JSX.Element {
  const t = text.value.entryCaptions;
  return (
    <>
      {settings.map((s) => (
        <option key={s} value={s}>
          {t[s]}
        </option>
      ))}
    </>
  );
}

/** The field of the create form. */
export function NewEntryCaptions(): JSX.Element {
  return (
    <div>
      <label for="entry-captions">{text.value.entryCaptions.label}</label>
      <select id="entry-captions" value={newEntryCaptions.value} onChange={(e) => (newEntryCaptions.value = (e.currentTarget as HTMLSelectElement).value as CaptionsSetting)}>
        <Options />
      </select>
    </div>
  );
}

/** One entry card's setting; `save` sends it (PATCH) and resolves with what the server kept. */
export function EntryCaptionsControl(props: { entryId: string; value: CaptionsSetting; save(captions: CaptionsSetting): Promise<CaptionsSetting> }): JSX.Element {
  const t = text.value.entryCaptions;
  const value = useSignal(props.value);
  const state = useSignal<'idle' | 'saving' | 'saved' | 'failed'>('idle');
  const id = `entry-captions-${props.entryId}`;
  const onChange = (e: Event): void => {
    const next = (e.currentTarget as HTMLSelectElement).value as CaptionsSetting;
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
    <div class="entry-captions row" data-captions={value.value}>
      <label for={id}>{t.label}</label>
      <select id={id} class="entry-captions-select" value={value.value} disabled={state.value === 'saving'} onChange={onChange}>
        <Options />
      </select>
      {state.value === 'saved' && <span class="muted saved" role="status">{t.saved}</span>}
      {state.value === 'failed' && <span class="inline-error" role="alert">{t.failed}</span>}
    </div>
  );
}
