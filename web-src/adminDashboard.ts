/**
 * Admin dashboard (/admin/): live board over the `/admin` socket, accounts, QR entry points,
 * consultation history and detail, webhooks. Plain DOM; hash routing (#live, #agents, #entry,
 * #history, #call/<id>, #webhooks). `window.parley` exposes state for end-to-end tests.
 */
import type { Socket } from 'socket.io-client';
import type { UtteranceJson } from '../src/http/routes/transcriptRoutes.js';
import type { Board, CallStatus, ConsultationDetailView as ConsultationDetail, ConsultationView as Consultation } from '../src/domain/consultations/consultationView.js';
import { $, api, ApiError, blobUrl, formatDuration, h, session, signIn, type SignedIn } from './lib/api.js';
import { causeSentence, errorSentence } from './lib/consultationText.js';
import { h as ph, render } from 'preact';
import { onAgentTurn } from './pages/admin/LiveSentiment.js';
import { EntryRoutingControl, type RoutingValue } from './pages/admin/EntryRouting.js';
import { EntryCaptionsControl, NewEntryCaptions, newEntryCaptions, type CaptionsSetting } from './pages/admin/EntryCaptions.js';
import { closeSupervisor, liveCallsChanged, mountSupervisor, superviseDebug } from './pages/supervisePanel.js';
import { LiveBoard, liveBoard } from './pages/admin/LiveBoard.js';
import { HistoryTable, historyRows } from './pages/admin/HistoryTable.js';
import { AccountsTable, accounts, type AccountActions } from './pages/admin/AccountsTable.js';
import { CallTimeline } from './pages/admin/CallTimeline.js';
import { EntryRecordingControl, type RecordingSetting } from './pages/admin/EntryRecording.js';
import { LanguageSwitch, mount } from './ui/components.js';
import { RecordingCard, seekRecording } from './pages/admin/RecordingPlayer.js';
import { adminCaptionCount, clearAdminCaptions, feedAdminCaption, feedAdminCaptionStatus, LiveCallCaptions, setCaptionStatusSource } from './pages/admin/LiveCaptions.js';
import { formatDateTime } from './ui/format.js';
import { effect } from '@preact/signals';
import { liveSocket } from './ui/client.js';
import { adminSocket } from './client/admin.js';
import { applyStaticText, locale, onLanguage, text } from './ui/i18n.js';
import { formatPhone, loadPhoneFormat } from './ui/phone.js';
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
/** The dashboard's own sentences and its field labels (refreshed with TEXT on a language switch). */
let D = TEXT.ui.dash;
let F = D.field;

// ---------------------------------------------------------------------------------------------
// Types (from the server's contracts: src/contracts/rest.ts, src/domain/consultations/consultationView.ts)


type User = RestReply<'listUsers'>['users'][number];
type EntryPoint = RestReply<'listEntryPoints'>['entryPoints'][number];
type Webhook = RestReply<'listWebhooks'>['webhooks'][number];
type Delivery = RestReply<'deliveries'>['deliveries'][number];

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
const DELIVERY_PAGE = 20;
const LOG_LIMIT = 500;
const WEBHOOK_POLL_MS = 3000;

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

function showError(err: unknown, inline?: HTMLElement): void {
  const message = typeof err === 'string' ? err : describe(err);
  debug.errors.push(message);
  log('error', message);
  $('error-text').textContent = message;
  $('error').hidden = false;
  if (inline) {
    inline.textContent = message;
    inline.hidden = false;
  }
}

function clearError(...inline: HTMLElement[]): void {
  $('error').hidden = true;
  $('error-text').textContent = '';
  for (const el of inline) {
    el.hidden = true;
    el.textContent = '';
  }
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
async function action(button: HTMLButtonElement | null, inline: HTMLElement | null, fn: () => Promise<void>): Promise<void> {
  clearError(...(inline ? [inline] : []));
  if (button) button.disabled = true;
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof SessionExpired)) showError(err, inline ?? undefined);
  } finally {
    if (button) button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Formatting

function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : formatDateTime(d);
}

function fmtSeconds(s: number | null | undefined): string {
  return s === null || s === undefined ? '—' : formatDuration(s);
}

function badge(text: string, cls = text): HTMLSpanElement {
  return h('span', { class: `badge ${cls}` }, text);
}

