/**
 * Seed 002's unchanged client across two nodes sharing Redis (REDIS_URL, 다중 서버 모드):
 * its two users on different nodes see each other in rooms and presence, relay offers,
 * answers and candidates by socket id, chat, and leave; an admin's disabling of an agent
 * closes that agent's sockets on both nodes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Socket } from 'socket.io-client';
import { createAgent, firstAdmin } from './support/consultation.js';
import { request, startParley, type RunningParley } from './support/parleyServer.js';
import { waitFor } from './support/polling.js';
import { dropPrefix, testRedisUrl, uniquePrefix } from './support/redis.js';
import { connect, once } from './support/sockets.js';

/** How many members node `srv` sees in `room` (its /metrics, seed 002's JSON). */
async function seenOn(srv: RunningParley, room: string): Promise<number> {
  const r = await request(`${srv.url}/metrics`);
  return (r.body.roomDetails as Array<{ name: string; participants: number }>).find((d) => d.name === room)?.participants ?? 0;
}

describe('seed 002 on two nodes sharing Redis', () => {
  const prefix = uniquePrefix();
  let a: RunningParley;
  let b: RunningParley;
  let alice: Socket;
  let bob: Socket;
  const offer = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' };
  const answer = { type: 'answer', sdp: 'v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\n' };
  const candidate = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 };

  before(async () => {
    const SQLITE_PATH = join(mkdtempSync(join(tmpdir(), 'parley-cluster-')), 'parley.sqlite');
    const env = { SQLITE_PATH, REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: prefix, NODE_HEARTBEAT_MS: '500', NODE_TTL_MS: '2000' };
    a = await startParley({ ...env, NODE_ID: 'node-a' });
    b = await startParley({ ...env, NODE_ID: 'node-b' });
    alice = await connect(a.url, { auth: { userId: 'user-123' } });
    bob = await connect(b.url, { auth: { userId: 'user-456' } });
  });
  after(async () => {
    alice?.close();
    bob?.close();
    await a?.close();
    await b?.close();
    await dropPrefix(prefix);
  });

  test('/health names the node and Redis', async () => {
    const { status, body } = await request(`${b.url}/health`);
    assert.equal(status, 200);
    assert.equal(body.redis, 'ok');
    assert.equal(body.node.id, 'node-b');
  });

  test('a video room spans the nodes: room-state, user-joined, and relays by socket id', async () => {
    const aliceState = once(alice, 'video:room-state');
    alice.emit('video:join-room', { studyId: 'study-123', roomId: 'study-123-main' });
    assert.deepEqual(await aliceState, { participants: [] });
    await waitFor('node B to hear of alice in the room', async () => (await seenOn(b, 'video:study-123-main')) === 1);

    const joined = once(alice, 'video:user-joined');
    const bobState = once(bob, 'video:room-state');
    bob.emit('video:join-room', { studyId: 'study-123', roomId: 'study-123-main' });
    const state = await bobState;
    assert.equal(state.participants.length, 1, 'bob, on node B, sees alice, who is on node A');
    assert.equal(state.participants[0].socketId, alice.id);
    assert.equal(state.participants[0].userId, 'user-123');
    assert.equal((await joined).socketId, bob.id);
    await waitFor('node A to hear of bob in the room', async () => (await seenOn(a, 'video:study-123-main')) === 2);

    const gotOffer = once(bob, 'video:offer');
    alice.emit('video:offer', { to: bob.id, offer });
    assert.deepEqual(await gotOffer, { from: alice.id, offer });
    const gotAnswer = once(alice, 'video:answer');
    bob.emit('video:answer', { to: alice.id, answer });
    assert.deepEqual(await gotAnswer, { from: bob.id, answer });
    const gotCandidate = once(bob, 'video:ice-candidate');
    alice.emit('video:ice-candidate', { to: bob.id, candidate });
    assert.deepEqual(await gotCandidate, { from: alice.id, candidate });

    const muted = once(bob, 'video:peer-audio-changed');
    alice.emit('video:toggle-audio', { roomId: 'study-123-main', isMuted: true });
    assert.deepEqual(await muted, { socketId: alice.id, userId: 'user-123', isMuted: true });

    const got = once(alice, 'chat:video-message-received');
    bob.emit('chat:video-message', { roomId: 'study-123-main', message: 'across nodes' });
    assert.equal((await got).message, 'across nodes');
  });

  test('presence: online lists and user-online across nodes; a socket on B that leaves is gone from A', async () => {
    const joinedA = await new Promise<{ online: Array<{ userId: string }> }>((resolve) => alice.emit('presence:join-study', { studyId: '456' }, resolve));
    assert.deepEqual(joinedA.online.map((o) => o.userId), ['user-123']);
    await waitFor('node B to hear of alice in the study', async () => (await seenOn(b, 'study:456')) === 1);
    const online = once(alice, 'presence:user-online');
    const joinedB = await new Promise<{ online: Array<{ userId: string }> }>((resolve) => bob.emit('presence:join-study', { studyId: '456' }, resolve));
    assert.deepEqual(joinedB.online.map((o) => o.userId).sort(), ['user-123', 'user-456']);
    assert.equal((await online).userId, 'user-456');

    const msg = once(alice, 'chat:message-received');
    bob.emit('chat:send-message', { studyId: '456', message: 'hello study', type: 'text' });
    assert.equal((await msg).message, 'hello study');

    const left = once(alice, 'video:user-left');
    const offline = once(alice, 'presence:user-offline');
    bob.close();
    assert.equal((await left).userId, 'user-456');
    assert.equal((await offline).userId, 'user-456');
    await waitFor('node A to forget bob', async () => (await seenOn(a, 'video:study-123-main')) === 1);
  });

  test("disabling an agent closes the agent's sockets on every node", async () => {
    const admin = await firstAdmin(a.url);
    const agent = await createAgent(a.url, admin, 'Cluster Agent');
    const onA = await connect(a.url, { auth: { token: agent.token } });
    const onB = await connect(b.url, { auth: { token: agent.token } });
    const endedA = once(onA, 'signed-out', 5000);
    const endedB = once(onB, 'signed-out', 5000);
    const goneB = once(onB, 'disconnect', 5000);
    // The admin acts on node B; node A must hear of it.
    const disabled = await request(`${b.url}/api/v1/users/${agent.id}`, { method: 'PATCH', token: admin.token, body: { status: 'disabled' } });
    assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
    assert.deepEqual(await endedA, { reason: 'account-disabled' });
    assert.deepEqual(await endedB, { reason: 'account-disabled' });
    await goneB;
    await waitFor('the socket on node A to be closed', async () => onA.disconnected);
  });
});
