/**
 * Supervisor listen / whisper / barge on the admin dashboard's live board (issue 15). The
 * dashboard's /admin socket carries the board; supervising goes over /consult:
 * `supervisor:join {consultationId, mode}` (ack `{roomId, mode}`), then the SFU room with the
 * admin's token through CallMedia — listen without a producer, whisper and barge with the
 * microphone — and `supervisor:mode {consultationId, mode}` to switch. A server that does not
 * know these events disables the buttons with a sentence.
 */
import { signal } from '@preact/signals';
import type { JSX } from 'preact';
import type { Socket } from 'socket.io-client';
import type { CallMedia } from '../lib/callMedia.js';
import { errorSentence } from '../lib/consultationText.js';
import { consultSocket, type SupervisorMode } from '../client/consult.js';
import { isUnknownEvent, liveSocket } from '../ui/client.js';
import { ActionButton, Banner, CaptionTrack, mergeCaption, mount, Timer, type Caption } from '../ui/components.js';
import { text } from '../ui/i18n.js';

export const MODES: readonly SupervisorMode[] = ['listen', 'whisper', 'barge'];

export interface Supervising {
  consultationId: string;
  customerName: string;
  roomId: string;
  mode: SupervisorMode;
  since: number;
}

export const supervising = signal<Supervising | undefined>(undefined);
export const superviseUnsupported = signal(false);
export const superviseError = signal('');
const captions = signal<Caption[]>([]);

/** For tests: the supervisor's media (peers, stats) and the log of what happened. */
export const superviseDebug: { media?: CallMedia; log: Array<{ event: string; data: unknown; t: number }> } = { log: [] };

let token: () => string | undefined = () => undefined;
let consult: { socket: Socket; close: () => void } | undefined;
let media: CallMedia | undefined;

function record(event: string, data: unknown): void {
  superviseDebug.log.push({ event, data, t: Date.now() });
  if (superviseDebug.log.length > 500) superviseDebug.log.splice(0, 100);
}

async function openConsult(): Promise<Socket> {
  const t = token();
  if (!t) throw new Error('not signed in');
  if (!consult) {
    let connects = 0;
    const live = liveSocket('/consult', t, {
      // The server ends a supervision when its socket drops: after a reconnect, say so and leave.
      onConnect: () => {
        if (connects++ === 0 || !supervising.value) return;
        record('supervision-dropped', { consultationId: supervising.value.consultationId });
        supervising.value = undefined;
        const m = media;
        media = undefined;
        superviseDebug.media = undefined;
        void m?.leave().catch(() => undefined);
        superviseError.value = text.value.supervisor.dropped;
      },
      onRefused: (reason) => {
        record('consult-refused', { reason });
        consult = undefined;
      },
    });
    consult = live;
  }
  const s = consult.socket;
  if (!s.connected) await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the /consult socket did not connect')), 10_000);
    s.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return s;
}

function fail(err: unknown): void {
  record('error', { message: err instanceof Error ? err.message : String(err) });
  if (isUnknownEvent(err)) {
    superviseUnsupported.value = true;
    return;
  }
  superviseError.value = errorSentence(text.value.codes, err);
}

/** Joins a live call in `mode` (or switches mode when already in it). */
export async function supervise(consultationId: string, customerName: string, mode: SupervisorMode): Promise<void> {
  superviseError.value = '';
  try {
    const cur = supervising.value;
    if (cur && cur.consultationId === consultationId) return await switchMode(mode);
    if (cur) await leave();
    const s = await openConsult();
    const joined = await consultSocket(s).ask('supervisor:join', { consultationId, mode });
    record('supervisor:join', joined);
    const remote = document.getElementById('supervise-media') ?? document.body;
    captions.value = [];
    // mediasoup-client loads only when a supervisor joins a call (a split chunk).
    const { CallMedia } = await import('../lib/callMedia.js');
    media = new CallMedia({
      roomId: joined.roomId,
      token: token(),
      remote,
      microphone: joined.mode !== 'listen',
      onEvent: (event, data) => record(`voice:${event}`, data),
      onError: (where) => {
        if (where === 'microphone') superviseError.value = text.value.supervisor.micMissing;
      },
      onCaption: (c) => {
        const v = c as Caption;
        if (v && typeof v.utteranceId === 'string' && typeof v.text === 'string') captions.value = mergeCaption(captions.value, v);
      },
    });
    superviseDebug.media = media;
    await media.join();
    supervising.value = { consultationId, customerName, roomId: joined.roomId, mode: joined.mode, since: Date.now() };
  } catch (err) {
    fail(err);
  }
}

