/**
 * Admin dashboard (/admin/): live board over the `/admin` socket, accounts, QR entry points,
 * consultation history and detail, webhooks. Plain DOM; hash routing (#live, #agents, #entry,
 * #history, #call/<id>, #webhooks). `window.parley` exposes state for end-to-end tests.
 */
import type { Socket } from 'socket.io-client';
import type { UtteranceJson } from '../src/http/routes/transcriptRoutes.js';
import type { Board } from '../src/domain/consultations/consultationView.js';
import { $, api, ApiError, blobUrl, session, signIn, type SignedIn } from './lib/api.js';
import { errorSentence } from './lib/consultationText.js';
import { h as ph, render } from 'preact';
import { onAgentTurn } from './pages/admin/LiveSentiment.js';
import { NewEntryCaptions, newEntryCaptions } from './pages/admin/EntryCaptions.js';
import { EntryCards, entryPoints, Poster, posterOf, type EntryActions, type EntryPoint } from './pages/admin/EntryCards.js';
import { DELIVERY_PAGE, newSecret, WebhookCards, webhooks, WebhookSecret, type WebhookActions } from './pages/admin/Webhooks.js';
import { callDetail, CallNotes, CallParticipants, CallSummary, CallTimelineItems, CallTitle, callTranscript, CallTranscriptLines } from './pages/admin/CallDetail.js';
import { closeSupervisor, liveCallsChanged, mountSupervisor, superviseDebug } from './pages/supervisePanel.js';
import { LiveBoard, liveBoard } from './pages/admin/LiveBoard.js';
import { HistoryTable, historyRows } from './pages/admin/HistoryTable.js';
import { AccountsTable, accounts, type AccountActions } from './pages/admin/AccountsTable.js';
import { LanguageSwitch, mount } from './ui/components.js';
import { AgentsNotice, agentsNotice, bannerText, boardConnection, BoardConnection, ErrorBanner, HistoryPager, historyPager, InlineError, inlineText, WhoAmI, whoami, type Where } from './pages/admin/Messages.js';
import { RecordingCard } from './pages/admin/RecordingPlayer.js';
import { adminCaptionCount, clearAdminCaptions, feedAdminCaption, feedAdminCaptionStatus, LiveCallCaptions, setCaptionStatusSource } from './pages/admin/LiveCaptions.js';
import { effect } from '@preact/signals';
import { liveSocket } from './ui/client.js';
import { adminSocket } from './client/admin.js';
import { applyStaticText, onLanguage, text } from './ui/i18n.js';
import { loadPhoneFormat } from './ui/phone.js';
import { call as callRoute, type CallOptions, type RestBody, type RestReply } from './client/rest.js';
import type { RestRouteName } from '../src/contracts/rest.js';

/** The dashboard's sentences in the page's language (web-src/ui/text/*.ts). */
function adminText() {
  return {
  codes: text.value.codes,
  ui: text.value,
  roles: text.value.dash.participantRole,
  callback: text.value.dash.callback,
  callbackAsked: text.value.dash.callbackAsked,
  noCallback: text.value.dash.no,
  /** Errors whose server wording helps the admin fix a form (it names the field or the clash). */
  withDetail: (sentence: string, detail: string) => `${sentence} ${detail}`,
};
}
let TEXT = adminText();
/** The dashboard's own sentences (refreshed with TEXT on a language switch). */
let D = TEXT.ui.dash;

// ---------------------------------------------------------------------------------------------
// Types (from the server's contracts: src/contracts/rest.ts, src/domain/consultations/consultationView.ts)


type User = RestReply<'listUsers'>['users'][number];

export type View = 'signin' | 'live' | 'agents' | 'entry' | 'history' | 'call' | 'webhooks';

/** What end-to-end tests read: `window.parley`. */
export interface ParleyAdminDebug {
  state: 'signed-out' | 'ready';
  view: View;
  log: Array<{ event: string; data: unknown; t: number }>;
  errors: string[];
  board?: Board;
}

declare global {
  interface Window {
    parley: ParleyAdminDebug;
  }
}

// ---------------------------------------------------------------------------------------------
// Page state

const SESSION_KEY = 'parley.admin';
const HISTORY_PAGE = 50;
const LOG_LIMIT = 500;

const debug: ParleyAdminDebug = { state: 'signed-out', view: 'signin', log: [], errors: [] };
window.parley = debug;

