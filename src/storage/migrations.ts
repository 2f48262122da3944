/**
 * Schema migrations, run on every start (already-applied ones are skipped by Kysely's
 * migration table). Add a new entry for each change; never edit an applied one.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Logger } from '../log/logger.js';

type Dialect = 'sqlite' | 'postgres';

function timestampType(dialect: Dialect) {
  return dialect === 'postgres' ? sql`timestamptz` : sql`text`;
}

function migrations(dialect: Dialect): Record<string, Migration> {
  const ts = timestampType(dialect);
  return {
    '0001_users_and_sessions': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('users')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('email', 'text', (c) => c.notNull().unique())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('created_at', ts, (c) => c.notNull())
          .addColumn('updated_at', ts, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('auth_sessions')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('created_at', ts, (c) => c.notNull())
          .addColumn('expires_at', ts, (c) => c.notNull())
          .addColumn('revoked_at', ts)
          .execute();
        await db.schema.createIndex('auth_sessions_user_idx').on('auth_sessions').column('user_id').execute();
      },
    },
    '0002_calls': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('calls')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('session_id', 'text', (c) => c.notNull().unique())
          .addColumn('caller_number', 'text', (c) => c.notNull())
          .addColumn('receiver_number', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('failure_cause', 'text')
          .addColumn('created_at', ts, (c) => c.notNull())
          .addColumn('updated_at', ts, (c) => c.notNull())
          .addColumn('connected_at', ts)
          .addColumn('ended_at', ts)
          .execute();
        await db.schema.createIndex('calls_status_idx').on('calls').column('status').execute();
        await db.schema
          .createTable('call_transitions')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('call_id', 'text', (c) => c.notNull().references('calls.id').onDelete('cascade'))
          .addColumn('from_status', 'text')
          .addColumn('to_status', 'text', (c) => c.notNull())
          .addColumn('cause', 'text', (c) => c.notNull())
          .addColumn('at', ts, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('call_transitions_call_idx').on('call_transitions').columns(['call_id', 'at']).execute();
      },
    },
    '0003_consultations_and_webhooks': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('entry_points')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('created_at', ts, (c) => c.notNull())
          .addColumn('expires_at', ts, (c) => c.notNull())
          .addColumn('disabled_at', ts)
          .execute();
        // A consultation is a call with a customer, an entry point and an agent; calls made
        // through seed 001's API keep these empty (channel 'api').
        for (const [name, type] of [
          ['channel', 'text'],
          ['entry_point_id', 'text'],
          ['customer_name', 'text'],
          ['inquiry', 'text'],
          ['recording_consent', 'integer'],
          ['agent_id', 'text'],
          ['room_id', 'text'],
          ['disposition', 'text'],
        ] as const) {
          await db.schema.alterTable('calls').addColumn(name, type).execute();
        }
        await db.schema.alterTable('calls').addColumn('answered_at', ts).execute();
        await db.schema.createIndex('calls_created_idx').on('calls').column('created_at').execute();
        await db.schema.createIndex('calls_agent_idx').on('calls').column('agent_id').execute();
        await db.schema
          .createTable('call_events')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('call_id', 'text', (c) => c.notNull().references('calls.id').onDelete('cascade'))
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('actor_id', 'text')
          .addColumn('detail', 'text')
          .addColumn('at', ts, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('call_events_call_idx').on('call_events').columns(['call_id', 'at']).execute();
        await db.schema
          .createTable('call_participants')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('call_id', 'text', (c) => c.notNull().references('calls.id').onDelete('cascade'))
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text')
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('joined_at', ts, (c) => c.notNull())
          .addColumn('left_at', ts)
          .execute();
        await db.schema.createIndex('call_participants_call_idx').on('call_participants').column('call_id').execute();
        await db.schema
          .createTable('call_notes')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('call_id', 'text', (c) => c.notNull().references('calls.id').onDelete('cascade'))
          .addColumn('author_id', 'text', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('disposition', 'text')
          .addColumn('created_at', ts, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('call_notes_call_idx').on('call_notes').column('call_id').execute();
        await db.schema
          .createTable('webhook_endpoints')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('url', 'text', (c) => c.notNull())
          .addColumn('secret', 'text', (c) => c.notNull())
          .addColumn('events', 'text', (c) => c.notNull())
          .addColumn('description', 'text')
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('created_at', ts, (c) => c.notNull())
          .addColumn('disabled_at', ts)
          .execute();
        await db.schema
          .createTable('webhook_deliveries')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('endpoint_id', 'text', (c) => c.notNull().references('webhook_endpoints.id').onDelete('cascade'))
          .addColumn('event_id', 'text', (c) => c.notNull())
          .addColumn('event_type', 'text', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('next_attempt_at', ts)
          .addColumn('last_status_code', 'integer')
          .addColumn('last_error', 'text')
          .addColumn('created_at', ts, (c) => c.notNull())
          .addColumn('updated_at', ts, (c) => c.notNull())
          .addColumn('delivered_at', ts)
          .execute();
        await db.schema.createIndex('webhook_deliveries_due_idx').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
        await db.schema.createIndex('webhook_deliveries_endpoint_idx').on('webhook_deliveries').columns(['endpoint_id', 'created_at']).execute();
      },
    },
    // The first admin of an install is created once: its account claims the one row this table
    // can hold (slot = 1, primary key), in the same transaction that inserts the account, so
    // concurrent first sign-ups cannot all become admin. An install that already has accounts
    // has had its first admin.
    '0004_first_admin': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('first_admin')
          .addColumn('slot', 'integer', (c) => c.primaryKey().check(sql`slot = 1`))
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('claimed_at', ts, (c) => c.notNull())
          .execute();
        await sql`INSERT INTO first_admin (slot, user_id, claimed_at)
          SELECT 1, id, created_at FROM users ORDER BY CASE WHEN role = 'admin' THEN 0 ELSE 1 END, created_at LIMIT 1`.execute(db);
      },
    },
    '0005_storage_probe_and_retention_indexes': {
      async up(db: Kysely<unknown>) {
        // One row that /health rewrites while writes are failing, to see when they work again.
        await db.schema.createTable('storage_probe').addColumn('id', 'integer', (c) => c.primaryKey()).addColumn('checked_at', 'text').execute();
        await sql`INSERT INTO storage_probe (id, checked_at) VALUES (1, NULL)`.execute(db);
        // The retention pruner looks for ended calls and finished deliveries by age.
        await db.schema.createIndex('calls_status_updated_idx').on('calls').columns(['status', 'updated_at']).execute();
        await db.schema.createIndex('webhook_deliveries_status_updated_idx').on('webhook_deliveries').columns(['status', 'updated_at']).execute();
      },
    },
    '0006_consultation_callback_requests': {
      // A customer who finds no agent online may leave a number to be called back on.
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('calls').addColumn('callback_phone', 'text').execute();
        await db.schema.alterTable('calls').addColumn('callback_requested_at', ts).execute();
      },
    },
    // Transcripts: one row per final utterance, masked text only. Searching Korean needs
    // n-grams: SQLite gets an FTS5 trigram index; PostgreSQL a pg_trgm index when the
    // extension is there or can be created (ILIKE works without it, only slower).
    '0008_transcripts': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('transcripts')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('call_id', 'text')
          .addColumn('room_id', 'text', (c) => c.notNull())
          .addColumn('utterance_id', 'text', (c) => c.notNull())
          .addColumn('peer_id', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('start_ms', 'integer', (c) => c.notNull())
          .addColumn('end_ms', 'integer', (c) => c.notNull())
          .addColumn('text', 'text', (c) => c.notNull())
          .addColumn('spans', 'text', (c) => c.notNull())
          .addColumn('language', 'text')
          .addColumn('engine', 'text', (c) => c.notNull())
          .addColumn('confidence', dialect === 'postgres' ? 'double precision' : 'real')
          .addColumn('created_at', ts, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('transcripts_call_idx').on('transcripts').columns(['call_id', 'start_ms']).execute();
        await db.schema.createIndex('transcripts_room_idx').on('transcripts').columns(['room_id', 'start_ms']).execute();
        if (dialect === 'sqlite') {
          await sql`CREATE VIRTUAL TABLE transcripts_fts USING fts5(text, transcript_id UNINDEXED, tokenize = 'trigram')`.execute(db);
          // The index follows the table, whoever writes or prunes it.
          await sql`CREATE TRIGGER transcripts_fts_insert AFTER INSERT ON transcripts BEGIN INSERT INTO transcripts_fts (text, transcript_id) VALUES (new.text, new.id); END`.execute(db);
          await sql`CREATE TRIGGER transcripts_fts_delete AFTER DELETE ON transcripts BEGIN DELETE FROM transcripts_fts WHERE transcript_id = old.id; END`.execute(db);
          return;
        }
        const found = await sql<{ schema: string }>`SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'`.execute(db);
        let schema = found.rows[0]?.schema;
        if (!schema) {
          const su = await sql<{ ok: boolean }>`SELECT rolsuper AS ok FROM pg_roles WHERE rolname = current_user`.execute(db);
          const available = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_available_extensions WHERE name = 'pg_trgm'`.execute(db);
          if (su.rows[0]?.ok && (available.rows[0]?.n ?? 0) > 0) {
            await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public`.execute(db);
            schema = 'public';
          }
        }
        if (schema) await sql`CREATE INDEX transcripts_text_trgm_idx ON transcripts USING gin (text ${sql.raw(`"${schema.replaceAll('"', '""')}".gin_trgm_ops`)})`.execute(db);
      },
    },
    '0009_recordings': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('recordings')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull().unique())
          .addColumn('room_name', 'text', (c) => c.notNull())
          .addColumn('room_id', 'text', (c) => c.notNull())
          .addColumn('call_id', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('failure', 'text')
          .addColumn('started_at', 'bigint', (c) => c.notNull())
          .addColumn('stopped_at', 'bigint')
          .addColumn('duration_ms', 'bigint')
          .addColumn('size', 'bigint', (c) => c.notNull())
          .addColumn('tracks', 'text', (c) => c.notNull())
          .addColumn('started_by', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('recordings_room_idx').on('recordings').columns(['room_name', 'started_at']).execute();
        await db.schema.createIndex('recordings_call_idx').on('recordings').column('call_id').execute();
        // Where each masked word was said (ms on the room's clock): what a recording bleeps.
        await db.schema.alterTable('transcripts').addColumn('media_spans', 'text').execute();
      },
    },
    // AI agent turns (issue 11): one row per caller message and the bot's reply, with sentiment and latencies.
    '0010_agent_turns': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('agent_turns')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('call_id', 'text', (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('user_message', 'text', (c) => c.notNull())
          .addColumn('ai_response', 'text', (c) => c.notNull())
          .addColumn('language', 'text', (c) => c.notNull())
          .addColumn('sentiment', 'text', (c) => c.notNull())
          .addColumn('sentiment_score', dialect === 'postgres' ? 'double precision' : 'real', (c) => c.notNull())
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('engine', 'text', (c) => c.notNull())
          .addColumn('metrics', 'text', (c) => c.notNull())
          .addColumn('created_at', ts, (c) => c.notNull())
          .addUniqueConstraint('agent_turns_call_seq_unique', ['call_id', 'seq'])
          .execute();
      },
    },
    // Several nodes on one database: each node's heartbeat, and the node hosting a call's
    // media, so a node that starts (or notices another gone) fails only the calls it must.
    '0011_nodes': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('nodes')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('started_at', ts, (c) => c.notNull())
          .addColumn('heartbeat_at', ts, (c) => c.notNull())
          // heartbeat_at + the node's own NODE_TTL_MS: nodes need not agree on their settings.
          .addColumn('expires_at', ts, (c) => c.notNull())
          .addColumn('stopped_at', ts)
          .execute();
        await db.schema.alterTable('calls').addColumn('node_id', 'text').execute();
        await db.schema.createIndex('calls_node_status_idx').on('calls').columns(['node_id', 'status']).execute();
      },
    },
    '0012_entry_point_captions': {
      // Captions per entry point (issue 10 §4): inherit (the server's default), on or off.
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('entry_points').addColumn('captions', 'text', (c) => c.notNull().defaultTo('inherit')).execute();
      },
    },
    '0013_ai_routing': {
      // AI voice agent (issue 11): who answers an entry point's calls (human | ai_first | ai_overflow), after how
      // long the bot takes an unanswered call, the bot's system prompt; and each AI conversation's outcome.
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('entry_points').addColumn('routing', 'text', (c) => c.notNull().defaultTo('human')).execute();
        await db.schema.alterTable('entry_points').addColumn('overflow_after_seconds', 'integer', (c) => c.notNull().defaultTo(30)).execute();
        await db.schema.alterTable('entry_points').addColumn('system_prompt', 'text').execute();
        await db.schema.alterTable('calls').addColumn('ai_outcome', 'text').execute();
      },
    },
    '0014_entry_point_recording': {
      // Recording per entry point (issue 12): inherit (RECORD_CONSULTATIONS), on or off; consent is still required.
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('entry_points').addColumn('recording', 'text', (c) => c.notNull().defaultTo('inherit')).execute();
      },
    },
  };
}

/** Every migration's name, in the order they apply. */
export function migrationNames(): string[] {
  return Object.keys(migrations('sqlite')).sort();
}

class InlineMigrationProvider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations(this.dialect);
  }
}

/**
 * `schema`: the PostgreSQL schema the tables live in. Kysely looks for its migration tables
 * in every schema unless told which one, so another schema's tables (another Parley, or a
 * test running alongside) would be taken for this one's.
 */
export async function migrateToLatest<DB>(db: Kysely<DB>, dialect: Dialect, logger: Logger, schema?: string): Promise<void> {
  const migrator = new Migrator({ db, provider: new InlineMigrationProvider(dialect), ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  for (const r of results ?? []) {
    if (r.status === 'Success') logger.info({ migration: r.migrationName }, 'migration applied');
    else if (r.status === 'Error') logger.error({ migration: r.migrationName }, 'migration failed');
  }
  if (error) throw error instanceof Error ? error : new Error(String(error));
}
