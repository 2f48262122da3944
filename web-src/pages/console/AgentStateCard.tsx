/**
 * The agent console's own state (the "My state" card): the state the server keeps for this
 * agent and since when, and the buttons that change it (refused by the server during a ringing
 * offer or a call, so disabled then), beside the video choice for the next call. The
 * controller (agentConsole.ts) sets `agentNow` from `agent:state` / `agent:get`.
 */
import { signal, useSignal } from '@preact/signals';
import type { JSX } from 'preact';
import type { AgentView } from '../../../src/domain/consultations/consultationView.js';
import { formatWhen } from '../../ui/format.js';
import { text } from '../../ui/i18n.js';

export const agentNow = signal<AgentView | undefined>(undefined);

export type SettableState = 'available' | 'after-call-work' | 'offline';

const buttons: ReadonlyArray<{ id: string; state: SettableState; key: string }> = [
  { id: 'state-available', state: 'available', key: 'available' },
  { id: 'state-acw', state: 'after-call-work', key: 'after-call-work' },
  { id: 'state-offline', state: 'offline', key: 'offline' },
];

/** `set` resolves when the server answered; errors are the controller's to show. */
export function AgentStateCard(props: { set(state: SettableState): Promise<void> }): JSX.Element {
  const a = agentNow.value;
  const busy = useSignal(false);
  const t = text.value;
  const state = a?.state ?? 'offline';
  const since = a?.since ? Date.parse(String(a.since)) : NaN;
  const locked = state === 'busy' || state === 'ringing';
  return (
    <>
      <div class="row">
        <strong>{t.static['my-state']}</strong>
        <span id="agent-state" class={`badge ${state}`} data-state={state}>
          {t.codes.agentState[state] ?? state}
        </span>
        <span id="agent-since" class="muted">
          {Number.isFinite(since) ? t.console.since(formatWhen(since)) : ''}
        </span>
      </div>
      <div class="row state-buttons" style="margin-top:.6rem">
        {buttons.map((b) => (
          <button
            key={b.id}
            id={b.id}
            type="button"
            data-state={b.state}
            class={b.state === state ? 'current' : undefined}
            disabled={locked || busy.value}
            onClick={() => {
              busy.value = true;
              props.set(b.state).finally(() => (busy.value = false));
            }}
          >
            {t.static[b.key]}
          </button>
        ))}
        <label class="row" style="font-weight:400;margin:0 0 0 auto">
          <input id="video" type="checkbox" style="width:auto" /> <span>{t.static['video']}</span>
        </label>
      </div>
    </>
  );
}
