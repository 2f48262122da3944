/**
 * What every Parley page needs to talk to the server: REST calls in Parley's error shape,
 * the signed-in session kept per tab, and a small DOM builder. Sockets go through the one
 * client and policy in ui/client.ts (acks: client/socket.ts). Bundled into each page by esbuild (`npm run build:web`).
 */
import { call, type RestReply } from '../client/rest.js';
import { api, ApiError } from '../ui/rest.js';

export { api, ApiError };

/** Fetches a binary resource (e.g. a QR PNG) with the bearer token; returns an object URL. */
export async function blobUrl(path: string, token: string): Promise<string> {
  const res = await fetch(path, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new ApiError(res.status, `HTTP_${res.status}`, `could not load ${path}`);
  return URL.createObjectURL(await res.blob());
}

/** What a tab keeps of a sign-in (the `signIn` answer of src/contracts/rest.ts). */
export type SignedIn = Pick<RestReply<'signIn'>, 'accessToken' | 'user'>;

/** The signed-in session of this tab (sessionStorage: two tabs can be two people). */
export const session = {
  load(key: string): SignedIn | undefined {
    const raw = sessionStorage.getItem(key);
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as SignedIn;
    } catch {
      return undefined;
    }
  },
  save(key: string, value: SignedIn): void {
    sessionStorage.setItem(key, JSON.stringify(value));
  },
  clear(key: string): void {
    sessionStorage.removeItem(key);
  },
};

export async function signIn(email: string, password: string): Promise<SignedIn> {
  return call('signIn', { body: { email, password } });
}

type Child = Node | string | number | null | undefined | false;

/** h('button', {class: 'primary', onclick: fn}, 'Call') — a DOM element; strings become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, unknown> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v as EventListener);
    else if (k === 'dataset' && typeof v === 'object') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(typeof c === 'number' ? String(c) : c);
  return el;
}

export function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el;
}

/** "3:07" / "1:02:03" */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}
