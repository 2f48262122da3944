/**
 * Three nodes behind HAProxy (deploy/haproxy.cfg) with the machine's Redis: seed 002's two
 * users, both connecting to the load balancer's one address, land on different nodes and
 * still see, reach and chat with each other; a disabled agent's sockets close on every
 * node.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Socket } from 'socket.io-client';
import { createAgent, firstAdmin } from './support/consultation.js';
import { startHaproxy, type RunningHaproxy } from './support/haproxy.js';
import { request, startParley, type RunningParley } from './support/parleyServer.js';
import { waitFor } from './support/polling.js';
import { dropPrefix, testRedisUrl, uniquePrefix } from './support/redis.js';
import { connect, once } from './support/sockets.js';

describe('three nodes behind HAProxy', () => {
  const prefix = uniquePrefix();
  const nodes: RunningParley[] = [];
  let lb: RunningHaproxy;
  const sockets: Socket[] = [];
  /** Which node holds a socket (its default namespace has it). */
  const nodeOf = (s: Socket) => nodes.findIndex((n) => n.parley.io.of('/').sockets.has(s.id!));

  before(async () => {
    const SQLITE_PATH = join(mkdtempSync(join(tmpdir(), 'parley-lb-')), 'parley.sqlite');
    const env = { SQLITE_PATH, REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: prefix, NODE_HEARTBEAT_MS: '500', NODE_TTL_MS: '2000', TRUST_PROXY: 'loopback' };
    // One after the other: the first migrates the shared file.
    // NODE_IDs are the balancer's server names, as in compose.yml (use-server ?node=… relies on it).
    for (const id of ['parley-1', 'parley-2', 'parley-3']) nodes.push(await startParley({ ...env, NODE_ID: id, MEDIA_WORKERS: '1' }));
    lb = await startHaproxy(nodes.map((n, i) => ({ name: `parley-${i + 1}`, port: n.port })));
  });
  after(async () => {
    for (const s of sockets) s.close();
    await lb?.close();
    for (const n of nodes) await n.close();
    await dropPrefix(prefix);
  });

  test("seed 002's users on different nodes through one address: room, relay, chat, presence", async () => {
    const alice = await connect(lb.url, { auth: { userId: 'user-123' } });
    const bob = await connect(lb.url, { auth: { userId: 'user-456' } });
    sockets.push(alice, bob);
    assert.notEqual(nodeOf(alice), -1);
    assert.notEqual(nodeOf(alice), nodeOf(bob), 'leastconn puts the second user on another node');

    alice.emit('video:join-room', { studyId: 's1', roomId: 'lb-room' });
    await waitFor("bob's node to hear of alice", async () => (await request(`${nodes[nodeOf(bob)]!.url}/metrics`)).body.roomDetails.some((r: { name: string; participants: number }) => r.name === 'video:lb-room' && r.participants === 1));
    const state = once(bob, 'video:room-state');
    const joined = once(alice, 'video:user-joined');
    bob.emit('video:join-room', { studyId: 's1', roomId: 'lb-room' });
    assert.equal((await state).participants[0].socketId, alice.id);
    assert.equal((await joined).socketId, bob.id);

    const offer = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' };
    await waitFor("alice's node to hear of bob", async () => (await request(`${nodes[nodeOf(alice)]!.url}/metrics`)).body.roomDetails.some((r: { name: string; participants: number }) => r.name === 'video:lb-room' && r.participants === 2));
    const got = once(bob, 'video:offer');
    alice.emit('video:offer', { to: bob.id, offer });
    assert.deepEqual(await got, { from: alice.id, offer });

    const online = once(alice, 'presence:user-online');
    alice.emit('presence:join-study', { studyId: 's1' });
    await waitFor("bob's node to see alice in the study", async () => (await request(`${nodes[nodeOf(bob)]!.url}/metrics`)).body.roomDetails.some((r: { name: string }) => r.name === 'study:s1'));
    bob.emit('presence:join-study', { studyId: 's1' });
    assert.equal((await online).userId, 'user-456');
    const msg = once(alice, 'chat:message-received');
    bob.emit('chat:send-message', { studyId: 's1', message: 'through the balancer', type: 'text' });
    assert.equal((await msg).message, 'through the balancer');
  });

  test('a /voice join told WRONG_NODE reaches the pinned node through the balancer with ?node=', async () => {
    type JoinAck = { rtpCapabilities?: unknown; error?: { code: string; node?: string } };
    const first = await connect(`${lb.url}/voice`, { auth: { userId: 'v1' } });
    sockets.push(first);
    assert.ok(((await first.timeout(10_000).emitWithAck('join-room', { roomId: 'lb-voice' })) as JoinAck).rtpCapabilities);
    const pinnedTo = nodes.findIndex((n) => n.parley.io.of('/voice').sockets.has(first.id!));
    // Reach every other node directly: each answers where the room is.
    const elsewhere = nodes.findIndex((_, i) => i !== pinnedTo);
    const stray = await connect(`${nodes[elsewhere]!.url}/voice`, { auth: { userId: 'v2' } });
    sockets.push(stray);
    const refused = (await stray.timeout(10_000).emitWithAck('join-room', { roomId: 'lb-voice' })) as JoinAck;
    assert.equal(refused.error?.code, 'WRONG_NODE');
    assert.equal(refused.error?.node, `parley-${pinnedTo + 1}`);
    // Through the balancer, asking for that node, every join is taken (three, so luck cannot pass it: 1 in 27).
    for (const n of [2, 3, 4]) {
      const follower = await connect(`${lb.url}/voice`, { auth: { userId: `v${n}` }, query: { node: refused.error!.node! } });
      sockets.push(follower);
      assert.ok(nodes[pinnedTo]!.parley.io.of('/voice').sockets.has(follower.id!), 'HAProxy sent it to the node it asked for');
      assert.ok(((await follower.timeout(10_000).emitWithAck('join-room', { roomId: 'lb-voice' })) as JoinAck).rtpCapabilities);
    }
  });

  test("a disabled agent's sockets on all three nodes are closed", async () => {
    const admin = await firstAdmin(lb.url);
    const agent = await createAgent(lb.url, admin, 'Balanced Agent');
    const mine = await Promise.all(nodes.map((n) => connect(n.url, { auth: { token: agent.token } })));
    sockets.push(...mine);
    const ended = mine.map((s) => once(s, 'signed-out', 5000));
    const r = await request(`${lb.url}/api/v1/users/${agent.id}`, { method: 'PATCH', token: admin.token, body: { status: 'disabled' } });
    assert.equal(r.status, 200);
    for (const e of ended) assert.deepEqual(await e, { reason: 'account-disabled' });
    await waitFor('every one of them to be disconnected', async () => mine.every((s) => s.disconnected));
  });
});
