/**
 * Agent console (web/agent/index.html): sign in, set your state, watch the queue, answer
 * offers, talk to the customer through the SFU (/voice, via CallMedia), wrap up with a note,
 * and look back at your calls. Bundled by esbuild into web/agent/console.js.
 * Contract: docs/consultations.md.
 *
 * Tests read `window.parley` = { state, log, errors, media?, peers, agent?, offer?, call? };
 * state: signed-out → ready → offered → in-call → wrap-up → ready.
 */
import type { Socket } from 'socket.io-client';
import type {
  AgentState as AgentPresence,
  AgentView,
  CallStatus,
  ConsultationView as Consultation,
  Disposition,
  OfferView,
  QueueView as QueueUpdate,
} from '../src/domain/consultations/consultationView.js';
import { $, ApiError, session, signIn, type SignedIn } from './lib/api.js';
import { call } from './client/rest.js';
import { CallMedia, type PeerConnectionView } from './lib/callMedia.js';
import { causeSentence, errorSentence } from './lib/consultationText.js';
import { RecordingState, recordingState } from './pages/recordingState.js';
import { afterCallSince, callNotes, captions, mountAgentPanels, onCaption, supervisorNow } from './pages/agentPanels.js';
import { onCaptionStatus, resetCaptionStatus } from './ui/captionStatus.js';
import { ConsoleHistory, consoleHistory, historyToken } from './pages/console/HistoryTable.js';
import { consoleQueue, QueueView } from './pages/console/QueueView.js';
import { callHandover, mountHandoverTranscripts, offerHandover } from './pages/console/HandoverTranscript.js';
import { OfferCard, offerShown } from './pages/console/OfferCard.js';
import { AgentStateCard, agentNow } from './pages/console/AgentStateCard.js';
import { ConsoleBanners, ConsoleConnection, SignedInAs, signedInAs, SignInError, signInError, errorBanner, noticeBanner, WrapUpMessage, WrapUpSummary, wrapUpMessage, wrapUpSummary } from './pages/console/ConsoleNotices.js';
import type { ConnectionState } from './ui/components.js';
import { CallButtons, CallHead, CallInfo, callShown, MediaStatus, updateCall } from './pages/console/CallPanel.js';
import { createElement, render } from 'preact';
import { micId, routeToSpeaker } from './ui/audioDevices.js';
import { consultSocket, type ConsultReply } from './client/consult.js';
import { liveSocket } from './ui/client.js';
import { formatClock, formatWhen } from './ui/format.js';
import { loadPhoneFormat } from './ui/phone.js';
import { effect, signal } from '@preact/signals';
import { applyStaticText, onLanguage, text } from './ui/i18n.js';
import { startIncomingCallAlert, type RingingAlert } from './ui/incomingCallAlert.js';

/** The console's sentences in the page's language (web-src/ui/text/*.ts); refreshed on a switch. */
function consoleText() {
  const t = text.value;
  return { ...t.console, codes: t.codes, connection: t.connection };
}
let TEXT = consoleText();

export type ConsoleState = 'signed-out' | 'ready' | 'offered' | 'in-call' | 'wrap-up';

type QueueItem = QueueUpdate['queue'][number];

/** The `agent:get` answer (src/contracts/consult.ts). */
type AgentGet = ConsultReply<'agent:get'>;

/** The call this console is on (or just finished). */
export interface CallContext {
  consultationId: string;
  roomId: string;
  customerName: string;
  customerPhone: string;
  inquiry: string;
  entryPoint: string;
  startedAt: number;
  onHold: boolean;
}

export interface ConsoleHandle {
  state: ConsoleState;
  log: Array<{ event: string; data: unknown; t: number }>;
  errors: string[];
  media?: CallMedia;
  readonly peers: Map<string, PeerConnectionView>;
  agent?: AgentView;
  offer?: OfferView;
  call?: CallContext;
  /** The consultation being wrapped up. */
  wrapUp?: { consultationId: string; noteSaved: boolean };
}

const SESSION_KEY = 'parley.agent';

const parley: ConsoleHandle = {
  state: 'signed-out',
  log: [],
  errors: [],
  get peers() {
    return this.media?.peers ?? new Map<string, PeerConnectionView>();
  },
};
(window as unknown as { parley: ConsoleHandle }).parley = parley;

