/**
 * The two storage engines every storage test runs against: a SQLite file, and PostgreSQL
 * (PARLEY_TEST_DATABASE_URL, set by scripts/test.sh) in a schema of its own that is
 * dropped afterwards.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { StorageOptions } from '../../src/storage/database.js';

export interface Engine {
  name: 'sqlite' | 'postgres';
  /** Options that reach the same database every time (so reopening shows persistence). */
  options: StorageOptions;
  dispose(): Promise<void>;
}

export function postgresUrl(): string {
  return process.env.PARLEY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

export function engines(): Array<() => Engine> {
  return [
    () => {
      const path = join(mkdtempSync(join(tmpdir(), 'parley-sqlite-')), 'parley.sqlite');
      return { name: 'sqlite', options: { kind: 'sqlite', path }, dispose: async () => undefined };
    },
    () => {
      const schema = `t_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
      const url = postgresUrl();
      return {
        name: 'postgres',
        options: { kind: 'postgres', url, schema },
        async dispose() {
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await client.end();
        },
      };
    },
  ];
}
