/**
 * The admin's call detail (#view-call) as views of two signals: `callDetail` (the consultation,
 * GET /api/v1/consultations/:id, with the names the page knows) and `callTranscript` (its final
 * words, GET …/transcript). The title, summary, timeline, participants, notes and transcript
 * each mount into their element of web/admin/index.html; every label comes from the page's
 * language table, durations are spoken ("2분 5초"), times and phone numbers per locale.
 */
import { signal } from '@preact/signals';
import type { ComponentChildren, JSX } from 'preact';
import type { ConsultationDetailView } from '../../../src/domain/consultations/consultationView.js';
import type { UtteranceJson } from '../../../src/http/routes/transcriptRoutes.js';
import { causeSentence } from '../../lib/consultationText.js';
import { Badge, CaptionText } from '../../ui/components.js';
import { formatClock, formatDuration } from '../../ui/format.js';
import { text } from '../../ui/i18n.js';
import { formatPhone } from '../../ui/phone.js';
import { CallTimeline } from './CallTimeline.js';
import { seekRecording } from './RecordingPlayer.js';
import { fmtTime } from './time.js';

export type CallDetailState =
  | { state: 'none' }
  | { state: 'loading'; id: string }
  | { state: 'failed'; id: string }
  | { state: 'ready'; call: ConsultationDetailView; names: ReadonlyMap<string, string> };

export const callDetail = signal<CallDetailState>({ state: 'none' });

export type TranscriptState = { state: 'none' } | { state: 'loading' } | { state: 'failed' } | { state: 'ready'; utterances: UtteranceJson[] };

export const callTranscript = signal<TranscriptState>({ state: 'none' });

function ready(): { call: ConsultationDetailView; names: ReadonlyMap<string, string> } | undefined {
  const d = callDetail.value;
  return d.state === 'ready' ? d : undefined;
}

/** "Kim Customer · Dec 2, 2026, 1:05 PM" beside the heading (#call-id). */
export function CallTitle(): JSX.Element | null {
  const d = ready();
  if (!d) return null;
  return <>{`${d.call.customer.name || text.value.dash.noName} · ${fmtTime(d.call.createdAt)}`}</>;
}

function seconds(s: number | null | undefined): string {
  return s === null || s === undefined ? '—' : formatDuration(s);
}

/** The <dt>/<dd> pairs of #call-summary. */
export function CallSummary(): JSX.Element {
  const detail = callDetail.value;
  const D = text.value.dash;
  if (detail.state === 'loading') return <dd class="muted">{D.loading}</dd>;
  if (detail.state === 'failed') return <dd class="muted">{D.callFailed}</dd>;
  if (detail.state !== 'ready') return <></>;
  const c = detail.call;
  const F = D.field;
  const codes = text.value.codes;
  const field = (label: string, key: string, value: ComponentChildren): JSX.Element => (
    <>
      <dt>{label}</dt>
      <dd data-field={key} class={key}>
        {value}
      </dd>
    </>
  );
  return (
    <>
      {field(F.customer, 'customer', c.customer.name || D.noName)}
      {field(F.phone, 'phone', c.customer.phone ? formatPhone(c.customer.phone) : '—')}
      {field(F.inquiry, 'inquiry', c.inquiry || '—')}
      {field(F.consent, 'consent', c.recordingConsent ? D.yes : D.no)}
      {field(F.entryPoint, 'entry-point', c.entryPoint ? c.entryPoint.name : '—')}
      {field(F.agent, 'agent', c.agent?.name ?? '—')}
      {field(F.status, 'status', <Badge label={codes.status[c.status] ?? c.status} code={c.status} />)}
      {field(F.why, 'failure-cause', causeSentence(codes, c.failureCause) || '—')}
      {field(F.callback, 'callback', c.callback ? D.callbackAsked(formatPhone(c.callback.phone), fmtTime(c.callback.requestedAt)) : D.no)}
      {field(F.disposition, 'disposition', c.disposition ? (codes.dispositions[c.disposition] ?? c.disposition) : '—')}
      {c.aiOutcome ? field(text.value.aiOutcome.label, 'ai-outcome', text.value.aiOutcome[c.aiOutcome]) : null}
      {field(F.created, 'created', fmtTime(c.createdAt))}
      {field(F.answered, 'answered', fmtTime(c.answeredAt))}
      {field(F.connected, 'connected', fmtTime(c.connectedAt))}
      {field(F.ended, 'ended', fmtTime(c.endedAt))}
      {field(F.wait, 'wait', seconds(c.waitSeconds))}
      {field(F.duration, 'duration', seconds(c.durationSeconds))}
    </>
  );
}

/** The <li>s of #call-timeline. */
export function CallTimelineItems(): JSX.Element | null {
  const d = ready();
  return d ? <CallTimeline call={d.call} names={d.names} /> : null;
}

/** The rows of #call-participants. */
export function CallParticipants(): JSX.Element | null {
  const d = ready();
  if (!d) return null;
  const D = text.value.dash;
  const people = d.call.participants ?? [];
  if (people.length === 0)
    return (
      <tr class="empty">
        <td colSpan={4} class="muted">
          {D.nobodyJoined}
        </td>
      </tr>
    );
  return (
    <>
      {people.map((p, i) => (
        <tr key={`${p.userId ?? p.name}-${i}`} data-role={p.role}>
          <td class="role">{D.participantRole[p.role] ?? p.role}</td>
          <td class="name">{p.name}</td>
          <td>{fmtTime(p.joinedAt)}</td>
          <td>{fmtTime(p.leftAt)}</td>
        </tr>
      ))}
    </>
  );
}

/** The <li>s of #call-notes. */
export function CallNotes(): JSX.Element | null {
  const d = ready();
  if (!d) return null;
  const D = text.value.dash;
  const codes = text.value.codes;
  const notes = d.call.notes ?? [];
  if (notes.length === 0) return <li class="muted empty">{D.noNotes}</li>;
  return (
    <>
      {notes.map((n) => (
        <li key={n.id} data-note-id={n.id}>
          <div class="row">
            <strong class="author">{n.authorName ?? d.names.get(n.authorId) ?? D.unknownAuthor}</strong>
            {n.disposition ? <Badge label={codes.dispositions[n.disposition] ?? n.disposition} code="disposition" /> : null}
            <span class="muted">{fmtTime(n.createdAt)}</span>
          </div>
          <p class="body">{n.body}</p>
        </li>
      ))}
    </>
  );
}

/** The <li>s of #call-transcript: time since the call's start, speaker (and role), the words; a click plays the recording from there. */
export function CallTranscriptLines(): JSX.Element | null {
  const t = callTranscript.value;
  const C = text.value.captions;
  if (t.state === 'none' || t.state === 'loading') return null;
  if (t.state === 'failed' || t.utterances.length === 0) return <li class="muted empty">{C.waiting}</li>;
  const roles = text.value.dash.participantRole;
  return (
    <>
      {t.utterances.map((u) => (
        <li key={u.id} class="final seekable" data-role={u.speaker.role} data-start-ms={String(u.startMs)} onClick={() => seekRecording(u.startMs)}>
          <span class="muted">{`${formatClock(u.startMs / 1000)} `}</span>
          <strong>{u.speaker.name || roles[u.speaker.role] || u.speaker.role}</strong>{' '}
          {u.speaker.name && roles[u.speaker.role] ? <span class="muted">({roles[u.speaker.role]}) </span> : null}
          <CaptionText text={u.text} spans={u.maskedSpans} label={C.masked} />
        </li>
      ))}
    </>
  );
}
