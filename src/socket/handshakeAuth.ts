/**
 * Socket.IO handshake middleware: credentials from `auth {userId, token}` (seed 002),
 * `?token=` (seed 003) or an `Authorization: Bearer` header, checked by the configured
 * Authenticator. A refusal reaches the client as `connect_error` with
 * `err.message` and `err.data = { code, message }`.
 */
import type { Socket } from 'socket.io';
import { z } from 'zod';
import type { Authenticator } from '../auth/authenticator.js';
import type { Identity } from '../auth/identity.js';
import { ParleyError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { describeZodError } from './eventRouter.js';

const handshakeAuth = z.object({
  userId: z.union([z.string().min(1).max(128), z.number().int()]).transform(String).optional(),
  token: z.string().min(1).max(8192).optional(),
});

export interface ParleySocketData {
  identity: Identity;
}

export function identityOf(socket: Socket): Identity {
  return (socket.data as ParleySocketData).identity;
}

export function handshakeAuthMiddleware(authenticator: Authenticator, logger: Logger, isDraining: () => boolean) {
  return (socket: Socket, next: (err?: Error) => void): void => {
    const refuse = (err: ParleyError): void => {
      const e = new Error(err.message) as Error & { data: unknown };
      e.data = { code: err.code, message: err.message };
      next(e);
    };
    if (isDraining()) return refuse(new ParleyError('SHUTTING_DOWN', 'server is shutting down; reconnect in a moment'));
    const parsed = handshakeAuth.safeParse(socket.handshake.auth ?? {});
    if (!parsed.success) return refuse(new ParleyError('INVALID_PAYLOAD', `handshake auth: ${describeZodError(parsed.error)}`));
    const query = socket.handshake.query.token;
    const header = socket.handshake.headers.authorization;
    const token =
      parsed.data.token ??
      (typeof query === 'string' && query.length > 0 ? query : undefined) ??
      (typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined);
    authenticator
      .authenticate({ userId: parsed.data.userId, token })
      .then((identity) => {
        (socket.data as ParleySocketData).identity = identity;
        next();
      })
      .catch((err: unknown) => {
        if (err instanceof ParleyError) return refuse(err);
        logger.error({ err }, 'authenticator failed');
        refuse(new ParleyError('INTERNAL', 'authentication failed; try again'));
      });
  };
}
