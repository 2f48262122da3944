/**
 * What a consultation keeps beyond the call record: its routing events (queued, offered,
 * rejected…), its participants with join/leave times, the agents' notes, and the history
 * query with filters.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { CallStatus } from '../domain/calls/callStatus.js';
import { toCallRecord, type CallRecord } from './callRepository.js';
import { toDate, type Database } from './schema.js';

export interface CallEvent {
  type: string;
  actorId: string | null;
  detail: Record<string, unknown> | null;
  at: Date;
}

export interface CallParticipant {
  role: 'customer' | 'agent' | 'bot';
  userId: string | null;
  name: string;
  joinedAt: Date;
  leftAt: Date | null;
}

export interface CallNote {
  id: string;
  authorId: string;
  authorName: string | null;
  body: string;
  disposition: string | null;
  createdAt: Date;
}

export interface HistoryFilter {
  from?: Date;
  to?: Date;
  agentId?: string;
  status?: CallStatus;
  channel?: 'consultation' | 'api';
  limit: number;
  offset: number;
}

export class ConsultationRepository {
  /** Last event time handed out: events are ordered by time, so two in one millisecond get distinct ones. */
  private lastEventAt = 0;

  constructor(private readonly db: Kysely<Database>) {}

  /** `db`: a transaction to write in (e.g. a call transition's), or the database. */
  async addEvent(callId: string, type: string, actorId: string | null, detail?: Record<string, unknown>, db: Kysely<Database> = this.db): Promise<void> {
    this.lastEventAt = Math.max(Date.now(), this.lastEventAt + 1);
    const at = new Date(this.lastEventAt).toISOString();
    await db.insertInto('call_events').values({ id: randomUUID(), call_id: callId, type, actor_id: actorId, detail: detail ? JSON.stringify(detail) : null, at }).execute();
  }

  async events(callId: string): Promise<CallEvent[]> {
    const rows = await this.db.selectFrom('call_events').selectAll().where('call_id', '=', callId).orderBy('at').execute();
    return rows.map((r) => ({ type: r.type, actorId: r.actor_id, detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null, at: toDate(r.at) }));
  }

  async addParticipant(callId: string, p: { role: CallParticipant['role']; userId: string | null; name: string }, db: Kysely<Database> = this.db): Promise<void> {
    await db
      .insertInto('call_participants')
      .values({ id: randomUUID(), call_id: callId, role: p.role, user_id: p.userId, name: p.name, joined_at: new Date().toISOString(), left_at: null })
      .execute();
  }

  /** Everyone still in the call leaves now (the call is over). */
  async closeParticipants(callId: string): Promise<void> {
    await this.db.updateTable('call_participants').set({ left_at: new Date().toISOString() }).where('call_id', '=', callId).where('left_at', 'is', null).execute();
  }

  /** One participant leaves the call now (e.g. the agent who transferred it away). */
  async leaveParticipant(callId: string, userId: string): Promise<void> {
    await this.db.updateTable('call_participants').set({ left_at: new Date().toISOString() }).where('call_id', '=', callId).where('user_id', '=', userId).where('left_at', 'is', null).execute();
  }

  /**
   * A transfer is taken: in one transaction the live call's agent becomes `to` (only while it
   * is still `fromAgentId`'s and live), `fromAgentId` leaves, `to` joins as a participant and
   * the event is written. False, with nothing written, when the call moved or ended meanwhile.
   */
  async reassignAgent(callId: string, input: { fromAgentId: string | null; to: { userId: string; name: string }; event: { type: string; detail: Record<string, unknown> } }): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      let q = tx.updateTable('calls').set({ agent_id: input.to.userId, updated_at: new Date().toISOString() }).where('id', '=', callId).where('status', 'in', ['CONNECTING', 'IN_PROGRESS']);
      q = input.fromAgentId === null ? q.where('agent_id', 'is', null) : q.where('agent_id', '=', input.fromAgentId);
      const updated = await q.executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) return false;
      const now = new Date().toISOString();
      if (input.fromAgentId) await tx.updateTable('call_participants').set({ left_at: now }).where('call_id', '=', callId).where('user_id', '=', input.fromAgentId).where('left_at', 'is', null).execute();
      await this.addParticipant(callId, { role: 'agent', userId: input.to.userId, name: input.to.name }, tx);
      await this.addEvent(callId, input.event.type, input.to.userId, input.event.detail, tx);
      return true;
    });
  }

  async participants(callId: string): Promise<CallParticipant[]> {
    const rows = await this.db.selectFrom('call_participants').selectAll().where('call_id', '=', callId).orderBy('joined_at').execute();
    return rows.map((r) => ({ role: r.role, userId: r.user_id, name: r.name, joinedAt: toDate(r.joined_at), leftAt: r.left_at ? toDate(r.left_at) : null }));
  }

  async addNote(callId: string, note: { authorId: string; body: string; disposition: string | null }): Promise<CallNote> {
    const row = { id: randomUUID(), call_id: callId, author_id: note.authorId, body: note.body, disposition: note.disposition, created_at: new Date().toISOString() };
    await this.db.insertInto('call_notes').values(row).execute();
    const author = await this.db.selectFrom('users').select('name').where('id', '=', note.authorId).executeTakeFirst();
    return { id: row.id, authorId: row.author_id, authorName: author?.name ?? null, body: row.body, disposition: row.disposition, createdAt: toDate(row.created_at) };
  }

  async notes(callId: string): Promise<CallNote[]> {
    const rows = await this.db
      .selectFrom('call_notes')
      .leftJoin('users', 'users.id', 'call_notes.author_id')
      .select(['call_notes.id', 'call_notes.author_id', 'users.name as author_name', 'call_notes.body', 'call_notes.disposition', 'call_notes.created_at'])
      .where('call_notes.call_id', '=', callId)
      .orderBy('call_notes.created_at')
      .execute();
    return rows.map((r) => ({ id: r.id, authorId: r.author_id, authorName: r.author_name, body: r.body, disposition: r.disposition, createdAt: toDate(r.created_at) }));
  }

  /** Newest first. `from`/`to` bound the creation time (to is exclusive). */
  async history(filter: HistoryFilter): Promise<{ calls: CallRecord[]; total: number }> {
    let q = this.db.selectFrom('calls');
    if (filter.from) q = q.where('created_at', '>=', filter.from.toISOString());
    if (filter.to) q = q.where('created_at', '<', filter.to.toISOString());
    if (filter.agentId) q = q.where('agent_id', '=', filter.agentId);
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.channel) q = q.where('channel', '=', filter.channel);
    const [rows, count] = await Promise.all([
      q.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(filter.limit).offset(filter.offset).execute(),
      q.select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { calls: rows.map(toCallRecord), total: Number(count.n) };
  }

  /** Agent names by id, for views. */
  async userNames(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.selectFrom('users').select(['id', 'name']).where('id', 'in', ids).execute();
    return new Map(rows.map((r) => [r.id, r.name]));
  }
}
