/** Transcripts on SQLite (FTS5 trigram search) and PostgreSQL (ILIKE, pg_trgm-indexed when available). */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { MaskedSpan, NewUtterance, SpeakerRole, TranscriptSearch, TranscriptStore, Utterance } from '../domain/transcripts/transcript.js';
import { toDate, type Database, type TranscriptsTable } from './schema.js';

function toUtterance(r: TranscriptsTable): Utterance {
  return {
    id: r.id,
    roomId: r.room_id,
    consultationId: r.call_id,
    utteranceId: r.utterance_id,
    peerId: r.peer_id,
    userId: r.user_id,
    role: r.role as SpeakerRole,
    name: r.name,
    startMs: Number(r.start_ms),
    endMs: Number(r.end_ms),
    text: r.text,
    spans: JSON.parse(r.spans) as MaskedSpan[],
    ...(r.media_spans ? { mediaSpans: JSON.parse(r.media_spans) as Array<{ startMs: number; endMs: number }> } : {}),
    language: r.language,
    engine: r.engine,
    confidence: r.confidence === null ? null : Number(r.confidence),
    createdAt: toDate(r.created_at),
  };
}

/** `%`, `_` and `\` taken literally in a LIKE pattern. */
function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export class TranscriptRepository implements TranscriptStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: 'sqlite' | 'postgres',
  ) {}

  async add(u: NewUtterance): Promise<Utterance> {
    const row: TranscriptsTable = {
      id: randomUUID(),
      call_id: u.consultationId,
      room_id: u.roomId,
      utterance_id: u.utteranceId,
      peer_id: u.peerId,
      user_id: u.userId,
      role: u.role,
      name: u.name,
      start_ms: Math.round(u.startMs),
      end_ms: Math.round(u.endMs),
      text: u.text,
      spans: JSON.stringify(u.spans),
      media_spans: u.mediaSpans ? JSON.stringify(u.mediaSpans) : null,
      language: u.language,
      engine: u.engine,
      confidence: u.confidence,
      created_at: new Date().toISOString(),
    };
    // On SQLite a trigger adds the row to the trigram index (migration 0008).
    await this.db.insertInto('transcripts').values(row).execute();
    return toUtterance(row);
  }

  async forConsultation(consultationId: string): Promise<Utterance[]> {
    const rows = await this.db.selectFrom('transcripts').selectAll().where('call_id', '=', consultationId).orderBy('start_ms').orderBy('end_ms').execute();
    return rows.map(toUtterance);
  }

  async forRoom(roomId: string): Promise<Utterance[]> {
    const rows = await this.db.selectFrom('transcripts').selectAll().where('room_id', '=', roomId).orderBy('start_ms').orderBy('end_ms').execute();
    return rows.map(toUtterance);
  }

  async search(q: TranscriptSearch): Promise<{ hits: Utterance[]; total: number }> {
    let base = this.db.selectFrom('transcripts');
    if (this.dialect === 'sqlite' && [...q.query].length >= 3) {
      // Trigram FTS: the query as one phrase (quotes doubled), so its characters match in order.
      const phrase = `"${q.query.replaceAll('"', '""')}"`;
      base = base.where('id', 'in', this.db.selectFrom('transcripts_fts').select('transcript_id').where(sql<boolean>`transcripts_fts MATCH ${phrase}`));
    } else {
      // Shorter than a trigram (two Korean syllables, say) or PostgreSQL: a substring match.
      base = base.where(sql<boolean>`${sql.ref('text')} ${sql.raw(this.dialect === 'postgres' ? 'ILIKE' : 'LIKE')} ${likePattern(q.query)} ESCAPE '\\'`);
    }
    if (q.agentId !== undefined) base = base.where('call_id', 'in', this.db.selectFrom('calls').select('id').where('agent_id', '=', q.agentId));
    const [rows, count] = await Promise.all([
      base.selectAll().orderBy('created_at', 'desc').orderBy('start_ms').limit(q.limit).offset(q.offset).execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst(),
    ]);
    return { hits: rows.map(toUtterance), total: Number(count?.n ?? 0) };
  }
}
