/**
 * The page language: Korean when the browser asks for it first (navigator.languages), English
 * otherwise; the header's switch overrides that and is remembered (localStorage). `text` is the
 * table of the current language; `lang` is a signal, so Preact views re-render on a switch and
 * plain DOM code subscribes with `onLanguage`.
 */
import { computed, effect, signal, untracked } from '@preact/signals';
import { en, type UiText } from './text/en.js';
import { ko } from './text/ko.js';

export type Lang = 'en' | 'ko';
export const LANGS: readonly Lang[] = ['ko', 'en'];
const STORAGE_KEY = 'parley.lang';

/** The first of the browser's languages that Parley has, else English. */
export function detectLang(languages: readonly string[] = navigator.languages ?? [navigator.language]): Lang {
  for (const l of languages) {
    const base = l.toLowerCase().split('-')[0];
    if (base === 'ko') return 'ko';
    if (base === 'en') return 'en';
  }
  return 'en';
}

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === 'en' || saved === 'ko') return saved;
  } catch {
    /* storage blocked: use the browser's choice */
  }
  return detectLang();
}

export const lang = signal<Lang>(initialLang());
export const text = computed<UiText>(() => (lang.value === 'ko' ? ko : en));
/** The BCP 47 tag for Intl formatters. */
export const locale = computed(() => (lang.value === 'ko' ? 'ko-KR' : 'en-US'));

export function tables(): Record<Lang, UiText> {
  return { en, ko };
}

export function setLang(next: Lang): void {
  lang.value = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    /* not remembered, still switched */
  }
}

/** Sets the fixed texts of the page (`data-i18n` keys) and `<html lang>`. */
export function applyStaticText(root: ParentNode = document): void {
  const table = text.value.static;
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n]')) {
    const value = table[el.dataset.i18n!];
    if (value !== undefined) el.textContent = value;
  }
  // Attributes a person reads too: data-i18n-placeholder / -title / -aria-label / -alt="key".
  for (const attr of ['placeholder', 'title', 'aria-label', 'alt'] as const) {
    for (const el of root.querySelectorAll<HTMLElement>(`[data-i18n-${attr}]`)) {
      const value = table[el.getAttribute(`data-i18n-${attr}`)!];
      if (value !== undefined) el.setAttribute(attr, value);
    }
  }
  document.documentElement.lang = lang.value;
}

/** Runs `fn` now and on every language switch; returns the unsubscribe. */
export function onLanguage(fn: (t: UiText, l: Lang) => void): () => void {
  return effect(() => {
    const t = text.value;
    const l = lang.value;
    untracked(() => fn(t, l));
  });
}
