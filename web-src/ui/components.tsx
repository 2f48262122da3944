/**
 * Parley's shared components (Preact + signals). Every page builds its views from these; the
 * look comes from web/assets/parley.css (the one token file). No inline script, no eval: the
 * pages pass the strict CSP; only style attributes are used.
 */
import { signal, useSignal, useSignalEffect, type ReadonlySignal } from '@preact/signals';
import type { ComponentChildren, JSX } from 'preact';
import { Fragment, render } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { CaptionNotice } from './CaptionNotice.js';
import { captionStatus, type CaptionStatus } from './captionStatus.js';
import { formatClock } from './format.js';
import { text } from './i18n.js';
// Its own module, so a page that needs only the switch (the voice room) does not load the rest.
export { LanguageSwitch } from './LanguageSwitch.js';

/** Renders a view into the element with `id` (an island in a page). */
export function mount(id: string, view: JSX.Element): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  render(view, el);
  return el;
}

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'neutral';

/** A pill; `code` goes to a class and data-code (tests and styles), the label is a sentence. */
export function Badge(props: { label: string; code?: string; tone?: Tone; id?: string }): JSX.Element {
  return (
    <span id={props.id} class={`badge ${props.code ?? ''} ${props.tone ? `tone-${props.tone}` : ''}`} data-code={props.code}>
      {props.label}
    </span>
  );
}

export function Banner(props: { tone: 'info' | 'warn' | 'error'; children: ComponentChildren; id?: string; onClose?: () => void }): JSX.Element {
  return (
    <div id={props.id} class={`banner ${props.tone}`} role={props.tone === 'error' ? 'alert' : 'status'}>
      {props.children}
      {props.onClose && (
        <button type="button" class="small banner-close" aria-label={text.value.dialog.close} onClick={props.onClose}>
          ×
        </button>
      )}
    </div>
  );
}

export interface Column<Row> {
  key: string;
  label: string;
  cell: (row: Row) => ComponentChildren;
  /** The cell's class; default: `key`. */
  class?: string;
}

