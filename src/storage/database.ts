/**
 * One data-access layer for both engines: an embedded SQLite file (the default) or
 * PostgreSQL (`DATABASE_URL`). Kysely gives the same typed query builder over both.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type PostgresPool, type PostgresPoolClient, type SqliteDatabase, type SqliteStatement } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { migrateToLatest } from './migrations.js';
import { StorageUnavailableError, storageFailureKind, type StorageFailureKind } from './storageErrors.js';
import type { Logger } from '../log/logger.js';

export interface PostgresTimeouts {
  /** Opening a connection, or waiting for a free one in the pool. Default 5 s. */
  connectMs: number;
  /** Longest statement (PostgreSQL's statement_timeout); the client gives up 1 s later. Default 15 s. */
  statementMs: number;
}

export const defaultPostgresTimeouts: PostgresTimeouts = { connectMs: 5_000, statementMs: 15_000 };

export type StorageOptions =
  | { kind: 'sqlite'; path: string }
  | {
      kind: 'postgres';
      url: string;
      /** Optional schema to place tables in (tests use one per run). */
      schema?: string;
      timeouts?: PostgresTimeouts;
    };

/** What /health reports about storage. */
export interface StorageHealth {
  /** ok; unreachable (no round trip); failing (reads work, writes do not: disk full, read-only). */
  state: 'ok' | 'unreachable' | 'failing';
  /** The last failure, when not ok: what happened, for the operator. */
  reason?: string;
  /** Idle PostgreSQL connections dropped under the pool (restart, failover, proxy timeout) since start. */
  poolErrors: number;
}

export interface Storage {
  db: Kysely<Database>;
  kind: StorageOptions['kind'];
  /**
   * Bounded round trip used by /health: rejects with a StorageUnavailableError after
   * `timeoutMs`. While writes are failing it also tries one small write, so /health sees
   * the moment space (or write access) returns.
   */
  ping(timeoutMs?: number): Promise<void>;
  health(): StorageHealth;
  close(): Promise<void>;
}

/**
 * Follows the outcome of every statement: a storage failure marks the storage unreachable or
 * failing (logged once per change and at most once every ten seconds, not per statement); the next success of the same sort
 * (any statement for unreachable, a write for failing) marks it ok again.
 */
class HealthTracker {
  state: StorageHealth['state'] = 'ok';
  reason: string | undefined;
  poolErrors = 0;
  private lastFailureLogAt = 0;
  /** Whether the current failure was logged (so its end is logged too). */
  private announced = false;

  constructor(private readonly log: Logger) {}

  failed(err: unknown, kind: StorageFailureKind): void {
    const state = kind === 'unreachable' ? 'unreachable' : 'failing';
    this.reason = err instanceof Error ? err.message : String(err);
    if (this.state === state) return;
    // Unreachable says more than failing; a failing write does not hide an outage.
    if (this.state === 'unreachable' && state === 'failing') return;
    this.state = state;
    // A disk on the edge of full can flip between ok and failing; one line per ten seconds is enough.
    const now = Date.now();
    if (now - this.lastFailureLogAt < 10_000) return;
    this.lastFailureLogAt = now;
    this.announced = true;
    this.log.error(
      { err, storage: state },
      state === 'unreachable'
        ? 'storage unreachable: requests that need it answer 503 until it returns; check that the database runs and the network reaches it'
        : 'storage cannot be written (disk full or read-only): requests that write answer 503 and webhooks wait; free disk space or make the database writable',
    );
  }

  succeeded(kind: StatementKind): void {
    if (this.state === 'ok' || kind === 'control' || (this.state === 'failing' && kind !== 'write')) return;
    if (this.announced) this.log.info({ storage: 'ok', was: this.state }, 'storage works again');
    this.announced = false;
    this.state = 'ok';
    this.reason = undefined;
  }

  observe<T>(statement: StatementKind, run: () => T): T {
    try {
      const value = run();
      this.succeeded(statement);
      return value;
    } catch (err) {
      const kind = storageFailureKind(err);
      if (kind) this.failed(err, kind);
      throw err;
    }
  }

  async observeAsync<T>(statement: StatementKind, run: () => Promise<T>): Promise<T> {
    try {
      const value = await run();
      this.succeeded(statement);
      return value;
    } catch (err) {
      this.report(err);
      throw err;
    }
  }

  /** Notes a statement's failure when it is a storage failure (not an ordinary query error). */
  report(err: unknown): void {
    const kind = storageFailureKind(err);
    if (kind) this.failed(err, kind);
  }
}

/**
 * What a statement's success says about storage: a read proves it is reachable, a write
 * (COMMIT included: that is where SQLite writes the WAL) that it can be written. BEGIN,
 * SAVEPOINT, RELEASE and ROLLBACK prove neither (SQLite's BEGIN succeeds on a full disk), so
 * they leave the state as it is.
 */
