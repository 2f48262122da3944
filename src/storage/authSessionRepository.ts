/**
 * Sign-in sessions. An access token carries its session id (`sid`); signing out revokes
 * the session, so a stolen token stops working before it expires.
 */
import type { Kysely } from 'kysely';
import { toDate, type Database } from './schema.js';

export class AuthSessionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(id: string, userId: string, expiresAt: Date): Promise<void> {
    await this.db
      .insertInto('auth_sessions')
      .values({ id, user_id: userId, created_at: new Date().toISOString(), expires_at: expiresAt.toISOString(), revoked_at: null })
      .execute();
  }

  /** True when the session exists, is not revoked and has not expired. */
  async isActive(id: string): Promise<boolean> {
    const row = await this.db.selectFrom('auth_sessions').select(['expires_at', 'revoked_at']).where('id', '=', id).executeTakeFirst();
    if (!row || row.revoked_at !== null) return false;
    return toDate(row.expires_at).getTime() > Date.now();
  }

  async revoke(id: string): Promise<void> {
    await this.db.updateTable('auth_sessions').set({ revoked_at: new Date().toISOString() }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  }

  async revokeAllForUser(userId: string): Promise<void> {
    await this.db.updateTable('auth_sessions').set({ revoked_at: new Date().toISOString() }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
  }
}
