/**
 * One data-access layer for both engines: an embedded SQLite file (the default) or
 * PostgreSQL (`DATABASE_URL`). Kysely gives the same typed query builder over both.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase } from 'kysely';
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

/** Distinct SQL texts kept compiled (queries with IN lists of many lengths are the only churn). */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely's SQLite driver prepares every query anew, and compiling is the larger part of a
 * small query's cost in better-sqlite3 (12 % of the server's CPU in bench:consult). Statements
 * are reused by SQL text; the driver runs one query at a time on its one connection, so a
 * reused statement is never in use twice. SQLite recompiles a statement itself after a
 * schema change.
 */
function reusingStatements(sqlite: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (stmt) {
        // Most recently used last, so the oldest is evicted first.
        cache.delete(sql);
      } else {
        stmt = sqlite.prepare(sql);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, stmt);
      return stmt;
    },
  };
}

export async function openStorage(options: StorageOptions, logger: Logger): Promise<Storage> {
  let db: Kysely<Database>;
  if (options.kind === 'sqlite') {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    const sqlite = new SQLite(options.path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: reusingStatements(sqlite) }) });
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