let me: SignedIn | undefined;
let socket: Socket | undefined;
let closeBoardSocket: (() => void) | undefined;
let disposeConn: (() => void) | undefined;
let board: Board | undefined;
let boardReceivedAt = 0;
let users: User[] | undefined;
const qrUrls = new Map<string, string>();
const historyFilter = { from: '', to: '', agentId: '', status: '', offset: 0 };
/** Bumped on every navigation and sign-out: answers to older requests are dropped. */
let generation = 0;

function log(event: string, data: unknown = null): void {
  debug.log.push({ event, data, t: Date.now() });
  if (debug.log.length > LOG_LIMIT) debug.log.splice(0, debug.log.length - LOG_LIMIT);
}

function setState(state: ParleyAdminDebug['state']): void {
  debug.state = state;
  document.body.dataset.state = state;
}

function setView(view: View): void {
  debug.view = view;
  document.body.dataset.view = view;
}

// ---------------------------------------------------------------------------------------------
// Errors: the #error banner (always) plus an inline message next to the form that failed.

/** A sentence for an error: by its code, never the code itself; form errors keep the server's explanation. */
function describe(err: unknown): string {
  if (err instanceof ApiError) {
    const sentence = errorSentence(TEXT.codes, err);
    return err.code === 'INVALID_PAYLOAD' || err.code === 'CONFLICT' ? TEXT.withDetail(sentence, err.message) : sentence;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

function showError(err: unknown, where?: Where): void {
  const message = typeof err === 'string' ? err : describe(err);
  debug.errors.push(message);
  log('error', message);
  bannerText.value = message;
  if (where) inlineText.value = { ...inlineText.value, [where]: message };
}

function clearError(...where: Where[]): void {
  bannerText.value = '';
  if (where.length) inlineText.value = Object.fromEntries(Object.entries(inlineText.value).filter(([k]) => !where.includes(k as Where)));
}

class SessionExpired extends Error {}

/** A route of the REST contract with this tab's admin token; a 401 ends the session. */
async function rest<N extends RestRouteName>(name: N, options: Omit<CallOptions<N>, 'token'>): Promise<RestReply<N>> {
  return call(() => callRoute(name, { ...options, token: me?.accessToken } as CallOptions<N>));
}

/** A REST call outside the contract (the transcript); a 401 ends the session. */
async function get<T>(path: string): Promise<T> {
  return call(() => api<T>('GET', path, { token: me?.accessToken }));
}

async function call<T>(send: () => Promise<T>): Promise<T> {
  if (!me) throw new SessionExpired('not signed in');
  try {
    return await send();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      signOutLocally(TEXT.ui.dash.sessionExpired);
      throw new SessionExpired('session expired');
    }
    throw err;
  }
}

/** Runs a user action: clears old errors, reports new ones (inline + banner), guards the button. */
async function action(button: HTMLButtonElement | null, where: Where | null, fn: () => Promise<void>): Promise<void> {
  clearError(...(where ? [where] : []));
  if (button) button.disabled = true;
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof SessionExpired)) showError(err, where ?? undefined);
  } finally {
    if (button) button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Sign in / out

async function onSignIn(ev: Event): Promise<void> {
  ev.preventDefault();
  const inline = 'signin';
  const button = $('signin') as HTMLButtonElement;
  const email = ($('email') as HTMLInputElement).value.trim();
  const password = ($('password') as HTMLInputElement).value;
  clearError(inline);
  if (!email || !password) return showError(TEXT.ui.dash.enterCredentials, inline);
  button.disabled = true;
  try {
    const signed = await signIn(email, password);
    if (signed.user.role !== 'admin') {
      // Do not keep a token this page cannot use; revoke it on the server too.
      api('POST', '/api/v1/auth/signout', { token: signed.accessToken }).catch(() => undefined);
      log('signin-refused', { role: signed.user.role });
      showError(TEXT.ui.dash.notAdmin(signed.user.email, TEXT.ui.dash.roleName[signed.user.role] ?? signed.user.role), inline);
      return;
    }
    session.save(SESSION_KEY, { accessToken: signed.accessToken, user: signed.user });
    ($('password') as HTMLInputElement).value = '';
    startSession({ accessToken: signed.accessToken, user: signed.user });
  } catch (err) {
    showError(err instanceof ApiError && err.status === 401 ? TEXT.ui.dash.signInFailed(err.message) : err, inline);
  } finally {
    button.disabled = false;
  }
}

function startSession(signed: SignedIn): void {
  me = signed;
  log('signed-in', { userId: signed.user.id, email: signed.user.email });
  whoami.value = `${signed.user.name} · ${signed.user.email}`;
  $('nav').hidden = false;
  $('signout').hidden = false;
  connectBoard();
  setState('ready');
  route();
}

async function onSignOut(): Promise<void> {
  const token = me?.accessToken;
  signOutLocally();
  if (token) await api('POST', '/api/v1/auth/signout', { token }).catch(() => undefined);
}

function signOutLocally(reason?: string): void {
  generation++;
  void closeSupervisor();
  const wasSignedIn = me !== undefined;
  me = undefined;
  session.clear(SESSION_KEY);
  disconnectBoard();
  clearAdminCaptions();
  board = undefined;
  liveBoard.value = undefined;
  delete debug.board;
  users = undefined;
  accounts.value = undefined;
  for (const url of qrUrls.values()) URL.revokeObjectURL(url);
  qrUrls.clear();
  historyRows.value = undefined;
  entryPoints.value = undefined;
  webhooks.value = undefined;
  callDetail.value = { state: 'none' };
  callTranscript.value = { state: 'none' };
  newSecret.value = undefined;
  whoami.value = '';
  agentsNotice.value = '';
  $('nav').hidden = true;
  $('signout').hidden = true;
  if (wasSignedIn) log('signed-out', { reason: reason ?? 'user' });
  setState('signed-out');
  route();
  if (reason) showError(reason, 'signin');
  else clearError('signin');
}

// ---------------------------------------------------------------------------------------------
// Live board (`/admin` socket)

function connectBoard(): void {
  disconnectBoard();
  if (!me) return;
  // Parley's one reconnect and refusal policy (web-src/ui/client.ts).
  const live = liveSocket('/admin', me.accessToken, {
    onConnect: () => {
      log('connect', { id: s.id });
      board
        .ask('board:get', {})
        .then((b) => {
          log('board:get', b);
          if (socket === s) applyBoard(b);
        })
        .catch((err: unknown) => {
          if (socket === s) showError(`${TEXT.ui.admin.boardFailed} ${errorSentence(TEXT.codes, err)}`);
        });
    },
    onRefused: (reason) => {
      log('refused', { reason });
      if (socket !== s) return;
      signOutLocally(reason === 'UNAUTHORIZED' || reason === 'FORBIDDEN' ? TEXT.ui.console.signInAgain : (TEXT.ui.console.signedOut[reason] ?? TEXT.ui.console.signedOut.other!));
    },
    onError: (err) => log('connect_error', { code: err.code, message: err.message }),
  });
  const s = live.socket;
  const board = adminSocket(s);
  socket = s;
  setCaptionStatusSource(async (consultationId) => (socket === s ? (await board.ask('captions:status', { consultationId })).status : null));
  closeBoardSocket = live.close;
  disposeConn = effect(() => {
    boardConnection.value = live.state.value;
  });
  board.on('agent:turn', (t) => {
    log('agent:turn', t);
    onAgentTurn(t);
  });
  board.on('board', (b) => {
    log('board', b);
    if (socket === s) applyBoard(b);
  });
  s.on('disconnect', (reason: string) => log('disconnect', { reason }));
  board.on('server-shutdown', (data) => log('server-shutdown', data));
  // Live captions of every live consultation (pages/admin/LiveCaptions.tsx shows them in the call detail).
  board.on('caption', (c) => {
    log('caption', { consultationId: c.consultationId, utteranceId: c.utteranceId, isFinal: c.isFinal });
    if (socket === s) feedAdminCaption(c);
  });
  board.on('caption-status', (e) => {
    log('caption-status', e);
    if (socket === s) feedAdminCaptionStatus(e);
  });
  s.on('connect_error', (err: Error & { data?: { code?: string } }) => log('connect_error', { message: err.message, code: err.data?.code }));
}

function disconnectBoard(): void {
  disposeConn?.();
  disposeConn = undefined;
  closeBoardSocket?.();
  closeBoardSocket = undefined;
  socket = undefined;
  boardConnection.value = undefined;
}

function applyBoard(b: Board): void {
  board = b;
  boardReceivedAt = Date.now();
  debug.board = b;
  renderBoard();
}

/** The board's view is pages/admin/LiveBoard.tsx; ended calls drop the supervisor out of them. */
function renderBoard(): void {
  const b = board;
  if (!b) return;
  liveCallsChanged(new Set(b.live.filter((c) => c.status === 'IN_PROGRESS' || c.status === 'CONNECTING').map((c) => c.id)));
  liveBoard.value = { board: b, receivedAt: boardReceivedAt };
}

// ---------------------------------------------------------------------------------------------
// Accounts

async function loadUsers(force = false): Promise<User[]> {
  if (!users || force) users = (await rest('listUsers', {})).users;
  return users;
}

async function showAgents(gen: number): Promise<void> {
  const list = await loadUsers(true);
  if (gen === generation) renderAgents(list);
}

function renderAgents(list: User[]): void {
  accounts.value = list;
}

/** What the accounts table's buttons do (pages/admin/AccountsTable.tsx): errors inline, success in the notice. */
function accountActions(): AccountActions {
  const inline = 'agents';
  return {
    get selfId() {
      return me?.user.id;
    },
    patch: (u, body, done) =>
      action(null, inline, async () => {
        agentsNotice.value = '';
        const { user } = await rest('updateUser', { params: { id: u.id }, body });
        replaceUser(user);
        agentsNotice.value = done(user.name);
      }),
    resetPassword: async (u) => {
      const pw = window.prompt(D.newPassword(u.name, u.email));
      if (pw === null) return;
      await action(null, inline, async () => {
        agentsNotice.value = '';
        await rest('resetPassword', { params: { id: u.id }, body: { password: pw } });
        agentsNotice.value = D.passwordReset(u.name);
      });
    },
  };
}

function replaceUser(user: User): void {
  users = (users ?? []).some((u) => u.id === user.id) ? (users ?? []).map((u) => (u.id === user.id ? user : u)) : [...(users ?? []), user];
  renderAgents(users);
}

async function onCreateAgent(ev: Event): Promise<void> {
  ev.preventDefault();
  const name = $('new-agent-name') as HTMLInputElement;
  const email = $('new-agent-email') as HTMLInputElement;
  const password = $('new-agent-password') as HTMLInputElement;
  const role = $('new-agent-role') as HTMLSelectElement;
  await action($('create-agent') as HTMLButtonElement, 'agents', async () => {
    agentsNotice.value = '';
    const { user } = await rest('createUser', { body: { name: name.value.trim(), email: email.value.trim(), password: password.value, role: role.value === 'admin' ? 'admin' : 'agent' } });
    log('user-created', { id: user.id, role: user.role });
    name.value = '';
    email.value = '';
    password.value = '';
    role.value = 'agent';
    replaceUser(user);
    agentsNotice.value = D.created(D.roleName[user.role] ?? user.role, user.name, user.email);
  });
}

// ---------------------------------------------------------------------------------------------
// QR entry points

async function showEntries(gen: number): Promise<void> {
  const { entryPoints } = await rest('listEntryPoints', {});
  if (gen === generation) renderEntries(entryPoints);
}

function renderEntries(list: EntryPoint[]): void {
  $('entries-empty').hidden = list.length > 0;
  entryPoints.value = list;
}

/** What the entry cards' buttons and switches do (pages/admin/EntryCards.tsx). */
function entryActions(): EntryActions {
  return {
    qr: async (e) => {
      const cached = qrUrls.get(e.id);
      if (cached) return cached;
      if (!me) throw new SessionExpired('not signed in');
      const gen = generation;
      const url = await blobUrl(samePath(e.qrPngUrl), me.accessToken);
      const prior = qrUrls.get(e.id);
      if (prior || gen !== generation) {
        URL.revokeObjectURL(url);
        if (prior) return prior;
        throw new SessionExpired('signed out meanwhile');
      }
      qrUrls.set(e.id, url);
      return url;
    },
    qrFailed: (e, err) => {
      if (!(err instanceof SessionExpired)) showError(D.qrFailed(e.name, describe(err)));
    },
    close: (e) =>
      action(null, 'entry', async () => {
        await rest('closeEntryPoint', { params: { id: e.id } });
        log('entry-disabled', { id: e.id });
        await showEntries(generation);
      }),
    saveCaptions: async (e, captions) => (await rest('updateEntryPoint', { params: { id: e.id }, body: { captions } })).entryPoint.captions,
    saveRecording: async (e, recording) => (await rest('setEntryPointRecording', { params: { id: e.id }, body: { recording } })).entryPoint.recording,
    saveRouting: async (e, v) => {
      const kept = (await rest('updateEntryPoint', { params: { id: e.id }, body: v })).entryPoint;
      return { routing: kept.routing, overflowAfterSeconds: kept.overflowAfterSeconds };
    },
    print: (e, qrSrc) => printPoster(e, qrSrc),
    copy: copyText,
  };
}

/** Prints a poster of one entry point (the print stylesheet shows only #poster). */
function printPoster(e: EntryPoint, qrSrc: string): void {
  posterOf.value = { name: e.name, url: e.url, qrSrc };
  document.body.classList.add('printing-poster');
  log('poster', { id: e.id });
  const done = (): void => document.body.classList.remove('printing-poster');
  window.addEventListener('afterprint', done, { once: true });
  window.print();
}

/** The API lives on this page's origin even when PUBLIC_URL (used in links) points elsewhere. */
function samePath(url: string): string {
  try {
    const u = new URL(url, location.href);
    return `${u.pathname}${u.search}`;
  } catch {
    return url;
  }
}

async function copyText(value: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(value);
    return true;
  } catch {
    const ta = document.createElement('textarea');
    ta.value = value;
    document.body.append(ta);
    ta.select();
    const ok = document.execCommand('copy');
    ta.remove();
    return ok;
  }
}

