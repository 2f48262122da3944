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
import {
  agentName,
  AgentName,
  banner,
  CallButtonLabel,
  callbackError,
  callDetail,
  CallClock,
  callStartedAt as clockFrom,
  callTitle,
  calling,
  endedReason,
  EntryName,
  entryName,
  formError as formErrorText,
  invalidReason,
  muted,
  MuteLabel,
  noAgentDetail,
  NoAgentText,
  Position,
  queuePosition,
  Say,
  say,
  statusMarks,
  StatusBanner,
  waitText,
  WaitText,
  type CustomerText,
  type Sentence,
} from './pages/customer/CustomerViews.js';
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
function errSentence(err: unknown): Sentence {
  return (t) => {
    if (err instanceof ApiError) {
      if (err.code === 'INVALID_PAYLOAD') return t.errors.INVALID_PAYLOAD(err.message);
      const known = t.errors[err.code as keyof CustomerText['errors']];
      if (typeof known === 'string') return known;
      return err.status >= 500 || err.status === 0 ? t.errors.INTERNAL : t.errors.unknown;
    }
    return t.errors.network;
  };
}

/** Shows a sentence in #status (the banner view); errors are also kept in window.parley.errors. */
function showStatus(sentence: Sentence, kind: 'info' | 'error' | 'warn' = 'info'): void {
  banner.value = { say: sentence, kind };
}

