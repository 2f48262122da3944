/**
 * Which storage errors mean "the database cannot be used right now" rather than "this query
 * is wrong": the edge answers those with 503 (retry later), the webhook loop backs off on
 * them, and /health reports them.
 *
 * - `unreachable`: no round trip (PostgreSQL down, restarting, partitioned, timed out).
 * - `unwritable`: reads work, writes do not (disk full, read-only file or database, I/O error).
 */
export type StorageFailureKind = 'unreachable' | 'unwritable';

/** SQLite result codes (better-sqlite3 `err.code`, extended codes included by prefix). */
const sqliteUnwritable = ['SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_CORRUPT', 'SQLITE_NOTADB'];
const sqliteUnreachable = ['SQLITE_BUSY', 'SQLITE_LOCKED'];

/**
 * PostgreSQL SQLSTATE classes and codes: 08 connection exception, 57P01–57P05 server shut
 * down or restarting, 57014 statement cancelled (statement_timeout), 53 insufficient
 * resources (53100 disk full), 25006 read-only transaction (a standby after failover).
 */
function postgresKind(code: string): StorageFailureKind | undefined {
  if (code.startsWith('08') || /^57P0[1-5]$/.test(code) || code === '57014') return 'unreachable';
  if (code.startsWith('53') || code === '25006') return 'unwritable';
  return undefined;
}

/** Messages of the `pg` client and pool that carry no SQLSTATE. */
const pgUnreachableMessages = [
  'Query read timeout',
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'connection timeout',
  'Client has encountered a connection error',
  'Cannot use a pool after calling end',
];

const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** The kind of storage failure `err` is, or undefined for an ordinary query error. */
export function storageFailureKind(err: unknown): StorageFailureKind | undefined {
  if (err instanceof StorageUnavailableError) return err.kind;
  if (!(err instanceof Error)) return undefined;
  const code = (err as Error & { code?: unknown }).code;
  if (typeof code === 'string') {
    if (sqliteUnwritable.some((c) => code.startsWith(c))) return 'unwritable';
    if (sqliteUnreachable.some((c) => code.startsWith(c))) return 'unreachable';
    if (networkCodes.has(code)) return 'unreachable';
    if (/^[0-9A-Z]{5}$/.test(code)) {
      const kind = postgresKind(code);
      if (kind) return kind;
    }
  }
  if (pgUnreachableMessages.some((m) => err.message.includes(m))) return 'unreachable';
  const cause = (err as Error & { cause?: unknown }).cause;
  return cause !== undefined && cause !== err ? storageFailureKind(cause) : undefined;
}

/** Thrown by Parley's own storage checks (a ping that timed out). */
export class StorageUnavailableError extends Error {
  constructor(
    readonly kind: StorageFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'StorageUnavailableError';
  }
}