async function onCreateEntry(ev: Event): Promise<void> {
  ev.preventDefault();
  const name = $('entry-name') as HTMLInputElement;
  const hours = $('entry-hours') as HTMLInputElement;
  await action($('create-entry') as HTMLButtonElement, 'entry', async () => {
    const body: RestBody<'createEntryPoint'> = { name: name.value.trim(), captions: newEntryCaptions.value };
    if (hours.value.trim() !== '') body.ttlHours = Number(hours.value);
    const { entryPoint } = await rest('createEntryPoint', { body });
    log('entry-created', { id: entryPoint.id, url: entryPoint.url });
    name.value = '';
    await showEntries(generation);
  });
}

// ---------------------------------------------------------------------------------------------
// History

async function fillAgentFilter(): Promise<void> {
  const list = await loadUsers();
  const select = $('filter-agent') as HTMLSelectElement;
  const current = historyFilter.agentId;
  const people = list.filter((u) => u.role !== 'customer').sort((a, z) => a.name.localeCompare(z.name));
  render(
    [
      ph('option', { key: '', value: '' }, D.allAgents),
      ...people.map((u) => ph('option', { key: u.id, value: u.id }, `${u.name} (${u.email})${u.status !== 'active' ? ` – ${D.accountStatus[u.status] ?? u.status}` : ''}`)),
    ],
    select,
  );
  select.value = current;
}

