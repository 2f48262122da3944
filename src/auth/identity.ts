import type { Role } from '../storage/schema.js';

export type { Role };

/**
 * What a credential lets its holder do, by the kind of credential it came from. Access is
 * decided from this grant, never from a user id's or a room name's spelling.
 */
export type Grant =
  /** A Parley account's sign-in (access token); `sessionId` is revocable. */
  | { kind: 'account'; sessionId: string }
  /** The customer of one consultation: minted only when that consultation was started. */
  | { kind: 'customer'; consultationId: string }
  /** Seed 004 / LiveKit room grant: joins one open room, never a consultation. */
  | { kind: 'room'; room: string; issuer: 'parley' | 'api-key' }
  /** The integrator's identity provider (a JWT it signed, or its HTTP verifier). */
  | { kind: 'external'; source: 'jwt' | 'verifier' }
  /** No credential: an anonymous participant whose user id is only a claim. */
  | { kind: 'anonymous' };

/** Who is on the other end of a request or socket, as far as Parley knows. */
export interface Identity {
  userId: string;
  role: Role;
  name?: string;
  /**
   * Profile object relayed to peers as `user` in seed 002's events. `verified: false` marks a
   * user id that the client chose itself (no credential vouches for it).
   */
  user: { id: string; name?: string; role: Role; verified: boolean } & Record<string, unknown>;
  grant: Grant;
  /** The raw token, kept for external membership checks. */
  token?: string;
}

export const roleRank: Record<Role, number> = { customer: 0, agent: 1, admin: 2 };

/**
 * Whether the identity holds at least `atLeast`. Agent and admin powers come only from a
 * Parley account's sign-in: a role claimed by another issuer (the integrator's identity
 * provider, its verifier) is relayed to peers but opens nothing here.
 */
export function hasRole(identity: Identity, atLeast: Role): boolean {
  if (atLeast !== 'customer' && identity.grant.kind !== 'account') return false;
  return roleRank[identity.role] >= roleRank[atLeast];
}

/** The sign-in session behind an access token, when the identity is a Parley account. */
export function accountSession(identity: Identity): string | undefined {
  return identity.grant.kind === 'account' ? identity.grant.sessionId : undefined;
}

/** The consultation this identity is the customer of, if any. */
export function customerOf(identity: Identity): string | undefined {
  return identity.grant.kind === 'customer' ? identity.grant.consultationId : undefined;
}

/** A signed-in Parley agent or admin (an account, not a role claimed by another issuer). */
export function isAccount(identity: Identity): boolean {
  return identity.grant.kind === 'account';
}