/** "in 29 days" / "3 hours ago" in the page's language. */
function relative(iso: string): string {
  const ms = Date.parse(iso) - Date.now();
  const abs = Math.abs(ms);
  const unit = abs >= 86_400_000 ? ([86_400_000, 'day'] as const) : abs >= 3_600_000 ? ([3_600_000, 'hour'] as const) : ([60_000, 'minute'] as const);
  const n = Math.max(1, Math.round(abs / unit[0]));
  return new Intl.RelativeTimeFormat(locale.value, { numeric: 'always' }).format(ms >= 0 ? n : -n, unit[1]);
}

// ---------------------------------------------------------------------------------------------
// Sign in / out

async function onSignIn(ev: Event): Promise<void> {
  ev.preventDefault();
  const inline = $('signin-error');
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
  $('whoami').textContent = `${signed.user.name} · ${signed.user.email}`;
  $('nav').hidden = false;
  $('signout').hidden = false;
  $('conn').hidden = false;
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
  render(null, $('call-timeline'));
  for (const id of ['entries', 'call-summary', 'call-participants', 'call-notes', 'webhooks']) $(id).replaceChildren();
  $('webhook-secret').textContent = '';
  $('webhook-secret-box').hidden = true;
  $('whoami').textContent = '';
  $('nav').hidden = true;
  $('signout').hidden = true;
  $('conn').hidden = true;
  if (wasSignedIn) log('signed-out', { reason: reason ?? 'user' });
  setState('signed-out');
  route();
  if (reason) showError(reason, $('signin-error'));
  else clearError($('signin-error'));
}

// ---------------------------------------------------------------------------------------------
// Live board (`/admin` socket)

function setConn(state: 'connecting' | 'connected' | 'disconnected', text: string): void {
  const el = $('conn');
  el.dataset.conn = state;
  el.textContent = text;
}

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
    const state = live.state.value;
    setConn(state === 'online' ? 'connected' : state === 'connecting' || state === 'reconnecting' ? 'connecting' : 'disconnected', text.value.connection[state]);
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
  setConn('disconnected', TEXT.ui.connection.offline);
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
  const inline = $('agents-error');
  const notice = $('agents-notice');
  return {
    get selfId() {
      return me?.user.id;
    },
    patch: (u, body, done) =>
      action(null, inline, async () => {
        notice.hidden = true;
        const { user } = await rest('updateUser', { params: { id: u.id }, body });
        replaceUser(user);
        flash(notice, done(user.name));
      }),
    resetPassword: async (u) => {
      const pw = window.prompt(D.newPassword(u.name, u.email));
      if (pw === null) return;
      await action(null, inline, async () => {
        notice.hidden = true;
        await rest('resetPassword', { params: { id: u.id }, body: { password: pw } });
        flash(notice, D.passwordReset(u.name));
      });
    },
  };
}

function replaceUser(user: User): void {
  users = (users ?? []).some((u) => u.id === user.id) ? (users ?? []).map((u) => (u.id === user.id ? user : u)) : [...(users ?? []), user];
  renderAgents(users);
}

function flash(el: HTMLElement, text: string): void {
  el.textContent = text;
  el.hidden = false;
}

