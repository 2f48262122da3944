/**
 * Customer landing page (web/c/index.html), opened from a QR code as `/c/?e=<entryToken>`.
 * Entry point → form → queue (/consult) → voice room (/voice, via CallMedia) → ended.
 * Bundled by esbuild into web/c/customer.js. Contract: docs/consultations.md.
 *
 * Tests read `window.parley` = { state, log, errors, media?, peers, consultationId? };
 * state: landing → form → queued → connecting → in-call → ended (or invalid-entry).
 */
import type { Socket } from 'socket.io-client';
import type { CallStatus, ConsultationView, CustomerStatus as StatusEvent } from '../src/domain/consultations/consultationView.js';
import { $, api, ApiError, connect, formatDuration, request } from './lib/api.js';
import { CallMedia, type PeerConnectionView } from './lib/callMedia.js';

export type CustomerState = 'landing' | 'invalid-entry' | 'form' | 'queued' | 'connecting' | 'in-call' | 'ended';

interface EntryInfo {
  entryPoint: { id: string; name: string };
  expiresAt: string;
}

interface CreateAnswer {
  consultation: ConsultationView;
  customerToken: string;
  roomId: string;
}

interface EndedEvent {
  consultationId: string;
  status: CallStatus;
  cause?: string;
}

/** What survives a reload of this tab. */
interface StoredCall {
  customerToken: string;
  consultationId: string;
  roomId: string;
  entryToken: string;
  entryName?: string;
}

export interface CustomerHandle {
  state: CustomerState;
  log: Array<{ event: string; data: unknown; t: number }>;
  errors: string[];
  media?: CallMedia;
  readonly peers: Map<string, PeerConnectionView>;
  consultationId?: string;
  roomId?: string;
}

const STORAGE_KEY = 'parley.customer';
const qs = new URLSearchParams(location.search);
const entryToken = (qs.get('e') ?? '').trim();

const parley: CustomerHandle = {
  state: 'landing',
  log: [],
  errors: [],
  get peers() {
    return this.media?.peers ?? new Map<string, PeerConnectionView>();
  },
};
(window as unknown as { parley: CustomerHandle }).parley = parley;

let socket: Socket | undefined;
let stored: StoredCall | undefined;
let lastStatus: StatusEvent | undefined;
let mediaStarting = false;
let callStartedAt: number | undefined;
let timer: number | undefined;
let endedShown = false;

// ── small helpers ────────────────────────────────────────────────────────────────────

function record(event: string, data: unknown): void {
  parley.log.push({ event, data, t: Date.now() });
  if (parley.log.length > 2000) parley.log.splice(0, parley.log.length - 2000);
}

function errText(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/** Shows a message in #status; errors are also kept in window.parley.errors. */
function showStatus(text: string, kind: 'info' | 'error' | 'warn' = 'info'): void {
  const el = $('status');
  el.textContent = text;
  el.className = `banner ${kind}`;
}

function fail(where: string, err: unknown): void {
  const msg = `${where}: ${errText(err)}`;
  parley.errors.push(msg);
  record('error', { where, message: errText(err) });
  showStatus(errText(err), 'error');
}

const VIEWS = ['view-landing', 'view-invalid', 'view-form', 'view-call', 'view-ended'] as const;

function setState(state: CustomerState): void {
  if (parley.state === state) return;
  parley.state = state;
  document.body.dataset.state = state;
  record('state', { state });
  const view: (typeof VIEWS)[number] =
    state === 'landing' ? 'view-landing' : state === 'invalid-entry' ? 'view-invalid' : state === 'form' ? 'view-form' : state === 'ended' ? 'view-ended' : 'view-call';
  for (const v of VIEWS) $(v).hidden = v !== view;
}

function loadStored(): StoredCall | undefined {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return undefined;
    const v = JSON.parse(raw) as Partial<StoredCall>;
    if (typeof v.customerToken === 'string' && typeof v.consultationId === 'string' && typeof v.roomId === 'string' && typeof v.entryToken === 'string') {
      return { customerToken: v.customerToken, consultationId: v.consultationId, roomId: v.roomId, entryToken: v.entryToken, entryName: v.entryName };
    }
  } catch {
    /* unreadable: start over */
  }
  sessionStorage.removeItem(STORAGE_KEY);
  return undefined;
}

function saveStored(v: StoredCall | undefined): void {
  if (v) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(v));
  else sessionStorage.removeItem(STORAGE_KEY);
}

