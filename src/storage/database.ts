/**
 * One data-access layer for both engines: an embedded SQLite file (the default) or
 * PostgreSQL (`DATABASE_URL`). Kysely gives the same typed query builder over both.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { migrateToLatest } from './migrations.js';
import type { Logger } from '../log/logger.js';

export type StorageOptions =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string; /** Optional schema to place tables in (tests use one per run). */ schema?: string };

export interface Storage {
  db: Kysely<Database>;
  kind: StorageOptions['kind'];
  /** Cheap round trip used by /health. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function openStorage(options: StorageOptions, logger: Logger): Promise<Storage> {
  let db: Kysely<Database>;
  if (options.kind === 'sqlite') {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    const sqlite = new SQLite(options.path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  } else {
    const schema = options.schema;
    const pool = new pg.Pool({
      connectionString: options.url,
      max: 10,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    if (schema) {
      if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid PostgreSQL schema name "${schema}"`);
      const client = await pool.connect().catch((err: Error) => {
        throw new Error(`cannot reach PostgreSQL at DATABASE_URL (${err.message}); check that the server runs and the URL is right`);
      });
      try {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      } finally {
        client.release();
      }
    }
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }

  try {
    await migrateToLatest(db, options.kind, logger, options.kind === 'postgres' ? options.schema : undefined);
  } catch (err) {
    await db.destroy();
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`storage (${options.kind}) could not be prepared: ${reason}`);
  }

  return {
    db,
    kind: options.kind,
    async ping() {
      await db.selectFrom('users').select('id').limit(1).execute();
    },
    async close() {
      await db.destroy();
    },
  };
}
