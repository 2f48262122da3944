/**
 * Table shapes as Kysely sees them. Timestamps are written as ISO-8601 strings and read
 * back through `toDate`, because SQLite stores TEXT and PostgreSQL returns `Date` for
 * `timestamptz`.
 */
import type { Generated } from 'kysely';

export type Role = 'customer' | 'agent' | 'admin';
export type UserStatus = 'active' | 'disabled' | 'withdrawn';

export interface UsersTable {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  role: Role;
  status: UserStatus;
  created_at: string | Date;
  updated_at: string | Date;
}

export interface AuthSessionsTable {
  id: string;
  user_id: string;
  created_at: string | Date;
  expires_at: string | Date;
  revoked_at: string | Date | null;
}

export interface CallsTable {
  id: string;
  session_id: string;
  caller_number: string;
  receiver_number: string | null;
  status: 'INITIATING' | 'RINGING' | 'CONNECTING' | 'IN_PROGRESS' | 'ENDED' | 'FAILED';
  failure_cause: string | null;
  created_at: string | Date;
  updated_at: string | Date;
  connected_at: string | Date | null;
  ended_at: string | Date | null;
}

export interface CallTransitionsTable {
  id: string;
  call_id: string;
  from_status: string | null;
  to_status: string;
  cause: string;
  at: string | Date;
}

export interface Database {
  users: UsersTable;
  auth_sessions: AuthSessionsTable;
  calls: CallsTable;
  call_transitions: CallTransitionsTable;
}

/** Marker so `Generated` stays importable for later tables with database-side defaults. */
export type { Generated };

export function toDate(value: string | Date): Date {
  return value instanceof Date ? value : new Date(value);
}