async function onCreateAgent(ev: Event): Promise<void> {
  ev.preventDefault();
  const name = $('new-agent-name') as HTMLInputElement;
  const email = $('new-agent-email') as HTMLInputElement;
  const password = $('new-agent-password') as HTMLInputElement;
  const role = $('new-agent-role') as HTMLSelectElement;
  const notice = $('agents-notice');
  await action($('create-agent') as HTMLButtonElement, $('agents-error'), async () => {
    notice.hidden = true;
    const { user } = await rest('createUser', { body: { name: name.value.trim(), email: email.value.trim(), password: password.value, role: role.value === 'admin' ? 'admin' : 'agent' } });
    log('user-created', { id: user.id, role: user.role });
    name.value = '';
    email.value = '';
    password.value = '';
    role.value = 'agent';
    replaceUser(user);
    flash(notice, D.created(D.roleName[user.role] ?? user.role, user.name, user.email));
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
  const sorted = [...list].sort((a, z) => Number(a.disabled) - Number(z.disabled) || z.createdAt.localeCompare(a.createdAt));
  $('entries').replaceChildren(...sorted.map(entryCard));
}

function entryCard(e: EntryPoint): HTMLElement {
  const expired = Date.parse(e.expiresAt) <= Date.now();
  const status = e.disabled ? 'disabled' : expired ? 'expired' : 'active';
  const img = h('img', { class: 'qr', alt: D.qrAlt(e.name), width: 192, height: 192 });
  const download = h('a', { class: 'download', download: `parley-qr-${slug(e.name)}.png`, 'aria-disabled': 'true' }, D.downloadPng);
  const setQr = (url: string): void => {
    img.dataset.qr = 'loaded';
    img.src = url;
    download.href = url;
    download.removeAttribute('aria-disabled');
  };
  const cached = qrUrls.get(e.id);
  if (cached) setQr(cached);
  else if (me) {
    const gen = generation;
    blobUrl(samePath(e.qrPngUrl), me.accessToken)
      .then((url) => {
        if (gen !== generation) return URL.revokeObjectURL(url);
        const prior = qrUrls.get(e.id);
        if (prior) {
          URL.revokeObjectURL(url);
          return setQr(prior);
        }
        qrUrls.set(e.id, url);
        setQr(url);
      })
      .catch((err: unknown) => {
        img.alt = D.qrFailedAlt(e.name);
        img.dataset.qr = 'error';
        showError(D.qrFailed(e.name, describe(err)));
      });
  }
  const copy = h('button', { type: 'button', class: 'copy small' }, D.copyLink);
  copy.addEventListener('click', () => {
    void copyText(e.url).then((ok) => {
      copy.textContent = ok ? D.copied : D.copyFailed;
      setTimeout(() => (copy.textContent = D.copyLink), 1500);
    });
  });
  const print = h('button', { type: 'button', class: 'print small' }, TEXT.ui.qr.print);
  print.addEventListener('click', () => printPoster(e, img));
  const actions: HTMLElement[] = [copy, download, print];
  if (!e.disabled) {
    const dis = h('button', { type: 'button', class: 'disable small danger' }, D.disable);
    dis.addEventListener('click', () =>
      void action(dis, $('entry-error'), async () => {
        await rest('closeEntryPoint', { params: { id: e.id } });
        log('entry-disabled', { id: e.id });
        await showEntries(generation);
      }),
    );
    actions.push(dis);
  }
  return h(
    'div',
    { class: `card entry ${status}`, dataset: { entryId: e.id, status } },
    h('div', { class: 'row' }, h('h3', { class: 'name' }, e.name), badge(D.entryStatus[status] ?? status, status)),
    pointsToLocalhost(e.url) ? h('div', { class: 'banner warn localhost-warning', role: 'alert' }, TEXT.ui.qr.localhost) : null,
    img,
    h('a', { class: 'entry-url', href: e.url, target: '_blank', rel: 'noopener' }, e.url),
    entryCaptions(e),
    entryRecording(e),
    entryRouting(e),
    h('div', { class: 'muted expires' }, (expired ? D.expired : D.expires)(fmtTime(e.expiresAt), relative(e.expiresAt))),
    h('div', { class: 'muted' }, D.createdAt(fmtTime(e.createdAt))),
    h('div', { class: 'actions' }, ...actions),
  );
}

/** A QR that encodes localhost (or a loopback address) cannot be opened by a phone that scans it. */
export function pointsToLocalhost(url: string): boolean {
  try {
    const host = new URL(url, location.href).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '::1' || host === '0.0.0.0';
  } catch {
    return false;
  }
}

/** Prints a poster of one entry point (the print stylesheet shows only #poster). */
function printPoster(e: EntryPoint, img: HTMLImageElement): void {
  const t = TEXT.ui.qr;
  const poster = $('poster');
  poster.replaceChildren(
    h('h1', {}, t.posterTitle),
    h('div', { class: 'poster-name' }, e.name),
    h('img', { src: img.src, alt: e.name }),
    h('p', {}, t.posterBody),
    h('div', { class: 'poster-url' }, e.url),
  );
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

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'entry';
}

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = h('textarea', {}, text);
    document.body.append(ta);
    ta.select();
    const ok = document.execCommand('copy');
    ta.remove();
    return ok;
  }
}

