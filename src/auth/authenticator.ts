/**
 * Pluggable authentication and room-membership checks (chosen by AUTH_MODE):
 *  - local: Parley's own JWTs (access tokens for agents/admins, room tokens for customers),
 *    anonymous customers when ALLOW_ANONYMOUS_SOCKETS is on;
 *  - external: an HTTP verify endpoint and a membership endpoint, as seed 002's Next.js flow.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ParleyError } from '../errors.js';
import type { AuthSessionRepository } from '../storage/authSessionRepository.js';
import type { UserRepository } from '../storage/userRepository.js';
import type { Identity } from './identity.js';
import type { TokenService } from './tokens.js';

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

export class LocalAuthenticator implements Authenticator {
  constructor(
    private readonly tokens: TokenService,
    private readonly users: UserRepository,
    private readonly sessions: AuthSessionRepository,
    private readonly allowAnonymous: boolean,
  ) {}

  async authenticate({ userId, token }: Credentials): Promise<Identity> {
    if (!token) {
      if (!this.allowAnonymous) throw new ParleyError('UNAUTHORIZED', 'a token is required (auth.token, ?token= or Authorization: Bearer)');
      const id = userId ?? `guest-${randomUUID()}`;
      return { userId: id, role: 'customer', user: { id, role: 'customer' }, via: 'anonymous' };
    }
    const claims = await this.tokens.verify(token);
    if (claims.typ === 'room') {
      return {
        userId: claims.sub,
        role: 'customer',
        name: claims.name,
        user: { id: claims.sub, name: claims.name ?? claims.sub, role: 'customer' },
        roomScope: claims.video.room,
        via: 'room-token',
        token,
      };
    }
    if (!(await this.sessions.isActive(claims.sid))) throw new ParleyError('UNAUTHORIZED', 'signed out or session expired; sign in again');
    const user = await this.users.findById(claims.sub);
    if (!user || user.status !== 'active') throw new ParleyError('UNAUTHORIZED', 'account is disabled or withdrawn');
    return {
      userId: user.id,
      role: user.role,
      name: user.name,
      user: { id: user.id, name: user.name, role: user.role },
      sessionId: claims.sid,
      via: 'access-token',
      token,
    };
  }
}

/** Room tokens are bound to their room; everyone else may enter any room. */
export class LocalRoomAccessPolicy implements RoomAccessPolicy {
  async assertCanJoin(identity: Identity, target: RoomTarget): Promise<void> {
    if (identity.roomScope === undefined) return;
    if (target.id === identity.roomScope || target.studyId === identity.roomScope) return;
    throw new ParleyError('FORBIDDEN', `this room token is for room "${identity.roomScope}", not "${target.id}"`);
  }
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
    return { userId: id, role, name: v.user?.name, user: { ...(v.user ?? {}), id, role }, via: 'external', token };
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