function describeWait(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '–';
  if (seconds < 60) return '< 1 min';
  return `~${formatDuration(seconds)}`;
}

const CAUSES: Record<string, string> = {
  'hung-up': 'The call was hung up.',
  'customer-hung-up': 'You hung up.',
  'customer-hung-up-before-connect': 'You hung up before an agent answered.',
  'agent-hung-up': 'The agent ended the call.',
  'agent-ended': 'The agent ended the call.',
  'server-restarted': 'The service restarted. Please call again.',
  'no-agent': 'No agent was available. Please try again later.',
  'server-restart': 'The service restarted. Please call again.',
  abandoned: 'The call was abandoned.',
};

// ── landing: entry point ────────────────────────────────────────────────────────────

async function loadEntry(): Promise<void> {
  if (!entryToken) {
    $('invalid-reason').textContent = 'This link has no QR code token in it.';
    showStatus('The link is incomplete: scan the QR code again.', 'error');
    setState('invalid-entry');
    return;
  }
  try {
    const info = await api<EntryInfo>('GET', `/api/v1/entry/${encodeURIComponent(entryToken)}`);
    record('entry', info);
    const name = info?.entryPoint?.name;
    if (typeof name !== 'string') throw new Error('the server sent an unexpected answer');
    $('entry-name').textContent = name;
    document.title = `${name} · Parley`;
    showStatus('', 'info');
    setState('form');
    ($('name') as HTMLInputElement).focus();
  } catch (err) {
    const expired = err instanceof ApiError && (err.status === 401 || err.status === 404 || err.status === 400);
    $('invalid-reason').textContent = expired
      ? err instanceof ApiError && err.status === 404
        ? 'This QR code has been switched off.'
        : 'This QR code has expired or is not valid.'
      : `We could not check this QR code: ${errText(err)}`;
    parley.errors.push(`entry: ${errText(err)}`);
    record('error', { where: 'entry', message: errText(err) });
    showStatus(expired ? 'This QR code cannot be used any more.' : `Could not reach the service: ${errText(err)}`, 'error');
    setState('invalid-entry');
  }
}

// ── form ──────────────────────────────────────────────────────────────────────────────

function formError(text: string, field?: string): void {
  $('form-error').textContent = text;
  if (field) $(field).focus();
}

async function submitForm(ev: Event): Promise<void> {
  ev.preventDefault();
  const name = ($('name') as HTMLInputElement).value.trim();
  const phone = ($('phone') as HTMLInputElement).value.trim();
  const inquiry = ($('inquiry') as HTMLTextAreaElement).value.trim();
  const consent = ($('consent') as HTMLInputElement).checked;
  formError('');
  if (!name) return formError('Please enter your name.', 'name');
  if (!phone) return formError('Please enter your phone number.', 'phone');
  if (!/^\+?[\d\s().-]{5,32}$/.test(phone) || phone.replace(/\D/g, '').length < 5) return formError('Please enter a valid phone number (digits, spaces, + - ( ) only).', 'phone');
  if (!consent) return formError('Please agree that the call is recorded; we cannot call without it.', 'consent');

  const btn = $('call') as HTMLButtonElement;
  btn.disabled = true;
  btn.textContent = 'Calling…';
  try {
    const body: Record<string, unknown> = { entryToken, name, phone, recordingConsent: true };
    if (inquiry) body.inquiry = inquiry;
    const res = await api<CreateAnswer>('POST', '/api/v1/consultations', { body });
    record('created', { consultation: res.consultation, roomId: res.roomId });
    if (!res?.customerToken || !res.consultation?.id) throw new Error('the server sent an unexpected answer');
    stored = {
      customerToken: res.customerToken,
      consultationId: res.consultation.id,
      roomId: res.roomId ?? res.consultation.roomId,
      entryToken,
      entryName: $('entry-name').textContent ?? undefined,
    };
    saveStored(stored);
    parley.consultationId = stored.consultationId;
    parley.roomId = stored.roomId;
    showQueue();
    setState('queued');
    openSocket(stored);
  } catch (err) {
    parley.errors.push(`create: ${errText(err)}`);
    record('error', { where: 'create', message: errText(err) });
    if (err instanceof ApiError && err.status === 401) {
      $('invalid-reason').textContent = 'This QR code has expired. Please scan it again.';
      showStatus(err.message, 'error');
      setState('invalid-entry');
    } else {
      formError(errText(err));
      showStatus(errText(err), 'error');
    }
  } finally {
    btn.disabled = false;
    btn.textContent = 'Call';
  }
}