/** The card's caption setting (pages/admin/EntryCaptions.tsx). */
function entryCaptions(e: EntryPoint): HTMLElement {
  const holder = h('div', {});
  const save = async (captions: CaptionsSetting): Promise<CaptionsSetting> => (await rest('updateEntryPoint', { params: { id: e.id }, body: { captions } })).entryPoint.captions;
  render(ph(EntryCaptionsControl, { entryId: e.id, value: e.captions, save }), holder);
  return holder;
}

/** The card's recording setting (pages/admin/EntryRecording.tsx). */
function entryRecording(e: EntryPoint): HTMLElement {
  const holder = h('div', {});
  const save = async (recording: RecordingSetting): Promise<RecordingSetting> => (await rest('setEntryPointRecording', { params: { id: e.id }, body: { recording } })).entryPoint.recording;
  render(ph(EntryRecordingControl, { entryId: e.id, value: e.recording, save }), holder);
  return holder;
}

/** The card's routing: human, AI first, AI overflow (pages/admin/EntryRouting.tsx). */
function entryRouting(e: EntryPoint): HTMLElement {
  const holder = h('div', {});
  const save = async (v: RoutingValue): Promise<RoutingValue> => {
    const kept = (await rest('updateEntryPoint', { params: { id: e.id }, body: v })).entryPoint;
    return { routing: kept.routing, overflowAfterSeconds: kept.overflowAfterSeconds };
  };
  render(ph(EntryRoutingControl, { entryId: e.id, value: { routing: e.routing, overflowAfterSeconds: e.overflowAfterSeconds }, save }), holder);
  return holder;
}

