/**
 * The dashboard's call history table (#history): one row per consultation, click for its
 * detail. A thin view over the rows the dashboard fetched (`historyRows`); dates, durations and
 * phone numbers in the page's language.
 */
import { signal } from '@preact/signals';
import type { JSX } from 'preact';
import type { ConsultationView } from '../../../src/domain/consultations/consultationView.js';
import { causeSentence } from '../../lib/consultationText.js';
import { Badge, DataTable, type Column } from '../../ui/components.js';
import { formatClock, formatDateTime } from '../../ui/format.js';
import { text } from '../../ui/i18n.js';
import { formatPhone } from '../../ui/phone.js';

/** The page of history shown; undefined before the first answer. */
export const historyRows = signal<ConsultationView[] | undefined>(undefined);

const seconds = (s: number | null | undefined): string => (s === null || s === undefined ? '—' : formatClock(s));
const when = (iso: string | null | undefined): string => (iso ? formatDateTime(iso) : '—');

export function HistoryTable(): JSX.Element {
  const t = text.value;
  const st = t.static;
  const D = t.dash;
  const codes = t.codes;
  const columns: Column<ConsultationView>[] = [
    { key: 'created', label: st['created'] ?? '', cell: (c) => when(c.createdAt) },
    { key: 'customer', label: st['customer'] ?? '', cell: (c) => <a href={`#call/${c.id}`}>{c.customer.name || D.noName}</a> },
    { key: 'phone', label: st['phone'] ?? '', cell: (c) => formatPhone(c.customer.phone) },
    { key: 'agent', label: st['agent'] ?? '', cell: (c) => c.agent?.name ?? '—' },
    {
      key: 'status',
      label: st['status'] ?? '',
      cell: (c) => (
        <span title={causeSentence(codes, c.failureCause) || undefined}>
          <Badge label={codes.status[c.status] ?? c.status} code={c.status} />
          {c.callback && <div class="callback">{D.callback(formatPhone(c.callback.phone))}</div>}
          {c.aiOutcome && (
            <div class="ai-outcome" data-ai-outcome={c.aiOutcome}>
              {t.aiOutcome[c.aiOutcome]}
            </div>
          )}
        </span>
      ),
    },
    { key: 'wait', class: 'wait num', label: st['wait'] ?? '', cell: (c) => seconds(c.waitSeconds) },
    { key: 'duration', class: 'duration num', label: st['duration'] ?? '', cell: (c) => seconds(c.durationSeconds) },
    { key: 'disposition', label: st['disposition'] ?? '', cell: (c) => (c.disposition ? (codes.dispositions[c.disposition] ?? c.disposition) : '—') },
  ];
  return (
    <DataTable
      bodyId="history"
      columns={columns}
      rows={historyRows.value ?? []}
      rowKey={(c) => c.id}
      empty={historyRows.value ? D.noMatches : D.loading}
      rowProps={(c) => ({ 'data-consultation-id': c.id, 'data-status': c.status, class: 'clickable', onClick: () => (location.hash = `#call/${c.id}`) })}
    />
  );
}