// ── queue and call ──────────────────────────────────────────────────────────────────

function showQueue(): void {
  $('call-title').textContent = 'Waiting for an agent…';
  $('queue-info').hidden = false;
  $('talk-info').hidden = true;
  ($('mute') as HTMLButtonElement).disabled = true;
}

function openSocket(call: StoredCall): void {
  socket?.disconnect();
  const s = connect('/consult', call.customerToken);
  socket = s;
  s.on('connect', () => {
    record('connect', { id: s.id });
    if (parley.state !== 'ended' && $('status').classList.contains('warn')) showStatus('', 'info');
  });
  s.on('connect_error', (err: Error & { data?: { code?: string; message?: string } }) => {
    record('connect_error', { message: err.message, data: err.data });
    if (!s.active) {
      // Refused (token expired, consultation over): this call cannot be resumed.
      parley.errors.push(`consult: ${err.data?.message ?? err.message}`);
      saveStored(undefined);
      if (parley.state === 'ended') return;
      showEnded({ consultationId: call.consultationId, status: lastStatus?.status === 'IN_PROGRESS' ? 'ENDED' : 'FAILED', cause: err.data?.message ?? err.message });
    } else {
      showStatus('Connection problem; retrying…', 'warn');
    }
  });
  s.on('disconnect', (reason) => {
    record('disconnect', { reason });
    if (parley.state !== 'ended' && reason !== 'io client disconnect') showStatus('Connection lost; reconnecting…', 'warn');
  });
  s.on('error', (d: { event?: string; code?: string; message?: string }) => {
    record('error-event', d);
    fail(d.event ?? 'consult', d.message ?? d.code ?? 'error');
  });
  s.on('consultation:status', (d: StatusEvent) => {
    record('consultation:status', d);
    onStatus(d);
  });
  s.on('consultation:ended', (d: EndedEvent) => {
    record('consultation:ended', d);
    showEnded(d);
  });
}

function onStatus(d: StatusEvent): void {
  if (parley.state === 'ended') return;
  lastStatus = d;
  parley.consultationId = d.consultationId;
  $('status').dataset.status = d.status;
  switch (d.status) {
    case 'INITIATING':
    case 'RINGING': {
      showQueue();
      $('position').textContent = d.position === undefined ? '–' : String(d.position);
      $('wait').textContent = describeWait(d.estimatedWaitSeconds);
      $('call-detail').textContent = 'Please keep this page open. An agent will answer as soon as possible.';
      showStatus(`Waiting in the queue (${d.status})`, 'info');
      setState('queued');
      break;
    }
    case 'CONNECTING':
    case 'IN_PROGRESS': {
      $('call-title').textContent = d.agentName ? `Talking with ${d.agentName}` : 'Connecting you to an agent…';
      $('agent-name').textContent = d.agentName ?? '–';
      $('queue-info').hidden = true;
      $('talk-info').hidden = false;
      $('hold-banner').hidden = !d.onHold;
      $('call-detail').textContent = d.onHold ? '' : d.status === 'CONNECTING' ? 'Connecting the audio…' : '';
      if (d.status === 'IN_PROGRESS' && callStartedAt === undefined) startTimer();
      showStatus(d.onHold ? 'On hold' : d.status === 'IN_PROGRESS' ? 'In call' : 'Connecting…', d.onHold ? 'warn' : 'info');
      if (!parley.media && !mediaStarting) void startMedia();
      else if (parley.media?.joined) setState('in-call');
      break;
    }
    case 'ENDED':
    case 'FAILED':
      showEnded({ consultationId: d.consultationId, status: d.status });
      break;
    default:
      record('unknown-status', d);
  }
}

async function startMedia(): Promise<void> {
  const call = stored;
  if (!call) return;
  mediaStarting = true;
  setState('connecting');
  const media = new CallMedia({
    roomId: call.roomId,
    token: call.customerToken,
    remote: $('media'),
    onEvent: (event, data) => record(`voice:${event}`, data),
    onError: (where, msg) => {
      parley.errors.push(`${where}: ${msg}`);
      record('error', { where, message: msg });
      showStatus(where === 'microphone' ? `Your microphone is not available (${msg}); the agent cannot hear you.` : msg, 'error');
    },
    onAutoplayBlocked: () => ($('unlock').hidden = false),
    onClosed: (reason) => {
      if (parley.state === 'ended') return;
      fail('voice', reason);
    },
  });
  parley.media = media;
  try {
    await media.join();
    if (parley.state === 'ended') {
      await media.leave();
      return;
    }
    ($('mute') as HTMLButtonElement).disabled = !media.producers.has('audio');
    if (callStartedAt === undefined) startTimer();
    $('call-detail').textContent = '';
    setState('in-call');
  } catch (err) {
    fail('voice', err);
    // Stay in the call (the agent may still end it); the Hang up button works.
  } finally {
    mediaStarting = false;
  }
}