async function onCreateEntry(ev: Event): Promise<void> {
  ev.preventDefault();
  const name = $('entry-name') as HTMLInputElement;
  const hours = $('entry-hours') as HTMLInputElement;
  await action($('create-entry') as HTMLButtonElement, $('entry-error'), async () => {
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
  select.replaceChildren(
    h('option', { value: '' }, D.allAgents),
    ...people.map((u) => h('option', { value: u.id, selected: u.id === current }, `${u.name} (${u.email})${u.status !== 'active' ? ` – ${D.accountStatus[u.status] ?? u.status}` : ''}`)),
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
  const inline = $('history-error');
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
  $('history-page').textContent = D.loading;
  const { consultations, total } = await rest('history', { query: Object.fromEntries(q) });
  await loadPhoneFormat(); // per-locale phone numbers (a split chunk, loaded once)
  if (gen !== generation) return;
  log('history', { query: q.toString(), count: consultations.length, total });
  historyRows.value = consultations;
  const first = total === 0 ? 0 : historyFilter.offset + 1;
  const last = historyFilter.offset + consultations.length;
  $('history-page').textContent = D.pageOf(first, last, total);
  ($('history-prev') as HTMLButtonElement).disabled = historyFilter.offset === 0;
  ($('history-next') as HTMLButtonElement).disabled = last >= total;
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
  void action(null, $('history-error'), () => showHistory(gen));
}

// ---------------------------------------------------------------------------------------------
// Call detail

/** The call's words by speaker and time; masked words blurred (their text never reaches the page). */
async function showTranscript(id: string, gen: number): Promise<void> {
  let utterances: UtteranceJson[];
  try {
    utterances = (await get<{ utterances: UtteranceJson[] }>(`/api/v1/consultations/${encodeURIComponent(id)}/transcript`)).utterances;
  } catch {
    if (gen === generation) $('call-transcript').replaceChildren(h('li', { class: 'muted empty' }, text.value.captions.waiting));
    return;
  }
  if (gen !== generation) return;
  const clock = (ms: number) => formatDuration(Math.floor(ms / 1000));
  const textOf = (u: UtteranceJson): Node[] => {
    const out: Node[] = [];
    let at = 0;
    for (const m of [...u.maskedSpans].sort((a, b) => a.start - b.start)) {
      if (m.start < at || m.end > u.text.length) continue;
      if (m.start > at) out.push(document.createTextNode(u.text.slice(at, m.start)));
      out.push(h('span', { class: 'masked', title: text.value.captions.masked, dataset: { category: m.category } }, u.text.slice(m.start, m.end)));
      at = m.end;
    }
    out.push(document.createTextNode(u.text.slice(at)));
    return out;
  };
  $('call-transcript').replaceChildren(
    ...(utterances.length
      ? utterances.map((u) => {
          const li = h('li', { class: 'final seekable', dataset: { role: u.speaker.role, startMs: String(u.startMs) } }, h('span', { class: 'muted' }, `${clock(u.startMs)} `), h('strong', {}, `${u.speaker.name} `), h('span', { class: 'caption-text' }, ...textOf(u)));
          // Beside the recording: a click plays the call from this line.
          li.onclick = () => seekRecording(u.startMs);
          return li;
        })
      : [h('li', { class: 'muted empty' }, text.value.captions.waiting)]),
  );
  for (const b of document.querySelectorAll<HTMLButtonElement>('.transcript-export')) {
    b.onclick = () => {
      if (!me) return;
      void blobUrl(`/api/v1/consultations/${encodeURIComponent(id)}/transcript/export?format=${b.dataset.format ?? 'txt'}`, me.accessToken).then((url) => {
        const a = document.createElement('a');
        a.href = url;
        a.download = `consultation-${id}.${b.dataset.format ?? 'txt'}`;
        a.click();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      });
    };
  }
}

async function showCall(id: string, gen: number): Promise<void> {
  // Who and when, not the id (the id stays in the address bar and data-consultation-id).
  $('call-id').textContent = '';
  $('call-id').dataset.consultationId = id;
  render(null, $('call-timeline'));
  for (const el of ['call-summary', 'call-participants', 'call-notes', 'call-transcript']) $(el).replaceChildren();
  render(null, $('call-recording'));
  render(null, $('call-live-captions'));
  void showTranscript(id, gen);
  $('call-summary').append(h('dd', { class: 'muted' }, D.loading));
  let c: ConsultationDetail;
  try {
    c = (await rest('consultation', { params: { id } })).consultation;
    await loadPhoneFormat();
  } catch (err) {
    if (gen === generation) $('call-summary').replaceChildren(h('dd', { class: 'muted' }, D.callFailed));
    throw err;
  }
  if (gen !== generation) return;
  log('call', { id: c.id, status: c.status });
  // A live call: its captions as they come (the transcript below fills in once they are final).
  if (c.status !== 'ENDED' && c.status !== 'FAILED') render(ph(LiveCallCaptions, { key: c.id, consultationId: c.id }), $('call-live-captions'));
  if (c.roomId && me) render(ph(RecordingCard, { key: c.id, roomName: c.roomId, token: me.accessToken }), $('call-recording'));
  $('call-id').textContent = `${c.customer.name || D.noName} · ${fmtTime(c.createdAt)}`;
  const names = new Map<string, string>();
  for (const u of users ?? []) names.set(u.id, u.name);
  if (c.agent) names.set(c.agent.id, c.agent.name);
  for (const p of c.participants ?? []) if (p.userId) names.set(p.userId, p.name);
  for (const n of c.notes ?? []) if (n.authorName) names.set(n.authorId, n.authorName);

  const field = (label: string, key: string, value: Node | string): HTMLElement[] => [h('dt', {}, label), h('dd', { dataset: { field: key }, class: key }, value)];
  $('call-summary').replaceChildren(
    ...field(F.customer, 'customer', c.customer.name || D.noName),
    ...field(F.phone, 'phone', c.customer.phone ? formatPhone(c.customer.phone) : '—'),
    ...field(F.inquiry, 'inquiry', c.inquiry || '—'),
    ...field(F.consent, 'consent', c.recordingConsent ? D.yes : D.no),
    ...field(F.entryPoint, 'entry-point', c.entryPoint ? c.entryPoint.name : '—'),
    ...field(F.agent, 'agent', c.agent?.name ?? '—'),
    ...field(F.status, 'status', badge(TEXT.codes.status[c.status] ?? c.status, c.status)),
    ...field(F.why, 'failure-cause', causeSentence(TEXT.codes, c.failureCause) || '—'),
    ...field(F.callback, 'callback', c.callback ? TEXT.callbackAsked(formatPhone(c.callback.phone), fmtTime(c.callback.requestedAt)) : TEXT.noCallback),
    ...field(F.disposition, 'disposition', c.disposition ? (TEXT.codes.dispositions[c.disposition] ?? c.disposition) : '—'),
    ...(c.aiOutcome ? field(text.value.aiOutcome.label, 'ai-outcome', text.value.aiOutcome[c.aiOutcome]) : []),
    ...field(F.created, 'created', fmtTime(c.createdAt)),
    ...field(F.answered, 'answered', fmtTime(c.answeredAt)),
    ...field(F.connected, 'connected', fmtTime(c.connectedAt)),
    ...field(F.ended, 'ended', fmtTime(c.endedAt)),
    ...field(F.wait, 'wait', fmtSeconds(c.waitSeconds)),
    ...field(F.duration, 'duration', fmtSeconds(c.durationSeconds)),
  );

  render(ph(CallTimeline, { call: c, names }), $('call-timeline'));

  $('call-participants').replaceChildren(
    ...((c.participants ?? []).length
      ? c.participants.map((p) =>
          h('tr', { dataset: { role: p.role } }, h('td', { class: 'role' }, TEXT.roles[p.role] ?? p.role), h('td', { class: 'name' }, p.name), h('td', {}, fmtTime(p.joinedAt)), h('td', {}, fmtTime(p.leftAt))),
        )
      : [h('tr', { class: 'empty' }, h('td', { colspan: 4, class: 'muted' }, D.nobodyJoined))]),
  );

  $('call-notes').replaceChildren(
    ...((c.notes ?? []).length
      ? c.notes.map((n) =>
          h(
            'li',
            { dataset: { noteId: n.id } },
            h('div', { class: 'row' }, h('strong', { class: 'author' }, n.authorName ?? names.get(n.authorId) ?? D.unknownAuthor), n.disposition ? badge(TEXT.codes.dispositions[n.disposition] ?? n.disposition, 'disposition') : null, h('span', { class: 'muted' }, fmtTime(n.createdAt))),
            h('p', { class: 'body' }, n.body),
          ),
        )
      : [h('li', { class: 'muted empty' }, D.noNotes)]),
  );
}

// ---------------------------------------------------------------------------------------------
// Webhooks

function webhookDisabled(w: Webhook): boolean {
  return !w.active || w.disabledAt !== null;
}

async function showWebhooks(gen: number): Promise<void> {
  const { webhooks } = await rest('listWebhooks', {});
  if (gen !== generation) return;
  $('webhooks-empty').hidden = webhooks.length > 0;
  const sorted = [...webhooks].sort((a, z) => Number(webhookDisabled(a)) - Number(webhookDisabled(z)) || (z.createdAt ?? '').localeCompare(a.createdAt ?? ''));
  $('webhooks').replaceChildren(...sorted.map((w) => webhookCard(w, gen)));
}

function webhookCard(w: Webhook, gen: number): HTMLElement {
  const disabled = webhookDisabled(w);
  const inline = h('p', { class: 'inline-error', hidden: true });
  const body = h('tbody', { class: 'deliveries' });
  const pageInfo = h('span', { class: 'muted' });
  const prev = h('button', { type: 'button', class: 'small' }, D.newer);
  const next = h('button', { type: 'button', class: 'small' }, D.older);
  const refresh = h('button', { type: 'button', class: 'refresh small' }, D.refresh);
  let offset = 0;
  let loading = false;

  const load = async (): Promise<void> => {
    loading = true;
    let answer: { deliveries: Delivery[]; total: number };
    try {
      answer = await rest('deliveries', { params: { id: w.id }, query: { limit: DELIVERY_PAGE, offset } });
    } finally {
      loading = false;
    }
    const { deliveries, total } = answer;
    if (gen !== generation) return;
    // Keep expanded payloads open across refreshes.
    const open = new Set([...body.querySelectorAll<HTMLElement>('tr[data-delivery-id]')].filter((r) => r.querySelector('details')?.open).map((r) => r.dataset.deliveryId));
    body.replaceChildren(
      ...(deliveries.length
        ? deliveries.map((d) => deliveryRow(w, d, inline, () => void action(null, inline, load)))
        : [h('tr', { class: 'empty' }, h('td', { colspan: 8, class: 'muted' }, D.noDeliveries))]),
    );
    for (const r of body.querySelectorAll<HTMLElement>('tr[data-delivery-id]')) {
      const details = r.querySelector('details');
      if (details && open.has(r.dataset.deliveryId)) details.open = true;
    }
    pageInfo.textContent = total === 0 ? '' : D.pageOf(offset + 1, offset + deliveries.length, total);
    prev.disabled = offset === 0;
    next.disabled = offset + deliveries.length >= total;
  };
  prev.addEventListener('click', () => {
    offset = Math.max(0, offset - DELIVERY_PAGE);
    void action(prev, inline, load);
  });
  next.addEventListener('click', () => {
    offset += DELIVERY_PAGE;
    void action(next, inline, load);
  });
  refresh.addEventListener('click', () => void action(refresh, inline, load));

  const actions: HTMLElement[] = [refresh];
  if (!disabled) {
    const dis = h('button', { type: 'button', class: 'disable small danger' }, D.disable);
    dis.addEventListener('click', () =>
      void action(dis, inline, async () => {
        await rest('disableWebhook', { params: { id: w.id } });
        log('webhook-disabled', { id: w.id });
        await showWebhooks(generation);
      }),
    );
    actions.push(dis);
  }
  void action(null, inline, load);
  // Retries happen in the background: refresh the log while this page is shown.
  const poll = setInterval(() => {
    if (gen !== generation || !me || !card.isConnected) return clearInterval(poll);
    if (!loading) load().catch(() => undefined);
  }, WEBHOOK_POLL_MS);
  const card = h(
    'div',
    { class: 'card webhook', dataset: { webhookId: w.id, status: disabled ? 'disabled' : 'active' } },
    h('div', { class: 'row' }, h('h3', { class: 'url' }, w.url), badge(D.webhookStatus[disabled ? 'disabled' : 'active']!, disabled ? 'disabled' : 'active'), h('span', { class: 'spacer' }), h('div', { class: 'actions' }, ...actions)),
    h('div', { class: 'muted' }, D.events((w.events ?? []).map((e) => (e === '*' ? D.allEvents : (D.eventType[e] ?? e))).join(', ') || D.allEvents), w.description ? ` · ${w.description}` : '', w.createdAt ? D.createdLower(fmtTime(w.createdAt)) : ''),
    inline,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'delivery-log' },
        h('thead', {}, h('tr', {}, h('th', {}, D.deliveryHead.created), h('th', {}, D.deliveryHead.event), h('th', {}, D.deliveryHead.status), h('th', {}, D.deliveryHead.attempts), h('th', {}, D.deliveryHead.code), h('th', {}, D.deliveryHead.error), h('th', {}, D.deliveryHead.when), h('th', {}, ''))),
        body,
      ),
    ),
    h('div', { class: 'pager' }, prev, pageInfo, next),
  );
  return card;
}

