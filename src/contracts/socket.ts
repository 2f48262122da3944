/**
 * What every Parley namespace may send to any client, and the shapes shared by the
 * namespace contracts (src/contracts/consult.ts, admin.ts).
 */
import type { z } from 'zod';

/** A request the client makes with an acknowledgement: its payload schema and its answer. */
export type Requests = Record<string, z.ZodType>;

/** The ack of a refused request (src/socket/eventRouter.ts). */
export interface RefusalAck {
  error: { code: string; message: string };
}

/** Sent by every namespace: the account was signed out, the server stops, a request without ack failed. */
export interface CommonServerToClient {
  'signed-out': { reason: string };
  'server-shutdown': { reason: string; reconnect: boolean };
  error: { event: string; code: string; message: string };
}

/** Socket.IO's event map (name → listener) for a `name → payload` map. */
export type ListenerMap<M> = { [E in keyof M]: (payload: M[E]) => void };
