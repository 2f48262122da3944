/**
 * The dashboard's messages and header state as views of signals: the error banner under the
 * header (#error, with its close button), the inline error beside each form (#<where>-error),
 * the accounts notice, who is signed in, the live board's connection, and the history pager.
 * The controller (adminDashboard.ts) sets the signals; every text is a sentence of the tables.
 */
import { signal } from '@preact/signals';
import type { JSX } from 'preact';
import type { ConnectionState } from '../../ui/components.js';
import { text } from '../../ui/i18n.js';

/** The forms that show their own error beside them. */
export type Where = 'signin' | 'agents' | 'entry' | 'history' | 'call' | 'webhook';

export const bannerText = signal('');
export const inlineText = signal<Partial<Record<Where, string>>>({});
export const agentsNotice = signal('');
export const whoami = signal('');
/** The /admin socket's state; undefined while signed out (the badge is hidden). */
export const boardConnection = signal<ConnectionState | undefined>(undefined);
export const historyPager = signal<{ label: string; atStart: boolean; atEnd: boolean }>({ label: '', atStart: true, atEnd: true });

export function ErrorBanner(props: { onClose(): void }): JSX.Element {
  return (
    <div id="error" role="alert" hidden={!bannerText.value}>
      <span id="error-text">{bannerText.value}</span>
      <button id="error-close" type="button" aria-label={text.value.static['dismiss']} onClick={props.onClose}>
        ×
      </button>
    </div>
  );
}

export function InlineError(props: { where: Where }): JSX.Element {
  const t = inlineText.value[props.where];
  return (
    <p id={`${props.where}-error`} class="inline-error" hidden={!t}>
      {t}
    </p>
  );
}

export function AgentsNotice(): JSX.Element {
  return (
    <p id="agents-notice" class="notice" hidden={!agentsNotice.value}>
      {agentsNotice.value}
    </p>
  );
}

export function WhoAmI(): JSX.Element {
  return (
    <span id="whoami" class="muted">
      {whoami.value}
    </span>
  );
}

/** The dot and word beside the language switch (data-conn: connected / connecting / disconnected). */
export function BoardConnection(): JSX.Element | null {
  const s = boardConnection.value;
  if (!s) return null;
  const conn = s === 'online' ? 'connected' : s === 'connecting' || s === 'reconnecting' ? 'connecting' : 'disconnected';
  return (
    <span id="conn" class="conn" data-conn={conn} title={text.value.static['live-board-connection']} role="status">
      {text.value.connection[s]}
    </span>
  );
}

export function HistoryPager(props: { prev(): void; next(): void }): JSX.Element {
  const p = historyPager.value;
  const D = text.value.dash;
  return (
    <>
      <button id="history-prev" type="button" class="small" disabled={p.atStart} onClick={props.prev}>
        {D.newer}
      </button>
      <span id="history-page" class="muted">
        {p.label}
      </span>
      <button id="history-next" type="button" class="small" disabled={p.atEnd} onClick={props.next}>
        {D.older}
      </button>
    </>
  );
}
