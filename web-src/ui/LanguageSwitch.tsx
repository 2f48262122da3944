/**
 * The header's language switch, the same on every page: Korean or English, remembered
 * (web-src/ui/i18n.ts). A module of its own so that the voice room, which has no other shared
 * component, loads only this.
 */
import type { JSX } from 'preact';
import { LANGS, lang, setLang, text, type Lang } from './i18n.js';

/** The header's language switch (remembered). */
export function LanguageSwitch(): JSX.Element {
  const t = text.value;
  return (
    <label class="lang-switch">
      <span class="sr-only">{t.switchLabel}</span>
      <select id="lang" aria-label={t.switchLabel} value={lang.value} onChange={(e) => setLang((e.currentTarget as HTMLSelectElement).value as Lang)}>
        {LANGS.map((l) => (
          <option key={l} value={l}>
            {l === 'ko' ? '한국어' : 'English'}
          </option>
        ))}
      </select>
    </label>
  );
}

