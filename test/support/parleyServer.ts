/**
 * Starts a real Parley (HTTP + Socket.IO on a free loopback port) for one test file.
 * Configuration goes through the same `loadConfig` as `npm start`, from an env object.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createParley, randomSecret, type Parley, type ParleyOverrides } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log/logger.js';

export interface RunningParley {
  parley: Parley;
  url: string;
  port: number;
  close(): Promise<void>;
}

/** `log`: when given, every log line (JSON, at LOG_LEVEL or info) is appended to it instead of going to stdout. */
/** The JWT secret every test server signs with (tests that forge a token for it sign with this). */
export const testJwtSecret = 'test-secret-test-secret-test-secret-0123';

export async function startParley(env: Record<string, string> = {}, overrides: ParleyOverrides = {}, log?: string[]): Promise<RunningParley> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-test-'));
  const config = loadConfig(
    {
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: process.env.PARLEY_TEST_LOG_LEVEL ?? (log ? 'info' : 'silent'),
      SQLITE_PATH: join(dir, 'parley.sqlite'),
      JWT_SECRET: testJwtSecret,
      ALLOWED_ORIGINS: '*',
      // Speech engines load decoders at start (about a second per core): only the caption tests want them.
      STT_ENGINE: 'none',
      // Tests' webhook receivers listen on 127.0.0.1; the SSRF tests set it back to false.
      WEBHOOK_ALLOW_PRIVATE: 'true',
      ...env,
    },
    randomSecret,
  );
  const parley = await createParley(config, createLogger(config.logLevel, log ? { write: (line: string) => void log.push(line) } : undefined), overrides);
  const url = (await parley.listen()).replace('localhost', '127.0.0.1');
  const port = Number(new URL(url).port);
  return { parley, url, port, close: () => parley.close('test finished') };
}

/** JSON request helper; returns status, parsed body and headers. */
export async function request(
  url: string,
  init: { method?: string; body?: unknown; token?: string; headers?: Record<string, string>; rawBody?: string } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const res = await fetch(url, {
    method: init.method ?? (init.body !== undefined || init.rawBody !== undefined ? 'POST' : 'GET'),
    headers,
    body: init.rawBody ?? (init.body !== undefined ? JSON.stringify(init.body) : undefined),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body, headers: res.headers };
}