type StatementKind = 'read' | 'write' | 'control';
function statementKind(sqlText: string): StatementKind {
  if (/^\s*(begin|savepoint|release|rollback)\b/i.test(sqlText)) return 'control';
  return /^\s*(select|with|pragma)\b/i.test(sqlText) ? 'read' : 'write';
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
function reusingStatements(sqlite: SQLite.Database, health: HealthTracker): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (stmt) {
        // Most recently used last, so the oldest is evicted first.
        cache.delete(sql);
      } else {
        stmt = observed(sqlite, sql, health.observe('control', () => sqlite.prepare(sql)), health);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, stmt);
      return stmt;
    },
  };
}

/**
 * A statement whose every run reports to the health tracker. A ROLLBACK after SQLite has
 * already rolled back by itself (it does on SQLITE_FULL and some I/O errors) is a no-op, so
 * the caller sees the error that mattered rather than "no transaction is active".
 */
function observed(sqlite: SQLite.Database, sqlText: string, stmt: SQLite.Statement, health: HealthTracker): SqliteStatement {
  const write = statementKind(sqlText);
  const rollback = /^\s*rollback\b/i.test(sqlText);
  return {
    reader: stmt.reader,
    all: (parameters) => health.observe(write, () => stmt.all(...parameters)),
    run: (parameters) => (rollback && !sqlite.inTransaction ? { changes: 0, lastInsertRowid: 0 } : health.observe(write, () => stmt.run(...parameters))),
    iterate: (parameters) => health.observe(write, () => stmt.iterate(...parameters)),
  };
}

/**
 * The pg pool as Kysely sees it, with three additions: every query reports to the health
 * tracker; a client whose query failed for want of a connection (timed out, terminated)
 * is destroyed on release instead of going back to the pool, where its next user would
 * queue behind the stuck query; and a connection that died while idle in the pool (a
 * PostgreSQL restart or failover, pg_terminate_backend) and was handed out before the pool
 * heard of it is replaced once, so the request that drew it does not fail for it.
 */
function observedPool(pool: pg.Pool, health: HealthTracker): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      let client = await health.observeAsync('read', () => pool.connect());
      let broken = false;
      let first = true;
      /** Between giving back a dead connection and drawing its replacement (which may fail). */
      let released = false;
      const markBroken = (err: unknown): never => {
        if (storageFailureKind(err) === 'unreachable') broken = true;
        throw err;
      };
      const observed = (text: string, parameters: ReadonlyArray<unknown>) =>
        health.observeAsync(statementKind(text), () => client.query(text, [...parameters])).catch(markBroken);
      const query = async (text: string, parameters: ReadonlyArray<unknown>) => {
        if (first) {
          first = false;
          const kind = statementKind(text);
          try {
            const result = await client.query(text, [...parameters]);
            health.succeeded(kind);
            return result;
          } catch (err) {
            if (!diedWhileIdle(err, kind)) {
              health.report(err);
              return markBroken(err);
            }
            health.poolErrors += 1;
            client.release(true);
            released = true;
            client = await health.observeAsync('read', () => pool.connect());
            released = false;
          }
        }
        return observed(text, parameters);
      };
      return {
        // Kysely streams through cursors only when given one (Parley never does), so only the text form is needed.
        query: query as unknown as PostgresPoolClient['query'],
        release: (destroy?: boolean) => {
          if (!released) client.release(destroy || broken);
        },
      };
    },
    end: () => pool.end(),
  };
}

/**
 * Whether the first statement on a checked-out connection failed because that connection's
 * session was already over, so that the statement surely did not take effect and can run on
 * another connection: the server said it ended the session (57P01 terminated by an
 * administrator, 57P02 crash, 57P03 starting up), or the client knew the connection broken
 * before sending. A bare socket close leaves a write's outcome unknown, so only reads and
 * transaction control are run again then.
 */
function diedWhileIdle(err: unknown, kind: StatementKind): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as Error & { code?: unknown }).code;
  if (typeof code === 'string' && /^57P0[123]$/.test(code)) return true;
  if (err.message.includes('not queryable')) return true;
  const socketClosed = err.message.includes('Connection terminated unexpectedly') || code === 'ECONNRESET' || code === 'EPIPE';
  return socketClosed && kind !== 'write';
}

