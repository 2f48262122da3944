/**
 * The admin's live call view of captions (issue 10): what `/admin` pushes as `caption` and
 * `caption-status` for every live consultation, kept per call from the moment the dashboard is
 * connected, and shown in the call detail of a live call — each line labelled by speaker and
 * role, masked words blurred and tagged (their text never reaches the page: the server sends
 * `*`s), and the status sentence when the call has no captions (off, no engine, engine failed).
 * The admin does not have to join the call for this (supervising is pages/supervisePanel.tsx).
 */
import { signal, useComputed } from '@preact/signals';
import type { JSX } from 'preact';
import { useEffect } from 'preact/hooks';
import type { AdminPush } from '../../client/admin.js';
import { CaptionTrack, mergeCaption, type Caption } from '../../ui/components.js';
import type { CaptionStatus } from '../../ui/captionStatus.js';
import { text } from '../../ui/i18n.js';

/** At most this many calls are remembered (the oldest seen goes first). */
const MAX_CALLS = 50;

const byCall = signal<ReadonlyMap<string, Caption[]>>(new Map());
const statusByCall = signal<ReadonlyMap<string, CaptionStatus>>(new Map());

function bounded<V>(map: ReadonlyMap<string, V>, key: string, value: V): Map<string, V> {
  const next = new Map(map);
  next.delete(key);
  next.set(key, value);
  while (next.size > MAX_CALLS) next.delete(next.keys().next().value as string);
  return next;
}

/** `/admin` `caption`: merged into its call's list (interim replaced by the final). */
export function feedAdminCaption(c: AdminPush<'caption'>): void {
  if (!c || typeof c.consultationId !== 'string' || typeof c.utteranceId !== 'string' || typeof c.text !== 'string') return;
  const list = byCall.value.get(c.consultationId) ?? [];
  byCall.value = bounded(byCall.value, c.consultationId, mergeCaption(list, c));
  // A caption means captions work (an engine that failed answers again; the server sends no status for that).
  const s = statusByCall.value.get(c.consultationId);
  if (!s || (!s.available && s.reason === 'engine_failed')) statusByCall.value = bounded(statusByCall.value, c.consultationId, { available: true });
}

/** `/admin` `caption-status` for one call. */
export function feedAdminCaptionStatus(e: AdminPush<'caption-status'>): void {
  if (!e || typeof e.consultationId !== 'string') return;
  const status = toStatus(e);
  if (status) statusByCall.value = bounded(statusByCall.value, e.consultationId, status);
}

const REASONS: readonly string[] = ['off', 'no_engine', 'engine_failed'];

function toStatus(v: AdminPush<'caption-status'>): CaptionStatus | undefined {
  if (v.available) return { available: true };
  return REASONS.includes(v.reason) ? { available: false, reason: v.reason } : undefined;
}

/** Signing out forgets every call's captions. */
export function clearAdminCaptions(): void {
  byCall.value = new Map();
  statusByCall.value = new Map();
}

/** For tests: how many captions the page holds for a call. */
export function adminCaptionCount(consultationId: string): number {
  return byCall.value.get(consultationId)?.length ?? 0;
}

/** Asks the server for a call's last caption-status (`/admin` `captions:status`); set by the dashboard once connected. */
let askStatus: ((consultationId: string) => Promise<AdminPush<'caption-status'> | null>) | undefined;
export function setCaptionStatusSource(ask: typeof askStatus): void {
  askStatus = ask;
}

/** The card in a live call's detail. */
export function LiveCallCaptions(props: { consultationId: string }): JSX.Element {
  // Opened mid-call: the status was announced before this page listened, so ask for it once.
  useEffect(() => {
    if (statusByCall.value.has(props.consultationId) || !askStatus) return;
    askStatus(props.consultationId).then(
      (e) => e && !statusByCall.value.has(props.consultationId) && feedAdminCaptionStatus(e),
      () => undefined,
    );
  }, [props.consultationId]);
  const t = text.value.captions;
  const captions = useComputed(() => byCall.value.get(props.consultationId) ?? []);
  const status = useComputed(() => statusByCall.value.get(props.consultationId));
  const s = status.value;
  return (
    <section class="card live-captions" id="live-captions" data-consultation-id={props.consultationId} data-status={s ? (s.available ? 'on' : s.reason) : 'unknown'}>
      <h2>{t.title}</h2>
      <p class="muted">{t.liveHelp}</p>
      <CaptionTrack captions={captions} status={status} tagMasked withRole />
      {captions.value.length === 0 && !s && <p class="muted small-print">{t.liveSince}</p>}
    </section>
  );
}
