/**
 * Dates, times and durations in the page's language (Intl); phone numbers are in phone.ts
 * (libphonenumber-js's metadata is 80 KB: only pages that show numbers load it).
 */
import { locale } from './i18n.js';

type When = string | number | Date | null | undefined;

function toDate(t: When): Date | undefined {
  if (t === null || t === undefined) return undefined;
  const d = t instanceof Date ? t : new Date(typeof t === 'number' ? t : Date.parse(t));
  return Number.isFinite(d.getTime()) ? d : undefined;
}

/** "3:07 PM" today, "Dec 1, 3:07 PM" another day (ko: "오후 3:07", "12월 1일 오후 3:07"). */
export function formatWhen(t: When, now = new Date()): string {
  const d = toDate(t);
  if (!d) return '–';
  const sameDay = d.toDateString() === now.toDateString();
  return new Intl.DateTimeFormat(locale.value, sameDay ? { hour: 'numeric', minute: '2-digit' } : { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' }).format(d);
}

export function formatDate(t: When): string {
  const d = toDate(t);
  return d ? new Intl.DateTimeFormat(locale.value, { dateStyle: 'medium' }).format(d) : '–';
}

export function formatDateTime(t: When): string {
  const d = toDate(t);
  return d ? new Intl.DateTimeFormat(locale.value, { dateStyle: 'medium', timeStyle: 'short' }).format(d) : '–';
}

/** A clock-style duration, "3:07" / "1:02:03" (the same in both languages). */
export function formatClock(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** A spoken duration: "2 min 5 sec" / "2분 5초" (Intl units, narrow where the language prefers). */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  const unit = (n: number, u: 'hour' | 'minute' | 'second'): string => new Intl.NumberFormat(locale.value, { style: 'unit', unit: u, unitDisplay: 'short' }).format(n);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const parts: string[] = [];
  if (h) parts.push(unit(h, 'hour'));
  if (m) parts.push(unit(m, 'minute'));
  if (sec || parts.length === 0) parts.push(unit(sec, 'second'));
  return parts.join(' ');
}