async function switchMode(mode: SupervisorMode): Promise<void> {
  const cur = supervising.value;
  if (!cur || cur.mode === mode) return;
  const s = await openConsult();
  const res = await consultSocket(s).ask('supervisor:mode', { consultationId: cur.consultationId, mode });
  record('supervisor:mode', res);
  if (mode === 'listen') await media?.stopMicrophone();
  else await media?.startMicrophone();
  supervising.value = { ...cur, mode: res.mode };
}

/** Leaves the call: the server ends the supervision (timeline, the agent told), then the media goes. */
export async function leave(): Promise<void> {
  const cur = supervising.value;
  const m = media;
  media = undefined;
  superviseDebug.media = undefined;
  supervising.value = undefined;
  const s = consult?.socket;
  if (cur && s?.connected) {
    const res = await consultSocket(s)
      .ask('supervisor:leave', { consultationId: cur.consultationId })
      .catch((err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }));
    record('supervisor:leave', res);
  }
  if (m) await m.leave().catch(() => undefined);
}

/** Live calls that ended drop the supervisor out of them. */
export function liveCallsChanged(liveIds: ReadonlySet<string>): void {
  const cur = supervising.value;
  if (cur && !liveIds.has(cur.consultationId)) void leave();
}

function Panel(): JSX.Element | null {
  const t = text.value.supervisor;
  const cur = supervising.value;
  if (superviseUnsupported.value)
    return (
      <Banner tone="warn" id="supervise-unsupported">
        {t.unsupported}
      </Banner>
    );
  return (
    <>
      {superviseError.value && (
        <Banner tone="error" id="supervise-error" onClose={() => (superviseError.value = '')}>
          {superviseError.value}
        </Banner>
      )}
      {cur && (
        <section class="card supervise" id="supervise" data-mode={cur.mode} data-consultation-id={cur.consultationId}>
          <div class="row">
            <strong id="supervise-title">{t.modeNow(t[cur.mode], cur.customerName)}</strong>
            <Timer from={cur.since} />
            <span class="spacer" />
            {MODES.map((m) => (
              <ActionButton key={m} id={`supervise-mode-${m}`} class={m === cur.mode ? 'small current primary' : 'small'} disabled={m === cur.mode} onClick={() => supervise(cur.consultationId, cur.customerName, m)}>
                {t[m]}
              </ActionButton>
            ))}
            <ActionButton id="supervise-leave" class="small danger" onClick={leave}>
              {t.leave}
            </ActionButton>
          </div>
          <p class="muted">{t.modeHelp[cur.mode]}</p>
          <CaptionTrack captions={captions} />
        </section>
      )}
    </>
  );
}

/** Listen / Whisper / Barge buttons for one live call (rendered into the board's row). */
export function SuperviseButtons(props: { consultationId: string; customerName: string }): JSX.Element {
  const t = text.value.supervisor;
  const cur = supervising.value;
  return (
    <span class="row supervise-buttons" title={superviseUnsupported.value ? t.unsupported : undefined}>
      {MODES.map((m) => (
        <ActionButton
          key={m}
          class={cur?.consultationId === props.consultationId && cur.mode === m ? 'small current primary' : 'small'}
          disabled={superviseUnsupported.value}
          title={t.modeHelp[m]}
          onClick={() => supervise(props.consultationId, props.customerName, m)}
        >
          <span data-mode={m}>{t[m]}</span>
        </ActionButton>
      ))}
    </span>
  );
}

export function mountSupervisor(getToken: () => string | undefined): void {
  token = getToken;
  mount('supervise-panel', <Panel />);
}

/** Signing out: leave the call and close the /consult socket. */
export async function closeSupervisor(): Promise<void> {
  await leave();
  consult?.close();
  consult = undefined;
  superviseUnsupported.value = false;
}
