/**
 * The dashboard's live board (#live): the queue's figures, agents with their state and time in
 * state, and the live calls with Listen / Whisper / Barge. A thin view over the `/admin` socket's
 * `board` (the dashboard sets `liveBoard`); tables, badges and timers are the shared components.
 */
import { signal } from '@preact/signals';
import type { JSX } from 'preact';
import type { Board } from '../../../src/domain/consultations/consultationView.js';
import { Badge, DataTable, Timer, type Column } from '../../ui/components.js';
import { formatDateTime } from '../../ui/format.js';
import { text } from '../../ui/i18n.js';
import { SuperviseButtons } from '../supervisePanel.js';
import { LiveSentiment } from './LiveSentiment.js';

type BoardAgent = Board['agents'][number];
type BoardLive = Board['live'][number];

/** The last board and when it arrived (the longest wait counts on from then). */
export const liveBoard = signal<{ board: Board; receivedAt: number } | undefined>(undefined);

const ms = (iso: string | null | undefined): number | undefined => {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) ? t : undefined;
};

function Since(props: { iso: string | null | undefined; prefix?: string }): JSX.Element {
  const from = ms(props.iso);
  if (from === undefined) return <>—</>;
  return <Timer from={from} format={props.prefix ? (clock) => `${props.prefix}${clock}` : undefined} />;
}

const supervisable = (c: BoardLive): boolean => c.status === 'IN_PROGRESS' || c.status === 'CONNECTING';

export function LiveBoard(): JSX.Element | null {
  const cur = liveBoard.value;
  const t = text.value;
  const st = t.static;
  const codes = t.codes;
  if (!cur) return null;
  const b = cur.board;
  const go = (id: string) => () => (location.hash = `#call/${id}`);
  const agentColumns: Column<BoardAgent>[] = [
    {
      key: 'name',
      label: st['name'] ?? '',
      cell: (a) => (
        <>
          {a.name}
          {a.accountStatus !== 'active' && <span class="muted"> ({t.dash.accountStatus[a.accountStatus] ?? a.accountStatus})</span>}
        </>
      ),
    },
    { key: 'email', label: st['email'] ?? '', cell: (a) => a.email },
    { key: 'state', label: st['state'] ?? '', cell: (a) => <Badge label={codes.agentState[a.state] ?? a.state} code={a.state} /> },
    { key: 'since', label: st['since'] ?? '', cell: (a) => <Since iso={a.since} prefix={t.admin.forPrefix} /> },
    {
      key: 'consultation',
      label: st['consultation'] ?? '',
      cell: (a) =>
        a.consultationId ? (
          <a href={`#call/${a.consultationId}`} data-consultation-id={a.consultationId}>
            {b.live.find((l) => l.id === a.consultationId)?.customerName || t.dash.viewCall}
          </a>
        ) : (
          '—'
        ),
    },
  ];
  const liveColumns: Column<BoardLive>[] = [
    { key: 'customer', label: st['customer'] ?? '', cell: (c) => <a href={`#call/${c.id}`}>{c.customerName || t.dash.noName}</a> },
    {
      key: 'agent',
      label: st['agent'] ?? '',
      // With the AI assistant on the line: says so (and the row's data-assistant tells its state).
      cell: (c) => <span data-assistant={c.assistant ?? ''}>{c.agent?.name ?? (c.assistant ? t.aiOutcome.label : '—')}</span>,
    },
    { key: 'status', label: st['status'] ?? '', cell: (c) => <Badge label={codes.status[c.status] ?? c.status} code={c.status} /> },
    { key: 'duration', label: st['duration'] ?? '', cell: (c) => <Since iso={c.connectedAt ?? c.createdAt} /> },
    {
      key: 'supervise',
      label: st['supervise'] ?? '',
      cell: (c) => (
        <span onClick={(ev) => ev.stopPropagation()}>
          {supervisable(c) && <SuperviseButtons consultationId={c.id} customerName={c.customerName || t.dash.noName} />}
          {/* With the AI assistant: the caller's latest sentiment. */}
          <div class="sentiment-cell">
            <LiveSentiment consultationId={c.id} />
          </div>
        </span>
      ),
    },
  ];
  const agents = [...b.agents].sort((a, z) => a.name.localeCompare(z.name));
  return (
    <>
      <div class="stats">
        <Stat label={st['waiting-in-queue'] ?? ''} id="queue-length" value={String(b.queue.length)} />
        <div class="card stat">
          <div class="muted">{st['longest-wait']}</div>
          <div id="queue-longest" class="value">
            {b.queue.length > 0 ? <Timer from={cur.receivedAt - b.queue.longestWaitSeconds * 1000} /> : '0:00'}
          </div>
        </div>
        <Stat label={st['live-calls'] ?? ''} id="live-count" value={String(b.live.length)} />
        <Stat label={st['agents-available'] ?? ''} id="available-count" value={String(b.agents.filter((a) => a.state === 'available').length)} />
      </div>
      <div class="card">
        <h2>{st['agents']}</h2>
        <DataTable
          bodyId="board-agents"
          columns={agentColumns}
          rows={agents}
          rowKey={(a) => a.id}
          empty={t.admin.noAgents}
          rowProps={(a) => ({ 'data-agent-id': a.id, 'data-state': a.state, class: a.accountStatus !== 'active' ? 'inactive' : undefined })}
        />
      </div>
      <div class="card">
        <h2>{st['live-calls']}</h2>
        <DataTable
          bodyId="board-live"
          columns={liveColumns}
          rows={b.live}
          rowKey={(c) => c.id}
          empty={t.admin.noLive}
          rowProps={(c) => ({ 'data-consultation-id': c.id, 'data-status': c.status, class: 'clickable', onClick: go(c.id) })}
        />
        <p id="board-updated" class="muted">
          {t.admin.updated(formatDateTime(b.at))}
        </p>
      </div>
    </>
  );
}

function Stat(props: { label: string; id: string; value: string }): JSX.Element {
  return (
    <div class="card stat">
      <div class="muted">{props.label}</div>
      <div id={props.id} class="value num">
        {props.value}
      </div>
    </div>
  );
}
