/**
 * Customer landing page (web/c/index.html), opened from a QR code as `/c/?e=<entryToken>`.
 * Entry point → form → queue (/consult) → voice room (/voice, via CallMedia) → ended.
 * Bundled by esbuild into web/c/customer.js. Contract: docs/consultations.md.
 *
 * Tests read `window.parley` = { state, log, errors, media?, peers, consultationId? };
 * state: landing → form → queued → connecting → in-call → ended (or invalid-entry).
 */
import type { Socket } from 'socket.io-client';
import { RecordingState, recordingState } from './pages/recordingState.js';
import { consultSocket, type ConsultPush } from './client/consult.js';
import { call, type RestBody } from './client/rest.js';
import { $, ApiError } from './lib/api.js';
import { formatClock } from './ui/format.js';
import { liveSocket } from './ui/client.js';
import { CallMedia, type PeerConnectionView } from './lib/callMedia.js';
import { h } from 'preact';
import { signal } from '@preact/signals';
import { CaptionTrack, mergeCaption, mount, LanguageSwitch, type Caption } from './ui/components.js';
import { onCaptionStatus } from './ui/captionStatus.js';
import { applyStaticText, onLanguage, text } from './ui/i18n.js';

/** What was said in the call, by speaker, as the server captions it (masked words blurred). */
const captions = signal<Caption[]>([]);

export type CustomerState = 'landing' | 'invalid-entry' | 'form' | 'queued' | 'connecting' | 'in-call' | 'ended';

/** `consultation:ended` (src/contracts/consult.ts); a status push that says ENDED carries no cause. */
type EndedEvent = Omit<ConsultPush<'consultation:ended'>, 'cause'> & { cause?: string };
type StatusEvent = ConsultPush<'consultation:status'>;

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
let closeSocket: (() => void) | undefined;
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

/** The raw error (for window.parley.errors and the log, never shown as is). */
function errText(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/** What the customer reads for an error: a sentence per code; a form error keeps the server's wording (it names the field). */
function errSentence(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'INVALID_PAYLOAD') return TEXT.errors.INVALID_PAYLOAD(err.message);
    const known = TEXT.errors[err.code as keyof typeof TEXT.errors];
    if (typeof known === 'string') return known;
    return err.status >= 500 || err.status === 0 ? TEXT.errors.INTERNAL : TEXT.errors.unknown;
  }
  return TEXT.errors.network;
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
  showStatus(errSentence(err), 'error');
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
  if (seconds < 60) return TEXT.wait.underAMinute;
  return TEXT.wait.about(formatClock(seconds));
}

/** Every sentence this page shows, in the page's language (web-src/ui/text/*.ts `customer`). */
let TEXT = text.value.customer;

function causeSentence(cause: string | undefined): string {
  if (!cause) return '';
  return TEXT.causes[cause] ?? TEXT.causes.other!;
}

// ── landing: entry point ────────────────────────────────────────────────────────────

async function loadEntry(): Promise<void> {
  if (!entryToken) {
    $('invalid-reason').textContent = TEXT.page.noToken;
    showStatus(TEXT.page.incomplete, 'error');
    setState('invalid-entry');
    return;
  }
  try {
    const info = await call('entryInfo', { params: { entryToken } });
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
        ? TEXT.page.switchedOff
        : TEXT.page.expiredOrInvalid
      : TEXT.errors.network;
    parley.errors.push(`entry: ${errText(err)}`);
    record('error', { where: 'entry', message: errText(err) });
    showStatus(expired ? TEXT.page.cannotUse : TEXT.errors.network, 'error');
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
  if (!name) return formError(TEXT.page.enterName, 'name');
  if (!phone) return formError(TEXT.page.enterPhone, 'phone');
  if (!/^\+?[\d\s().-]{5,32}$/.test(phone) || phone.replace(/\D/g, '').length < 5) return formError(TEXT.page.badPhone, 'phone');
  if (!consent) return formError(TEXT.page.consent, 'consent');

  const btn = $('call') as HTMLButtonElement;
  btn.disabled = true;
  btn.textContent = TEXT.page.calling;
  try {
    const body: RestBody<'startConsultation'> = { entryToken, name, phone, recordingConsent: true };
    if (inquiry) body.inquiry = inquiry;
    const res = await call('startConsultation', { body });
    record('created', { consultation: res.consultation, roomId: res.roomId });
    if (!res?.customerToken || !res.consultation?.id) throw new Error(TEXT.errors.unexpectedAnswer);
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
      $('invalid-reason').textContent = TEXT.page.expiredScanAgain;
      showStatus(TEXT.errors.UNAUTHORIZED, 'error');
      setState('invalid-entry');
    } else {
      formError(errSentence(err));
      showStatus(errSentence(err), 'error');
    }
  } finally {
    btn.disabled = false;
    btn.textContent = TEXT.page.call;
  }
}

// ── queue and call ──────────────────────────────────────────────────────────────────