function startTimer(): void {
  callStartedAt = Date.now();
  if (timer !== undefined) clearInterval(timer);
  const tick = (): void => {
    $('timer').textContent = formatDuration((Date.now() - (callStartedAt ?? Date.now())) / 1000);
  };
  tick();
  timer = window.setInterval(tick, 1000);
}

function showEnded(d: EndedEvent): void {
  if (endedShown) return;
  endedShown = true;
  if (timer !== undefined) clearInterval(timer);
  const media = parley.media;
  if (media) void media.leave().catch(() => undefined);
  socket?.disconnect();
  saveStored(undefined);
  const cause = d.cause ? (CAUSES[d.cause] ?? `Reason: ${d.cause}.`) : '';
  const talked = callStartedAt !== undefined ? ` Call time ${formatDuration((Date.now() - callStartedAt) / 1000)}.` : '';
  $('ended-reason').textContent = `${d.status === 'ENDED' ? 'Your call has finished.' : 'The call did not go through.'} ${cause}${talked}`.trim();
  $('status').dataset.status = d.status;
  showStatus(`Call ${d.status === 'ENDED' ? 'ended' : 'failed'} (${d.status}${d.cause ? `: ${d.cause}` : ''})`, d.status === 'ENDED' ? 'info' : 'warn');
  setState('ended');
}

async function hangUp(): Promise<void> {
  const btn = $('hangup') as HTMLButtonElement;
  btn.disabled = true;
  try {
    if (socket?.connected) {
      const res = await request<{ consultation?: ConsultationView }>(socket, 'consultation:hang-up', {});
      record('hang-up', res);
      const c = res?.consultation;
      showEnded({ consultationId: c?.id ?? stored?.consultationId ?? '', status: c?.status ?? 'ENDED', cause: c?.failureCause ?? 'customer-hung-up' });
    } else {
      showEnded({ consultationId: stored?.consultationId ?? '', status: callStartedAt ? 'ENDED' : 'FAILED', cause: 'customer-hung-up' });
    }
  } catch (err) {
    // consultation:ended may beat the ack (and close the socket): then all is well.
    if (parley.state === 'ended') return;
    fail('hang-up', err);
    btn.disabled = false;
  }
}

async function toggleMute(): Promise<void> {
  const media = parley.media;
  if (!media) return;
  try {
    const muted = await media.mute();
    $('mute').textContent = muted ? 'Unmute' : 'Mute';
    $('mute').classList.toggle('active', muted);
    record('mute', { muted });
  } catch (err) {
    fail('mute', err);
  }
}

// ── start ─────────────────────────────────────────────────────────────────────────────

$('call-form').addEventListener('submit', (ev) => void submitForm(ev));
$('hangup').addEventListener('click', () => void hangUp());
$('mute').addEventListener('click', () => void toggleMute());
$('unlock').addEventListener('click', () => {
  parley.media?.unlockAudio();
  $('unlock').hidden = true;
});
$('again').addEventListener('click', () => {
  const e = stored?.entryToken ?? entryToken;
  location.assign(e ? `${location.pathname}?e=${encodeURIComponent(e)}` : location.pathname);
});
window.addEventListener('error', (e) => parley.errors.push(`page: ${e.message}`));
window.addEventListener('unhandledrejection', (e) => parley.errors.push(`page: ${errText(e.reason)}`));
window.addEventListener('pagehide', () => void parley.media?.leave());

document.body.dataset.state = parley.state;
stored = loadStored();
if (stored && (!entryToken || stored.entryToken === entryToken)) {
  // A reload during the call: pick up the same consultation.
  parley.consultationId = stored.consultationId;
  parley.roomId = stored.roomId;
  if (stored.entryName) $('entry-name').textContent = stored.entryName;
  record('resume', { consultationId: stored.consultationId });
  showStatus('Reconnecting to your call…', 'info');
  showQueue();
  openSocket(stored);
} else {
  if (stored) saveStored(undefined);
  stored = undefined;
  loadEntry().catch((err: unknown) => fail('entry', err));
}
