/**
 * Authentication and room-membership checks:
 *  - TokenAuthenticator: Parley's own JWTs (access tokens for agents/admins, customer tokens,
 *    room tokens), configured foreign issuers, anonymous participants when allowed;
 *  - AUTH_MODE=external adds an HTTP verify endpoint and a membership endpoint, as seed 002's
 *    Next.js flow, for tokens of no known issuer.
 */
import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { z } from 'zod';
import { consultationRoomName, isReservedRoomName } from '../domain/roomRef.js';
import { ParleyError } from '../errors.js';
import type { AuthSessionRepository } from '../storage/authSessionRepository.js';
import type { UserRepository } from '../storage/userRepository.js';
import type { Identity } from './identity.js';
import type { ForeignTokenVerifier } from './foreignTokens.js';
import { PARLEY_ISSUER, type TokenService } from './tokens.js';

export interface Credentials {
  userId?: string;
  token?: string;
}

/** What a socket asks to enter. `studyId` is seed 002's study a video room belongs to. */
export interface RoomTarget {
  kind: 'video' | 'study' | 'session' | 'voice';
  id: string;
  studyId?: string;
}

export interface Authenticator {
  authenticate(credentials: Credentials): Promise<Identity>;
}

export interface RoomAccessPolicy {
  /** Resolves when the identity may enter the room; throws FORBIDDEN otherwise. */
  assertCanJoin(identity: Identity, target: RoomTarget): Promise<void>;
}

export interface TokenAuthenticatorDeps {
  tokens: TokenService;
  users: UserRepository;
  sessions: AuthSessionRepository;
  allowAnonymous: boolean;
  /** Issuers trusted besides Parley itself (LiveKit key pair, the integrator's identity provider). */
  foreign?: ForeignTokenVerifier[];
  /** AUTH_MODE=external: tokens of no known issuer go to the integrator's HTTP verifier. */
  fallback?: Authenticator;
}

/** The `iss` of a JWT, read before its signature is checked (only to pick the key). */
function issuerOf(token: string): string | undefined {
  try {
    const { iss } = decodeJwt(token);
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every credential a socket or request may carry, told apart by issuer: Parley's own access,
 * customer and room tokens; tokens of configured foreign issuers; the external HTTP verifier
 * for the rest; anonymous when no token is sent and that is allowed.
 */
export class TokenAuthenticator implements Authenticator {
  constructor(private readonly deps: TokenAuthenticatorDeps) {}

  async authenticate({ userId, token }: Credentials): Promise<Identity> {
    if (!token) return this.anonymous(userId);
    const issuer = issuerOf(token);
    if (issuer === PARLEY_ISSUER) return this.parley(token);
    const foreign = issuer === undefined ? undefined : this.deps.foreign?.find((v) => v.issuer === issuer);
    if (foreign) return foreign.verify(token);
    if (this.deps.fallback) return this.deps.fallback.authenticate({ userId, token });
    throw new ParleyError('UNAUTHORIZED', issuer === undefined ? 'invalid token' : `tokens from issuer "${issuer.slice(0, 64)}" are not accepted here`);
  }

  /** Only Parley's access tokens (REST sign-ins). */
  async authenticateAccount(token: string): Promise<Identity> {
    const identity = await this.parley(token);
    if (identity.grant.kind !== 'account') throw new ParleyError('UNAUTHORIZED', 'sign in first: this needs an access token from POST /api/v1/auth/signin');
    return identity;
  }

  private async anonymous(userId: string | undefined): Promise<Identity> {
    if (!this.deps.allowAnonymous) throw new ParleyError('UNAUTHORIZED', 'a token is required (auth.token, ?token= or Authorization: Bearer)');
    if (userId !== undefined && (await this.deps.users.findById(userId))) {
      throw new ParleyError('UNAUTHORIZED', `user id "${userId}" belongs to a Parley account; connect with that account's access token`);
    }
    const id = userId ?? `guest-${randomUUID()}`;
    return { userId: id, role: 'customer', user: { id, role: 'customer', verified: false }, grant: { kind: 'anonymous' } };
  }

  private async parley(token: string): Promise<Identity> {
    const claims = await this.deps.tokens.verify(token);
    if (claims.typ === 'room') {
      const name = claims.name ?? claims.sub;
      return { userId: claims.sub, role: 'customer', name, user: { id: claims.sub, name, role: 'customer', verified: true }, grant: { kind: 'room', room: claims.video.room, issuer: 'parley' }, token };
    }
    if (claims.typ === 'customer') {
      const name = claims.name ?? claims.sub;
      return { userId: claims.sub, role: 'customer', name, user: { id: claims.sub, name, role: 'customer', verified: true }, grant: { kind: 'customer', consultationId: claims.cid }, token };
    }
    if (!(await this.deps.sessions.isActive(claims.sid))) throw new ParleyError('UNAUTHORIZED', 'signed out or session expired; sign in again');
    const user = await this.deps.users.findById(claims.sub);
    if (!user || user.status !== 'active') throw new ParleyError('UNAUTHORIZED', 'account is disabled or withdrawn');
    return {
      userId: user.id,
      role: user.role,
      name: user.name,
      user: { id: user.id, name: user.name, role: user.role, verified: true },
      grant: { kind: 'account', sessionId: claims.sid },
      token,
    };
  }
}

/**
 * What a credential's grant opens, whatever the room: a room grant its one room (and never a
 * consultation's), a customer grant its own consultation's call only. Accounts, external and
 * anonymous identities pass here; consultations and external membership add their own checks.
 */
export class GrantRoomAccessPolicy implements RoomAccessPolicy {
  async assertCanJoin(identity: Identity, target: RoomTarget): Promise<void> {
    const grant = identity.grant;
    if (grant.kind === 'room') {
      if (target.id === grant.room && !(target.kind === 'voice' && isReservedRoomName(target.id))) return;
      throw new ParleyError('FORBIDDEN', `this room token is for room "${grant.room}", not "${target.id}"`);
    }
    if (grant.kind === 'customer') {
      if (target.kind === 'voice' && target.id === consultationRoomName(grant.consultationId)) return;
      throw new ParleyError('FORBIDDEN', "a customer token only opens its own consultation's call");
    }
  }
}

/** A policy that admits only when every one of `policies` does (checked in order). */
export function allOf(policies: RoomAccessPolicy[]): RoomAccessPolicy {
  return {
    async assertCanJoin(identity, target) {
      for (const p of policies) await p.assertCanJoin(identity, target);
    },
  };
}

const verifyResponse = z
  .object({
    valid: z.boolean().optional(),
    role: z.enum(['customer', 'agent', 'admin']).optional(),
    user: z.looseObject({ id: z.union([z.string(), z.number()]).optional(), name: z.string().optional(), role: z.enum(['customer', 'agent', 'admin']).optional() }).optional(),
  })
  .loose();

const membershipResponse = z
  .object({ isMember: z.boolean().optional(), member: z.boolean().optional(), allowed: z.boolean().optional() })
  .loose();

async function callExternal(url: string, init: RequestInit, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ParleyError('AUTH_UNAVAILABLE', `external auth at ${new URL(url).origin} did not answer (${reason}); check NEXTJS_URL / AUTH_VERIFY_URL`);
  }
  const text = await res.text();
  let body: unknown = {};
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch {
      body = {};
    }
  }
  return { status: res.status, body };
}