function readFilters(): void {
  historyFilter.from = ($('filter-from') as HTMLInputElement).value;
  historyFilter.to = ($('filter-to') as HTMLInputElement).value;
  historyFilter.agentId = ($('filter-agent') as HTMLSelectElement).value;
  historyFilter.status = ($('filter-status') as HTMLSelectElement).value;
}

function dayBound(date: string, end: boolean): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  const d = new Date(`${date}T${end ? '23:59:59.999' : '00:00:00.000'}`); // local day
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

async function showHistory(gen: number): Promise<void> {
  const inline = 'history';
  fillAgentFilter().catch((err: unknown) => {
    if (!(err instanceof SessionExpired)) showError(D.agentsFailed(describe(err)), inline);
  });
  const q = new URLSearchParams();
  const from = dayBound(historyFilter.from, false);
  const to = dayBound(historyFilter.to, true);
  if (from) q.set('from', from);
  if (to) q.set('to', to);
  if (historyFilter.agentId) q.set('agentId', historyFilter.agentId);
  if (historyFilter.status) q.set('status', historyFilter.status);
  q.set('limit', String(HISTORY_PAGE));
  q.set('offset', String(historyFilter.offset));
  historyPager.value = { ...historyPager.value, label: D.loading };
  const { consultations, total } = await rest('history', { query: Object.fromEntries(q) });
  await loadPhoneFormat(); // per-locale phone numbers (a split chunk, loaded once)
  if (gen !== generation) return;
  log('history', { query: q.toString(), count: consultations.length, total });
  historyRows.value = consultations;
  const first = total === 0 ? 0 : historyFilter.offset + 1;
  const last = historyFilter.offset + consultations.length;
  historyPager.value = { label: D.pageOf(first, last, total), atStart: historyFilter.offset === 0, atEnd: last >= total };
}