/** A table that scrolls sideways inside its card instead of widening the page. */
export function DataTable<Row>(props: {
  columns: Column<Row>[];
  rows: Row[];
  rowKey: (r: Row) => string;
  empty: string;
  id?: string;
  /** An id on the <tbody> (pages and tests find the rows by it). */
  bodyId?: string;
  /** A class on the <tbody>. */
  bodyClass?: string;
  class?: string;
  rowProps?: (r: Row) => JSX.HTMLAttributes<HTMLTableRowElement> & Record<`data-${string}`, string | undefined>;
  /** Extra rows after a row (an expanded detail). */
  after?: (r: Row) => JSX.Element | null;
}): JSX.Element {
  return (
    <div class="table-wrap">
      <table id={props.id} class={props.class}>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th key={c.key}>{c.label}</th>
            ))}
          </tr>
        </thead>
        <tbody id={props.bodyId} class={props.bodyClass}>
          {props.rows.length === 0 ? (
            <tr class="empty">
              <td colSpan={props.columns.length} class="muted">
                {props.empty}
              </td>
            </tr>
          ) : (
            props.rows.map((r) => (
              <Fragment key={props.rowKey(r)}>
                <tr {...(props.rowProps?.(r) ?? {})}>
                  {props.columns.map((c) => (
                    <td key={c.key} class={c.class ?? c.key}>
                      {c.cell(r)}
                    </td>
                  ))}
                </tr>
                {props.after?.(r)}
              </Fragment>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}

/** One shared 1 Hz clock for every timer on the page. */
export const now = signal(Date.now());
let clockStarted = false;
export function startClock(): void {
  if (clockStarted) return;
  clockStarted = true;
  setInterval(() => (now.value = Date.now()), 1000);
}

/** "3:07" since `from` (ms epoch), ticking; `format` wraps the clock text in a sentence. */
export function Timer(props: { from: number; id?: string; format?: (clock: string) => string }): JSX.Element {
  startClock();
  // `now` ticks once a second; Date.now() keeps the first render right when the clock has just started.
  const clock = formatClock((Math.max(now.value, Date.now()) - props.from) / 1000);
  return (
    <span id={props.id} class="timer tick" data-from={String(props.from)}>
      {props.format ? props.format(clock) : clock}
    </span>
  );
}

export type ConnectionState = 'connecting' | 'online' | 'offline' | 'reconnecting' | 'refused';

export function ConnectionStatus(props: { state: ReadonlySignal<ConnectionState>; id?: string }): JSX.Element {
  const s = props.state.value;
  const tone = s === 'online' ? 'available' : s === 'connecting' || s === 'reconnecting' ? 'ringing' : 'offline';
  return (
    <span id={props.id} class={`badge conn ${tone}`} data-conn={s} role="status">
      {text.value.connection[s]}
    </span>
  );
}

/** A caption event (issue 10 feeds these on /consult or /voice). */
export interface Caption {
  utteranceId: string;
  peerId: string;
  role: string;
  name: string;
  /** Masked by the server: each masked character is `*`. */
  text: string;
  /** Where the text was masked (shown blurred; its words are never sent). */
  maskedSpans?: Array<{ start: number; end: number; category: string }>;
  isFinal: boolean;
  startMs: number;
}

/** The caption's text with each masked stretch blurred and labelled, so an admin sees that a word was masked, not which. */
export function CaptionText(props: { text: string; spans: Caption['maskedSpans']; label: string; /** A visible tag after each masked stretch (the admin's live view). */ tag?: string }): JSX.Element {
  const spans = [...(props.spans ?? [])].filter((m) => m.start >= 0 && m.end <= props.text.length && m.end > m.start).sort((a, b) => a.start - b.start);
  const parts: JSX.Element[] = [];
  let at = 0;
  for (const m of spans) {
    if (m.start < at) continue;
    if (m.start > at) parts.push(<span key={`t${at}`}>{props.text.slice(at, m.start)}</span>);
    parts.push(
      <span key={`m${m.start}`} class="masked" title={props.label} aria-label={props.label} data-category={m.category}>
        {props.text.slice(m.start, m.end)}
      </span>,
    );
    if (props.tag)
      parts.push(
        <span key={`g${m.start}`} class="masked-tag" aria-hidden="true">
          {props.tag}
        </span>,
      );
    at = m.end;
  }
  if (at < props.text.length) parts.push(<span key={`t${at}`}>{props.text.slice(at)}</span>);
  return <span class="caption-text">{parts}</span>;
}

/** Captions in order of start, interim ones replaced by their final text; a placeholder until the first arrives. */
export function CaptionTrack(props: {
  captions: ReadonlySignal<Caption[]>;
  selfPeerId?: string;
  /** This call's caption status; default: the page's one call (`captionStatus`). */
  status?: ReadonlySignal<CaptionStatus | undefined>;
  /** Tag masked words visibly (the admin's view). */
  tagMasked?: boolean;
  /** Label speakers "Name (Role)" rather than by name only. */
  withRole?: boolean;
}): JSX.Element {
  const t = text.value.captions;
  const list = props.captions.value;
  const box = useRef<HTMLOListElement>(null);
  useEffect(() => {
    box.current?.scrollTo({ top: box.current.scrollHeight });
  }, [list.length]);
  const status = props.status ? props.status.value : captionStatus.value;
  if (list.length === 0) return status && !status.available ? <CaptionNotice status={status} /> : <p class="muted caption-placeholder">{t.waiting}</p>;
  const roleName = (c: Caption): string => (t as Record<string, string>)[c.role] || c.role;
  const who = (c: Caption): string => (c.peerId === props.selfPeerId ? t.you : props.withRole && c.name ? `${c.name} (${roleName(c)})` : c.name || roleName(c));
  return (
    <>
    <CaptionNotice status={status} />
    <ol class="captions" ref={box} aria-live="polite">
      {list.map((c) => (
        <li key={c.utteranceId} class={c.isFinal ? 'final' : 'interim'} data-role={c.role}>
          <strong>{who(c)}</strong> <CaptionText text={c.text} spans={c.maskedSpans} label={t.masked} tag={props.tagMasked ? t.maskedTag : undefined} />
          {!c.isFinal && <span class="muted"> · {t.interim}</span>}
        </li>
      ))}
    </ol>
    </>
  );
}

/** Merges a caption event into the list (same utteranceId replaces), bounded to the last 200. */
export function mergeCaption(list: Caption[], c: Caption): Caption[] {
  const next = list.filter((x) => x.utteranceId !== c.utteranceId);
  next.push(c);
  next.sort((a, z) => a.startMs - z.startMs);
  return next.slice(-200);
}

/** A 0..1 level as a bar (role meter, aria-valuenow in percent). */
export function LevelMeter(props: { level: ReadonlySignal<number>; label: string; id?: string }): JSX.Element {
  const pct = Math.round(Math.min(1, Math.max(0, props.level.value)) * 100);
  return (
    <span id={props.id} class="meter" role="meter" aria-label={props.label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
      <span style={{ width: `${pct}%` }} />
    </span>
  );
}

/** A modal dialog (native <dialog>, so focus and Escape behave); `open` drives showModal/close. */
export function Dialog(props: { open: ReadonlySignal<boolean>; title: string; children: ComponentChildren; onClose: () => void; id?: string }): JSX.Element {
  const ref = useRef<HTMLDialogElement>(null);
  useSignalEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open.value && !d.open) d.showModal();
    if (!props.open.value && d.open) d.close();
  });
  return (
    <dialog id={props.id} ref={ref} class="card dialog" onClose={props.onClose}>
      <h2>{props.title}</h2>
      {props.children}
    </dialog>
  );
}

/** A button that disables itself while its action runs. */
export function ActionButton(props: { id?: string; class?: string; disabled?: boolean; title?: string; onClick: () => Promise<void>; children: ComponentChildren } & { [K in `data-${string}`]?: string }): JSX.Element {
  const busy = useSignal(false);
  const data = Object.fromEntries(Object.entries(props).filter(([k]) => k.startsWith('data-')));
  return (
    <button
      {...data}
      id={props.id}
      type="button"
      class={props.class}
      title={props.title}
      disabled={props.disabled || busy.value}
      onClick={() => {
        busy.value = true;
        props.onClick().finally(() => (busy.value = false));
      }}
    >
      {props.children}
    </button>
  );
}