let me: SignedIn | undefined;
let socket: Socket | undefined;
let closeSocket: (() => void) | undefined;
let disposeConn: (() => void) | undefined;
/** The /consult connection's state for the header badge (undefined while signed out). */
const connection = signal<ConnectionState | undefined>(undefined);
let ringing: RingingAlert | undefined;
let wrappingUp: CallContext | undefined;
let lastQueue: QueueUpdate | undefined;
let restoring = false;
/** Consultations that ended, with the sentence why: one may end while its accept or media join is still under way. */
const endedCalls = new Map<string, string>();

// ── helpers ──────────────────────────────────────────────────────────────────────────

function record(event: string, data: unknown): void {
  parley.log.push({ event, data, t: Date.now() });
  if (parley.log.length > 2000) parley.log.splice(0, parley.log.length - 2000);
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function showError(text: string): void {
  errorBanner.value = text;
}

/** Records the raw error; the banner shows its sentence (by code), or the page's own sentence when it is one. */
function fail(where: string, err: unknown): void {
  parley.errors.push(`${where}: ${errText(err)}`);
  record('error', { where, message: errText(err) });
  showError(err instanceof PageError ? err.message : errorSentence(TEXT.codes, err));
}

/** An error whose message is already a sentence from TEXT. */
class PageError extends Error {}

function setState(state: ConsoleState): void {
  if (parley.state === state) return;
  parley.state = state;
  document.body.dataset.state = state;
  record('state', { state });
  afterCallSince.value = state === 'wrap-up' ? (afterCallSince.value ?? Date.now()) : undefined;
  if (state !== 'offered') stopRinging();
  $('signin-view').hidden = state !== 'signed-out';
  $('console-view').hidden = state === 'signed-out';
  $('signout').hidden = state === 'signed-out';
  $('offer').hidden = state !== 'offered';
  $('call-panel').hidden = state !== 'in-call';
  $('wrapup').hidden = state !== 'wrap-up';
}

function toMs(t: string | number | null | undefined): number | undefined {
  if (t === null || t === undefined) return undefined;
  const ms = typeof t === 'number' ? t : Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
}

function timeText(t: string | number | null | undefined): string {
  const ms = toMs(t);
  if (ms === undefined) return '–';
  return formatWhen(ms);
}

function button(id: string): HTMLButtonElement {
  return $(id) as HTMLButtonElement;
}

/** Runs a click handler with its button disabled; errors land in the banner. */
function guarded(id: string, where: string, fn: () => Promise<void>): void {
  $(id).addEventListener('click', () => {
    const b = button(id);
    if (b.disabled) return;
    b.disabled = true;
    fn()
      .catch((err: unknown) => fail(where, err))
      .finally(() => (b.disabled = false));
  });
}

function need(): { s: Socket; session: SignedIn } {
  if (!socket || !me) throw new PageError(TEXT.signInAgain);
  if (!socket.connected) throw new PageError(TEXT.notConnected);
  return { s: socket, session: me };
}

// ── sign in / out ─────────────────────────────────────────────────────────────────────

async function doSignIn(ev: Event): Promise<void> {
  ev.preventDefault();
  const email = ($('email') as HTMLInputElement).value.trim();
  const password = ($('password') as HTMLInputElement).value;
  signInError.value = '';
  if (!email || !email.includes('@')) {
    signInError.value = TEXT.enterEmail;
    return;
  }
  if (!password) {
    signInError.value = TEXT.enterPassword;
    return;
  }
  // A user gesture: unlock WebAudio for the offer ring (a silent first ring would be blocked).
  void Promise.resolve().then(() => undefined);
  const b = button('signin');
  b.disabled = true;
  try {
    const s = await signIn(email, password);
    if (!s?.accessToken || !s.user) throw new PageError(TEXT.unexpectedAnswer);
    if (s.user.role !== 'agent' && s.user.role !== 'admin') throw new PageError(TEXT.notAgent);
    session.save(SESSION_KEY, { accessToken: s.accessToken, user: s.user });
    ($('password') as HTMLInputElement).value = '';
    start({ accessToken: s.accessToken, user: s.user });
  } catch (err) {
    signInError.value = err instanceof PageError ? err.message : err instanceof ApiError && (err.code === 'UNAUTHORIZED' || err.code === 'RATE_LIMITED') ? err.message : err instanceof ApiError && err.code === 'FORBIDDEN' && /approve/i.test(err.message) ? TEXT.pendingApproval : errorSentence(TEXT.codes, err);
    parley.errors.push(`signin: ${errText(err)}`);
    record('error', { where: 'signin', message: errText(err) });
  } finally {
    b.disabled = false;
  }
}

async function doSignOut(): Promise<void> {
  const token = me?.accessToken;
  await leaveMedia();
  if (token) await call('signOut', { token }).catch((err: unknown) => record('signout-failed', { message: errText(err) }));
  signedOut('');
}

/** Back to the sign-in form (after sign-out, or when the session is no longer accepted). */
function signedOut(reason: string): void {
  session.clear(SESSION_KEY);
  me = undefined;
  socket = undefined;
  closeSocket?.();
  closeSocket = undefined;
  disposeConn?.();
  disposeConn = undefined;
  void leaveMedia();
  clearOffer();
  parley.agent = undefined;
  parley.call = undefined;
  callShown.value = undefined;
  parley.wrapUp = undefined;
  signedInAs.value = '';
  connection.value = undefined;
  agentNow.value = undefined;
  consoleHistory.value = { state: 'loading' };
  historyToken.value = undefined;
  consoleQueue.value = undefined;
  lastQueue = undefined;
  showError('');
  signInError.value = reason;
  setState('signed-out');
}

// ── the /consult connection ─────────────────────────────────────────────────────────

function start(s: SignedIn): void {
  me = s;
  historyToken.value = s.accessToken;
  signedInAs.value = `${s.user.name} · ${s.user.email}`;
  // Parley's one reconnect and refusal policy (web-src/ui/client.ts).
  closeSocket?.();
  const live = liveSocket('/consult', s.accessToken, {
    onConnect: () => {
      record('connect', { id: sock.id });
      showError('');
      void restore();
      void loadHistory();
    },
    onRefused: (reason) => {
      record('refused', { reason });
      signedOut(reason === 'UNAUTHORIZED' || reason === 'FORBIDDEN' ? TEXT.signInAgain : (TEXT.signedOut[reason] ?? TEXT.signedOut.other!));
    },
    onError: (err) => fail('connect', err),
  });
  const sock = live.socket;
  const consult = consultSocket(sock);
  socket = sock;
  closeSocket = live.close;
  disposeConn?.();
  disposeConn = effect(() => {
    connection.value = live.state.value;
  });
  sock.on('connect_error', (err: Error & { data?: unknown }) => record('connect_error', { message: err.message, data: err.data }));
  sock.on('disconnect', (reason: string) => record('disconnect', { reason }));
  consult.on('caption', (c) => {
    record('caption', c);
    onCaption(c);
  });
  consult.on('caption-status', (st) => {
    record('caption-status', st);
    onCaptionStatus(st);
  });
  consult.on('recording', (r) => {
    record('recording', r);
    recordingState.value = r;
  });
  consult.on('supervisor:state', (st) => {
    record('supervisor:state', st);
    supervisorNow.value = st;
  });
  consult.on('agent:state', (a) => {
    record('agent:state', a);
    showAgent(a);
  });
  consult.on('queue:update', (q) => {
    record('queue:update', q);
    renderQueue(q);
  });
  consult.on('consultation:offer', (o) => {
    record('consultation:offer', o);
    showOffer(o);
  });
  consult.on('consultation:offer-withdrawn', (d) => {
    record('consultation:offer-withdrawn', d);
    if (parley.offer?.consultationId !== d.consultationId) return;
    clearOffer();
    showError(TEXT.withdrawn(TEXT.codes.withdrawn[d.reason] ?? ''));
    if (parley.state === 'offered') setState('ready');
  });
  consult.on('consultation:ended', (d) => {
    record('consultation:ended', d);
    if (parley.offer?.consultationId === d.consultationId) {
      clearOffer();
      if (parley.state === 'offered') setState('ready');
      return;
    }
    // The agent's own End arrives here too (before its ack): that is "you ended it", not the customer.
    const mine = d.cause === 'agent-hung-up' || d.cause === 'agent-hung-up-before-connect';
    const why = mine ? TEXT.youEnded : TEXT.customerEnded(causeSentence(TEXT.codes, d.cause));
    endedCalls.set(d.consultationId, why);
    if (endedCalls.size > 50) endedCalls.delete(endedCalls.keys().next().value!);
    // Also while the call is still being joined (the customer hung up during the accept).
    if (parley.call?.consultationId === d.consultationId && parley.state !== 'wrap-up') void enterWrapUp(why);
  });
}

/** `agent:get`: state, queue, a ringing offer or the current call, after a (re)connect. */
async function restore(): Promise<void> {
  const s = socket;
  if (!s || restoring) return;
  restoring = true;
  try {
    const res = await consultSocket(s).ask('agent:get', {});
    record('agent:get', res);
    supervisorNow.value = res.supervisor;
    if (res.agent) showAgent(res.agent);
    renderQueue(res.queue);
    const c = res.consultation ?? undefined;
    const live = c && (c.status === 'CONNECTING' || c.status === 'IN_PROGRESS');
    if (c && live && c.roomId) {
      if (parley.call?.consultationId === c.id && parley.media && !parley.media.closed) {
        setState('in-call');
      } else {
        clearOffer();
        await enterCall(c, c.roomId);
      }
    } else if (res.offer) {
      showOffer(res.offer);
    } else if (parley.state === 'in-call' && parley.call) {
      // The call ended while we were away.
      await enterWrapUp(TEXT.endedWhileAway);
    } else if (c && res.agent?.state === 'after-call-work' && parley.state !== 'wrap-up') {
      showWrapUpFor(c);
    } else if (parley.state === 'signed-out' || parley.state === 'offered') {
      clearOffer();
      setState('ready');
    }
  } catch (err) {
    fail('agent:get', err);
    if (parley.state === 'signed-out') setState('ready');
  } finally {
    restoring = false;
  }
}

// ── agent state and queue ──────────────────────────────────────────────────────────

function showAgent(a: AgentView): void {
  parley.agent = a;
  agentNow.value = a;
}

async function setAgentState(state: 'available' | 'after-call-work' | 'offline'): Promise<void> {
  const { s } = need();
  if (parley.state === 'in-call') throw new PageError(TEXT.endCallFirst);
  const res = await consultSocket(s).ask('agent:set-state', { state });
  record('agent:set-state', res);
  if (res.agent) showAgent(res.agent);
  if (parley.state === 'wrap-up' && state !== 'after-call-work') {
    parley.wrapUp = undefined;
    setState('ready');
  }
}

function renderQueue(q: QueueUpdate): void {
  lastQueue = q;
  consoleQueue.value = { queue: q, selfId: me?.user.id };
}

// ── offers ────────────────────────────────────────────────────────────────────────────

/**
 * The server offers only to an available agent, so an offer is always shown — also one that
 * arrives during wrap-up, in the instant "Save and go available" made the agent available —
 * and acknowledged; the server announces an unacknowledged offer again.
 */
function showOffer(o: OfferView): void {
  if (parley.state === 'in-call') {
    // Should not happen (a busy agent is not offered calls); never drop it silently.
    record('offer-while-in-call', { consultationId: o.consultationId });
    showError(TEXT.offerWhileInCall);
    return;
  }
  acknowledgeOffer(o);
  if (parley.offer?.consultationId === o.consultationId && parley.state === 'offered') return;
  if (parley.state === 'wrap-up') {
    record('wrap-up-left-for-offer', { consultationId: parley.wrapUp?.consultationId });
    parley.wrapUp = undefined;
  }
  parley.offer = o;
  offerHandover.value = o.transcript;
  showError('');
  const expires = toMs(o.expiresAt) ?? Date.now() + 30_000;
  offerShown.value = { offer: o, expiresAt: expires };
  setState('offered');
  stopRinging();
  ringing = startIncomingCallAlert({ consultationId: o.consultationId, name: o.customer?.name, inquiry: o.inquiry }, Math.max(1000, expires - Date.now()));
  record('alert', { consultationId: o.consultationId, title: document.title, notification: ringing.notification !== undefined, visibility: document.visibilityState, focused: document.hasFocus() });
}

function stopRinging(): void {
  ringing?.stop();
  ringing = undefined;
}

/** Tells the server this console shows the offer (it stops re-sending it). */
function acknowledgeOffer(o: OfferView): void {
  const s = socket;
  if (!s?.connected) return;
  consultSocket(s).ask('consultation:offer-ack', { consultationId: o.consultationId }).then(
    (res) => record('consultation:offer-ack', { consultationId: o.consultationId, ...res }),
    (err: unknown) => record('offer-ack-failed', { consultationId: o.consultationId, message: errText(err) }),
  );
}

function clearOffer(): void {
  stopRinging();
  parley.offer = undefined;
  offerHandover.value = undefined;
  offerShown.value = undefined;
  $('offer').hidden = true;
}

async function accept(): Promise<void> {
  const { s } = need();
  const offer = parley.offer;
  if (!offer) throw new PageError(TEXT.noOffer);
  let res: { consultation: Consultation; roomId: string };
  try {
    res = await consultSocket(s).ask('consultation:accept', { consultationId: offer.consultationId });
  } catch (err) {
    clearOffer();
    setState('ready');
    // Too late: the customer hung up (or the offer moved on) while we pressed accept.
    if (err instanceof ApiError && err.code === 'CONFLICT') {
      record('accept-too-late', { consultationId: offer.consultationId, message: err.message });
      throw new PageError(TEXT.acceptTooLate);
    }
    throw err;
  }
  record('consultation:accept', res);
  clearOffer();
  void loadHistory();
  await enterCall(res.consultation, res.roomId, offer);
}

async function reject(): Promise<void> {
  const { s } = need();
  const offer = parley.offer;
  if (!offer) return;
  try {
    const res = await consultSocket(s).ask('consultation:reject', { consultationId: offer.consultationId });
    record('consultation:reject', res);
  } finally {
    clearOffer();
    if (parley.state === 'offered') setState('ready');
  }
}

// ── the call ──────────────────────────────────────────────────────────────────────────

async function enterCall(c: Consultation, roomId: string, offer?: OfferView): Promise<void> {
  if (!me) return;
  await leaveMedia();
  const call: CallContext = {
    consultationId: c.id,
    roomId,
    customerName: c.customer.name ?? offer?.customer.name ?? '–',
    customerPhone: c.customer.phone,
    inquiry: c.inquiry ?? offer?.inquiry ?? '',
    entryPoint: c.entryPoint?.name ?? offer?.entryPoint ?? '–',
    startedAt: toMs(c.connectedAt) ?? toMs(c.answeredAt) ?? Date.now(),
    onHold: false,
  };
  if (parley.call?.consultationId !== call.consultationId) {
    recordingState.value = null;
    callHandover.value = offer?.transcript;
  }
  parley.call = call;
  callShown.value = { ...call, status: c.status, muted: false, media: 'joining' };
  if (parley.call?.consultationId !== c.id) {
    captions.value = [];
    resetCaptionStatus();
  }
  if (!offer && callNotes.value && parley.wrapUp) callNotes.value = '';
  const video = ($('video') as HTMLInputElement).checked;
  const media = new CallMedia({
    roomId,
    token: me.accessToken,
    remote: $('remote-media'),
    local: $('local-media'),
    video,
    microphoneId: micId.value || undefined,
    onCaption,
    userId: me.user.name || undefined,
    onEvent: (event, data) => record(`voice:${event}`, data),
    onError: (where, msg) => fail(where, new PageError(where === 'microphone' ? TEXT.media.micMissing : TEXT.media.lost)),
    onAutoplayBlocked: () => ($('unlock').hidden = false),
    onRemoteChange: () => updateMediaStatus(),
    onClosed: (reason) => {
      if (parley.media !== media) return;
      record('voice-closed', { reason });
      fail('voice', new PageError(TEXT.media.lost));
      updateCall({ media: 'lost' });
    },
  });
  parley.media = media;
  try {
    await media.join();
    void routeToSpeaker($('remote-media'));
    updateMediaStatus();
  } catch (err) {
    // Left on purpose while joining (the call ended): not an error.
    if (parley.media === media) {
      record('voice-join-failed', { message: errText(err) });
      fail('voice', new PageError(TEXT.media.joinFailed));
      updateCall({ media: 'joinFailed' });
    }
  }
  // The customer may have hung up while we were joining.
  const ended = endedCalls.get(call.consultationId);
  if (parley.call === call && ended !== undefined) {
    await enterWrapUp(ended);
    return;
  }
  if (parley.call === call && parley.state !== 'wrap-up') setState('in-call');
}

function updateMediaStatus(): void {
  const media = parley.media;
  if (!media || !parley.call) return;
  const hasAudio = [...media.consumers.values()].some((c) => c.kind === 'audio');
  updateCall({ media: media.micError ? 'micMissing' : hasAudio ? (media.remoteKindPaused('audio') ? 'customerMuted' : 'hearing') : 'waiting', ...(hasAudio ? { status: 'IN_PROGRESS' as const } : {}) });
  void routeToSpeaker($('remote-media'));
}

async function leaveMedia(): Promise<void> {
  const media = parley.media;
  parley.media = undefined;
  $('unlock').hidden = true;
  if (media) await media.leave().catch((err: unknown) => record('leave-failed', { message: errText(err) }));
}

async function toggleMute(): Promise<void> {
  const media = parley.media;
  if (!media) throw new Error('not in the voice room');
  const muted = await media.mute();
  updateCall({ muted });
  record('mute', { muted });
}

async function toggleHold(): Promise<void> {
  const { s } = need();
  const call = parley.call;
  if (!call) throw new Error('no call to hold');
  const on = !call.onHold;
  // Silence our side first so the customer hears nothing from the moment of the click.
  await parley.media?.setHold(on);
  try {
    const res = await consultSocket(s).ask('consultation:hold', { consultationId: call.consultationId, on });
    record('consultation:hold', res);
    call.onHold = typeof res.onHold === 'boolean' ? res.onHold : on;
  } catch (err) {
    await parley.media?.setHold(call.onHold);
    throw err;
  }
  if (parley.media && parley.media.onHold !== call.onHold) await parley.media.setHold(call.onHold);
  updateCall({ onHold: call.onHold });
}

async function endCall(): Promise<void> {
  const { s } = need();
  const call = parley.call;
  if (!call) throw new Error('no call to end');
  try {
    const res = await consultSocket(s).ask('consultation:end', { consultationId: call.consultationId });
    record('consultation:end', res);
  } catch (err) {
    // Already over (the customer hung up at the same moment): wrap up anyway.
    if (!(err instanceof ApiError && (err.code === 'CONFLICT' || err.code === 'NOT_FOUND'))) throw err;
    record('consultation:end-conflict', { message: err.message });
  }
  if (parley.state === 'in-call' || parley.call === call) await enterWrapUp(TEXT.youEnded);
}

async function enterWrapUp(summary: string): Promise<void> {
  const call = parley.call;
  // Once per call: the agent's own End and the server's consultation:ended both lead here.
  if (!call || wrappingUp === call) return;
  wrappingUp = call;
  supervisorNow.value = null;
  callShown.value = undefined;
  await leaveMedia();
  parley.wrapUp = { consultationId: call.consultationId, noteSaved: false };
  wrapUpSummary.value = `${summary} ${call.customerName}, ${formatClock((Date.now() - call.startedAt) / 1000)}.`;
  // The notes written during the call start the wrap-up note.
  ($('note') as HTMLTextAreaElement).value = callNotes.value;
  callNotes.value = '';
  ($('disposition') as HTMLSelectElement).value = '';
  wrapUpMessage.value = '';
  parley.call = undefined;
  setState('wrap-up');
  void loadHistory();
}

/** After a reload in after-call work: wrap up the consultation agent:get returned. */
function showWrapUpFor(c: Consultation): void {
  parley.wrapUp = { consultationId: c.id, noteSaved: false };
  wrapUpSummary.value = TEXT.callWith(c.customer?.name ?? '–', c.durationSeconds !== null && c.durationSeconds !== undefined ? formatClock(c.durationSeconds) : '');
  wrapUpMessage.value = '';
  clearOffer();
  setState('wrap-up');
}

/** Posts the wrap-up note; returns false when there was nothing to save. */
async function saveNote(): Promise<boolean> {
  const { session: s } = need();
  const w = parley.wrapUp;
  if (!w) throw new Error('no call to wrap up');
  const note = ($('note') as HTMLTextAreaElement).value.trim();
  const disposition = ($('disposition') as HTMLSelectElement).value as Disposition | '';
  if (!note && !disposition) return false;
  const body: { body: string; disposition?: Disposition } = { body: note || `(${disposition})` };
  if (disposition) body.disposition = disposition;
  const res = await call('addNote', { params: { id: w.consultationId }, body, token: s.accessToken });
  record('note-saved', res);
  w.noteSaved = true;
  ($('note') as HTMLTextAreaElement).value = '';
  wrapUpMessage.value = TEXT.noteSavedAt(formatWhen(Date.now()));
  void loadHistory();
  return true;
}

async function saveAndAvailable(): Promise<void> {
  const w = parley.wrapUp;
  if (!w) throw new Error('no call to wrap up');
  await saveNote();
  await setAgentState('available');
  // An offer may have arrived before this answer (the server offers as soon as we are available): keep it.
  if (parley.state === 'wrap-up') {
    parley.wrapUp = undefined;
    setState('ready');
  }
}

// ── history ───────────────────────────────────────────────────────────────────────────

let historySeq = 0;

async function loadHistory(): Promise<void> {
  if (!me) return;
  const seq = ++historySeq;
  try {
    const res = await call('history', { query: { limit: 20 }, token: me.accessToken });
    await loadPhoneFormat(); // per-locale phone numbers (a split chunk, loaded once)
    if (seq !== historySeq) return;
    consoleHistory.value = { state: 'ready', rows: res.consultations ?? [] };
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return signedOut(TEXT.sessionExpired);
    record('error', { where: 'history', message: errText(err) });
    consoleHistory.value = { state: 'failed' };
  }
}

// ── wiring ────────────────────────────────────────────────────────────────────────────

$('signin-form').addEventListener('submit', (ev) => void doSignIn(ev));
guarded('signout', 'sign out', doSignOut);
guarded('save-note', 'note', async () => {
  if (!(await saveNote())) wrapUpMessage.value = TEXT.writeFirst;
});
guarded('save-available', 'wrap-up', saveAndAvailable);
guarded('history-refresh', 'history', loadHistory);
$('unlock').addEventListener('click', () => {
  parley.media?.unlockAudio();
  $('unlock').hidden = true;
});
window.addEventListener('error', (e) => parley.errors.push(`page: ${e.message}`));
window.addEventListener('unhandledrejection', (e) => parley.errors.push(`page: ${errText(e.reason)}`));
window.addEventListener('pagehide', () => void parley.media?.leave());

/** The server moved the call on (transfer): this console leaves it and is free again. */
async function transferred(sentence: string): Promise<void> {
  record('transferred', { consultationId: parley.call?.consultationId });
  callShown.value = undefined;
  await leaveMedia();
  parley.call = undefined;
  callNotes.value = '';
  setState('ready');
  showNotice(sentence);
}

function showNotice(sentence: string): void {
  noticeBanner.value = sentence;
}

/** A panel's action: its errors land in the banner like a guarded button's. */
const act = (where: string, fn: () => Promise<void>) => (): Promise<void> => fn().catch((err: unknown) => fail(where, err));
render(createElement(ConsoleBanners, {}), $('banners'));
render(createElement(SignInError, {}), $('signin-error-holder'));
render(createElement(SignedInAs, {}), $('agent-name-holder'));
render(createElement(ConsoleConnection, { state: connection }), $('connection-status'));
render(createElement(AgentStateCard, { set: (state) => act('state', () => setAgentState(state))() }), $('agent-state-card'));
render(createElement(WrapUpSummary, {}), $('wrapup-summary'));
render(createElement(WrapUpMessage, {}), $('wrapup-msg'));
render(createElement(OfferCard, { actions: { accept: act('accept', accept), reject: act('reject', reject) } }), $('offer'));
render(createElement(CallHead, {}), $('call-head'));
render(createElement(CallInfo, {}), $('call-info'));
render(createElement(MediaStatus, {}), $('media-status-panel'));
render(createElement(CallButtons, { actions: { mute: act('mute', toggleMute), hold: act('hold', toggleHold), end: act('end', endCall) } }), $('call-buttons'));
render(createElement(RecordingState, {}), $('recording-state'));
render(createElement(ConsoleHistory, {}), $('history-table'));
render(createElement(QueueView, {}), $('queue-panel'));
mountHandoverTranscripts();
mountAgentPanels({ socket: () => socket, consultationId: () => parley.call?.consultationId, onTransferred: (sentence) => void transferred(sentence) });
onLanguage(() => {
  TEXT = consoleText();
  applyStaticText();
  if (lastQueue) renderQueue(lastQueue);
  if (me && parley.state !== 'signed-out') void loadHistory();
});

document.body.dataset.state = parley.state;
const saved = session.load(SESSION_KEY);
if (saved?.accessToken && saved.user) start(saved);
else setState('signed-out');
