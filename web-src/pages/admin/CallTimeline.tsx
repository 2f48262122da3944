/**
 * A consultation's timeline in the admin's call detail (#call-timeline): status changes and
 * routing events in time order, each a clock time (the full date on hover), a badge and a
 * sentence in the page's language — phone numbers formatted, actors by name, never ids.
 * Rendered into the page's `<ol id="call-timeline">`; re-renders on a language switch.
 */
import type { JSX } from 'preact';
import type { ConsultationDetailView } from '../../../src/domain/consultations/consultationView.js';
import { Badge } from '../../ui/components.js';
import { formatDateTime } from '../../ui/format.js';
import { locale, text } from '../../ui/i18n.js';
import { withFormattedPhone } from '../../ui/phone.js';

/** "13:55:46" in either language (the steps are seconds apart; the full date is the title). */
function clock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return new Intl.DateTimeFormat(locale.value, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(d);
}

export function CallTimeline(props: { call: ConsultationDetailView; names: ReadonlyMap<string, string> }): JSX.Element {
  const codes = text.value.codes;
  const c = props.call;
  type Item = { at: string; order: number; el: JSX.Element };
  const items: Item[] = [];
  (c.transitions ?? []).forEach((t, i) =>
    items.push({
      at: t.at,
      order: i,
      el: (
        <li key={`t${i}`} data-kind="transition" data-to={t.to} data-cause={t.cause}>
          <time dateTime={t.at} title={formatDateTime(t.at)}>
            {clock(t.at)}
          </time>
          <span>
            <Badge label={codes.status[t.to] ?? t.to} code="transition" />
          </span>
          <span>{codes.transition(t.to, t.cause)}</span>
        </li>
      ),
    }),
  );
  (c.events ?? []).forEach((e, i) => {
    const actor = e.actorId ? (props.names.get(e.actorId) ?? '') : '';
    const detail = codes.event(e.type, withFormattedPhone(e.detail));
    items.push({
      at: e.at,
      order: 1000 + i,
      el: (
        <li key={`e${i}`} data-kind="event" data-type={e.type}>
          <time dateTime={e.at} title={formatDateTime(e.at)}>
            {clock(e.at)}
          </time>
          <span>
            <Badge label={codes.eventLabel(e.type)} code="event" />
          </span>
          <span>
            {detail}
            {actor && !detail.includes(actor) && <span class="muted"> ({actor})</span>}
          </span>
        </li>
      ),
    });
  });
  items.sort((a, z) => Date.parse(a.at) - Date.parse(z.at) || a.order - z.order);
  if (items.length === 0) return <li class="muted empty">{text.value.dash.nothingRecorded}</li>;
  return <>{items.map((i) => i.el)}</>;
}
