/**
 * A Socket.IO connection held to one namespace's contract (src/contracts/*): `ask` sends a
 * request with an acknowledgement and answers the contract's reply type, `on` listens to what
 * the contract says the server pushes. Types only come from the server (`import type`): no
 * schema and no server code lands in the bundle.
 */
import type { Socket } from 'socket.io-client';
import type { z } from 'zod';
import type { Requests } from '../../src/contracts/socket.js';
import { ApiError } from '../ui/rest.js';
import { retryClusterUnavailable, type ClusterRetryOptions } from '../ui/clusterRetry.js';

export interface ContractSocket<Req extends Requests, Rep extends { [E in keyof Req]: unknown }, Push> {
  readonly raw: Socket;
  /** Rejects with ApiError when the ack carries `{error}` or does not come in `timeoutMs`. */
  ask<E extends keyof Req & string>(event: E, data: z.input<Req[E]>, timeoutMs?: number): Promise<Rep[E]>;
  /** Listens to a push; returns the function that stops listening. */
  on<E extends keyof Push & string>(event: E, handler: (payload: Push[E]) => void): () => void;
}

/** Emits with an acknowledgement; rejects with ApiError when the ack carries `{error}` or times out. */
export async function askRaw(socket: Socket, event: string, data: unknown, timeoutMs = 10_000): Promise<unknown> {
  let res: unknown;
  try {
    res = await socket.timeout(timeoutMs).emitWithAck(event, data);
  } catch {
    throw new ApiError(0, 'TIMEOUT', `no answer to ${event}`);
  }
  if (res && typeof res === 'object' && 'error' in res) {
    const e = (res as { error: { code?: string; message?: string } }).error;
    throw new ApiError(0, e.code ?? 'INTERNAL', e.message ?? '');
  }
  return res;
}

export interface ContractSocketOptions<Req> {
  /**
   * Requests that are sent again while the cluster refuses them with CLUSTER_UNAVAILABLE
   * (web-src/ui/clusterRetry.ts): only those whose refusal means the server changed nothing.
   */
  retryable?: ReadonlySet<keyof Req & string>;
  retry?: ClusterRetryOptions;
}

export function contractSocket<Req extends Requests, Rep extends { [E in keyof Req]: unknown }, Push>(socket: Socket, options: ContractSocketOptions<Req> = {}): ContractSocket<Req, Rep, Push> {
  return {
    raw: socket,
    ask: async (event, data, timeoutMs) => {
      const once = (): Promise<unknown> => askRaw(socket, event, data, timeoutMs);
      return (await (options.retryable?.has(event) ? retryClusterUnavailable(once, options.retry) : once())) as Rep[typeof event];
    },
    on: (event, handler) => {
      const listener = (payload: unknown): void => handler(payload as Push[typeof event]);
      // An untyped view of the socket: the contract, not socket.io's reserved events, types `event`.
      const untyped = socket as unknown as { on(e: string, l: (p: unknown) => void): void; off(e: string, l: (p: unknown) => void): void };
      untyped.on(event, listener);
      return () => untyped.off(event, listener);
    },
  };
}
