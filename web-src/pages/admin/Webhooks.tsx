/**
 * The dashboard's webhooks (#webhooks): one card per webhook — its URL and state, the events it
 * gets, and its delivery log (newest first, paged, each payload behind a <details>, a sentence
 * for the last error with the receiver's own words on hover, redeliver). The log refreshes every
 * few seconds while the card is shown (retries happen in the background). The controller
 * (adminDashboard.ts) loads `webhooks` and does the requests through `WebhookActions`.
 */
import { signal, useSignal } from '@preact/signals';
import type { JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { RestReply } from '../../client/rest.js';
import { ActionButton, Badge, DataTable, type Column } from '../../ui/components.js';
import { text } from '../../ui/i18n.js';
import { fmtTime } from './time.js';

export type Webhook = RestReply<'listWebhooks'>['webhooks'][number];
export type Delivery = RestReply<'deliveries'>['deliveries'][number];

export const DELIVERY_PAGE = 20;
const POLL_MS = 3000;

/** The webhooks shown (undefined until loaded, and again when the page is left: the cards stop polling). */
export const webhooks = signal<Webhook[] | undefined>(undefined);

export interface WebhookActions {
  deliveries(w: Webhook, offset: number): Promise<{ deliveries: Delivery[]; total: number }>;
  redeliver(w: Webhook, d: Delivery): Promise<void>;
  disable(w: Webhook): Promise<void>;
  /** Runs a request for a card: on failure the page's banner shows it and the sentence is returned for the card. */
  run(fn: () => Promise<void>): Promise<string | undefined>;
}

export function webhookDisabled(w: Webhook): boolean {
  return !w.active || w.disabledAt !== null;
}

export function WebhookCards(props: { actions: WebhookActions }): JSX.Element | null {
  const list = webhooks.value;
  if (!list) return null;
  const sorted = [...list].sort((a, z) => Number(webhookDisabled(a)) - Number(webhookDisabled(z)) || (z.createdAt ?? '').localeCompare(a.createdAt ?? ''));
  return (
    <>
      {sorted.map((w) => (
        <WebhookCard key={w.id} hook={w} actions={props.actions} />
      ))}
    </>
  );
}

function prettyJson(s: string): string {
  try {
    return JSON.stringify(JSON.parse(s), null, 2);
  } catch {
    return s;
  }
}

function WebhookCard(props: { hook: Webhook; actions: WebhookActions }): JSX.Element {
  const { hook: w, actions } = props;
  const D = text.value.dash;
  const disabled = webhookDisabled(w);
  const log = useSignal<{ deliveries: Delivery[]; total: number } | undefined>(undefined);
  const offset = useSignal(0);
  const error = useSignal<string | undefined>(undefined);
  const loading = useRef(false);
  const load = async (): Promise<void> => {
    loading.current = true;
    try {
      const at = offset.value;
      const answer = await actions.deliveries(w, at);
      if (at === offset.value) log.value = answer;
    } finally {
      loading.current = false;
    }
  };
  const run = async (fn: () => Promise<void>): Promise<void> => {
    error.value = undefined;
    error.value = await actions.run(fn);
  };
  useEffect(() => {
    void run(load);
    const poll = setInterval(() => {
      if (!loading.current) load().catch(() => undefined);
    }, POLL_MS);
    return () => clearInterval(poll);
  }, [w.id]);
  const page = (to: number) => async (): Promise<void> => {
    offset.value = Math.max(0, to);
    await run(load);
  };
  const h = D.deliveryHead;
  const columns: Column<Delivery>[] = [
    { key: 'created', label: h.created, cell: (d) => fmtTime(d.createdAt) },
    {
      key: 'event',
      label: h.event,
      cell: (d) => (
        <details data-event-type={d.eventType}>
          <summary>{D.eventType[d.eventType] ?? d.eventType}</summary>
          <pre class="payload">{typeof d.payload === 'string' ? prettyJson(d.payload) : JSON.stringify(d.payload, null, 2)}</pre>
        </details>
      ),
    },
    { key: 'status', label: h.status, cell: (d) => <Badge label={D.deliveryStatus[d.status] ?? d.status} code={d.status} /> },
    { key: 'attempts', class: 'attempts num', label: h.attempts, cell: (d) => String(d.attempts) },
    { key: 'code', class: 'code num', label: h.code, cell: (d) => (d.lastStatusCode === null || d.lastStatusCode === undefined ? '—' : String(d.lastStatusCode)) },
    {
      key: 'last-error',
      label: h.error,
      // A sentence; the server's own words (for whoever fixes the receiver) on hover.
      cell: (d) => <span title={d.lastError ?? undefined}>{d.lastError === null ? '—' : d.lastStatusCode !== null ? D.deliveryError.answered(d.lastStatusCode) : D.deliveryError.unreachable}</span>,
    },
    { key: 'when', label: h.when, cell: (d) => (d.deliveredAt ? D.deliveredAt(fmtTime(d.deliveredAt)) : d.nextAttemptAt ? D.nextAt(fmtTime(d.nextAttemptAt)) : '—') },
    {
      key: 'redeliver',
      class: 'row-actions',
      label: '',
      cell: (d) => (
        <ActionButton class="redeliver small" onClick={() => run(async () => {
          await actions.redeliver(w, d);
          await load();
        })}>
          {D.redeliver}
        </ActionButton>
      ),
    },
  ];
  const l = log.value;
  const shown = l?.deliveries ?? [];
  const events = (w.events ?? []).map((e) => (e === '*' ? D.allEvents : (D.eventType[e] ?? e))).join(', ') || D.allEvents;
  return (
    <div class="card webhook" data-webhook-id={w.id} data-status={disabled ? 'disabled' : 'active'}>
      <div class="row">
        <h3 class="url">{w.url}</h3>
        <Badge label={D.webhookStatus[disabled ? 'disabled' : 'active']!} code={disabled ? 'disabled' : 'active'} />
        <span class="spacer" />
        <div class="actions">
          <ActionButton class="refresh small" onClick={() => run(load)}>
            {D.refresh}
          </ActionButton>
          {!disabled && (
            <ActionButton class="disable small danger" onClick={() => run(() => actions.disable(w))}>
              {D.disable}
            </ActionButton>
          )}
        </div>
      </div>
      <div class="muted">
        {D.events(events)}
        {w.description ? ` · ${w.description}` : ''}
        {w.createdAt ? D.createdLower(fmtTime(w.createdAt)) : ''}
      </div>
      <p class="inline-error" hidden={!error.value}>
        {error.value}
      </p>
      <DataTable
        class="delivery-log"
        bodyClass="deliveries"
        columns={columns}
        rows={shown}
        rowKey={(d) => d.id}
        rowProps={(d) => ({ 'data-delivery-id': d.id, 'data-status': d.status })}
        empty={l ? D.noDeliveries : D.loading}
      />
      <div class="pager">
        <ActionButton class="small" disabled={offset.value === 0} onClick={page(offset.value - DELIVERY_PAGE)}>
          {D.newer}
        </ActionButton>
        <span class="muted">{!l || l.total === 0 ? '' : D.pageOf(offset.value + 1, offset.value + shown.length, l.total)}</span>
        <ActionButton class="small" disabled={!l || offset.value + shown.length >= l.total} onClick={page(offset.value + DELIVERY_PAGE)}>
          {D.older}
        </ActionButton>
      </div>
    </div>
  );
}

/** A new webhook's signing secret, shown once (until Done, or the page is left). */
export const newSecret = signal<{ url: string; secret: string } | undefined>(undefined);

export function WebhookSecret(props: { copy(text: string): Promise<boolean> }): JSX.Element | null {
  const shown = newSecret.value;
  const copied = useSignal<'idle' | 'ok' | 'failed'>('idle');
  if (!shown) return null;
  const S = text.value.static;
  const D = text.value.dash;
  return (
    <div id="webhook-secret-box" class="card secret-box">
      <strong>
        <span>{S['signing-secret-for']}</span> <span id="webhook-secret-url">{shown.url}</span>
      </strong>
      <p class="muted">{S['copy-it-now-it-is-shown-only-once']}</p>
      <div class="row">
        <code id="webhook-secret">{shown.secret}</code>
        <button id="webhook-secret-copy" type="button" class="small" onClick={() => void props.copy(shown.secret).then((ok) => (copied.value = ok ? 'ok' : 'failed'))}>
          {copied.value === 'ok' ? D.copied : copied.value === 'failed' ? D.copyFailed : S['copy']}
        </button>
        <button
          id="webhook-secret-hide"
          type="button"
          class="small"
          onClick={() => {
            copied.value = 'idle';
            newSecret.value = undefined;
          }}
        >
          {S['done']}
        </button>
      </div>
    </div>
  );
}