/** Rejects with a StorageUnavailableError when `work` takes longer than `ms`. */
async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StorageUnavailableError('unreachable', `${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function openStorage(options: StorageOptions, logger: Logger): Promise<Storage> {
  const health = new HealthTracker(logger);
  let db: Kysely<Database>;
  let pool: pg.Pool | undefined;
  if (options.kind === 'sqlite') {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    const sqlite = new SQLite(options.path);
    try {
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('foreign_keys = ON');
      sqlite.pragma('busy_timeout = 5000');
    } catch (err) {
      sqlite.close();
      throw sqliteOpenError(options.path, err);
    }
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: reusingStatements(sqlite, health) }) });
  } else {
    const schema = options.schema;
    if (schema && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid PostgreSQL schema name "${schema}"`);
    const timeouts = options.timeouts ?? defaultPostgresTimeouts;
    pool = new pg.Pool({
      connectionString: options.url,
      max: 10,
      // pg_stat_activity shows it; an application_name in DATABASE_URL takes precedence.
      application_name: 'parley',
      connectionTimeoutMillis: timeouts.connectMs,
      // The server cancels a long statement; the client timer catches the case where the
      // server cannot be heard at all (a partition), where statement_timeout never fires.
      statement_timeout: timeouts.statementMs,
      query_timeout: timeouts.statementMs + 1_000,
      keepAlive: true,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    // Without a listener, one idle connection dropped by the server (restart, failover,
    // pg_terminate_backend, a proxy's idle timeout) is an uncaught 'error' that ends the
    // process and every call in it. The pool has already removed that client.
    pool.on('error', (err) => {
      health.poolErrors += 1;
      logger.warn({ err, poolErrors: health.poolErrors }, 'an idle PostgreSQL connection was dropped; the pool opens a new one when needed');
    });
    if (schema) {
      const client = await pool.connect().catch(async (err: Error) => {
        await pool?.end().catch(() => undefined);
        throw new Error(`cannot reach PostgreSQL at DATABASE_URL (${err.message}); check that the server runs and the URL is right`);
      });
      try {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      } finally {
        client.release();
      }
    }
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: observedPool(pool, health) }) });
  }

  try {
    await migrateToLatest(db, options.kind, logger, options.kind === 'postgres' ? options.schema : undefined);
  } catch (err) {
    await db.destroy().catch(() => undefined);
    if (options.kind === 'sqlite') throw sqliteOpenError(options.path, err);
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`storage (${options.kind}) could not be prepared: ${reason}`);
  }

  // Fail now, with advice, rather than serve from a database that cannot be written
  // (a read-only file or mount, a full disk, a read-only PostgreSQL standby).
  try {
    await writeProbe(db);
  } catch (err) {
    await db.destroy().catch(() => undefined);
    if (options.kind === 'sqlite') throw sqliteOpenError(options.path, err);
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`PostgreSQL at DATABASE_URL cannot be written (${reason}); point DATABASE_URL at the primary, writable server`);
  }

  let lastWriteProbe = 0;
  return {
    db,
    kind: options.kind,
    async ping(timeoutMs = 800) {
      await within(timeoutMs, 'the storage round trip', db.selectFrom('users').select('id').limit(1).execute()).catch((err: unknown) => {
        if (err instanceof StorageUnavailableError) health.failed(err, err.kind);
        throw err;
      });
      // While writes fail, try one (at most once a second) so recovery shows without waiting for traffic.
      if (health.state === 'failing' && Date.now() - lastWriteProbe >= 1_000) {
        lastWriteProbe = Date.now();
        await within(timeoutMs, 'the storage write probe', writeProbe(db)).catch(() => undefined);
      }
      if (health.state !== 'ok') throw new StorageUnavailableError(health.state === 'failing' ? 'unwritable' : 'unreachable', health.reason ?? 'storage is failing');
    },
    health: () => ({ state: health.state, ...(health.reason ? { reason: health.reason } : {}), poolErrors: health.poolErrors }),
    async close() {
      await db.destroy();
    },
  };
}

/** One small real write (the row /health rewrites while writes fail). */
async function writeProbe(db: Kysely<Database>): Promise<void> {
  await sql`UPDATE storage_probe SET checked_at = ${new Date().toISOString()} WHERE id = 1`.execute(db);
}

/** Why a SQLite file cannot be used, and what to do about it. */
function sqliteOpenError(path: string, err: unknown): Error {
  const reason = err instanceof Error ? err.message : String(err);
  if (storageFailureKind(err) === 'unwritable') {
    return new Error(
      `the SQLite database ${path} cannot be written (${reason}): the file or its folder is read-only, or the disk is full. ` +
        `Parley writes the file and its -wal and -shm files beside it: make ${dirname(path)} and the file writable, free disk space, or point SQLITE_PATH at a writable place`,
    );
  }
  return new Error(`the SQLite database ${path} cannot be used (${reason}); check that SQLITE_PATH names a SQLite file Parley may read and write`);
}
