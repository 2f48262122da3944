/** Seed 001's `/signaling` namespace and `GET /api/v1/calls/config`, as its README's client uses them. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Socket } from 'socket.io-client';
import { request, startParley, type RunningParley } from './support/parleyServer.js';
import { collect, connect, once } from './support/sockets.js';

describe('seed 001 /signaling namespace, unchanged client', () => {
  let srv: RunningParley;
  const pushed: Array<{ sessionId: string; peerId: string; audio: Uint8Array | string }> = [];
  let caller: Socket;
  let agent: Socket;
  const sessionId = 'abc123-session-id';

  before(async () => {
    srv = await startParley({}, { audioSink: { push: (c) => pushed.push(c) } });
    // The seed's client connects with no auth at all: io('http://localhost:3000/signaling')
    caller = await connect(`${srv.url}/signaling`);
    agent = await connect(`${srv.url}/signaling`);
  });
  after(async () => {
    caller?.close();
    agent?.close();
    await srv?.close();
  });

  test('GET /api/v1/calls/config returns the seed shape', async () => {
    const { status, body } = await request(`${srv.url}/api/v1/calls/config`);
    assert.equal(status, 200);
    assert.equal(body.success, true);
    const c = body.data.config;
    assert.deepEqual(c.iceServers, [{ urls: 'stun:stun.l.google.com:19302' }]);
    assert.equal(c.iceCandidatePoolSize, 10);
    assert.equal(c.iceTransportPolicy, 'all');
    assert.equal(c.bundlePolicy, 'max-bundle');
    assert.equal(c.rtcpMuxPolicy, 'require');
  });

  test('join-session → joined-session to self and peer-joined to the session', async () => {
    const joined = once(agent, 'joined-session');
    agent.emit('join-session', { sessionId, peerId: 'agent-peer' });
    assert.deepEqual(await joined, { sessionId, peerId: 'agent-peer' });

    const peerJoined = once(agent, 'peer-joined');
    const callerJoined = once(caller, 'joined-session');
    caller.emit('join-session', { sessionId, peerId: 'client-peer' });
    assert.deepEqual(await callerJoined, { sessionId, peerId: 'client-peer' });
    assert.deepEqual(await peerJoined, { peerId: 'client-peer' });
  });

  test('offer, answer and ice-candidate are relayed with the sender peerId', async () => {
    const offer = { type: 'offer', sdp: 'v=0\r\n' };
    const gotOffer = once(agent, 'offer');
    caller.emit('offer', { sessionId, peerId: 'client-peer', offer });
    assert.deepEqual(await gotOffer, { peerId: 'client-peer', offer });

    const answer = { type: 'answer', sdp: 'v=0\r\n' };
    const gotAnswer = once(caller, 'answer');
    agent.emit('answer', { sessionId, peerId: 'agent-peer', answer });
    assert.deepEqual(await gotAnswer, { peerId: 'agent-peer', answer });

    const candidate = { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'abcd' };
    const gotCandidate = once(agent, 'ice-candidate');
    caller.emit('ice-candidate', { sessionId, peerId: 'client-peer', candidate });
    assert.deepEqual(await gotCandidate, { peerId: 'client-peer', candidate });
  });

  test('the sender does not receive its own relay (while the other peer does)', async () => {
    const echoes = collect(caller, 'offer', 200);
    const relayed = once(agent, 'offer');
    caller.emit('offer', { sessionId, peerId: 'client-peer', offer: { type: 'offer', sdp: 'v=0\r\nsender-check' } });
    assert.deepEqual(await relayed, { peerId: 'client-peer', offer: { type: 'offer', sdp: 'v=0\r\nsender-check' } }, 'the relay works at all');
    assert.equal((await echoes).length, 0);
  });

  test('audio-data reaches the server-side audio sink (base64 and binary)', async () => {
    caller.emit('audio-data', { sessionId, peerId: 'client-peer', audioData: 'UklGRiQAAABXQVZF', timestamp: 1700000000000 });
    const ack = await caller.emitWithAck('audio-data', { sessionId, peerId: 'client-peer', audioData: Buffer.from([1, 2, 3, 4]), timestamp: 1700000000001 });
    assert.deepEqual(ack, { ok: true, received: 4 });
    assert.equal(pushed.length, 2);
    assert.equal(pushed[0]!.audio, 'UklGRiQAAABXQVZF');
    assert.equal(pushed[1]!.peerId, 'client-peer');
    assert.deepEqual([...(pushed[1]!.audio as Uint8Array)], [1, 2, 3, 4]);
  });

  test('leave-session → peer-left', async () => {
    const left = once(agent, 'peer-left');
    caller.emit('leave-session', { sessionId, peerId: 'client-peer' });
    assert.deepEqual(await left, { peerId: 'client-peer' });
  });

  test('a dropped socket → peer-disconnected', async () => {
    const third = await connect(`${srv.url}/signaling`);
    third.emit('join-session', { sessionId, peerId: 'third-peer' });
    await once(agent, 'peer-joined');
    const gone = once(agent, 'peer-disconnected');
    third.disconnect();
    assert.deepEqual(await gone, { peerId: 'third-peer' });
  });

  test('an offer sent right behind join-session is relayed (events are handled in order)', async () => {
    const x = await connect(`${srv.url}/signaling`);
    const y = await connect(`${srv.url}/signaling`);
    try {
      await y.emitWithAck('join-session', { sessionId: 'back-to-back', peerId: 'y' });
      const got = once(y, 'offer');
      const errors = collect(x, 'error', 300);
      x.emit('join-session', { sessionId: 'back-to-back', peerId: 'x' });
      x.emit('offer', { sessionId: 'back-to-back', peerId: 'x', offer: { type: 'offer', sdp: 'v=0\r\n' } });
      assert.equal((await got).peerId, 'x');
      assert.deepEqual(await errors, []);
    } finally {
      x.close();
      y.close();
    }
  });

  test('relaying into a session one has not joined is refused with an error event', async () => {
    const err = once(caller, 'error');
    caller.emit('offer', { sessionId: 'someone-elses', peerId: 'client-peer', offer: { type: 'offer', sdp: 'v=0' } });
    const e = await err;
    assert.equal(e.event, 'offer');
    assert.equal(e.code, 'NOT_IN_ROOM');
    assert.match(e.message, /join-session/);
  });
});
