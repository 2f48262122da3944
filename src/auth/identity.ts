import type { Role } from '../storage/schema.js';

export type { Role };

/** Who is on the other end of a request or socket, as far as Parley knows. */
export interface Identity {
  userId: string;
  role: Role;
  name?: string;
  /** Profile object relayed to peers as `user` in seed 002's events. */
  user: { id: string; name?: string; role: Role } & Record<string, unknown>;
  /** Set for room tokens: the only room this identity may join. */
  roomScope?: string;
  /** Sign-in session of an access token (revocable). */
  sessionId?: string;
  via: 'access-token' | 'room-token' | 'anonymous' | 'external';
  /** The raw token, kept for external membership checks. */
  token?: string;
}

export const roleRank: Record<Role, number> = { customer: 0, agent: 1, admin: 2 };

export function hasRole(identity: Identity, atLeast: Role): boolean {
  return roleRank[identity.role] >= roleRank[atLeast];
}
