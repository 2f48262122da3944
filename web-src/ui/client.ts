/**
 * The one client every page uses to talk to the server: REST in Parley's error shape (from
 * lib/api.ts), Socket.IO requests with acknowledgements, and the one reconnect and refusal
 * policy for every namespace. Wire types come from the server's contracts (src/contracts/*,
 * through web-src/client/*; type-only imports: nothing of the server lands in the bundle).
 */
// signals-core (what @preact/signals re-exports): the voice room, which has no Preact view, does not load Preact for it.
import { signal, type Signal } from '@preact/signals-core';
import { io, type Socket } from 'socket.io-client';
import type { ConnectionState } from './components.js';
import { askRaw } from '../client/socket.js';
import { ApiError } from './rest.js';

export * from './rest.js';

/** The socket.io handshake refuses with `{code}` in `err.data`. */
type ConnectError = Error & { data?: { code?: string; message?: string } };

export interface LiveSocketOptions {
  /** Called once the server refuses this sign-in (handshake UNAUTHORIZED/FORBIDDEN, or `signed-out`). */
  onRefused: (reason: string) => void;
  /** Called after every (re)connect: fetch the state again. */
  onConnect?: () => void;
  onError?: (err: ApiError) => void;
  /**
   * Reconnect after the connection is lost (default true). A `/voice` peer passes false: the
   * server drops a peer whose socket went away, so its room is gone and the page joins anew.
   */
  reconnect?: boolean;
  /** The handshake's `auth` instead of `{ token }` (seed 002's anonymous `{ userId }` sockets). */
  auth?: Record<string, unknown>;
  /** Handshake query parameters (`?node=` routes a /voice socket to the node that hosts its room). */
  query?: Record<string, string>;
}

/**
 * Parley's reconnect and refusal policy, the same on /consult, /admin and /voice:
 * - transport trouble: Socket.IO retries by itself (0.5 s doubling to 5 s, jittered);
 * - a handshake refused for the sign-in (UNAUTHORIZED, FORBIDDEN): stop, `onRefused`;
 * - a handshake refused for another reason: retry in 3 s;
 * - the server dropped the socket (`io server disconnect`): try once more — a revoked sign-in
 *   is then refused at the handshake;
 * - `signed-out {reason}` from the server: stop, `onRefused(reason)` (a role change only reconnects).
 * With `reconnect: false` (a `/voice` peer) the first two hold and nothing reconnects: a lost
 * connection leaves the state `offline` and the page decides.
 */
export function liveSocket(namespace: string, token: string | undefined, options: LiveSocketOptions): { socket: Socket; state: Signal<ConnectionState>; close: () => void } {
  const state = signal<ConnectionState>('connecting');
  const reconnect = options.reconnect !== false;
  const socket = io(namespace, {
    transports: ['websocket'],
    auth: options.auth ?? { token },
    ...(options.query ? { query: options.query } : {}),
    reconnection: reconnect,
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
    randomizationFactor: 0.5,
  });
  let closed = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const refuse = (reason: string): void => {
    if (closed) return;
    state.value = 'refused';
    close();
    options.onRefused(reason);
  };
  socket.on('connect', () => {
    state.value = 'online';
    options.onConnect?.();
  });
  socket.on('connect_error', (err: ConnectError) => {
    state.value = 'offline';
    if (socket.active) return;
    const code = err.data?.code;
    if (code === 'UNAUTHORIZED' || code === 'FORBIDDEN') return refuse(code);
    options.onError?.(new ApiError(0, code ?? 'INTERNAL', err.data?.message ?? err.message));
    if (!reconnect) return;
    retry = setTimeout(() => {
      if (!closed && !socket.connected) socket.connect();
    }, 3000);
  });
  socket.on('disconnect', (reason) => {
    if (closed) return;
    state.value = reconnect ? 'reconnecting' : 'offline';
    if (reconnect && reason === 'io server disconnect') socket.connect();
  });
  socket.on('signed-out', (d: { reason: string }) => {
    if (d.reason !== 'role-changed') refuse(d.reason);
  });
  const close = (): void => {
    closed = true;
    clearTimeout(retry);
    socket.removeAllListeners();
    socket.disconnect();
  };
  return { socket, state, close };
}

/** The server answers an event it does not know with INVALID_PAYLOAD "unknown event …" (src/socket/eventRouter.ts). */
export function isUnknownEvent(err: unknown): boolean {
  return err instanceof ApiError && err.code === 'INVALID_PAYLOAD' && /^unknown event/.test(err.message);
}

/** Emits with an acknowledgement (untyped; the typed way is web-src/client/*). */
export const ask = async <T>(socket: Socket, event: string, data: unknown, timeoutMs = 10_000): Promise<T> => (await askRaw(socket, event, data, timeoutMs)) as T;

// The transfer and supervisor request types, derived from the server's contract.
export type { SupervisorJoin, SupervisorJoined, SupervisorMode, TransferRequest } from '../client/consult.js';
