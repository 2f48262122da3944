/**
 * Table shapes as Kysely sees them. Timestamps are written as ISO-8601 strings and read
 * back through `toDate`, because SQLite stores TEXT and PostgreSQL returns `Date` for
 * `timestamptz`.
 */
import type { Generated } from 'kysely';

export type Role = 'customer' | 'agent' | 'admin';
/** 'pending': signed itself up and waits for an admin's approval (cannot sign in). */
export type UserStatus = 'active' | 'pending' | 'disabled' | 'withdrawn';

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

/** At most one row: who became the install's first admin (see migration 0004). */
export interface FirstAdminTable {
  slot: number;
  user_id: string;
  claimed_at: string | Date;
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
  /** 'consultation' (customer from an entry point, routed to an agent) or 'api' (seed 001); null on rows older than 0003. */
  channel: 'consultation' | 'api' | null;
  entry_point_id: string | null;
  customer_name: string | null;
  inquiry: string | null;
  /** 1 when the customer consented to recording (SQLite has no boolean). */
  recording_consent: number | null;
  agent_id: string | null;
  room_id: string | null;
  disposition: string | null;
  answered_at: string | Date | null;
  /** The number a customer asked to be called back on (no agent was online), and when (0006). */
  callback_phone?: string | null;
  callback_requested_at?: string | Date | null;
  /** The node hosting the call's media (0011); null on older rows. */
  node_id?: string | null;
  /** An AI conversation's outcome (0013): resolved_by_bot | transferred | abandoned; null when no bot took part. */
  ai_outcome?: string | null;
}

/** One row per node that shares this database (0011): its heartbeat, and when it stopped cleanly. */
export interface NodesTable {
  id: string;
  started_at: string | Date;
  heartbeat_at: string | Date;
  /** heartbeat_at + that node's NODE_TTL_MS: past it, the node is taken for gone. */
  expires_at: string | Date;
  stopped_at: string | Date | null;
}

export interface EntryPointsTable {
  id: string;
  name: string;
  created_by: string;
  created_at: string | Date;
  expires_at: string | Date;
  disabled_at: string | Date | null;
  /** 'inherit' | 'on' | 'off' (migration 0012). */
  captions: string;
  /** 'inherit' | 'on' | 'off' (migration 0014): whether its consented consultations are recorded. */
  recording: string;
  /** 'human' | 'ai_first' | 'ai_overflow' (migration 0013). */
  routing: string;
  overflow_after_seconds: number;
  system_prompt: string | null;
}

export interface CallEventsTable {
  id: string;
  call_id: string;
  type: string;
  actor_id: string | null;
  /** JSON text. */
  detail: string | null;
  at: string | Date;
}

export interface CallParticipantsTable {
  id: string;
  call_id: string;
  role: 'customer' | 'agent' | 'bot';
  user_id: string | null;
  name: string;
  joined_at: string | Date;
  left_at: string | Date | null;
}

export interface CallNotesTable {
  id: string;
  call_id: string;
  author_id: string;
  body: string;
  disposition: string | null;
  created_at: string | Date;
}

export interface WebhookEndpointsTable {
  id: string;
  url: string;
  secret: string;
  /** JSON array of event types, or ["*"]. */
  events: string;
  description: string | null;
  created_by: string;
  created_at: string | Date;
  disabled_at: string | Date | null;
}

export interface WebhookDeliveriesTable {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  /** The exact JSON body POSTed (the signature covers these bytes). */
  payload: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: string | Date | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string | Date;
  updated_at: string | Date;
  delivered_at: string | Date | null;
}

export interface CallTransitionsTable {
  id: string;
  call_id: string;
  from_status: string | null;
  to_status: string;
  cause: string;
  at: string | Date;
}

/** One final utterance of a call or room (masked text only). */
export interface TranscriptsTable {
  id: string;
  call_id: string | null;
  room_id: string;
  utterance_id: string;
  peer_id: string;
  user_id: string;
  role: string;
  name: string;
  start_ms: number;
  end_ms: number;
  text: string;
  spans: string;
  language: string | null;
  engine: string;
  confidence: number | null;
  created_at: string | Date;
  /** JSON: the masked words' media times (migration 0009); null before it. */
  media_spans?: string | null;
}

export interface AgentTurnsTable {
  id: string;
  call_id: string;
  seq: number;
  user_message: string;
  ai_response: string;
  language: string;
  sentiment: string;
  sentiment_score: number;
  outcome: string;
  engine: string;
  /** JSON of TurnMetrics. */
  metrics: string;
  created_at: string | Date;
}

/** SQLite only: the trigram full-text index of transcripts (FTS5). */
export interface TranscriptsFtsTable {
  text: string;
  transcript_id: string;
}

/** One recording of a room (migration 0009); times are Unix ms (seed 004's `startedAt`). */
export interface RecordingsTable {
  id: string;
  name: string;
  room_name: string;
  room_id: string;
  call_id: string | null;
  status: string;
  failure: string | null;
  started_at: number;
  stopped_at: number | null;
  duration_ms: number | null;
  size: number;
  /** JSON: RecordingTrack[]. */
  tracks: string;
  started_by: string;
}

export interface Database {
  users: UsersTable;
  first_admin: FirstAdminTable;
  auth_sessions: AuthSessionsTable;
  calls: CallsTable;
  call_transitions: CallTransitionsTable;
  entry_points: EntryPointsTable;
  call_events: CallEventsTable;
  call_participants: CallParticipantsTable;
  call_notes: CallNotesTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  transcripts: TranscriptsTable;
  transcripts_fts: TranscriptsFtsTable;
  recordings: RecordingsTable;
  agent_turns: AgentTurnsTable;
  nodes: NodesTable;
}

/** Marker so `Generated` stays importable for later tables with database-side defaults. */
export type { Generated };

export function toDate(value: string | Date): Date {
  return value instanceof Date ? value : new Date(value);
}
