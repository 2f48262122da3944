/** Recordings' metadata on SQLite or PostgreSQL (migration 0009). */
import type { Kysely } from 'kysely';
import type { Recording, RecordingFilter, RecordingStatus, RecordingStore, RecordingTrack } from '../domain/recordings/recording.js';
import type { Database, RecordingsTable } from './schema.js';

function toRecording(r: RecordingsTable): Recording {
  return {
    id: r.id,
    name: r.name,
    roomName: r.room_name,
    roomId: r.room_id,
    consultationId: r.call_id,
    status: r.status as RecordingStatus,
    failure: r.failure,
    startedAt: Number(r.started_at),
    stoppedAt: r.stopped_at === null ? null : Number(r.stopped_at),
    durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
    size: Number(r.size),
    tracks: JSON.parse(r.tracks) as RecordingTrack[],
    startedBy: r.started_by,
  };
}

export class RecordingRepository implements RecordingStore {
  constructor(private readonly db: Kysely<Database>) {}

  async add(r: Recording): Promise<void> {
    await this.db
      .insertInto('recordings')
      .values({
        id: r.id,
        name: r.name,
        room_name: r.roomName,
        room_id: r.roomId,
        call_id: r.consultationId,
        status: r.status,
        failure: r.failure,
        started_at: r.startedAt,
        stopped_at: r.stoppedAt,
        duration_ms: r.durationMs,
        size: r.size,
        tracks: JSON.stringify(r.tracks),
        started_by: r.startedBy,
      })
      .execute();
  }

  async update(id: string, patch: Partial<Omit<Recording, 'id' | 'name'>>): Promise<void> {
    const set: Partial<RecordingsTable> = {};
    if (patch.status !== undefined) set.status = patch.status;
    if (patch.failure !== undefined) set.failure = patch.failure;
    if (patch.stoppedAt !== undefined) set.stopped_at = patch.stoppedAt;
    if (patch.durationMs !== undefined) set.duration_ms = patch.durationMs;
    if (patch.size !== undefined) set.size = patch.size;
    if (patch.tracks !== undefined) set.tracks = JSON.stringify(patch.tracks);
    if (Object.keys(set).length === 0) return;
    await this.db.updateTable('recordings').set(set).where('id', '=', id).execute();
  }

  async byName(name: string): Promise<Recording | undefined> {
    const row = await this.db.selectFrom('recordings').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? toRecording(row) : undefined;
  }

  async list(f: RecordingFilter): Promise<Recording[]> {
    let q = this.db.selectFrom('recordings').selectAll();
    if (f.roomName !== undefined) q = q.where('room_name', '=', f.roomName);
    if (f.roomId !== undefined) q = q.where('room_id', '=', f.roomId);
    if (f.openRoomsOnly) q = q.where('call_id', 'is', null);
    if (f.consultationIds !== undefined) {
      if (f.consultationIds.length === 0) return [];
      q = q.where('call_id', 'in', f.consultationIds);
    }
    return (await q.orderBy('started_at', 'desc').limit(1000).execute()).map(toRecording);
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom('recordings').where('id', '=', id).execute();
  }

  async endedBefore(cutoffMs: number): Promise<Recording[]> {
    const rows = await this.db.selectFrom('recordings').selectAll().where('status', 'in', ['ready', 'failed']).where('stopped_at', '<', cutoffMs).execute();
    return rows.map(toRecording);
  }

  /** Consultations an agent answered (an agent lists only theirs). */
  async consultationsAnsweredBy(agentId: string): Promise<string[]> {
    return (await this.db.selectFrom('calls').select('id').where('agent_id', '=', agentId).where('channel', '=', 'consultation').execute()).map((r) => r.id);
  }

  async unfinished(): Promise<Recording[]> {
    return (await this.db.selectFrom('recordings').selectAll().where('status', 'in', ['recording', 'finalizing']).execute()).map(toRecording);
  }
}
