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

export interface Database {
  users: UsersTable;
  auth_sessions: AuthSessionsTable;
}

/** Marker so `Generated` stays importable for later tables with database-side defaults. */
export type { Generated };

export function toDate(value: string | Date): Date {
  return value instanceof Date ? value : new Date(value);
}
