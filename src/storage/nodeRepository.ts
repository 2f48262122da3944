/**
 * The nodes sharing this database (migration 0011): each writes its heartbeat; a node whose
 * heartbeat is older than the TTL, or that stopped, hosts nothing any more.
 */
import type { Kysely } from 'kysely';
import type { NodeDirectory, NodeRecord } from '../cluster/ports.js';
import { toDate, type Database } from './schema.js';

export class NodeRepository implements NodeDirectory {
  constructor(private readonly db: Kysely<Database>) {}

  async register(id: string, at: Date, ttlMs: number): Promise<void> {
    const now = at.toISOString();
    const expires = new Date(at.getTime() + ttlMs).toISOString();
    await this.db
      .insertInto('nodes')
      .values({ id, started_at: now, heartbeat_at: now, expires_at: expires, stopped_at: null })
      .onConflict((oc) => oc.column('id').doUpdateSet({ started_at: now, heartbeat_at: now, expires_at: expires, stopped_at: null }))
      .execute();
  }

  async heartbeat(id: string, at: Date, ttlMs: number): Promise<void> {
    const res = await this.db
      .updateTable('nodes')
      .set({ heartbeat_at: at.toISOString(), expires_at: new Date(at.getTime() + ttlMs).toISOString() })
      .where('id', '=', id)
      .where('stopped_at', 'is', null)
      .executeTakeFirst();
    // The row went away (a restore, an operator's cleanup): write it again.
    if (Number(res.numUpdatedRows) === 0) await this.register(id, at, ttlMs);
  }

  async stopped(id: string, at: Date): Promise<void> {
    await this.db.updateTable('nodes').set({ stopped_at: at.toISOString() }).where('id', '=', id).execute();
  }

  async list(): Promise<NodeRecord[]> {
    const rows = await this.db.selectFrom('nodes').selectAll().orderBy('id').execute();
    return rows.map((r) => ({ id: r.id, startedAt: toDate(r.started_at), heartbeatAt: toDate(r.heartbeat_at), expiresAt: toDate(r.expires_at), stoppedAt: r.stopped_at ? toDate(r.stopped_at) : null }));
  }
}
