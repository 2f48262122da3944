/**
 * The credentials an integrator's backend or a signed-in person presents to Parley's
 * integration routes (POST /token, POST /api/v1/moderation/mask): the LiveKit key pair as
 * `Authorization: Basic base64(LIVEKIT_API_KEY:LIVEKIT_API_SECRET)`, or a Parley account's
 * `Authorization: Bearer <access token>`. Each route decides what an account needs and
 * whether no credential at all is enough.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Identity } from '../auth/identity.js';
import { ParleyError } from '../errors.js';
import type { RequestAuthenticator } from './authHooks.js';

export type IntegratorCaller = { kind: 'api-key' } | { kind: 'account'; identity: Identity };

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Who is calling: the key pair, an account, or `undefined` when the request carries no
 * Authorization header. A wrong key pair or an invalid access token is UNAUTHORIZED.
 */
export async function integratorCaller(req: FastifyRequest, opts: { authenticator: RequestAuthenticator; apiKey?: { key: string; secret: string } }): Promise<IntegratorCaller | undefined> {
  const header = req.headers.authorization;
  if (typeof header === 'string' && header.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (opts.apiKey && colon > 0 && sameSecret(decoded.slice(0, colon), opts.apiKey.key) && sameSecret(decoded.slice(colon + 1), opts.apiKey.secret)) return { kind: 'api-key' };
    throw new ParleyError('UNAUTHORIZED', 'the API key or secret is wrong (HTTP Basic LIVEKIT_API_KEY:LIVEKIT_API_SECRET)');
  }
  if (typeof header === 'string' && header.startsWith('Bearer ')) {
    return { kind: 'account', identity: await opts.authenticator.authenticateAccount(header.slice(7).trim()) };
  }
  return undefined;
}
