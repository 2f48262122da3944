/**
 * The agent console's own call history: the last calls, a click opens a row's notes, timeline
 * and transcript. A thin view over what the console fetched (`consoleHistory`); the detail
 * loads itself with the agent's token. Dates, durations and phone numbers in the page's language.
 */
import { signal, useSignal, useSignalEffect } from '@preact/signals';
import type { JSX } from 'preact';
import type { ConsultationDetailView, ConsultationView } from '../../../src/domain/consultations/consultationView.js';
import { call } from '../../client/rest.js';
import { causeSentence } from '../../lib/consultationText.js';
import { Badge, DataTable, type Column } from '../../ui/components.js';
import { formatClock, formatWhen } from '../../ui/format.js';
import { text } from '../../ui/i18n.js';
import { formatPhone, withFormattedPhone } from '../../ui/phone.js';
import { CallTranscript } from './CallTranscript.js';

export type HistoryState = { state: 'loading' } | { state: 'failed' } | { state: 'ready'; rows: ConsultationView[] };

export const consoleHistory = signal<HistoryState>({ state: 'loading' });
/** The agent's access token (the detail and transcript are read with it). */
export const historyToken = signal<string | undefined>(undefined);
const open = signal<ReadonlySet<string>>(new Set());

const when = (t: string | null | undefined): string => {
  const ms = t ? Date.parse(t) : NaN;
  return Number.isFinite(ms) ? formatWhen(ms) : '–';
};

function toggle(id: string): void {
  const next = new Set(open.value);
  if (next.has(id)) next.delete(id);
  else next.add(id);
  open.value = next;
}

export function ConsoleHistory(): JSX.Element {
  const t = text.value;
  const T = t.console;
  const st = t.static;
  const codes = t.codes;
  const h = consoleHistory.value;
  const columns: Column<ConsultationView>[] = [
    { key: 'time', label: st['time'] ?? '', cell: (c) => when(c.createdAt) },
    {
      key: 'customer',
      label: st['customer'] ?? '',
      cell: (c) => (
        <>
          {c.customer?.name ?? '–'}
          <div class="muted phone">{formatPhone(c.customer?.phone)}</div>
        </>
      ),
    },
    { key: 'status', label: st['status'] ?? '', cell: (c) => <span class={`badge ${c.status}`} data-status={c.status}>{codes.status[c.status] ?? c.status}</span> },
    { key: 'duration', label: st['duration'] ?? '', cell: (c) => (c.durationSeconds !== null && c.durationSeconds !== undefined ? formatClock(c.durationSeconds) : '–') },
    {
      key: 'notes',
      label: st['notes'] ?? '',
      cell: (c) =>
        c.disposition ? <Badge label={codes.dispositions[c.disposition] ?? c.disposition} /> : c.callback ? <Badge label={T.callBack} code="ringing" /> : <span class="muted">{T.show}</span>,
    },
  ];
  return (
    <DataTable
      bodyId="history"
      columns={columns}
      rows={h.state === 'ready' ? h.rows : []}
      rowKey={(c) => c.id}
      empty={h.state === 'failed' ? T.historyFailed : h.state === 'loading' ? T.loading : T.noHistory}
      rowProps={(c) => ({ class: 'row-link', 'data-consultation-id': c.id, title: T.showDetail, onClick: () => toggle(c.id) })}
      after={(c) =>
        open.value.has(c.id) ? (
          <tr data-detail-for={c.id}>
            <td colSpan={columns.length} class="detail-cell">
              <HistoryDetail id={c.id} />
            </td>
          </tr>
        ) : null
      }
    />
  );
}

type Detail = { state: 'loading' } | { state: 'failed' } | { state: 'ready'; d: ConsultationDetailView };

function HistoryDetail(props: { id: string }): JSX.Element {
  const loaded = useSignal<Detail>({ state: 'loading' });
  useSignalEffect(() => {
    const token = historyToken.value;
    let live = true;
    call('consultation', { params: { id: props.id }, token }).then(
      (r) => live && (loaded.value = { state: 'ready', d: r.consultation }),
      () => live && (loaded.value = { state: 'failed' }),
    );
    return () => {
      live = false;
    };
  });
  const T = text.value.console;
  const codes = text.value.codes;
  const l = loaded.value;
  if (l.state === 'loading') return <span class="muted">{T.loading}</span>;
  if (l.state === 'failed') return <span class="error">{T.detailFailed}</span>;
  const d = l.d;
  const notes = d.notes ?? [];
  const ms = (at: string): number => Date.parse(at) || 0;
  const timeline = [
    ...(d.transitions ?? []).map((x) => ({ at: x.at, text: codes.transition(x.to, x.cause) })),
    ...(d.events ?? []).map((e) => ({ at: e.at, text: codes.event(e.type, withFormattedPhone(e.detail)) })),
  ].sort((a, b) => ms(a.at) - ms(b.at));
  const entry = !d.entryPoint ? '–' : typeof d.entryPoint === 'string' ? d.entryPoint : d.entryPoint.name;
  return (
    <>
      <div class="detail">
        <dl class="kv">
          <dt>{T.inquiry}</dt>
          <dd>{d.inquiry || '–'}</dd>
          <dt>{T.entryPoint}</dt>
          <dd>{entry}</dd>
          <dt>{T.waited}</dt>
          <dd>{d.waitSeconds !== null && d.waitSeconds !== undefined ? formatClock(d.waitSeconds) : '–'}</dd>
          <dt>{T.outcome}</dt>
          <dd>{`${codes.status[d.status] ?? ''}. ${causeSentence(codes, d.failureCause)}`.trim()}</dd>
          {d.callback && (
            <>
              <dt>{T.callBack}</dt>
              <dd class="callback">{T.callbackAsked(formatPhone(d.callback.phone), when(d.callback.requestedAt))}</dd>
            </>
          )}
        </dl>
        <strong>{T.notesTitle}</strong>
        {notes.length ? (
          <ul class="notes">
            {notes.map((n) => (
              <li key={n.id}>
                <span class="muted">{`${when(n.createdAt)} · ${n.authorName}${n.disposition ? ` · ${codes.dispositions[n.disposition] ?? n.disposition}` : ''}: `}</span>
                {n.body}
              </li>
            ))}
          </ul>
        ) : (
          <div class="muted">{T.noNotes}</div>
        )}
        <strong>{T.timeline}</strong>
        {timeline.length ? (
          <ol class="timeline">
            {timeline.map((x, i) => (
              <li key={i}>
                <span class="muted">{when(x.at)}</span> {x.text}
              </li>
            ))}
          </ol>
        ) : (
          <div class="muted">–</div>
        )}
      </div>
      <div class="detail-transcript">{historyToken.value && <CallTranscript consultationId={props.id} token={historyToken.value} />}</div>
    </>
  );
}
