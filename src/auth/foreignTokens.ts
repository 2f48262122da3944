/**
 * Tokens Parley did not sign but trusts by configuration, told apart by their `iss`:
 *  - seed 004's LiveKit key pair: an integrator's backend signs LiveKit-style room tokens with
 *    `LIVEKIT_API_SECRET` (`iss` = `LIVEKIT_API_KEY`, `video: { room, roomJoin }`), exactly as it
 *    would for LiveKit; they admit their holder to that one open room;
 *  - the integrator's identity provider (seed 000's Spring Boot backend, for example): JWTs
 *    checked with a shared HS256 secret or a JWKS URL, with issuer and audience, and a claim
 *    mapping for user id, name and role. The role is relayed to peers; Parley's agent and admin
 *    powers still need a Parley account (see `hasRole`).
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { ParleyError } from '../errors.js';
import type { Identity, Role } from './identity.js';

export interface ForeignTokenVerifier {
  /** The `iss` this verifier answers for. */
  readonly issuer: string;
  verify(token: string): Promise<Identity>;
}

const liveKitClaims = z.object({
  sub: z.string().min(1).max(256),
  name: z.string().max(256).optional(),
  video: z.object({ room: z.string().min(1).max(256), roomJoin: z.literal(true) }).loose(),
});

function rejected(err: unknown, what: string): ParleyError {
  if (err instanceof ParleyError) return err;
  if (err instanceof joseErrors.JWTExpired) return new ParleyError('UNAUTHORIZED', `${what} expired; get a new one`);
  if (err instanceof joseErrors.JWKSTimeout || !(err instanceof joseErrors.JOSEError)) {
    return new ParleyError('AUTH_UNAVAILABLE', `could not fetch the identity provider's keys (${err instanceof Error ? err.message : String(err)}); check EXTERNAL_JWT_JWKS_URL`);
  }
  return new ParleyError('UNAUTHORIZED', `${what} is not valid (${err.code})`);
}

export class ApiKeyTokenVerifier implements ForeignTokenVerifier {
  private readonly key: Uint8Array;
  constructor(
    readonly issuer: string,
    secret: string,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async verify(token: string): Promise<Identity> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key, { issuer: this.issuer, algorithms: ['HS256'] }));
    } catch (err) {
      throw rejected(err, 'this room token');
    }
    const claims = liveKitClaims.safeParse(payload);
    if (!claims.success) throw new ParleyError('UNAUTHORIZED', 'this token carries no room grant (video: { room, roomJoin: true })');
    const { sub, name, video } = claims.data;
    return {
      userId: sub,
      role: 'customer',
      name: name ?? sub,
      user: { id: sub, name: name ?? sub, role: 'customer', verified: true },
      grant: { kind: 'room', room: video.room, issuer: 'api-key' },
      token,
    };
  }
}

export interface IdentityProviderOptions {
  verify: { kind: 'secret'; secret: string } | { kind: 'jwks'; url: string };
  issuer: string;
  audience?: string;
  claims: { userId: string; name: string; role: string };
  /** How long a JWKS fetch may take. */
  timeoutMs: number;
}

const roles: readonly Role[] = ['customer', 'agent', 'admin'];

export class IdentityProviderVerifier implements ForeignTokenVerifier {
  readonly issuer: string;
  private readonly key: Uint8Array | JWTVerifyGetKey;
  private readonly algorithms: string[] | undefined;

  constructor(private readonly options: IdentityProviderOptions) {
    this.issuer = options.issuer;
    if (options.verify.kind === 'secret') {
      this.key = new TextEncoder().encode(options.verify.secret);
      this.algorithms = ['HS256'];
    } else {
      this.key = createRemoteJWKSet(new URL(options.verify.url), { timeoutDuration: options.timeoutMs, cooldownDuration: 30_000 });
      this.algorithms = undefined; // whatever the published keys are for (RS256, ES256, EdDSA…)
    }
  }

  async verify(token: string): Promise<Identity> {
    let payload: JWTPayload;
    try {
      const opts = { issuer: this.issuer, audience: this.options.audience, algorithms: this.algorithms };
      ({ payload } =
        this.key instanceof Uint8Array ? await jwtVerify(token, this.key, opts) : await jwtVerify(token, this.key, opts));
    } catch (err) {
      throw rejected(err, "the identity provider's token");
    }
    const { claims } = this.options;
    const rawId = payload[claims.userId];
    if ((typeof rawId !== 'string' || rawId.length === 0) && typeof rawId !== 'number') {
      throw new ParleyError('UNAUTHORIZED', `the identity provider's token has no "${claims.userId}" claim (EXTERNAL_JWT_USER_ID_CLAIM)`);
    }
    const userId = String(rawId).slice(0, 256);
    const rawName = payload[claims.name];
    const name = typeof rawName === 'string' ? rawName.slice(0, 256) : undefined;
    const rawRole = payload[claims.role];
    const role = roles.find((r) => r === rawRole) ?? 'customer';
    return {
      userId,
      role,
      name,
      user: { id: userId, name, role, verified: true },
      grant: { kind: 'external', source: 'jwt' },
      token,
    };
  }
}
