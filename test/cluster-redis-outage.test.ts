/**
 * Redis goes away mid-call and comes back (issue 13 §Redis outages): /health says so
 * meanwhile, a call in progress is untouched, a new call is refused at once with a clear
 * error, and after Redis returns the nodes find each other again by themselves.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Socket } from 'socket.io-client';
import { request, startParley, type RunningParley } from './support/parleyServer.js';
import { waitFor } from './support/polling.js';
import { startOwnRedis, type OwnRedis } from './support/redis.js';
import { connect, once } from './support/sockets.js';

async function seenOn(srv: RunningParley, room: string): Promise<number> {
  const r = await request(`${srv.url}/metrics`);
  return (r.body.roomDetails as Array<{ name: string; participants: number }>).find((d) => d.name === room)?.participants ?? 0;
}

describe('Redis restarted while two nodes hold a call', () => {
  let redis: OwnRedis;
  let a: RunningParley;
  let b: RunningParley;
  let alice: Socket;
  let bob: Socket;
  const offer = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' };

  before(async () => {
    redis = await startOwnRedis();
    const SQLITE_PATH = join(mkdtempSync(join(tmpdir(), 'parley-outage-')), 'parley.sqlite');
    const env = { SQLITE_PATH, REDIS_URL: redis.url, NODE_HEARTBEAT_MS: '300', NODE_TTL_MS: '1200' };
    a = await startParley({ ...env, NODE_ID: 'node-a' });
    b = await startParley({ ...env, NODE_ID: 'node-b' });
    alice = await connect(a.url, { auth: { userId: 'user-a' } });
    bob = await connect(b.url, { auth: { userId: 'user-b' } });
  });
  after(async () => {
    alice?.close();
    bob?.close();
    await a?.close();
    await b?.close();
    await redis?.stop();
  });

  test('health reports it, the call goes on, new calls are refused at once, and the nodes re-converge', { timeout: 90_000 }, async () => {
    alice.emit('video:join-room', { roomId: 'outage-room' });
    await waitFor('node B to hear of alice', async () => (await seenOn(b, 'video:outage-room')) === 1);
    bob.emit('video:join-room', { roomId: 'outage-room' });
    await waitFor('node A to hear of bob', async () => (await seenOn(a, 'video:outage-room')) === 2);
    const call = (await request(`${a.url}/api/v1/calls`, { body: { callerNumber: '01012345678' } })).body.data.call.id as string;
    assert.equal((await request(`${a.url}/api/v1/calls/${call}/connect`, { method: 'POST' })).status, 200);

    await redis.stop('SIGKILL');
    const health = await waitFor('/health to report Redis unreachable', async () => {
      const h = await request(`${a.url}/health`);
      return h.status === 503 && h.body.redis === 'unreachable' ? h.body : undefined;
    });
    assert.match(health.reason, /Redis unreachable/);

    const t0 = Date.now();
    const refused = await request(`${b.url}/api/v1/calls`, { body: { callerNumber: '01012345678' } });
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error.code, 'CLUSTER_UNAVAILABLE');
    assert.match(refused.body.error.message, /Try again/);
    assert.ok(Date.now() - t0 < 2_000, `refused after ${Date.now() - t0} ms: it must not hang`);
    // The call in progress is untouched, and both sockets stay connected to their nodes.
    assert.equal((await request(`${a.url}/api/v1/calls/${call}`)).body.data.call.status, 'IN_PROGRESS');
    assert.ok(alice.connected && bob.connected);
    // Past the TTL each node forgets the other's members (it cannot tell them alive).
    await waitFor('node A to forget bob while cut off', async () => (await seenOn(a, 'video:outage-room')) === 1, 15_000);

    await redis.start();
    await waitFor('/health to be ok again', async () => {
      const h = await request(`${a.url}/health`);
      return h.status === 200 && h.body.redis === 'ok';
    }, 20_000);
    await waitFor('node A to see bob again', async () => (await seenOn(a, 'video:outage-room')) === 2, 20_000);
    await waitFor('node B to see alice again', async () => (await seenOn(b, 'video:outage-room')) === 2, 20_000);
    // Relays across the nodes work again (the stream readers resumed on the new Redis).
    await waitFor('a relay across the nodes after the outage', async () => {
      const got = once(bob, 'video:offer', 1_000).catch(() => undefined);
      alice.emit('video:offer', { to: bob.id, offer });
      return (await got)?.from === alice.id;
    }, 20_000);
    assert.equal((await request(`${b.url}/api/v1/calls`, { body: { callerNumber: '01012345678' } })).status, 201);
    assert.equal((await request(`${a.url}/api/v1/calls/${call}`)).body.data.call.status, 'IN_PROGRESS');
  });
});
