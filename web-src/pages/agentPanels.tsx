/**
 * The agent console's panels built on the UI toolkit (mounted as islands into web/agent/index.html
 * by agentConsole.ts): language switch, desktop-alert permission, microphone/speaker with a level
 * meter and a pre-call check, notes during the call, live captions, transfer, after-call timer.
 */
import { signal, useSignal } from '@preact/signals';
import type { JSX } from 'preact';
import type { Socket } from 'socket.io-client';
import { checkMicrophone, chooseMic, chooseSpeaker, listDevices, micId, micLevel, microphones, routeToSpeaker, speakerId, speakers, speakerSelectable, type MicCheck } from '../ui/audioDevices.js';
import { consultSocket, type ConsultPush, type TransferRequest } from '../client/consult.js';
import { ApiError, isUnknownEvent } from '../ui/client.js';
import { ActionButton, Banner, CaptionTrack, Dialog, LanguageSwitch, LevelMeter, mergeCaption, mount, Timer, type Caption } from '../ui/components.js';
import { askNotifyPermission, notifyPermission } from '../ui/incomingCallAlert.js';
import { text } from '../ui/i18n.js';
import { errorSentence } from '../lib/consultationText.js';

/** Live captions of the current call (cleared when a call starts). */
export const captions = signal<Caption[]>([]);
/** The notes typed during the call; the wrap-up starts from them. */
export const callNotes = signal('');
/** When after-call work began (ms), or undefined. */
export const afterCallSince = signal<number | undefined>(undefined);
/** Set when the server does not know `consultation:transfer`. */
export const transferUnsupported = signal(false);

function isCaption(v: unknown): v is Caption {
  if (!v || typeof v !== 'object') return false;
  const c = v as Record<string, unknown>;
  return typeof c.utteranceId === 'string' && typeof c.text === 'string' && typeof c.isFinal === 'boolean' && typeof c.startMs === 'number';
}

/** Feeds a `caption` event (from /consult or /voice); anything not caption-shaped is ignored. */
export function onCaption(v: unknown): void {
  if (!isCaption(v)) return;
  captions.value = mergeCaption(captions.value, { ...v, peerId: String(v.peerId ?? ''), role: String(v.role ?? ''), name: String(v.name ?? '') });
}

function AlertPermission(): JSX.Element | null {
  const t = text.value.alert;
  const p = notifyPermission.value;
  if (p === 'granted') return <span id="notify-state" data-permission="granted" class="muted">{t.enabled}</span>;
  if (p === 'denied') return <span id="notify-state" data-permission="denied" class="muted">{t.denied}</span>;
  if (p === 'unsupported') return <span id="notify-state" data-permission="unsupported" class="muted">{t.unsupported}</span>;
  return (
    <ActionButton id="notify-enable" class="small" onClick={async () => void (await askNotifyPermission())}>
      {t.enable}
    </ActionButton>
  );
}

function Devices(): JSX.Element {
  const t = text.value.devices;
  const result = useSignal<MicCheck | 'checking' | undefined>(undefined);
  const sentence = result.value === 'checking' ? t.checking : result.value === 'ok' ? t.checkOk : result.value === 'silent' ? t.checkSilent : result.value === 'failed' ? t.checkFailed : '';
  return (
    <details class="devices" onToggle={(e) => (e.currentTarget as HTMLDetailsElement).open && void listDevices()}>
      <summary>{t.title}</summary>
      <label for="mic-select">{t.microphone}</label>
      <select id="mic-select" value={micId.value} onChange={(e) => chooseMic((e.currentTarget as HTMLSelectElement).value)}>
        <option value="">{t.systemDefault}</option>
        {microphones.value.map((d) => (
          <option key={d.deviceId} value={d.deviceId}>
            {d.label}
          </option>
        ))}
      </select>
      <label for="speaker-select">{t.speaker}</label>
      {speakerSelectable() ? (
        <select
          id="speaker-select"
          value={speakerId.value}
          onChange={(e) => {
            chooseSpeaker((e.currentTarget as HTMLSelectElement).value);
            void routeToSpeaker();
          }}
        >
          <option value="">{t.systemDefault}</option>
          {speakers.value.map((d) => (
            <option key={d.deviceId} value={d.deviceId}>
              {d.label}
            </option>
          ))}
        </select>
      ) : (
        <p class="muted">{t.speakerUnsupported}</p>
      )}
      <div class="row" style={{ marginTop: '.6rem' }}>
        <ActionButton
          id="mic-check"
          class="small"
          onClick={async () => {
            result.value = 'checking';
            result.value = await checkMicrophone();
          }}
        >
          {t.check}
        </ActionButton>
        <LevelMeter id="mic-level" level={micLevel} label={t.level} />
      </div>
      {sentence && (
        <p id="mic-check-result" data-result={result.value} class={result.value === 'ok' ? 'muted' : result.value === 'checking' ? 'muted' : 'error'}>
          {sentence}
        </p>
      )}
    </details>
  );
}

