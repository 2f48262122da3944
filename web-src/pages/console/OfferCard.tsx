/**
 * The agent console's incoming-call card (#offer): who calls, their number and inquiry, the
 * entry point, the seconds left to answer, what the AI assistant heard before handing over,
 * and Accept / Reject. The controller (agentConsole.ts) sets `offerShown`; the section itself is
 * shown by the console's state (data-state="offered").
 */
import { signal, useSignal } from '@preact/signals';
import type { JSX } from 'preact';
import type { OfferView } from '../../../src/domain/consultations/consultationView.js';
import { now, startClock } from '../../ui/components.js';
import { text } from '../../ui/i18n.js';
import { formatPhone } from '../../ui/phone.js';
import { OfferLines } from './HandoverTranscript.js';

export const offerShown = signal<{ offer: OfferView; expiresAt: number } | undefined>(undefined);

export interface OfferActions {
  /** Each resolves when done; errors are the controller's to show. */
  accept(): Promise<void>;
  reject(): Promise<void>;
}

function entryName(e: OfferView['entryPoint']): string {
  return e || '–';
}

export function OfferCard(props: { actions: OfferActions }): JSX.Element | null {
  const shown = offerShown.value;
  const busy = useSignal<'accept' | 'reject' | undefined>(undefined);
  if (!shown) return null;
  startClock();
  const { offer: o, expiresAt } = shown;
  const t = text.value;
  const T = t.console;
  const S = t.static;
  // Re-rendered by the shared 1 Hz clock; Date.now() so the first render is right too.
  const left = Math.max(0, Math.ceil((expiresAt - Math.max(now.value, Date.now())) / 1000));
  const press = (which: 'accept' | 'reject') => (): void => {
    if (busy.value) return;
    busy.value = which;
    props.actions[which]().finally(() => (busy.value = undefined));
  };
  return (
    <>
      <h2 style="margin-top:0">
        <span>{S['incoming-call']}</span> <span id="offer-countdown">{left > 0 ? T.seconds(left) : T.offerExpiring}</span>
      </h2>
      <div id="offer-customer" class="entry-name">
        {o.customer?.name ?? T.noName}
      </div>
      <dl class="kv">
        <dt>{S['phone']}</dt>
        <dd id="offer-phone">{formatPhone(o.customer?.phone)}</dd>
        <dt>{S['inquiry']}</dt>
        <dd id="offer-inquiry">{o.inquiry || '–'}</dd>
        <dt>{S['entry-point']}</dt>
        <dd id="offer-entry">{entryName(o.entryPoint)}</dd>
      </dl>
      <div id="offer-handover">
        <OfferLines />
      </div>
      <div class="row">
        <button id="accept" type="button" class="primary" disabled={busy.value !== undefined} onClick={press('accept')}>
          {S['accept']}
        </button>
        <button id="reject" type="button" disabled={busy.value !== undefined} onClick={press('reject')}>
          {S['reject']}
        </button>
      </div>
    </>
  );
}