function deliveryRow(w: Webhook, d: Delivery, inline: HTMLElement, reload: () => void): HTMLTableRowElement {
  const redeliver = h('button', { type: 'button', class: 'redeliver small' }, D.redeliver);
  redeliver.addEventListener('click', () =>
    void action(redeliver, inline, async () => {
      await rest('redeliver', { params: { id: w.id, deliveryId: d.id } });
      log('webhook-redeliver', { webhookId: w.id, deliveryId: d.id });
      reload();
    }),
  );
  const payload = typeof d.payload === 'string' ? prettyJson(d.payload) : JSON.stringify(d.payload, null, 2);
  return h(
    'tr',
    { dataset: { deliveryId: d.id, status: d.status } },
    h('td', { class: 'created' }, fmtTime(d.createdAt)),
    h('td', { class: 'event', dataset: { eventType: d.eventType } }, h('details', {}, h('summary', {}, D.eventType[d.eventType] ?? d.eventType), h('pre', { class: 'payload' }, payload))),
    h('td', { class: 'status' }, badge(D.deliveryStatus[d.status] ?? d.status, d.status)),
    h('td', { class: 'attempts num' }, String(d.attempts)),
    h('td', { class: 'code num' }, d.lastStatusCode === null || d.lastStatusCode === undefined ? '—' : String(d.lastStatusCode)),
    // A sentence; the server's own words (for whoever fixes the receiver) on hover.
    h('td', { class: 'last-error', title: d.lastError ?? undefined }, d.lastError === null ? '—' : d.lastStatusCode !== null ? D.deliveryError.answered(d.lastStatusCode) : D.deliveryError.unreachable),
    h('td', { class: 'when' }, d.deliveredAt ? D.deliveredAt(fmtTime(d.deliveredAt)) : d.nextAttemptAt ? D.nextAt(fmtTime(d.nextAttemptAt)) : '—'),
    h('td', {}, redeliver),
  );
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

async function onCreateWebhook(ev: Event): Promise<void> {
  ev.preventDefault();
  const url = $('webhook-url') as HTMLInputElement;
  const events = $('webhook-events') as HTMLInputElement;
  const description = $('webhook-description') as HTMLInputElement;
  await action($('create-webhook') as HTMLButtonElement, $('webhook-error'), async () => {
    const list = events.value
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    // The server names an event type it does not know (400): the list is checked there.
    const body = { url: url.value.trim(), events: (list.length ? list : ['*']) as RestBody<'createWebhook'>['events'], description: description.value.trim() || undefined };
    const { webhook } = await rest('createWebhook', { body });
    log('webhook-created', { id: webhook.id, url: webhook.url });
    $('webhook-secret').textContent = webhook.secret ?? '(the server did not return a secret)';
    $('webhook-secret-url').textContent = webhook.url;
    $('webhook-secret-box').hidden = false;
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
    $('webhook-secret').textContent = '';
    $('webhook-secret-box').hidden = true;
  }
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
      void action(null, $('agents-error'), () => showAgents(gen));
      break;
    case 'entry':
      void action(null, $('entry-error'), () => showEntries(gen));
      break;
    case 'history':
      syncFilterInputs();
      void action(null, $('history-error'), () => showHistory(gen));
      break;
    case 'call':
      void action(null, $('call-error'), () => showCall(target.view === 'call' ? (target.id ?? '') : '', gen));
      break;
    case 'webhooks':
      void action(null, $('webhook-error'), () => showWebhooks(gen));
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
      showError(D.noLongerAdmin(user.email), $('signin-error'));
      return;
    }
    const fresh = { accessToken: saved.accessToken, user };
    session.save(SESSION_KEY, fresh);
    startSession(fresh);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      session.clear(SESSION_KEY);
      showError(D.sessionEnded, $('signin-error'));
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
  $('error-close').addEventListener('click', () => clearError());
  $('agent-form').addEventListener('submit', (ev) => void onCreateAgent(ev));
  $('entry-form').addEventListener('submit', (ev) => void onCreateEntry(ev));
  $('filter-form').addEventListener('submit', onApplyFilters);
  $('clear-filters').addEventListener('click', () => {
    for (const id of ['filter-from', 'filter-to', 'filter-agent', 'filter-status']) ($(id) as HTMLInputElement | HTMLSelectElement).value = '';
    readFilters();
    historyFilter.offset = 0;
    reloadHistory();
  });
  $('history-prev').addEventListener('click', () => {
    historyFilter.offset = Math.max(0, historyFilter.offset - HISTORY_PAGE);
    reloadHistory();
  });
  $('history-next').addEventListener('click', () => {
    historyFilter.offset += HISTORY_PAGE;
    reloadHistory();
  });
  $('webhook-form').addEventListener('submit', (ev) => void onCreateWebhook(ev));
  $('webhook-secret-copy').addEventListener('click', () => {
    const btn = $('webhook-secret-copy');
    void copyText($('webhook-secret').textContent ?? '').then((ok) => (btn.textContent = ok ? D.copied : D.copyFailed));
  });
  $('webhook-secret-hide').addEventListener('click', () => {
    $('webhook-secret').textContent = '';
    $('webhook-secret-box').hidden = true;
    $('webhook-secret-copy').textContent = 'Copy';
  });
  window.addEventListener('hashchange', () => {
    log('view', location.hash);
    route();
  });
  mount('lang-switch', ph(LanguageSwitch, {}));
  mount('entry-captions-field', ph(NewEntryCaptions, {}));
  mount('live-board', ph(LiveBoard, {}));
  mount('history-table', ph(HistoryTable, {}));
  mount('accounts-table', ph(AccountsTable, accountActions()));
  mountSupervisor(() => me?.accessToken);
  (debug as unknown as { supervise: typeof superviseDebug }).supervise = superviseDebug;
  (debug as unknown as { captionCount: typeof adminCaptionCount }).captionCount = adminCaptionCount;
  onLanguage(() => {
    TEXT = adminText();
    D = TEXT.ui.dash;
    F = D.field;
    applyStaticText();
    renderBoard();
  });
  setState('signed-out');
  route();
  void restore();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