function onApplyFilters(ev: Event): void {
  ev.preventDefault();
  readFilters();
  historyFilter.offset = 0;
  reloadHistory();
}

function reloadHistory(): void {
  if (location.hash !== '#history') {
    location.hash = '#history';
    return; // hashchange loads it
  }
  const gen = ++generation;
  void action(null, 'history', () => showHistory(gen));
}

// ---------------------------------------------------------------------------------------------
// Call detail

/** The call's words by speaker and time; masked words blurred (their text never reaches the page). */
async function showTranscript(id: string, gen: number): Promise<void> {
  callTranscript.value = { state: 'loading' };
  try {
    const { utterances } = await get<{ utterances: UtteranceJson[] }>(`/api/v1/consultations/${encodeURIComponent(id)}/transcript`);
    if (gen === generation) callTranscript.value = { state: 'ready', utterances };
  } catch {
    if (gen === generation) callTranscript.value = { state: 'failed' };
  }
}

/** The transcript's download buttons (static in the page) fetch the export for the call shown. */
function exportTranscript(format: string): void {
  const d = callDetail.value;
  const id = d.state === 'ready' ? d.call.id : d.state === 'none' ? undefined : d.id;
  if (!me || !id) return;
  void blobUrl(`/api/v1/consultations/${encodeURIComponent(id)}/transcript/export?format=${format}`, me.accessToken).then((url) => {
    const a = document.createElement('a');
    a.href = url;
    a.download = `consultation-${id}.${format}`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
}

async function showCall(id: string, gen: number): Promise<void> {
  // Who and when, not the id (the id stays in the address bar and data-consultation-id).
  $('call-id').dataset.consultationId = id;
  callDetail.value = { state: 'loading', id };
  render(null, $('call-recording'));
  render(null, $('call-live-captions'));
  void showTranscript(id, gen);
  let c: RestReply<'consultation'>['consultation'];
  try {
    c = (await rest('consultation', { params: { id } })).consultation;
    await loadPhoneFormat();
  } catch (err) {
    if (gen === generation) callDetail.value = { state: 'failed', id };
    throw err;
  }
  if (gen !== generation) return;
  log('call', { id: c.id, status: c.status });
  // A live call: its captions as they come (the transcript below fills in once they are final).
  if (c.status !== 'ENDED' && c.status !== 'FAILED') render(ph(LiveCallCaptions, { key: c.id, consultationId: c.id }), $('call-live-captions'));
  if (c.roomId && me) render(ph(RecordingCard, { key: c.id, roomName: c.roomId, token: me.accessToken }), $('call-recording'));
  const names = new Map<string, string>();
  for (const u of users ?? []) names.set(u.id, u.name);
  if (c.agent) names.set(c.agent.id, c.agent.name);
  for (const p of c.participants ?? []) if (p.userId) names.set(p.userId, p.name);
  for (const n of c.notes ?? []) if (n.authorName) names.set(n.authorId, n.authorName);
  callDetail.value = { state: 'ready', call: c, names };
}

// ---------------------------------------------------------------------------------------------
// Webhooks

async function showWebhooks(gen: number): Promise<void> {
  const { webhooks: list } = await rest('listWebhooks', {});
  if (gen !== generation) return;
  $('webhooks-empty').hidden = list.length > 0;
  webhooks.value = list;
}

/** What the webhook cards do (pages/admin/Webhooks.tsx); a card shows its own error sentence. */
function webhookActions(): WebhookActions {
  return {
    deliveries: (w, offset) => rest('deliveries', { params: { id: w.id }, query: { limit: DELIVERY_PAGE, offset } }),
    redeliver: async (w, d) => {
      await rest('redeliver', { params: { id: w.id, deliveryId: d.id } });
      log('webhook-redeliver', { webhookId: w.id, deliveryId: d.id });
    },
    disable: async (w) => {
      await rest('disableWebhook', { params: { id: w.id } });
      log('webhook-disabled', { id: w.id });
      await showWebhooks(generation);
    },
    run: async (fn) => {
      clearError();
      try {
        await fn();
        return undefined;
      } catch (err) {
        if (err instanceof SessionExpired) return undefined;
        showError(err);
        return describe(err);
      }
    },
  };
}

async function onCreateWebhook(ev: Event): Promise<void> {
  ev.preventDefault();
  const url = $('webhook-url') as HTMLInputElement;
  const events = $('webhook-events') as HTMLInputElement;
  const description = $('webhook-description') as HTMLInputElement;
  await action($('create-webhook') as HTMLButtonElement, 'webhook', async () => {
    const list = events.value
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    // The server names an event type it does not know (400): the list is checked there.
    const body = { url: url.value.trim(), events: (list.length ? list : ['*']) as RestBody<'createWebhook'>['events'], description: description.value.trim() || undefined };
    const { webhook } = await rest('createWebhook', { body });
    log('webhook-created', { id: webhook.id, url: webhook.url });
    if (webhook.secret) newSecret.value = { url: webhook.url, secret: webhook.secret };
    url.value = '';
    description.value = '';
    events.value = '*';
    await showWebhooks(generation);
  });
}

// ---------------------------------------------------------------------------------------------
// Routing

const sections: View[] = ['signin', 'live', 'agents', 'entry', 'history', 'call', 'webhooks'];
const navOf: Partial<Record<View, string>> = { live: 'nav-live', agents: 'nav-agents', entry: 'nav-entry', history: 'nav-history', call: 'nav-history', webhooks: 'nav-webhooks' };

function parseHash(): { view: Exclude<View, 'signin'>; id?: string } {
  const raw = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
  const [head, ...rest] = raw.split('/');
  if (head === 'call' && rest.length && rest.join('/')) return { view: 'call', id: rest.join('/') };
  if (head === 'agents' || head === 'entry' || head === 'history' || head === 'webhooks' || head === 'live') return { view: head };
  return { view: 'live' };
}

function route(): void {
  const target = me ? parseHash() : { view: 'signin' as const };
  const view: View = target.view;
  for (const s of sections) $(`view-${s}`).hidden = s !== view;
  const active = navOf[view];
  for (const id of new Set(Object.values(navOf))) {
    if (id === active) $(id).setAttribute('aria-current', 'page');
    else $(id).removeAttribute('aria-current');
  }
  if (view !== 'webhooks' && debug.view === 'webhooks') {
    // The signing secret is shown once: leaving the page forgets it.
    newSecret.value = undefined;
  }
  // Leaving the webhooks page stops the cards' polling (they mount afresh when it is shown again).
  if (view !== 'webhooks') webhooks.value = undefined;
  setView(view);
  if (!me) {
    document.title = `Parley admin · ${D.viewTitle.signin}`;
    return;
  }
  document.title = `Parley admin · ${D.viewTitle[view] ?? view}`;
  const gen = ++generation;
  switch (view) {
    case 'live':
      renderBoard();
      break;
    case 'agents':
      void action(null, 'agents', () => showAgents(gen));
      break;
    case 'entry':
      void action(null, 'entry', () => showEntries(gen));
      break;
    case 'history':
      syncFilterInputs();
      void action(null, 'history', () => showHistory(gen));
      break;
    case 'call':
      void action(null, 'call', () => showCall(target.view === 'call' ? (target.id ?? '') : '', gen));
      break;
    case 'webhooks':
      void action(null, 'webhook', () => showWebhooks(gen));
      break;
  }
}

function syncFilterInputs(): void {
  ($('filter-from') as HTMLInputElement).value = historyFilter.from;
  ($('filter-to') as HTMLInputElement).value = historyFilter.to;
  ($('filter-status') as HTMLSelectElement).value = historyFilter.status;
  const agent = $('filter-agent') as HTMLSelectElement;
  if ([...agent.options].some((o) => o.value === historyFilter.agentId)) agent.value = historyFilter.agentId;
}

// ---------------------------------------------------------------------------------------------
// Boot

async function restore(): Promise<void> {
  const saved = session.load(SESSION_KEY);
  if (!saved?.accessToken || !saved.user) return;
  if (saved.user.role !== 'admin') {
    session.clear(SESSION_KEY);
    return;
  }
  try {
    const { user } = await api<{ user: SignedIn['user'] }>('GET', '/api/v1/auth/me', { token: saved.accessToken });
    if (user.role !== 'admin') {
      session.clear(SESSION_KEY);
      showError(D.noLongerAdmin(user.email), 'signin');
      return;
    }
    const fresh = { accessToken: saved.accessToken, user };
    session.save(SESSION_KEY, fresh);
    startSession(fresh);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      session.clear(SESSION_KEY);
      showError(D.sessionEnded, 'signin');
      return;
    }
    // Server unreachable or hiccup: keep the session and let the page retry on its own.
    startSession(saved);
    showError(D.verifyFailed(describe(err)));
  }
}

function boot(): void {
  window.addEventListener('error', (ev) => showError(D.unexpected(ev.message)));
  window.addEventListener('unhandledrejection', (ev) => {
    if (ev.reason instanceof SessionExpired) return;
    showError(D.unexpected(describe(ev.reason)));
  });
  $('signin-form').addEventListener('submit', (ev) => void onSignIn(ev));
  $('signout').addEventListener('click', () => void onSignOut());
  $('agent-form').addEventListener('submit', (ev) => void onCreateAgent(ev));
  $('entry-form').addEventListener('submit', (ev) => void onCreateEntry(ev));
  $('filter-form').addEventListener('submit', onApplyFilters);
  $('clear-filters').addEventListener('click', () => {
    for (const id of ['filter-from', 'filter-to', 'filter-agent', 'filter-status']) ($(id) as HTMLInputElement | HTMLSelectElement).value = '';
    readFilters();
    historyFilter.offset = 0;
    reloadHistory();
  });
  $('webhook-form').addEventListener('submit', (ev) => void onCreateWebhook(ev));
  window.addEventListener('hashchange', () => {
    log('view', location.hash);
    route();
  });
  mount('lang-switch', ph(LanguageSwitch, {}));
  mount('error-holder', ph(ErrorBanner, { onClose: () => clearError() }));
  for (const where of ['signin', 'agents', 'entry', 'history', 'call', 'webhook'] as const) mount(`${where}-error-holder`, ph(InlineError, { where }));
  mount('agents-notice-holder', ph(AgentsNotice, {}));
  mount('whoami-holder', ph(WhoAmI, {}));
  mount('conn-status', ph(BoardConnection, {}));
  mount(
    'history-pager',
    ph(HistoryPager, {
      prev: () => {
        historyFilter.offset = Math.max(0, historyFilter.offset - HISTORY_PAGE);
        reloadHistory();
      },
      next: () => {
        historyFilter.offset += HISTORY_PAGE;
        reloadHistory();
      },
    }),
  );
  mount('entry-captions-field', ph(NewEntryCaptions, {}));
  mount('live-board', ph(LiveBoard, {}));
  mount('history-table', ph(HistoryTable, {}));
  mount('accounts-table', ph(AccountsTable, accountActions()));
  mount('entries', ph(EntryCards, { actions: entryActions() }));
  mount('poster', ph(Poster, {}));
  mount('webhooks', ph(WebhookCards, { actions: webhookActions() }));
  mount('webhook-secret-holder', ph(WebhookSecret, { copy: copyText }));
  mount('call-id', ph(CallTitle, {}));
  mount('call-summary', ph(CallSummary, {}));
  mount('call-timeline', ph(CallTimelineItems, {}));
  mount('call-participants', ph(CallParticipants, {}));
  mount('call-notes', ph(CallNotes, {}));
  mount('call-transcript', ph(CallTranscriptLines, {}));
  for (const b of document.querySelectorAll<HTMLButtonElement>('.transcript-export')) b.addEventListener('click', () => exportTranscript(b.dataset.format ?? 'txt'));
  mountSupervisor(() => me?.accessToken);
  (debug as unknown as { supervise: typeof superviseDebug }).supervise = superviseDebug;
  (debug as unknown as { captionCount: typeof adminCaptionCount }).captionCount = adminCaptionCount;
  onLanguage(() => {
    TEXT = adminText();
    D = TEXT.ui.dash;
    applyStaticText();
    renderBoard();
  });
  setState('signed-out');
  route();
  void restore();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
