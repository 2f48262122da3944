/** Phone numbers formatted for the page's language (libphonenumber-js). */
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { locale } from './i18n.js';

/** "010-1234-5678" for a Korean number read in Korean, "+82 10-1234-5678" otherwise; raw text if it does not parse. */
export function formatPhone(raw: string | null | undefined, defaultRegion: 'KR' | 'US' = 'KR'): string {
  if (!raw) return '–';
  const p = parsePhoneNumberFromString(raw, defaultRegion);
  if (!p || !p.isPossible()) return raw;
  return p.country === 'KR' && locale.value === 'ko-KR' ? p.formatNational() : p.formatInternational();
}