function CallNotes(): JSX.Element {
  const t = text.value.notes;
  return (
    <div class="call-notes">
      <label for="call-notes">{t.title}</label>
      <textarea id="call-notes" rows={3} maxLength={4000} placeholder={t.placeholder} value={callNotes.value} onInput={(e) => (callNotes.value = (e.currentTarget as HTMLTextAreaElement).value)} />
      <p class="muted small-print">{t.kept}</p>
    </div>
  );
}

function Captions(): JSX.Element {
  return (
    <div class="caption-panel">
      <h3>{text.value.captions.title}</h3>
      <CaptionTrack captions={captions} />
    </div>
  );
}

export interface TransferDeps {
  socket: () => Socket | undefined;
  consultationId: () => string | undefined;
  /** After the server accepted the transfer: leave the call. */
  onTransferred: (sentence: string) => void;
}

/** Colleagues the call can go to: `agent:colleagues`, the available ones. */
async function colleagues(s: Socket): Promise<Array<{ id: string; name: string }>> {
  try {
    const res = await consultSocket(s).ask('agent:colleagues', {});
    return res.agents.filter((a) => a.state === 'available');
  } catch {
    return [];
  }
}

function Transfer(props: { deps: TransferDeps }): JSX.Element {
  const t = text.value.transfer;
  const open = useSignal(false);
  const agents = useSignal<Array<{ id: string; name: string }>>([]);
  const target = useSignal('');
  const error = useSignal('');
  const send = async (to: TransferRequest['to'], name: string): Promise<void> => {
    const s = props.deps.socket();
    const consultationId = props.deps.consultationId();
    if (!s || !consultationId) return;
    error.value = '';
    try {
      await consultSocket(s).ask('consultation:transfer', { consultationId, to });
      open.value = false;
      props.deps.onTransferred(t.done(name));
    } catch (err) {
      if (isUnknownEvent(err)) {
        transferUnsupported.value = true;
        open.value = false;
        return;
      }
      error.value = errorSentence(text.value.codes, err instanceof ApiError ? err : undefined);
    }
  };
  if (transferUnsupported.value)
    return (
      <div class="transfer">
        <button id="transfer" type="button" disabled>
          {t.title}
        </button>
        <p id="transfer-unsupported" class="muted">
          {t.unsupported}
        </p>
      </div>
    );
  return (
    <div class="transfer">
      <button
        id="transfer"
        type="button"
        onClick={() => {
          open.value = true;
          const s = props.deps.socket();
          if (s) void colleagues(s).then((a) => (agents.value = a));
        }}
      >
        {t.title}
      </button>
      <Dialog id="transfer-dialog" open={open} title={t.title} onClose={() => (open.value = false)}>
        <label for="transfer-agent">{t.toAgent}</label>
        {agents.value.length === 0 ? (
          <p class="muted">{t.noAgents}</p>
        ) : (
          <select id="transfer-agent" value={target.value} onChange={(e) => (target.value = (e.currentTarget as HTMLSelectElement).value)}>
            <option value="">{t.chooseAgent}</option>
            {agents.value.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        )}
        {error.value && <Banner tone="error">{error.value}</Banner>}
        <div class="row" style={{ marginTop: '.8rem' }}>
          <ActionButton id="transfer-agent-send" class="primary" disabled={!target.value} onClick={() => send({ agentId: target.value }, agents.value.find((a) => a.id === target.value)?.name ?? '')}>
            {t.send}
          </ActionButton>
          <ActionButton id="transfer-queue" onClick={() => send('queue', t.queueName)}>
            {t.toQueue}
          </ActionButton>
          <button type="button" onClick={() => (open.value = false)}>
            {text.value.dialog.cancel}
          </button>
        </div>
      </Dialog>
    </div>
  );
}

function AfterCallTimer(): JSX.Element | null {
  const since = afterCallSince.value;
  if (since === undefined) return null;
  return <Timer id="acw-timer" from={since} format={text.value.afterCall.timer} />;
}

/** Who supervises the agent's call now (`supervisor:state`, and `agent:get` after a reconnect). */
export const supervisorNow = signal<ConsultPush<'supervisor:state'>>(null);

/** The agent sees who listens, whispers or joined their call — supervision is never secret from the agent. */
function SupervisorNotice(): JSX.Element | null {
  const s = supervisorNow.value;
  if (!s?.supervisor || !s.mode) return null;
  return (
    <Banner tone="info" id="supervisor-notice">
      <span data-mode={s.mode}>{text.value.supervisor.agentNotice[s.mode](s.supervisor.name)}</span>
    </Banner>
  );
}

export function mountAgentPanels(deps: TransferDeps): void {
  mount('supervisor-notice', <SupervisorNotice />);
  mount('lang-switch', <LanguageSwitch />);
  mount('notify-permission', <AlertPermission />);
  mount('devices', <Devices />);
  mount('call-notes-panel', <CallNotes />);
  mount('caption-panel', <Captions />);
  mount('transfer-panel', <Transfer deps={deps} />);
  mount('acw-timer-panel', <AfterCallTimer />);
}
