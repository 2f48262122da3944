/** Consultation entry points: what a QR code leads to (a name, who made it, until when it works, whether its calls are captioned). */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { captionsSettings, type CaptionsSetting } from '../domain/consultations/captionsSetting.js';
import { recordingSettings, type RecordingSetting } from '../domain/consultations/recordingSetting.js';
import { entryPointRoutings, type EntryPointAiSettings, type EntryPointRouting } from '../domain/consultations/routingSetting.js';
import { toDate, type Database, type EntryPointsTable } from './schema.js';

export interface EntryPoint {
  id: string;
  name: string;
  createdBy: string;
  createdAt: Date;
  expiresAt: Date;
  disabledAt: Date | null;
  /** Whether its consultations are captioned: `inherit` follows the server's default. */
  captions: CaptionsSetting;
  /** Whether its consented consultations are recorded: `inherit` follows RECORD_CONSULTATIONS. */
  recording: RecordingSetting;
  /** Who answers its calls: the human queue, the AI assistant first, or the assistant when no agent answers in time (0013). */
  routing: EntryPointRouting;
  /** ai_overflow: seconds a call waits for an agent before the assistant takes it. */
  overflowAfterSeconds: number;
  /** The assistant's system prompt for this entry point (seed 001's `systemPrompt`); null: the server's default. */
  systemPrompt: string | null;
}


function captionsOf(v: string): CaptionsSetting {
  return (captionsSettings as readonly string[]).includes(v) ? (v as CaptionsSetting) : 'inherit';
}

function recordingOf(v: string | undefined): RecordingSetting {
  return (recordingSettings as readonly string[]).includes(v ?? '') ? (v as RecordingSetting) : 'inherit';
}

function toEntryPoint(r: EntryPointsTable): EntryPoint {
  return {
    id: r.id,
    name: r.name,
    createdBy: r.created_by,
    createdAt: toDate(r.created_at),
    expiresAt: toDate(r.expires_at),
    disabledAt: r.disabled_at ? toDate(r.disabled_at) : null,
    captions: captionsOf(r.captions),
    recording: recordingOf(r.recording),
    routing: (entryPointRoutings as readonly string[]).includes(r.routing) ? (r.routing as EntryPointRouting) : 'human',
    overflowAfterSeconds: Number(r.overflow_after_seconds ?? 30),
    systemPrompt: r.system_prompt ?? null,
  };
}

export class EntryPointRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(input: { name: string; createdBy: string; expiresAt: Date; captions?: CaptionsSetting } & Partial<EntryPointAiSettings>): Promise<EntryPoint> {
    const row: EntryPointsTable = {
      id: randomUUID(),
      name: input.name,
      created_by: input.createdBy,
      created_at: new Date().toISOString(),
      expires_at: input.expiresAt.toISOString(),
      disabled_at: null,
      captions: input.captions ?? 'inherit',
      recording: 'inherit',
      routing: input.routing ?? 'human',
      overflow_after_seconds: input.overflowAfterSeconds ?? 30,
      system_prompt: input.systemPrompt ?? null,
    };
    await this.db.insertInto('entry_points').values(row).execute();
    return toEntryPoint(row);
  }

  async find(id: string): Promise<EntryPoint | undefined> {
    const row = await this.db.selectFrom('entry_points').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toEntryPoint(row) : undefined;
  }

  async list(): Promise<EntryPoint[]> {
    const rows = await this.db.selectFrom('entry_points').selectAll().orderBy('created_at', 'desc').execute();
    return rows.map(toEntryPoint);
  }

  async disable(id: string): Promise<EntryPoint | undefined> {
    await this.db.updateTable('entry_points').set({ disabled_at: new Date().toISOString() }).where('id', '=', id).where('disabled_at', 'is', null).execute();
    return this.find(id);
  }

  async setRecording(id: string, recording: RecordingSetting): Promise<EntryPoint | undefined> {
    await this.db.updateTable('entry_points').set({ recording }).where('id', '=', id).execute();
    return this.find(id);
  }

  async setCaptions(id: string, captions: CaptionsSetting): Promise<EntryPoint | undefined> {
    await this.db.updateTable('entry_points').set({ captions }).where('id', '=', id).execute();
    return this.find(id);
  }

  async setAiSettings(id: string, settings: Partial<EntryPointAiSettings>): Promise<EntryPoint | undefined> {
    const patch: Partial<Pick<EntryPointsTable, 'routing' | 'overflow_after_seconds' | 'system_prompt'>> = {};
    if (settings.routing !== undefined) patch.routing = settings.routing;
    if (settings.overflowAfterSeconds !== undefined) patch.overflow_after_seconds = settings.overflowAfterSeconds;
    if (settings.systemPrompt !== undefined) patch.system_prompt = settings.systemPrompt;
    if (Object.keys(patch).length > 0) await this.db.updateTable('entry_points').set(patch).where('id', '=', id).execute();
    return this.find(id);
  }
}
