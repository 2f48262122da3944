/**
 * Phone numbers formatted for the page's language. libphonenumber-js (≈ 130 KB with its
 * metadata) loads lazily, as a split chunk, the first time a page asks for it
 * (`loadPhoneFormat()`); until then Korean numbers — the default region — are formatted by the
 * small rules below, and other numbers keep their E.164 digits grouped after the country code.
 * `formatPhone` reads the `phoneFormatReady` signal, so a Preact view re-renders once it loads.
 */
import { signal } from '@preact/signals';
import { locale } from './i18n.js';

type Parse = typeof import('libphonenumber-js').parsePhoneNumberFromString;

let parse: Parse | undefined;
let loading: Promise<void> | undefined;
/** True once libphonenumber-js is loaded (views that read formatPhone re-render then). */
export const phoneFormatReady = signal(false);

/** Loads libphonenumber-js once; resolves (never rejects) when it is there or could not load. */
export function loadPhoneFormat(): Promise<void> {
  loading ??= import('libphonenumber-js')
    .then((m) => {
      parse = m.parsePhoneNumberFromString;
      phoneFormatReady.value = true;
    })
    .catch(() => undefined);
  return loading;
}

/** A Korean number's national digits ("01012345678", "0212345678") grouped as Koreans write them, or undefined. */
export function koreanNational(national: string): string | undefined {
  const d = national;
  if (/^01[016789]\d{7,8}$/.test(d)) return `${d.slice(0, 3)}-${d.slice(3, d.length - 4)}-${d.slice(-4)}`;
  if (/^02\d{7,8}$/.test(d)) return `02-${d.slice(2, d.length - 4)}-${d.slice(-4)}`;
  if (/^0[3-7]\d\d{7,8}$/.test(d)) return `${d.slice(0, 3)}-${d.slice(3, d.length - 4)}-${d.slice(-4)}`;
  if (/^1[568]\d{6}$/.test(d)) return `${d.slice(0, 4)}-${d.slice(4)}`;
  return undefined;
}

/** Without libphonenumber-js: Korean numbers by the rules above, others left as written. */
function fallback(raw: string): string {
  const digits = raw.replace(/[\s().-]/g, '');
  const national = digits.startsWith('+82') ? `0${digits.slice(3).replace(/^0/, '')}` : /^0\d+$/.test(digits) ? digits : undefined;
  if (!national) return raw;
  const kr = koreanNational(national);
  if (!kr) return raw;
  return locale.value === 'ko-KR' ? kr : `+82 ${kr.slice(1).replace(/-/g, ' ')}`;
}

/** "010-1234-5678" for a Korean number read in Korean, "+82 10 1234 5678" otherwise; raw text if it does not parse. */
export function formatPhone(raw: string | null | undefined, defaultRegion: 'KR' | 'US' = 'KR'): string {
  if (!raw) return '–';
  void phoneFormatReady.value; // subscribe: re-render once the full formatter is here
  if (!parse) {
    void loadPhoneFormat();
    return fallback(raw);
  }
  const p = parse(raw, defaultRegion);
  if (!p || !p.isPossible()) return raw;
  return p.country === 'KR' && locale.value === 'ko-KR' ? p.formatNational() : p.formatInternational();
}

/** A timeline event's detail with its phone number (`phone`) formatted, for the sentence tables. */
export function withFormattedPhone<D extends Record<string, unknown> | null>(detail: D): D {
  if (!detail || typeof detail.phone !== 'string') return detail;
  return { ...detail, phone: formatPhone(detail.phone) };
}