function showQueue(): void {
  $('call-title').textContent = TEXT.page.waitingTitle;
  $('queue-info').hidden = false;
  $('talk-info').hidden = true;
  ($('mute') as HTMLButtonElement).disabled = true;
}

function openSocket(call: StoredCall): void {
  closeSocket?.();
  // Parley's one reconnect and refusal policy (web-src/ui/client.ts), as on the console.
  const live = liveSocket('/consult', call.customerToken, {
    onConnect: () => {
      record('connect', { id: s.id });
      if (parley.state !== 'ended' && $('status').classList.contains('warn') && !noAgentShown) showStatus('', 'info');
    },
    onRefused: (reason) => {
      // Refused (token expired, consultation over): this call cannot be resumed.
      record('refused', { reason });
      parley.errors.push(`consult: refused (${reason})`);
      saveStored(undefined);
      if (parley.state === 'ended') return;
      showEnded({ consultationId: call.consultationId, status: lastStatus?.status === 'IN_PROGRESS' ? 'ENDED' : 'FAILED', cause: 'refused' });
    },
    onError: (err) => {
      record('connect-refused', { code: err.code, message: err.message });
      showStatus(TEXT.status.connectionProblem, 'warn');
    },
  });
  const s = live.socket;
  socket = s;
  closeSocket = live.close;
  const consult = consultSocket(s);
  s.on('connect_error', (err: Error & { data?: { code?: string; message?: string } }) => {
    record('connect_error', { message: err.message, data: err.data });
    if (s.active) showStatus(TEXT.status.connectionProblem, 'warn');
  });
  s.on('disconnect', (reason) => {
    record('disconnect', { reason });
    if (parley.state !== 'ended' && reason !== 'io client disconnect') showStatus(TEXT.status.connectionLost, 'warn');
  });
  consult.on('error', (d) => {
    record('error-event', d);
    fail(d.event ?? 'consult', new ApiError(0, d.code ?? 'INTERNAL', d.message ?? 'error'));
  });
  consult.on('caption', (c) => {
    captions.value = mergeCaption(captions.value, c);
    $('customer-captions').hidden = false;
  });
  consult.on('recording', (r) => {
    record('recording', r);
    if (r.consultationId === call.consultationId) recordingState.value = r;
  });
  consult.on('caption-status', (st) => {
    record('caption-status', st);
    if (onCaptionStatus(st)) $('customer-captions').hidden = false;
  });
  consult.on('consultation:status', (d) => {
    record('consultation:status', d);
    onStatus(d);
  });
  consult.on('consultation:ended', (d) => {
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
      const nobody = d.agentsOnline === 0;
      // No agent online: no estimate is honest; say so and offer a callback.
      $('wait').textContent = nobody ? TEXT.wait.noneOnline : describeWait(d.estimatedWaitSeconds);
      showNoAgent(nobody);
      $('call-detail').textContent = nobody ? '' : TEXT.status.waitingDetail;
      if (!nobody) showStatus(TEXT.status.waiting, 'info');
      setState('queued');
      break;
    }
    case 'CONNECTING':
    case 'IN_PROGRESS': {
      // With the AI assistant, and while it hands the call to a person, the page says so plainly.
      $('call-title').textContent = d.transferring ? TEXT.page.handingOverTitle : d.assistant ? TEXT.page.assistantTitle : d.agentName ? TEXT.page.talkingWith(d.agentName) : TEXT.page.connectingTitle;
      $('agent-name').textContent = d.assistant ? TEXT.page.assistantName : (d.agentName ?? '–');
      $('status').dataset.assistant = d.assistant ? 'talking' : d.transferring ? 'handing-over' : '';
      $('queue-info').hidden = true;
      $('talk-info').hidden = false;
      $('hold-banner').hidden = !d.onHold;
      showNoAgent(false);
      $('call-detail').textContent = '';
      if (d.status === 'IN_PROGRESS' && callStartedAt === undefined) startTimer();
      showStatus(
        d.onHold ? TEXT.status.onHold : d.transferring ? TEXT.status.handingOver : d.assistant ? TEXT.status.withAssistant : d.status === 'IN_PROGRESS' ? TEXT.status.inCall : TEXT.status.connecting,
        d.onHold ? 'warn' : 'info',
      );
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
      showStatus(TEXT.status.unknown, 'warn');
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
      showStatus(where === 'microphone' ? TEXT.errors.microphone : TEXT.errors.voice, 'error');
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
    $('timer').textContent = formatClock((Date.now() - (callStartedAt ?? Date.now())) / 1000);
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
  closeSocket?.();
  closeSocket = undefined;
  saveStored(undefined);
  showNoAgent(false);
  const callback = d.cause === 'callback-requested' && callbackPhone !== undefined;
  const cause = callback ? TEXT.status.callbackSent(callbackPhone!) : causeSentence(d.cause);
  const talked = callStartedAt !== undefined ? ` ${TEXT.ended.callTime(formatClock((Date.now() - callStartedAt) / 1000))}` : '';
  const head = callback ? '' : d.status === 'ENDED' ? TEXT.ended.finished : TEXT.ended.notConnected;
  $('ended-reason').textContent = `${head} ${cause}${talked}`.trim();
  $('status').dataset.status = d.status;
  if (d.cause) $('status').dataset.cause = d.cause;
  showStatus(callback ? TEXT.status.callbackSent(callbackPhone!) : d.status === 'ENDED' ? TEXT.status.ended : TEXT.status.failed, callback || d.status === 'ENDED' ? 'info' : 'warn');
  setState('ended');
}

// ── no agent online: keep waiting, or leave a callback number ───────────────────────

let noAgentShown = false;
let keptWaiting = false;
let callbackPhone: string | undefined;

/** Shows (or hides) the "no agent is available" choices; after "Keep waiting" only the sentence stays. */
function showNoAgent(nobody: boolean): void {
  noAgentShown = nobody;
  $('no-agent').hidden = !nobody;
  $('no-agent-choices').hidden = !nobody || keptWaiting || !$('callback-form').hidden;
  if (!nobody) {
    keptWaiting = false;
    $('callback-form').hidden = true;
    return;
  }
  $('no-agent-text').textContent = TEXT.status.noAgent;
  $('no-agent-detail').textContent = keptWaiting ? '' : TEXT.status.noAgentDetail;
  showStatus(keptWaiting ? TEXT.status.keptWaiting : TEXT.status.noAgent, 'warn');
}

async function sendCallback(ev: Event): Promise<void> {
  ev.preventDefault();
  const phone = ($('callback-phone') as HTMLInputElement).value.trim();
  $('callback-error').textContent = '';
  if (!/^\+?[\d\s().-]{5,32}$/.test(phone) || phone.replace(/\D/g, '').length < 5) {
    $('callback-error').textContent = TEXT.errors.badPhone;
    return;
  }
  const btn = $('callback-send') as HTMLButtonElement;
  btn.disabled = true;
  try {
    if (!socket?.connected) throw new Error('not connected');
    // Shown as the customer typed it (consultation:ended may arrive before this answer).
    callbackPhone = phone;
    const res = await consultSocket(socket).ask('consultation:request-callback', { phone });
    record('callback-requested', res);
    if (parley.state !== 'ended') showEnded({ consultationId: res.consultation?.id ?? stored?.consultationId ?? '', status: 'FAILED', cause: 'callback-requested' });
  } catch (err) {
    if (parley.state === 'ended') return;
    callbackPhone = undefined;
    parley.errors.push(`callback: ${errText(err)}`);
    record('error', { where: 'callback', message: errText(err) });
    $('callback-error').textContent = errSentence(err);
  } finally {
    btn.disabled = false;
  }
}

async function hangUp(): Promise<void> {
  const btn = $('hangup') as HTMLButtonElement;
  btn.disabled = true;
  try {
    if (socket?.connected) {
      const res = await consultSocket(socket).ask('consultation:hang-up', {});
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
    $('mute').textContent = muted ? TEXT.page.unmute : TEXT.page.mute;
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
$('keep-waiting').addEventListener('click', () => {
  keptWaiting = true;
  record('keep-waiting', {});
  showNoAgent(noAgentShown);
});
$('offer-callback').addEventListener('click', () => {
  const input = $('callback-phone') as HTMLInputElement;
  if (!input.value) input.value = ($('phone') as HTMLInputElement).value;
  $('callback-form').hidden = false;
  $('no-agent-choices').hidden = true;
  input.focus();
});
$('callback-form').addEventListener('submit', (ev) => void sendCallback(ev));
$('again').addEventListener('click', () => {
  const e = stored?.entryToken ?? entryToken;
  location.assign(e ? `${location.pathname}?e=${encodeURIComponent(e)}` : location.pathname);
});
window.addEventListener('error', (e) => parley.errors.push(`page: ${e.message}`));
window.addEventListener('unhandledrejection', (e) => parley.errors.push(`page: ${errText(e.reason)}`));
window.addEventListener('pagehide', () => void parley.media?.leave());

document.body.dataset.state = parley.state;
mount('lang-switch', h(LanguageSwitch, {}));
function CustomerCaptions() {
  return h('section', { class: 'caption-panel' }, h('h2', null, text.value.captions.title), h(CaptionTrack, { captions, selfPeerId: parley.media?.peerId }));
}
mount('customer-captions', h(CustomerCaptions, {}));
mount('recording-state', h(RecordingState, {}));
onLanguage((t) => {
  TEXT = t.customer;
  applyStaticText();
});

stored = loadStored();
if (stored && (!entryToken || stored.entryToken === entryToken)) {
  // A reload during the call: pick up the same consultation.
  parley.consultationId = stored.consultationId;
  parley.roomId = stored.roomId;
  if (stored.entryName) $('entry-name').textContent = stored.entryName;
  record('resume', { consultationId: stored.consultationId });
  showStatus(TEXT.status.reconnecting, 'info');
  showQueue();
  openSocket(stored);
} else {
  if (stored) saveStored(undefined);
  stored = undefined;
  loadEntry().catch((err: unknown) => fail('entry', err));
}
