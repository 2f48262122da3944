/**
 * What every Parley page needs to talk to the server: REST calls in Parley's error shape,
 * the signed-in session kept per tab, and `$` (an element by id). Views are Preact components (ui/components.tsx). Sockets go through the one
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

export function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el;
}
