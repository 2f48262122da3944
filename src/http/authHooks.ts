/**
 * REST authentication: `Authorization: Bearer <access token>` of a Parley account, then a role
 * check. Customer, room and foreign tokens are not REST credentials.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator } from '../auth/authenticator.js';
import { hasRole, type Identity, type Role } from '../auth/identity.js';
import { ParleyError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    identity?: Identity;
  }
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  return typeof h === 'string' && h.startsWith('Bearer ') ? h.slice(7).trim() : undefined;
}

export interface RequestAuthenticator extends Authenticator {
  /** The signed-in account behind a Parley access token; UNAUTHORIZED for anything else. */
  authenticateAccount(token: string): Promise<Identity>;
}

export class AuthHooks {
  constructor(private readonly authenticator: RequestAuthenticator) {}

  /** preHandler: requires a signed-in identity with at least `role`. */
  require(role: Role) {
    return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
      const token = bearerToken(request);
      if (!token) throw new ParleyError('UNAUTHORIZED', 'sign in first: send Authorization: Bearer <accessToken>');
      const identity = await this.authenticator.authenticateAccount(token);
      if (!hasRole(identity, role)) throw new ParleyError('FORBIDDEN', `this needs the ${role} role; you are ${identity.role}`);
      request.identity = identity;
    };
  }

  /** preHandler: attaches the identity of any credential (customer, room, foreign token) when one is sent. */
  optionalCredential() {
    return async (request: FastifyRequest): Promise<void> => {
      const token = bearerToken(request);
      if (token) request.identity = await this.authenticator.authenticate({ token });
    };
  }

  /** preHandler: attaches the account's identity when a valid access token is present, and nothing otherwise. */
  optional() {
    return async (request: FastifyRequest): Promise<void> => {
      const token = bearerToken(request);
      if (token) request.identity = await this.authenticator.authenticateAccount(token);
    };
  }
}

export function identityOf(request: FastifyRequest): Identity {
  if (!request.identity) throw new ParleyError('UNAUTHORIZED', 'sign in first');
  return request.identity;
}
