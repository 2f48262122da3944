/**
 * The caption choice of the dashboard's "New QR entry point" form (issue 10 §4); each entry
 * card changes it afterwards with the shared inherit / on / off switch (EntrySwitch.tsx).
 */
import { signal } from '@preact/signals';
import type { JSX } from 'preact';
import { text } from '../../ui/i18n.js';
import { EntrySettingOptions, type EntrySetting } from './EntrySwitch.js';

/** What the create form sends as `captions`. */
export const newEntryCaptions = signal<EntrySetting>('inherit');

/** The field of the create form. */
export function NewEntryCaptions(): JSX.Element {
  return (
    <div>
      <label for="entry-captions">{text.value.entryCaptions.label}</label>
      <select id="entry-captions" value={newEntryCaptions.value} onChange={(e) => (newEntryCaptions.value = (e.currentTarget as HTMLSelectElement).value as EntrySetting)}>
        <EntrySettingOptions kind="captions" />
      </select>
    </div>
  );
}
