/**
 * Seed 002's README, line by line, with socket.io-client: handshake auth {userId, token},
 * every video:*, chat:* and presence:* event and the server events it lists, /health and
 * /metrics.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Socket } from 'socket.io-client';
import { request, startParley, type RunningParley } from './support/parleyServer.js';
import { collect, connect, once } from './support/sockets.js';

describe('seed 002 (CoUp signaling) README, unchanged client', () => {
  let srv: RunningParley;
  let alice: Socket;
  let bob: Socket;
  const offer = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' };
  const answer = { type: 'answer', sdp: 'v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\n' };
  const candidate = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 };

  before(async () => {
    srv = await startParley();
    // "연결 시 auth 객체에 사용자 정보를 전달해야 합니다"
    alice = await connect(srv.url, { auth: { userId: 'user-123' } });
    bob = await connect(srv.url, { auth: { userId: 'user-456' } });
  });
  after(async () => {
    alice?.close();
    bob?.close();
    await srv?.close();
  });

  test('GET /health', async () => {
    const { status, body } = await request(`${srv.url}/health`);
    assert.equal(status, 200);
    assert.equal(body.status, 'ok');
    assert.equal(body.connections, 2);
    assert.equal(typeof body.uptime, 'number');
    assert.ok(!Number.isNaN(Date.parse(body.timestamp)));
  });

  test('video:join-room → video:room-state to the joiner, video:user-joined to the room', async () => {
    const aliceState = once(alice, 'video:room-state');
    alice.emit('video:join-room', { studyId: 'study-123', roomId: 'study-123-main' });
    assert.deepEqual(await aliceState, { participants: [] });

    const joined = once(alice, 'video:user-joined');
    const bobState = once(bob, 'video:room-state');
    bob.emit('video:join-room', { studyId: 'study-123', roomId: 'study-123-main' });
    const state = await bobState;
    assert.equal(state.participants.length, 1);
    assert.equal(state.participants[0].socketId, alice.id);
    assert.equal(state.participants[0].userId, 'user-123');
    const j = await joined;
    assert.equal(j.socketId, bob.id);
    assert.equal(j.userId, 'user-456');
    assert.equal(j.user.id, 'user-456');
  });

  test('video:offer / video:answer / video:ice-candidate are relayed by socket id with from', async () => {
    const gotOffer = once(bob, 'video:offer');
    alice.emit('video:offer', { to: bob.id, offer });
    assert.deepEqual(await gotOffer, { from: alice.id, offer });

    const gotAnswer = once(alice, 'video:answer');
    bob.emit('video:answer', { to: alice.id, answer });
    assert.deepEqual(await gotAnswer, { from: bob.id, answer });

    const gotCandidate = once(bob, 'video:ice-candidate');
    alice.emit('video:ice-candidate', { to: bob.id, candidate });
    assert.deepEqual(await gotCandidate, { from: alice.id, candidate });
  });

  test('media state: toggle-audio, toggle-video, screen share start/stop', async () => {
    const audio = once(bob, 'video:peer-audio-changed');
    alice.emit('video:toggle-audio', { roomId: 'study-123-main', isMuted: true });
    assert.deepEqual(await audio, { socketId: alice.id, userId: 'user-123', isMuted: true });

    const video = once(bob, 'video:peer-video-changed');
    alice.emit('video:toggle-video', { roomId: 'study-123-main', isVideoOff: true });
    assert.deepEqual(await video, { socketId: alice.id, userId: 'user-123', isVideoOff: true });

    const start = once(bob, 'video:peer-screen-share');
    alice.emit('video:screen-share-start', { roomId: 'study-123-main' });
    assert.deepEqual(await start, { socketId: alice.id, userId: 'user-123', isSharing: true });

    const stop = once(bob, 'video:peer-screen-share');
    alice.emit('video:screen-share-stop', { roomId: 'study-123-main' });
    assert.deepEqual(await stop, { socketId: alice.id, userId: 'user-123', isSharing: false });
  });

  test('a late joiner sees the media state of those already in the room', async () => {
    const carol = await connect(srv.url, { auth: { userId: 'user-789' } });
    try {
      const state = once(carol, 'video:room-state');
      carol.emit('video:join-room', { studyId: 'study-123', roomId: 'study-123-main' });
      const { participants } = await state;
      const a = participants.find((p: { userId: string }) => p.userId === 'user-123');
      assert.equal(a.isMuted, true);
      assert.equal(a.isVideoOff, true);
      assert.equal(participants.length, 2);
    } finally {
      carol.close();
    }
    await once(alice, 'video:user-left');
  });

  test('presence:join-study → presence:user-online; chat:send-message; chat:typing; status change', async () => {
    alice.emit('presence:join-study', { studyId: '456' });
    await new Promise((r) => setTimeout(r, 100));
    const online = once(alice, 'presence:user-online');
    bob.emit('presence:join-study', { studyId: '456' });
    const o = await online;
    assert.equal(o.userId, 'user-456');
    assert.equal(o.user.id, 'user-456');
    assert.ok(!Number.isNaN(Date.parse(o.timestamp)));

    const aliceMsg = once(alice, 'chat:message-received');
    const bobMsg = once(bob, 'chat:message-received');
    bob.emit('chat:send-message', { studyId: '456', message: 'hello study', type: 'text' });
    for (const m of [await aliceMsg, await bobMsg]) {
      assert.equal(m.message, 'hello study');
      assert.equal(m.type, 'text');
      assert.equal(m.userId, 'user-456');
      assert.equal(m.studyId, '456');
      assert.ok(m.id && m.timestamp);
    }

    const typing = once(alice, 'chat:user-typing');
    bob.emit('chat:typing', { studyId: '456', isTyping: true });
    assert.deepEqual(await typing, { userId: 'user-456', user: { id: 'user-456', role: 'customer', verified: false }, isTyping: true });

    const status = once(alice, 'presence:user-status-changed');
    bob.emit('presence:status-change', { status: 'away' });
    const s = await status;
    assert.equal(s.userId, 'user-456');
    assert.equal(s.status, 'away');
  });

  test('chat:video-message reaches everyone in the call', async () => {
    const got = once(bob, 'chat:video-message-received');
    alice.emit('chat:video-message', { roomId: 'study-123-main', message: 'in-call hi' });
    const m = await got;
    assert.equal(m.message, 'in-call hi');
    assert.equal(m.userId, 'user-123');
    assert.equal(m.roomId, 'study-123-main');
  });

  test('GET /metrics shows the rooms with their participants', async () => {
    const { status, body } = await request(`${srv.url}/metrics`);
    assert.equal(status, 200);
    assert.equal(body.connections, 2);
    assert.equal(typeof body.memory.rss, 'number');
    assert.equal(typeof body.uptime, 'number');
    const names = Object.fromEntries(body.roomDetails.map((r: { name: string; participants: number }) => [r.name, r.participants]));
    assert.equal(names['video:study-123-main'], 2);
    assert.equal(names['study:456'], 2);
    assert.equal(body.rooms, body.roomDetails.length);
  });

  test('presence:leave-study → presence:user-offline; video:leave-room → video:user-left', async () => {
    const offline = once(alice, 'presence:user-offline');
    bob.emit('presence:leave-study', { studyId: '456' });
    assert.equal((await offline).userId, 'user-456');

    const left = once(alice, 'video:user-left');
    bob.emit('video:leave-room', { roomId: 'study-123-main' });
    assert.deepEqual(await left, { socketId: bob.id, userId: 'user-456' });
  });

  test('a dropped socket leaves its rooms: user-left and user-offline reach the others', async () => {
    const dave = await connect(srv.url, { auth: { userId: 'user-dave' } });
    dave.emit('presence:join-study', { studyId: '456' });
    dave.emit('video:join-room', { studyId: 'study-123', roomId: 'study-123-main' });
    await once(alice, 'video:user-joined');
    const left = once(alice, 'video:user-left');
    const offline = once(alice, 'presence:user-offline');
    dave.close();
    assert.equal((await left).userId, 'user-dave');
    assert.equal((await offline).userId, 'user-dave');
  });

  test('a user with two tabs stays online until the last one leaves', async () => {
    const tab1 = await connect(srv.url, { auth: { userId: 'user-two-tabs' } });
    const tab2 = await connect(srv.url, { auth: { userId: 'user-two-tabs' } });
    try {
      const onlineEvents = collect(alice, 'presence:user-online', 300);
      tab1.emit('presence:join-study', { studyId: '456' });
      tab2.emit('presence:join-study', { studyId: '456' });
      assert.equal((await onlineEvents).filter((e) => e.userId === 'user-two-tabs').length, 1);
      const offlineAfterFirst = collect(alice, 'presence:user-offline', 300);
      tab1.close();
      assert.equal((await offlineAfterFirst).length, 0);
      const offline = once(alice, 'presence:user-offline');
      tab2.close();
      assert.equal((await offline).userId, 'user-two-tabs');
    } finally {
      tab1.close();
      tab2.close();
    }
  });
});