export class ExternalAuthenticator implements Authenticator {
  constructor(
    private readonly verifyUrl: string,
    private readonly timeoutMs: number,
  ) {}

  async authenticate({ userId, token }: Credentials): Promise<Identity> {
    if (!token) throw new ParleyError('UNAUTHORIZED', 'a token is required');
    const { status, body } = await callExternal(
      this.verifyUrl,
      { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ userId, token }) },
      this.timeoutMs,
    );
    if (status === 401 || status === 403) throw new ParleyError('UNAUTHORIZED', 'token rejected by the external verifier');
    if (status < 200 || status >= 300) throw new ParleyError('AUTH_UNAVAILABLE', `external verifier answered HTTP ${status}`);
    const parsed = verifyResponse.safeParse(body);
    if (!parsed.success || parsed.data.valid === false) throw new ParleyError('UNAUTHORIZED', 'token rejected by the external verifier');
    const v = parsed.data;
    const id = v.user?.id !== undefined ? String(v.user.id) : userId;
    if (!id) throw new ParleyError('UNAUTHORIZED', 'the verifier named no user and the handshake carried no userId');
    const role = v.role ?? v.user?.role ?? 'customer';
    return { userId: id, role, name: v.user?.name, user: { ...(v.user ?? {}), id, role, verified: true }, grant: { kind: 'external', source: 'verifier' }, token };
  }
}

export class ExternalRoomAccessPolicy implements RoomAccessPolicy {
  constructor(
    private readonly urlTemplate: string | undefined,
    private readonly timeoutMs: number,
  ) {}

  async assertCanJoin(identity: Identity, target: RoomTarget): Promise<void> {
    if (!this.urlTemplate) return;
    const studyId = target.studyId ?? target.id;
    const url = new URL(
      this.urlTemplate.replaceAll('{studyId}', encodeURIComponent(studyId)).replaceAll('{roomId}', encodeURIComponent(target.id)),
    );
    url.searchParams.set('userId', identity.userId);
    const headers: Record<string, string> = {};
    if (identity.token) headers.authorization = `Bearer ${identity.token}`;
    const { status, body } = await callExternal(url.toString(), { method: 'GET', headers }, this.timeoutMs);
    if (status === 401 || status === 403 || status === 404) throw new ParleyError('FORBIDDEN', `not a member of study "${studyId}"`);
    if (status < 200 || status >= 300) throw new ParleyError('AUTH_UNAVAILABLE', `membership check answered HTTP ${status}`);
    const m = membershipResponse.safeParse(body);
    const answer = m.success ? (m.data.isMember ?? m.data.member ?? m.data.allowed) : undefined;
    if (answer === false) throw new ParleyError('FORBIDDEN', `not a member of study "${studyId}"`);
  }
}
