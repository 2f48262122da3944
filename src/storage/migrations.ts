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
  };
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