/** Sets the banner's data-status / data-assistant / data-cause marks (the others stay). */
function mark(change: { status?: string; assistant?: string; cause?: string }): void {
  statusMarks.value = { ...statusMarks.value, ...change };
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

function describeWait(seconds: number | undefined): Sentence {
  if (seconds === undefined || !Number.isFinite(seconds)) return null;
  if (seconds < 60) return (t) => t.wait.underAMinute;
  return (t) => t.wait.about(formatClock(seconds));
}

function causeSentence(t: CustomerText, cause: string | undefined): string {
  if (!cause) return '';
  return t.causes[cause] ?? t.causes.other!;
}

// ── landing: entry point ────────────────────────────────────────────────────────────

async function loadEntry(): Promise<void> {
  if (!entryToken) {
    invalidReason.value = (t) => t.page.noToken;
    showStatus((t) => t.page.incomplete, 'error');
    setState('invalid-entry');
    return;
  }
  try {
    const info = await call('entryInfo', { params: { entryToken } });
    record('entry', info);
    const name = info?.entryPoint?.name;
    if (typeof name !== 'string') throw new Error('the server sent an unexpected answer');
    entryName.value = name;
    document.title = `${name} · Parley`;
    showStatus(null, 'info');
    setState('form');
    ($('name') as HTMLInputElement).focus();
  } catch (err) {
    const expired = err instanceof ApiError && (err.status === 401 || err.status === 404 || err.status === 400);
    const switchedOff = err instanceof ApiError && err.status === 404;
    invalidReason.value = (t) => (expired ? (switchedOff ? t.page.switchedOff : t.page.expiredOrInvalid) : t.errors.network);
    parley.errors.push(`entry: ${errText(err)}`);
    record('error', { where: 'entry', message: errText(err) });
    showStatus((t) => (expired ? t.page.cannotUse : t.errors.network), 'error');
    setState('invalid-entry');
  }
}

// ── form ──────────────────────────────────────────────────────────────────────────────

function formError(sentence: Sentence, field?: string): void {
  formErrorText.value = sentence;
  if (field) $(field).focus();
}

async function submitForm(ev: Event): Promise<void> {
  ev.preventDefault();
  const name = ($('name') as HTMLInputElement).value.trim();
  const phone = ($('phone') as HTMLInputElement).value.trim();
  const inquiry = ($('inquiry') as HTMLTextAreaElement).value.trim();
  const consent = ($('consent') as HTMLInputElement).checked;
  formError(null);
  if (!name) return formError((t) => t.page.enterName, 'name');
  if (!phone) return formError((t) => t.page.enterPhone, 'phone');
  if (!/^\+?[\d\s().-]{5,32}$/.test(phone) || phone.replace(/\D/g, '').length < 5) return formError((t) => t.page.badPhone, 'phone');
  if (!consent) return formError((t) => t.page.consent, 'consent');

  const btn = $('call') as HTMLButtonElement;
  btn.disabled = true;
  calling.value = true;
  try {
    const body: RestBody<'startConsultation'> = { entryToken, name, phone, recordingConsent: true };
    if (inquiry) body.inquiry = inquiry;
    const res = await call('startConsultation', { body });
    record('created', { consultation: res.consultation, roomId: res.roomId });
    if (!res?.customerToken || !res.consultation?.id) throw new Error(text.value.customer.errors.unexpectedAnswer);
    stored = {
      customerToken: res.customerToken,
      consultationId: res.consultation.id,
      roomId: res.roomId ?? res.consultation.roomId,
      entryToken,
      entryName: entryName.value || undefined,
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
      invalidReason.value = (t) => t.page.expiredScanAgain;
      showStatus((t) => t.errors.UNAUTHORIZED, 'error');
      setState('invalid-entry');
    } else {
      formError(errSentence(err));
      showStatus(errSentence(err), 'error');
    }
  } finally {
    btn.disabled = false;
    calling.value = false;
  }
}

// ── queue and call ──────────────────────────────────────────────────────────────────

function showQueue(): void {
  callTitle.value = (t) => t.page.waitingTitle;
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
      if (parley.state !== 'ended' && banner.value.kind === 'warn' && !noAgentShown) showStatus(null, 'info');
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
      showStatus((t) => t.status.connectionProblem, 'warn');
    },
  });
  const s = live.socket;
  socket = s;
  closeSocket = live.close;
  const consult = consultSocket(s);
  s.on('connect_error', (err: Error & { data?: { code?: string; message?: string } }) => {
    record('connect_error', { message: err.message, data: err.data });
    if (s.active) showStatus((t) => t.status.connectionProblem, 'warn');
  });
  s.on('disconnect', (reason) => {
    record('disconnect', { reason });
    if (parley.state !== 'ended' && reason !== 'io client disconnect') showStatus((t) => t.status.connectionLost, 'warn');
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
  mark({ status: d.status });
  switch (d.status) {
    case 'INITIATING':
    case 'RINGING': {
      showQueue();
      queuePosition.value = d.position;
      const nobody = d.agentsOnline === 0;
      // No agent online: no estimate is honest; say so and offer a callback.
      waitText.value = nobody ? (t) => t.wait.noneOnline : describeWait(d.estimatedWaitSeconds);
      showNoAgent(nobody);
      callDetail.value = nobody ? null : (t) => t.status.waitingDetail;
      if (!nobody) showStatus((t) => t.status.waiting, 'info');
      setState('queued');
      break;
    }
    case 'CONNECTING':
    case 'IN_PROGRESS': {
      // With the AI assistant, and while it hands the call to a person, the page says so plainly.
      const agent = d.agentName;
      callTitle.value = (t) => (d.transferring ? t.page.handingOverTitle : d.assistant ? t.page.assistantTitle : agent ? t.page.talkingWith(agent) : t.page.connectingTitle);
      agentName.value = d.assistant ? (t) => t.page.assistantName : agent ? say(agent) : null;
      mark({ assistant: d.assistant ? 'talking' : d.transferring ? 'handing-over' : '' });
      $('queue-info').hidden = true;
      $('talk-info').hidden = false;
      $('hold-banner').hidden = !d.onHold;
      showNoAgent(false);
      callDetail.value = null;
      if (d.status === 'IN_PROGRESS' && callStartedAt === undefined) startTimer();
      showStatus(
        (t) => (d.onHold ? t.status.onHold : d.transferring ? t.status.handingOver : d.assistant ? t.status.withAssistant : d.status === 'IN_PROGRESS' ? t.status.inCall : t.status.connecting),
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
      showStatus((t) => t.status.unknown, 'warn');
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
      showStatus((t) => (where === 'microphone' ? t.errors.microphone : t.errors.voice), 'error');
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
    callDetail.value = null;
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
  clockFrom.value = callStartedAt;
}

function showEnded(d: EndedEvent): void {
  if (endedShown) return;
  endedShown = true;
  // The call time stops where the call ended (the clock view shows the last figure).
  const talkedSeconds = callStartedAt !== undefined ? (Date.now() - callStartedAt) / 1000 : undefined;
  const media = parley.media;
  if (media) void media.leave().catch(() => undefined);
  closeSocket?.();
  closeSocket = undefined;
  saveStored(undefined);
  showNoAgent(false);
  const phone = d.cause === 'callback-requested' ? callbackPhone : undefined;
  endedReason.value = (t) => {
    const cause = phone !== undefined ? t.status.callbackSent(phone) : causeSentence(t, d.cause);
    const talked = talkedSeconds !== undefined ? ` ${t.ended.callTime(formatClock(talkedSeconds))}` : '';
    const head = phone !== undefined ? '' : d.status === 'ENDED' ? t.ended.finished : t.ended.notConnected;
    return `${head} ${cause}${talked}`.trim();
  };
  mark(d.cause ? { status: d.status, cause: d.cause } : { status: d.status });
  showStatus(
    (t) => (phone !== undefined ? t.status.callbackSent(phone) : d.status === 'ENDED' ? t.status.ended : t.status.failed),
    phone !== undefined || d.status === 'ENDED' ? 'info' : 'warn',
  );
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
  noAgentDetail.value = keptWaiting ? null : (t) => t.status.noAgentDetail;
  const kept = keptWaiting;
  showStatus((t) => (kept ? t.status.keptWaiting : t.status.noAgent), 'warn');
}

async function sendCallback(ev: Event): Promise<void> {
  ev.preventDefault();
  const phone = ($('callback-phone') as HTMLInputElement).value.trim();
  callbackError.value = null;
  if (!/^\+?[\d\s().-]{5,32}$/.test(phone) || phone.replace(/\D/g, '').length < 5) {
    callbackError.value = (t) => t.errors.badPhone;
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
    callbackError.value = errSentence(err);
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
    const now = await media.mute();
    muted.value = now;
    $('mute').classList.toggle('active', now);
    record('mute', { muted: now });
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
mount('status-holder', h(StatusBanner, {}));
mount('invalid-reason', h(Say, { s: invalidReason }));
mount('entry-name', h(EntryName, {}));
mount('form-error', h(Say, { s: formErrorText }));
mount('call', h(CallButtonLabel, {}));
mount('call-title', h(Say, { s: callTitle }));
mount('position', h(Position, {}));
mount('wait', h(WaitText, {}));
mount('agent-name', h(AgentName, {}));
mount('timer', h(CallClock, {}));
mount('no-agent-text', h(NoAgentText, {}));
mount('no-agent-detail', h(Say, { s: noAgentDetail }));
mount('callback-error', h(Say, { s: callbackError }));
mount('call-detail', h(Say, { s: callDetail }));
mount('mute', h(MuteLabel, {}));
mount('ended-reason', h(Say, { s: endedReason }));
onLanguage(() => applyStaticText());

stored = loadStored();
if (stored && (!entryToken || stored.entryToken === entryToken)) {
  // A reload during the call: pick up the same consultation.
  parley.consultationId = stored.consultationId;
  parley.roomId = stored.roomId;
  if (stored.entryName) entryName.value = stored.entryName;
  record('resume', { consultationId: stored.consultationId });
  showStatus((t) => t.status.reconnecting, 'info');
  showQueue();
  openSocket(stored);
} else {
  if (stored) saveStored(undefined);
  stored = undefined;
  loadEntry().catch((err: unknown) => fail('entry', err));
}
