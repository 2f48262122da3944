/**
 * The dashboard's QR entry points (#entries): one card each — name and status, the QR image
 * (fetched with the admin's token), a warning when the QR would encode localhost, the link, the
 * caption / recording / routing switches, expiry, and copy / download / print / close. Active
 * cards first, newest first. The controller (adminDashboard.ts) loads `entryPoints` and does
 * the requests through `EntryActions`; a printed poster is `Poster` in #poster.
 */
import { signal, useSignal } from '@preact/signals';
import type { JSX } from 'preact';
import { useEffect } from 'preact/hooks';
import type { RestReply } from '../../client/rest.js';
import { ActionButton, Badge } from '../../ui/components.js';
import { text } from '../../ui/i18n.js';
import { EntryRoutingControl, type RoutingValue } from './EntryRouting.js';
import { EntrySwitch, type EntrySetting } from './EntrySwitch.js';
import { fmtTime, relative } from './time.js';

export type EntryPoint = RestReply<'listEntryPoints'>['entryPoints'][number];

/** The entry points shown (undefined until loaded). */
export const entryPoints = signal<EntryPoint[] | undefined>(undefined);

export interface EntryActions {
  /** An object URL of the entry's QR PNG (cached by the controller). */
  qr(e: EntryPoint): Promise<string>;
  /** Reports a QR that could not be loaded (the page's error banner). */
  qrFailed(e: EntryPoint, err: unknown): void;
  close(e: EntryPoint): Promise<void>;
  saveCaptions(e: EntryPoint, v: EntrySetting): Promise<EntrySetting>;
  saveRecording(e: EntryPoint, v: EntrySetting): Promise<EntrySetting>;
  saveRouting(e: EntryPoint, v: RoutingValue): Promise<RoutingValue>;
  print(e: EntryPoint, qrSrc: string): void;
  copy(text: string): Promise<boolean>;
}

/** A QR that encodes localhost (or a loopback address) cannot be opened by a phone that scans it. */
export function pointsToLocalhost(url: string): boolean {
  try {
    const host = new URL(url, location.href).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '::1' || host === '0.0.0.0';
  } catch {
    return false;
  }
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'entry';
}

export function EntryCards(props: { actions: EntryActions }): JSX.Element | null {
  const list = entryPoints.value;
  if (!list) return null;
  const sorted = [...list].sort((a, z) => Number(a.disabled) - Number(z.disabled) || z.createdAt.localeCompare(a.createdAt));
  return (
    <>
      {sorted.map((e) => (
        <EntryCard key={e.id} entry={e} actions={props.actions} />
      ))}
    </>
  );
}

function EntryCard(props: { entry: EntryPoint; actions: EntryActions }): JSX.Element {
  const { entry: e, actions } = props;
  const D = text.value.dash;
  const Q = text.value.qr;
  const qr = useSignal<{ state: 'loading' } | { state: 'loaded'; url: string } | { state: 'error' }>({ state: 'loading' });
  const copied = useSignal<'idle' | 'ok' | 'failed'>('idle');
  useEffect(() => {
    let gone = false;
    actions.qr(e).then(
      (url) => {
        if (!gone) qr.value = { state: 'loaded', url };
      },
      (err: unknown) => {
        if (gone) return;
        qr.value = { state: 'error' };
        actions.qrFailed(e, err);
      },
    );
    return () => {
      gone = true;
    };
  }, [e.id]);
  const expired = Date.parse(e.expiresAt) <= Date.now();
  const status = e.disabled ? 'disabled' : expired ? 'expired' : 'active';
  const q = qr.value;
  const url = q.state === 'loaded' ? q.url : undefined;
  const copy = (): void => {
    void actions.copy(e.url).then((ok) => {
      copied.value = ok ? 'ok' : 'failed';
      setTimeout(() => (copied.value = 'idle'), 1500);
    });
  };
  return (
    <div class={`card entry ${status}`} data-entry-id={e.id} data-status={status}>
      <div class="row">
        <h3 class="name">{e.name}</h3>
        <Badge label={D.entryStatus[status] ?? status} code={status} />
      </div>
      {pointsToLocalhost(e.url) && (
        <div class="banner warn localhost-warning" role="alert">
          {Q.localhost}
        </div>
      )}
      <img class="qr" alt={q.state === 'error' ? D.qrFailedAlt(e.name) : D.qrAlt(e.name)} width={192} height={192} src={url} data-qr={q.state === 'loading' ? undefined : q.state === 'loaded' ? 'loaded' : 'error'} />
      <a class="entry-url" href={e.url} target="_blank" rel="noopener">
        {e.url}
      </a>
      <EntrySwitch kind="captions" entryId={e.id} value={e.captions} save={(v) => actions.saveCaptions(e, v)} />
      <EntrySwitch kind="recording" entryId={e.id} value={e.recording} save={(v) => actions.saveRecording(e, v)} />
      <EntryRoutingControl entryId={e.id} value={{ routing: e.routing, overflowAfterSeconds: e.overflowAfterSeconds }} save={(v) => actions.saveRouting(e, v)} />
      <div class="muted expires">{(expired ? D.expired : D.expires)(fmtTime(e.expiresAt), relative(e.expiresAt))}</div>
      <div class="muted">{D.createdAt(fmtTime(e.createdAt))}</div>
      <div class="actions">
        <button type="button" class="copy small" onClick={copy}>
          {copied.value === 'ok' ? D.copied : copied.value === 'failed' ? D.copyFailed : D.copyLink}
        </button>
        <a class="download" download={`parley-qr-${slug(e.name)}.png`} href={url} aria-disabled={url ? undefined : 'true'}>
          {D.downloadPng}
        </a>
        <button type="button" class="print small" onClick={() => actions.print(e, url ?? '')}>
          {Q.print}
        </button>
        {!e.disabled && (
          <ActionButton class="disable small danger" onClick={() => actions.close(e)}>
            {D.disable}
          </ActionButton>
        )}
      </div>
    </div>
  );
}

/** The printed poster of one entry point (the print stylesheet shows only #poster). */
export const posterOf = signal<{ name: string; url: string; qrSrc: string } | undefined>(undefined);

export function Poster(): JSX.Element | null {
  const p = posterOf.value;
  if (!p) return null;
  const t = text.value.qr;
  return (
    <>
      <h1>{t.posterTitle}</h1>
      <div class="poster-name">{p.name}</div>
      <img src={p.qrSrc} alt={p.name} />
      <p>{t.posterBody}</p>
      <div class="poster-url">{p.url}</div>
    </>
  );
}
