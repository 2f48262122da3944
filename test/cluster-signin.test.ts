/**
 * Sign-in throttling counts on every node together (REDIS_URL): wrong passwords spread over
 * two nodes lock the account as surely as on one, and the lockout holds on both.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { firstAdmin, PASSWORD } from './support/consultation.js';
import { request, startParley, type RunningParley } from './support/parleyServer.js';
import { dropPrefix, testRedisUrl, uniquePrefix } from './support/redis.js';

describe('sign-in throttling across two nodes', () => {
  const prefix = uniquePrefix();
  let a: RunningParley;
  let b: RunningParley;

  before(async () => {
    const SQLITE_PATH = join(mkdtempSync(join(tmpdir(), 'parley-signin-')), 'parley.sqlite');
    const env = { SQLITE_PATH, REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: prefix, SIGNIN_MAX_FAILURES: '3' };
    a = await startParley({ ...env, NODE_ID: 'node-a' });
    b = await startParley({ ...env, NODE_ID: 'node-b' });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await dropPrefix(prefix);
  });

  test('three wrong passwords over two nodes lock the account on both, the right one included', async () => {
    await firstAdmin(a.url, 'locked@example.com');
    const attempt = (srv: RunningParley, password: string) => request(`${srv.url}/api/v1/auth/signin`, { body: { email: 'locked@example.com', password } });
    assert.equal((await attempt(a, 'wrong-password-1')).status, 401);
    assert.equal((await attempt(b, 'wrong-password-2')).status, 401);
    assert.equal((await attempt(a, 'wrong-password-3')).status, 401);
    for (const srv of [a, b]) {
      const locked = await attempt(srv, PASSWORD);
      assert.equal(locked.status, 429, `node ${srv === a ? 'A' : 'B'}: ${JSON.stringify(locked.body)}`);
      assert.match(locked.body.error.message, /Too many failed sign-in attempts/);
    }
  });
});
