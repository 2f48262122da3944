/**
 * The agent console's queue panel: how many wait, how many colleagues are free, and each
 * waiting customer with a ticking wait and whose console rings. A thin view over the
 * `/consult` `queue` push (the console sets `consoleQueue`).
 */
import { signal } from '@preact/signals';
import type { JSX } from 'preact';
import type { QueueView as QueueUpdate } from '../../../src/domain/consultations/consultationView.js';
import { Badge, Timer } from '../../ui/components.js';
import { text } from '../../ui/i18n.js';

export const consoleQueue = signal<{ queue: QueueUpdate; selfId: string | undefined } | undefined>(undefined);

export function QueueView(): JSX.Element {
  const t = text.value;
  const T = t.console.queue;
  const cur = consoleQueue.value;
  const q = cur?.queue;
  return (
    <>
      <h2 style="margin-top:0">
        <span>{t.static['queue']}</span> <span id="queue-count" class="badge">{String(q?.length ?? 0)}</span>
      </h2>
      <div id="queue-agents" class="muted">
        {q && q.availableAgents >= 0 ? t.codes.agentsAvailable(q.availableAgents) : ''}
      </div>
      <ul id="queue">
        {q && q.queue.length === 0 && <li class="muted">{T.empty}</li>}
        {q?.queue.map((item) => {
          const since = item.waitingSince ? Date.parse(String(item.waitingSince)) : NaN;
          return (
            <li key={item.consultationId} data-consultation-id={item.consultationId}>
              <strong>{item.customerName}</strong>{' '}
              <span class="muted">{Number.isFinite(since) ? <Timer from={since} format={T.waiting} /> : ''}</span>
              {item.offeredTo && <Badge label={item.offeredTo === cur?.selfId ? T.offeredToYou : T.ringingElsewhere} code="ringing" />}
              {item.inquiry && <div class="muted">{item.inquiry}</div>}
            </li>
          );
        })}
        {q && q.length > q.queue.length && <li class="muted">{T.more(q.length - q.queue.length)}</li>}
      </ul>
    </>
  );
}
