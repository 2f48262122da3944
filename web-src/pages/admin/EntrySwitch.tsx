/**
 * An entry point's inherit / on / off switch on its dashboard card: live captions (issue 10 §4,
 * PATCH /api/v1/entry-points/:id) and recording (issue 12, PUT /api/v1/entry-points/:id/recording)
 * are the same control. `inherit` follows the server's default (CAPTIONS_CONSULTATIONS,
 * RECORD_CONSULTATIONS). Admins change it; the server decides and answers with what it kept,
 * which the control then shows (a failed save goes back to the value before).
 */
import { useSignal, type Signal } from '@preact/signals';
import type { JSX } from 'preact';
import { text } from '../../ui/i18n.js';

export type EntrySetting = 'inherit' | 'on' | 'off';
export const entrySettings: readonly EntrySetting[] = ['inherit', 'on', 'off'];

/** Which switch: its sentences, and the class / data attribute / id prefix the card and tests use. */
export type EntrySwitchKind = 'captions' | 'recording';

/** The three choices as <option>s, in the page's language. */
export function EntrySettingOptions(props: { kind: EntrySwitchKind }): JSX.Element {
  const t = props.kind === 'captions' ? text.value.entryCaptions : text.value.entryRecording;
  return (
    <>
      {entrySettings.map((s) => (
        <option key={s} value={s}>
          {t[s]}
        </option>
      ))}
    </>
  );
}

/**
 * A card setting the server decides: `send` shows the choice at once, then what the server kept
 * (`settled` with it), or the value before on failure; `state` says which, for the card's sentence.
 */
export type SaveState = 'idle' | 'saving' | 'saved' | 'failed';
export function useServerSetting<T>(initial: T, save: (v: T) => Promise<T>, settled: (v: T) => void = () => undefined): { value: Signal<T>; state: Signal<SaveState>; send(next: T): void } {
  const value = useSignal(initial);
  const state = useSignal<SaveState>('idle');
  const send = (next: T): void => {
    const before = value.value;
    value.value = next;
    state.value = 'saving';
    save(next).then(
      (kept) => {
        value.value = kept;
        settled(kept);
        state.value = 'saved';
      },
      () => {
        value.value = before;
        settled(before);
        state.value = 'failed';
      },
    );
  };
  return { value, state, send };
}

/** One entry card's switch; `save` sends it and resolves with what the server kept. */
export function EntrySwitch(props: { kind: EntrySwitchKind; entryId: string; value: EntrySetting; save(v: EntrySetting): Promise<EntrySetting> }): JSX.Element {
  const kind = props.kind;
  const t = kind === 'captions' ? text.value.entryCaptions : text.value.entryRecording;
  const note = kind === 'recording' ? text.value.entryRecording.consentOnly : undefined;
  const { value, state, send } = useServerSetting(props.value, props.save);
  const id = `entry-${kind}-${props.entryId}`;
  const onChange = (e: Event): void => send((e.currentTarget as HTMLSelectElement).value as EntrySetting);
  const data = { [`data-${kind}`]: value.value };
  return (
    <div class={`entry-${kind} row`} {...data}>
      <label for={id}>{t.label}</label>
      <select id={id} class={`entry-${kind}-select`} value={value.value} disabled={state.value === 'saving'} onChange={onChange}>
        <EntrySettingOptions kind={kind} />
      </select>
      {note && <span class="muted consent-note">{note}</span>}
      {state.value === 'saved' && <span class="muted saved" role="status">{t.saved}</span>}
      {state.value === 'failed' && <span class="inline-error" role="alert">{t.failed}</span>}
    </div>
  );
}
