/** The dashboard's absolute and relative times in the page's language (Intl). */
import { formatDateTime } from '../../ui/format.js';
import { locale } from '../../ui/i18n.js';

/** A full date and time, or "—" when there is none. */
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : formatDateTime(d);
}

/** "in 29 days" / "3 hours ago" in the page's language. */
export function relative(iso: string, now = Date.now()): string {
  const ms = Date.parse(iso) - now;
  const abs = Math.abs(ms);
  const unit = abs >= 86_400_000 ? ([86_400_000, 'day'] as const) : abs >= 3_600_000 ? ([3_600_000, 'hour'] as const) : ([60_000, 'minute'] as const);
  const n = Math.max(1, Math.round(abs / unit[0]));
  return new Intl.RelativeTimeFormat(locale.value, { numeric: 'always' }).format(ms >= 0 ? n : -n, unit[1]);
}
