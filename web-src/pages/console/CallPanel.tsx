/**
 * The agent console's call in progress (#call-panel): its heading with the call's state and a
 * running clock, the customer's details, whether the customer is on hold, what the agent hears,
 * and Mute / Hold / End. The controller (agentConsole.ts) sets `callShown`; the panel's other
 * islands (supervisor notice, recording banner, hand-over lines, notes, captions, transfer) and
 * the media elements CallMedia fills (#remote-media, #local-media) stay in web/agent/index.html.
 */
import { signal, useSignal } from '@preact/signals';
import type { JSX } from 'preact';
import type { CallStatus } from '../../../src/domain/consultations/consultationView.js';
import type { UiText } from '../../ui/text/en.js';
import { Timer } from '../../ui/components.js';
import { text } from '../../ui/i18n.js';
import { formatPhone } from '../../ui/phone.js';

/** What the agent hears, as a sentence of `console.media`. */
export type MediaNote = keyof UiText['console']['media'];

export interface CallShown {
  consultationId: string;
  customerName: string;
  customerPhone: string;
  inquiry: string;
  entryPoint: string;
  startedAt: number;
  status: CallStatus;
  onHold: boolean;
  muted: boolean;
  media: MediaNote;
}

export const callShown = signal<CallShown | undefined>(undefined);

/** Changes the shown call, if there is one. */
export function updateCall(patch: Partial<CallShown>): void {
  const c = callShown.value;
  if (c) callShown.value = { ...c, ...patch };
}

export interface CallActions {
  /** Each resolves when done; errors are the controller's to show. */
  mute(): Promise<void>;
  hold(): Promise<void>;
  end(): Promise<void>;
}

/** The heading row: "In call", the state badge, the clock. */
export function CallHead(): JSX.Element | null {
  const c = callShown.value;
  if (!c) return null;
  const codes = text.value.codes;
  return (
    <div class="row">
      <h2 style="margin:0">{text.value.static['in-call']}</h2>
      <span id="call-status" class={`badge ${c.status}`} data-status={c.status}>
        {codes.status[c.status] ?? c.status}
      </span>
      <span class="spacer" style="flex:1" />
      <Timer id="call-timer" from={c.startedAt} />
    </div>
  );
}

/** The hold note and the customer's details. */
export function CallInfo(): JSX.Element | null {
  const c = callShown.value;
  if (!c) return null;
  const S = text.value.static;
  return (
    <>
      {c.onHold && (
        <div id="hold-note" class="banner hold">
          {S['the-customer-is-on-hold-and-hears-nothin']}
        </div>
      )}
      <dl class="kv">
        <dt>{S['customer']}</dt>
        <dd id="call-customer">{c.customerName}</dd>
        <dt>{S['phone']}</dt>
        <dd id="call-phone">{formatPhone(c.customerPhone)}</dd>
        <dt>{S['inquiry']}</dt>
        <dd id="call-inquiry">{c.inquiry || '–'}</dd>
        <dt>{S['entry-point']}</dt>
        <dd id="call-entry">{c.entryPoint}</dd>
      </dl>
    </>
  );
}

/** What the agent hears (#media-status). */
export function MediaStatus(): JSX.Element | null {
  const c = callShown.value;
  if (!c) return null;
  return (
    <div id="media-status" class="muted" role="status">
      {text.value.console.media[c.media]}
    </div>
  );
}

/** Mute, Hold, End. */
export function CallButtons(props: { actions: CallActions }): JSX.Element | null {
  const c = callShown.value;
  const busy = useSignal<'mute' | 'hold' | 'end' | undefined>(undefined);
  if (!c) return null;
  const T = text.value.console;
  const press = (which: 'mute' | 'hold' | 'end') => (): void => {
    if (busy.value === which) return;
    busy.value = which;
    props.actions[which]().finally(() => (busy.value = busy.value === which ? undefined : busy.value));
  };
  return (
    <>
      <button id="mute" type="button" class={c.muted ? 'active' : undefined} disabled={busy.value === 'mute'} onClick={press('mute')}>
        {c.muted ? T.unmute : T.mute}
      </button>
      <button id="hold" type="button" class={c.onHold ? 'active' : undefined} disabled={busy.value === 'hold'} onClick={press('hold')}>
        {c.onHold ? T.resume : T.hold}
      </button>
      <button id="end" type="button" class="danger" disabled={busy.value === 'end'} onClick={press('end')}>
        {text.value.static['end-call']}
      </button>
    </>
  );
}
