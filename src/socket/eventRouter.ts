/**
 * Every socket event enters Parley here: rate limit, schema validation, the handler, and
 * one error shape. With an acknowledgement the client gets `{ error: { code, message } }`;
 * without one (seed 001/002 clients use none) an `error` event `{ event, code, message }`.
 * A failing handler never takes the socket or the server down.
 */
import type { Socket } from 'socket.io';
import type { RateLimiterMemory } from 'rate-limiter-flexible';
import type { z } from 'zod';
import type { Identity } from '../auth/identity.js';
import { hasRole, type Role } from '../auth/identity.js';
import { storageFailureKind } from '../storage/storageErrors.js';
import { ParleyError, type ErrorCode } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';

export interface SocketContext {
  socket: Socket;
  identity: Identity;
}

export interface EventDefinition {
  schema: z.ZodType;
  /** Lowest role allowed to send this event (default: anyone who connected). */
  role?: Role;
  handle(data: unknown, ctx: SocketContext): unknown;
}

/** Declares an event with its payload schema; the handler sees the parsed, typed payload. */
export function defineEvent<S extends z.ZodType>(schema: S, handle: (data: z.output<S>, ctx: SocketContext) => unknown, options: { role?: Role } = {}): EventDefinition {
  return { schema, role: options.role, handle: (data, ctx) => handle(data as z.output<S>, ctx) };
}

/**
 * Binds a namespace's contract (src/contracts/*): `define(event, handler)` takes the payload
 * schema from `requests[event]` and holds the handler to the contract's reply for that event.
 */
export function contractEvents<Req extends Record<string, z.ZodType>, Rep extends { [E in keyof Req]: unknown }>(requests: Req) {
  return <E extends keyof Req & string>(event: E, handle: (data: z.output<Req[E]>, ctx: SocketContext) => Rep[E] | Promise<Rep[E]>, options: { role?: Role } = {}): EventDefinition =>
    defineEvent(requests[event], handle, options);
}

export type Ack = (response: unknown) => void;

const outcomeByCode: Partial<Record<ErrorCode, string>> = {
  INVALID_PAYLOAD: 'invalid',
  FORBIDDEN: 'forbidden',
  UNAUTHORIZED: 'forbidden',
  RATE_LIMITED: 'rate_limited',
};

export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : 'payload'}: ${i.message}`)
    .join('; ');
}

export interface EventRouterOptions {
  namespace: string;
  limiter: RateLimiterMemory;
  logger: Logger;
  metrics: Metrics;
}

export class EventRouter {
  constructor(private readonly options: EventRouterOptions) {}

  attach(socket: Socket, identity: Identity, events: Record<string, EventDefinition>): void {
    const ctx: SocketContext = { socket, identity };
    const { namespace, metrics } = this.options;
    // A socket's events are handled one at a time, in arrival order: a join that awaits an
    // access check must finish before the offer sent right after it is looked at.
    let queue: Promise<void> = Promise.resolve();
    for (const [event, def] of Object.entries(events)) {
      socket.on(event, (...args: unknown[]) => {
        const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as Ack) : undefined;
        queue = queue.then(() => this.dispatch(event, def, args[0], ctx, ack));
      });
    }
    socket.onAny((event: unknown, ...args: unknown[]) => {
      if (typeof event === 'string' && Object.hasOwn(events, event)) return;
      const ack = typeof args[args.length - 1] === 'function' ? (args[args.length - 1] as Ack) : undefined;
      metrics.socketEvents.inc({ namespace, event: 'unknown', outcome: 'invalid' });
      this.reply(socket, String(event), new ParleyError('INVALID_PAYLOAD', `unknown event "${String(event).slice(0, 64)}" on namespace ${namespace}`), ack);
    });
  }

  private async dispatch(event: string, def: EventDefinition, payload: unknown, ctx: SocketContext, ack: Ack | undefined): Promise<void> {
    const { namespace, metrics, limiter, logger } = this.options;
    try {
      try {
        await limiter.consume(ctx.socket.id);
      } catch {
        throw new ParleyError('RATE_LIMITED', `too many events; slow down (limit per second per connection)`);
      }
      if (def.role && !hasRole(ctx.identity, def.role)) throw new ParleyError('FORBIDDEN', `"${event}" needs role ${def.role}`);
      const parsed = def.schema.safeParse(payload);
      if (!parsed.success) throw new ParleyError('INVALID_PAYLOAD', `${event}: ${describeZodError(parsed.error)}`);
      const result = await def.handle(parsed.data, ctx);
      metrics.socketEvents.inc({ namespace, event, outcome: 'ok' });
      ack?.(result ?? { ok: true });
    } catch (err) {
      const storageFailure = err instanceof ParleyError ? undefined : storageFailureKind(err);
      const perr =
        err instanceof ParleyError
          ? err
          : storageFailure
            ? new ParleyError('STORAGE_UNAVAILABLE', `storage is ${storageFailure === 'unwritable' ? 'not accepting writes' : 'unreachable'}; retry in a few seconds`)
            : new ParleyError('INTERNAL', 'internal error; the server logged it');
      if (storageFailure) logger.warn({ event, namespace, storage: storageFailure }, 'socket event failed: storage unavailable');
      else if (!(err instanceof ParleyError)) logger.error({ err, event, namespace, socketId: ctx.socket.id }, 'socket handler failed');
      else logger.debug({ event, namespace, code: perr.code, msg: perr.message }, 'socket event rejected');
      metrics.socketEvents.inc({ namespace, event, outcome: outcomeByCode[perr.code] ?? 'error' });
      this.reply(ctx.socket, event, perr, ack);
    }
  }

  private reply(socket: Socket, event: string, err: ParleyError, ack: Ack | undefined): void {
    // WRONG_NODE says where to go (issue 13: SFU rooms pinned to one node).
    const node = typeof err.details?.node === 'string' ? { node: err.details.node } : {};
    if (ack) ack({ error: { code: err.code, message: err.message, ...node } });
    else socket.emit('error', { event, code: err.code, message: err.message });
  }
}
