/**
 * Who answers an entry point's calls, on each entry card of the dashboard (issue 11): the agents' queue, the AI
 * assistant first (it hands the caller to a person when asked), or the assistant when no agent answers within N
 * seconds. Admins only; the server decides (PATCH /api/v1/entry-points/:id).
 */
import { useSignal } from '@preact/signals';
import type { JSX } from 'preact';
import { text } from '../../ui/i18n.js';
import { useServerSetting } from './EntrySwitch.js';

export type EntryRouting = 'human' | 'ai_first' | 'ai_overflow';
const routings: readonly EntryRouting[] = ['human', 'ai_first', 'ai_overflow'];

export interface RoutingValue {
  routing: EntryRouting;
  overflowAfterSeconds: number;
}

/** One entry card's routing; `save` sends it and resolves with what the server kept. */
export function EntryRoutingControl(props: { entryId: string; value: RoutingValue; save(v: RoutingValue): Promise<RoutingValue> }): JSX.Element {
  const t = text.value.entryRouting;
  const seconds = useSignal(String(props.value.overflowAfterSeconds));
  const { value, state, send } = useServerSetting(props.value, props.save, (v) => (seconds.value = String(v.overflowAfterSeconds)));
  const id = `entry-routing-${props.entryId}`;
  const onRouting = (e: Event): void => send({ ...value.value, routing: (e.currentTarget as HTMLSelectElement).value as EntryRouting });
  const onSeconds = (): void => {
    const n = Number(seconds.value);
    if (!Number.isInteger(n) || n < 0 || n > 3600) {
      state.value = 'failed';
      return;
    }
    if (n !== value.value.overflowAfterSeconds) send({ ...value.value, overflowAfterSeconds: n });
  };
  return (
    <div class="entry-routing row" data-routing={value.value.routing}>
      <label for={id}>{t.label}</label>
      <select id={id} class="entry-routing-select" value={value.value.routing} disabled={state.value === 'saving'} onChange={onRouting}>
        {routings.map((r) => (
          <option key={r} value={r}>
            {t[r]}
          </option>
        ))}
      </select>
      {value.value.routing === 'ai_overflow' && (
        <label class="entry-overflow">
          {t.after}{' '}
          <input type="number" min={0} max={3600} step={1} class="entry-overflow-seconds" value={seconds.value} onInput={(e) => (seconds.value = (e.currentTarget as HTMLInputElement).value)} onChange={onSeconds} style="width:5em" /> {t.seconds}
        </label>
      )}
      {state.value === 'saved' && <span class="muted saved" role="status">{t.saved}</span>}
      {state.value === 'failed' && <span class="inline-error" role="alert">{t.failed}</span>}
    </div>
  );
}
