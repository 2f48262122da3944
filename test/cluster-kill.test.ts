/**
 * kill -9 a node of a Redis cluster (issue 13): the survivor's users are told that the dead
 * node's users left once its silence passes NODE_TTL_MS, its calls are failed by the
 * survivor, and the survivor's own call goes on.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { request, startParley, type RunningParley } from './support/parleyServer.js';
import { waitFor } from './support/polling.js';
import { dropPrefix, testRedisUrl, uniquePrefix } from './support/redis.js';
import { listeningUrl, spawnServer, waitForListening, type ServerProcess } from './support/serverProcess.js';
import { connect, once } from './support/sockets.js';

describe('kill -9 one node of two sharing Redis', () => {
  const prefix = uniquePrefix();
  let survivor: RunningParley | undefined;
  let doomed: ServerProcess | undefined;
  after(async () => {
    doomed?.child.kill('SIGKILL');
    await survivor?.close();
    await dropPrefix(prefix);
  });

  test("the dead node's users leave the survivor's rooms, its calls fail, the survivor's call goes on", { timeout: 90_000 }, async () => {
    const SQLITE_PATH = join(mkdtempSync(join(tmpdir(), 'parley-kill-')), 'parley.sqlite');
    const env = { SQLITE_PATH, REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: prefix, NODE_HEARTBEAT_MS: '300', NODE_TTL_MS: '1500' };
    survivor = await startParley({ ...env, NODE_ID: 'survivor' });
    doomed = spawnServer({ ...env, PORT: '0', NODE_ID: 'doomed', JWT_SECRET: 'test-secret-test-secret-test-secret-0123', MEDIA_WORKERS: '1' });
    await waitForListening(doomed, 60_000);
    const doomedUrl = listeningUrl(doomed);

    const alice = await connect(survivor.url, { auth: { userId: 'alice' } });
    const bob = await connect(doomedUrl, { auth: { userId: 'bob' } });
    try {
      alice.emit('video:join-room', { roomId: 'kill-room' });
      await once(alice, 'video:room-state');
      const joined = once(alice, 'video:user-joined', 10_000);
      bob.emit('video:join-room', { roomId: 'kill-room' });
      assert.equal((await joined).socketId, bob.id);
      const bobId = bob.id;
      await waitFor("the survivor to list bob's membership", async () => (await request(`${survivor!.url}/metrics`)).body.roomDetails.some((r: { name: string; participants: number }) => r.name === 'video:kill-room' && r.participants === 2));

      const mk = async (url: string) => {
        const id = (await request(`${url}/api/v1/calls`, { body: { callerNumber: '01012345678' } })).body.data.call.id as string;
        assert.equal((await request(`${url}/api/v1/calls/${id}/connect`, { method: 'POST' })).status, 200);
        return id;
      };
      const lost = await mk(doomedUrl);
      const kept = await mk(survivor.url);

      const left = once(alice, 'video:user-left', 20_000);
      doomed.child.kill('SIGKILL');
      await doomed.exited;
      assert.deepEqual(await left, { socketId: bobId, userId: 'bob' });
      const failed = await waitFor("the dead node's call to be failed", async () => {
        const c = (await request(`${survivor!.url}/api/v1/calls/${lost}`)).body.data.call;
        return c.status === 'FAILED' ? c : undefined;
      }, 20_000);
      assert.equal(failed.failureCause, 'node-lost');
      assert.equal((await request(`${survivor.url}/api/v1/calls/${kept}`)).body.data.call.status, 'IN_PROGRESS');
      assert.ok(alice.connected);
    } finally {
      alice.close();
      bob.close();
    }
  });
});
