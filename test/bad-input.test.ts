/**
 * A table of bad inputs sent to every socket event and every REST route: wrong types,
 * missing fields, huge payloads, unknown rooms and peers, wrong role. Each gets a clear
 * error (ack `{ error: { code, message } }`, an `error` event without ack, or 4xx JSON),
 * and afterwards the server still serves everyone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Socket } from 'socket.io-client';
import { request, startParley, type RunningParley } from './support/parleyServer.js';
import { connect, once } from './support/sockets.js';

const offer = { type: 'offer', sdp: 'v=0\r\n' };
const answer = { type: 'answer', sdp: 'v=0\r\n' };
const candidate = { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 };
const huge = (n: number) => 'x'.repeat(n);

type Row = { event: string; payload: unknown; code: string };

/** Payloads no event accepts. */
const shapeless: unknown[] = [undefined, null, 'a string', 42, true, [1, 2]];

const defaultNsEvents: Record<string, Array<{ payload: unknown; code: string }>> = {
  'video:join-room': [
    { payload: {}, code: 'INVALID_PAYLOAD' },
    { payload: { roomId: {} }, code: 'INVALID_PAYLOAD' },
    { payload: { roomId: '' }, code: 'INVALID_PAYLOAD' },
    { payload: { roomId: huge(200) }, code: 'INVALID_PAYLOAD' },
    { payload: { roomId: 'a\u0000b' }, code: 'INVALID_PAYLOAD' },
    { payload: { roomId: -1 }, code: 'INVALID_PAYLOAD' },
  ],
  'video:leave-room': [
    { payload: { roomId: 'never-joined' }, code: 'NOT_IN_ROOM' },
    { payload: { room: 'r' }, code: 'INVALID_PAYLOAD' },
  ],
  'video:offer': [
    { payload: { to: 'nobody-here', offer }, code: 'UNKNOWN_PEER' },
    { payload: { to: 'x', offer: answer }, code: 'INVALID_PAYLOAD' },
    { payload: { to: 'x', offer: { type: 'offer', sdp: huge(70_000) } }, code: 'INVALID_PAYLOAD' },
    { payload: { offer }, code: 'INVALID_PAYLOAD' },
    { payload: { to: 7, offer }, code: 'INVALID_PAYLOAD' },
  ],
  'video:answer': [
    { payload: { to: 'nobody-here', answer }, code: 'UNKNOWN_PEER' },
    { payload: { to: 'x', answer: 'sdp' }, code: 'INVALID_PAYLOAD' },
  ],
  'video:ice-candidate': [
    { payload: { to: 'nobody-here', candidate }, code: 'UNKNOWN_PEER' },
    { payload: { to: 'x', candidate: 'str' }, code: 'INVALID_PAYLOAD' },
    { payload: { to: 'x', candidate: { candidate: huge(5000) } }, code: 'INVALID_PAYLOAD' },
  ],
  'video:toggle-audio': [
    { payload: { roomId: 'r', isMuted: 'yes' }, code: 'INVALID_PAYLOAD' },
    { payload: { roomId: 'never-joined', isMuted: true }, code: 'NOT_IN_ROOM' },
  ],
  'video:toggle-video': [
    { payload: { roomId: 'r' }, code: 'INVALID_PAYLOAD' },
    { payload: { roomId: 'never-joined', isVideoOff: false }, code: 'NOT_IN_ROOM' },
  ],
  'video:screen-share-start': [
    { payload: { roomId: 'never-joined' }, code: 'NOT_IN_ROOM' },
    { payload: { roomId: [] }, code: 'INVALID_PAYLOAD' },
  ],
  'video:screen-share-stop': [{ payload: { roomId: 'never-joined' }, code: 'NOT_IN_ROOM' }],
  'chat:send-message': [
    { payload: { studyId: 's', message: '' }, code: 'INVALID_PAYLOAD' },
    { payload: { studyId: 's', message: '   ' }, code: 'INVALID_PAYLOAD' },
    { payload: { studyId: 's', message: huge(5000) }, code: 'INVALID_PAYLOAD' },
    { payload: { studyId: 's', message: 'hi', type: 'script' }, code: 'INVALID_PAYLOAD' },
    { payload: { message: 'hi' }, code: 'INVALID_PAYLOAD' },
  ],
  'chat:video-message': [
    { payload: { roomId: 'never-joined', message: 'hi' }, code: 'NOT_IN_ROOM' },
    { payload: { roomId: 'r', message: 42 }, code: 'INVALID_PAYLOAD' },
  ],
  'chat:typing': [
    { payload: { studyId: 'never-joined', isTyping: true }, code: 'NOT_IN_ROOM' },
    { payload: { studyId: 's', isTyping: 'y' }, code: 'INVALID_PAYLOAD' },
  ],
  'presence:join-study': [{ payload: { studyId: null }, code: 'INVALID_PAYLOAD' }],
  'presence:leave-study': [
    { payload: { studyId: 'never-joined' }, code: 'NOT_IN_ROOM' },
    { payload: {}, code: 'INVALID_PAYLOAD' },
  ],
  'presence:status-change': [
    { payload: { status: 'sleeping' }, code: 'INVALID_PAYLOAD' },
    { payload: {}, code: 'INVALID_PAYLOAD' },
  ],
  'video:no-such-event': [{ payload: {}, code: 'INVALID_PAYLOAD' }],
};

const signalingEvents: Record<string, Array<{ payload: unknown; code: string }>> = {
  'join-session': [
    { payload: { sessionId: 's' }, code: 'INVALID_PAYLOAD' },
    { payload: { sessionId: huge(300), peerId: 'p' }, code: 'INVALID_PAYLOAD' },
  ],
  offer: [
    { payload: { sessionId: 'never-joined', peerId: 'p', offer }, code: 'NOT_IN_ROOM' },
    { payload: { sessionId: 's', peerId: 'p', offer: { sdp: 'no type' } }, code: 'INVALID_PAYLOAD' },
  ],
  answer: [
    { payload: { sessionId: 'never-joined', peerId: 'p', answer }, code: 'NOT_IN_ROOM' },
    { payload: { sessionId: 's', peerId: 'p' }, code: 'INVALID_PAYLOAD' },
  ],
  'ice-candidate': [
    { payload: { sessionId: 'never-joined', peerId: 'p', candidate }, code: 'NOT_IN_ROOM' },
    { payload: { sessionId: 's', peerId: 'p', candidate: { candidate: 1 } }, code: 'INVALID_PAYLOAD' },
  ],
  'leave-session': [{ payload: { sessionId: 'never-joined', peerId: 'p' }, code: 'NOT_IN_ROOM' }],
  'audio-data': [
    { payload: { sessionId: 'never-joined', peerId: 'p', audioData: 'AAAA' }, code: 'NOT_IN_ROOM' },
    { payload: { sessionId: 's', peerId: 'p', audioData: 5 }, code: 'INVALID_PAYLOAD' },
    { payload: { sessionId: 's', peerId: 'p', audioData: 'AAAA', timestamp: 'now' }, code: 'INVALID_PAYLOAD' },
  ],
  'no-such-event': [{ payload: {}, code: 'INVALID_PAYLOAD' }],
};

function rows(table: Record<string, Array<{ payload: unknown; code: string }>>): Row[] {
  const out: Row[] = [];
  for (const [event, specific] of Object.entries(table)) {
    for (const s of specific) out.push({ event, ...s });
    if (!event.includes('no-such')) for (const payload of shapeless) out.push({ event, payload, code: 'INVALID_PAYLOAD' });
  }
  return out;
}

async function expectAckError(socket: Socket, row: Row): Promise<void> {
  const ack = (await socket.timeout(3000).emitWithAck(row.event, row.payload)) as { error?: { code: string; message: string } };
  const label = `${row.event} ${JSON.stringify(row.payload)?.slice(0, 80)}`;
  assert.ok(ack.error, `${label}: expected an error ack, got ${JSON.stringify(ack)}`);
  assert.equal(ack.error.code, row.code, `${label}: ${ack.error.message}`);
  assert.ok(ack.error.message.length > 5, `${label}: message should say what is wrong`);
}

describe('bad input on every socket event', () => {
  let srv: RunningParley;
  let s: Socket;
  let sig: Socket;
  before(async () => {
    // The table sends hundreds of events in a second; the flood test below checks the limit itself.
    srv = await startParley({ SOCKET_EVENTS_PER_SECOND: '100000' });
    s = await connect(srv.url, { auth: { userId: 'fuzzer' } });
    sig = await connect(`${srv.url}/signaling`);
  });
  after(async () => {
    s?.close();
    sig?.close();
    await srv?.close();
  });

  test('default namespace (seed 002): every row answered by an error ack', async () => {
    for (const row of rows(defaultNsEvents)) await expectAckError(s, row);
  });

  test('/signaling (seed 001): every row answered by an error ack', async () => {
    for (const row of rows(signalingEvents)) await expectAckError(sig, row);
  });

  test('without an ack the client gets an `error` event naming the event', async () => {
    for (const [socket, event, payload] of [
      [s, 'video:offer', { to: 'nobody', offer }],
      [s, 'chat:typing', 'nonsense'],
      [sig, 'offer', { sessionId: 'never', peerId: 'p', offer }],
      [sig, 'join-session', null],
    ] as const) {
      const err = once(socket, 'error');
      socket.emit(event, payload);
      const e = await err;
      assert.equal(e.event, event);
      assert.ok(['INVALID_PAYLOAD', 'UNKNOWN_PEER', 'NOT_IN_ROOM'].includes(e.code), e.code);
      assert.equal(typeof e.message, 'string');
    }
  });

  test('a message above SOCKET_MAX_PAYLOAD_BYTES closes only that socket', async () => {
    const big = await connect(srv.url, { auth: { userId: 'big' } });
    const closed = once(big, 'disconnect', 5000);
    big.emit('chat:send-message', { studyId: 's', message: huge(1_200_000) });
    assert.match(await closed, /transport/);
    assert.equal((await s.emitWithAck('presence:join-study', { studyId: 'after-big' })).ok, true);
  });

  test('an event flood is rate limited per socket, and the socket recovers', async () => {
    const flood = await startParley({ SOCKET_EVENTS_PER_SECOND: '20' });
    try {
      const f = await connect(flood.url, { auth: { userId: 'flooder' } });
      const acks = await Promise.all(Array.from({ length: 60 }, () => f.timeout(3000).emitWithAck('presence:status-change', { status: 'away' })));
      const limited = acks.filter((a: { error?: { code: string } }) => a.error?.code === 'RATE_LIMITED').length;
      assert.ok(limited >= 30, `expected most of 60 events over 20/s refused, got ${limited}`);
      assert.ok(acks.filter((a: { ok?: boolean }) => a.ok).length >= 1);
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal((await f.emitWithAck('presence:status-change', { status: 'online' })).ok, true);
      f.close();
    } finally {
      await flood.close();
    }
  });

  test('after all of it the server is healthy and relays for everyone', async () => {
    const health = await request(`${srv.url}/health`);
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
    const a = await connect(srv.url, { auth: { userId: 'a' } });
    const b = await connect(srv.url, { auth: { userId: 'b' } });
    try {
      await a.emitWithAck('video:join-room', { roomId: 'after' });
      await b.emitWithAck('video:join-room', { roomId: 'after' });
      const got = once(b, 'video:offer');
      a.emit('video:offer', { to: b.id, offer });
      assert.deepEqual(await got, { from: a.id, offer });
    } finally {
      a.close();
      b.close();
    }
    const prom = await request(`${srv.url}/metrics/prometheus`);
    assert.match(prom.body, /parley_socket_events_total\{namespace="\/",event="video:offer",outcome="invalid"\} \d+/);
  });
});

describe('bad input on every REST route', () => {
  let srv: RunningParley;
  let agentToken: string;
  let adminToken: string;
  before(async () => {
    srv = await startParley();
    const pw = 'long enough password';
    await request(`${srv.url}/api/v1/auth/signup`, { body: { email: 'admin@example.com', password: pw, name: 'Admin' } });
    adminToken = (await request(`${srv.url}/api/v1/auth/signin`, { body: { email: 'admin@example.com', password: pw } })).body.accessToken;
    await request(`${srv.url}/api/v1/users`, { token: adminToken, body: { email: 'agent@example.com', password: pw, name: 'Agent' } });
    agentToken = (await request(`${srv.url}/api/v1/auth/signin`, { body: { email: 'agent@example.com', password: pw } })).body.accessToken;
  });
  after(() => srv?.close());

  test('each bad request gets a 4xx JSON error with code and message', async () => {
    const uuid = '00000000-0000-4000-8000-000000000000';
    const table: Array<{ name: string; method: string; path: string; body?: unknown; raw?: string; headers?: Record<string, string>; token?: 'agent' | 'admin' | 'junk'; status: number; code: string }> = [
      { name: 'token: missing fields', method: 'POST', path: '/token', body: {}, status: 400, code: 'INVALID_PAYLOAD' },
      { name: 'token: wrong types', method: 'POST', path: '/token', body: { roomName: 1, participantName: [] }, status: 400, code: 'INVALID_PAYLOAD' },
      { name: 'token: empty names', method: 'POST', path: '/token', body: { roomName: '', participantName: ' ' }, status: 400, code: 'INVALID_PAYLOAD' },
      { name: 'token: huge name', method: 'POST', path: '/token', body: { roomName: huge(1000), participantName: 'p' }, status: 400, code: 'INVALID_PAYLOAD' },
      { name: 'token: broken JSON', method: 'POST', path: '/token', raw: '{"roomName":', headers: { 'content-type': 'application/json' }, status: 400, code: 'INVALID_PAYLOAD' },
      { name: 'token: plain text', method: 'POST', path: '/token', raw: 'roomName=x', headers: { 'content-type': 'text/plain' }, status: 400, code: 'INVALID_PAYLOAD' },
      { name: 'token: XML', method: 'POST', path: '/token', raw: '<roomName/>', headers: { 'content-type': 'application/xml' }, status: 415, code: 'INVALID_PAYLOAD' },
      { name: 'token: body over the limit', method: 'POST', path: '/token', body: { roomName: huge(300_000), participantName: 'p' }, status: 413, code: 'INVALID_PAYLOAD' },
      { name: 'signup: bad email', method: 'POST', path: '/api/v1/auth/signup', body: { email: 'nope', password: 'long enough', name: 'N' }, status: 400, code: 'INVALID_PAYLOAD' },
      { name: 'signup: short password', method: 'POST', path: '/api/v1/auth/signup', body: { email: 'x@example.com', password: 'short', name: 'N' }, status: 400, code: 'INVALID_PAYLOAD' },
      { name: 'signup: array body', method: 'POST', path: '/api/v1/auth/signup', body: [1], status: 400, code: 'INVALID_PAYLOAD' },
      { name: 'signin: missing password', method: 'POST', path: '/api/v1/auth/signin', body: { email: 'a@example.com' }, status: 400, code: 'INVALID_PAYLOAD' },
      { name: 'signin: null body', method: 'POST', path: '/api/v1/auth/signin', raw: 'null', headers: { 'content-type': 'application/json' }, status: 400, code: 'INVALID_PAYLOAD' },
      { name: 'signout: no token', method: 'POST', path: '/api/v1/auth/signout', status: 401, code: 'UNAUTHORIZED' },
      { name: 'me: junk token', method: 'GET', path: '/api/v1/auth/me', token: 'junk', status: 401, code: 'UNAUTHORIZED' },
      { name: 'withdraw: no password', method: 'DELETE', path: '/api/v1/auth/me', body: {}, token: 'agent', status: 400, code: 'INVALID_PAYLOAD' },
      { name: 'users: agent role', method: 'GET', path: '/api/v1/users', token: 'agent', status: 403, code: 'FORBIDDEN' },
      { name: 'users: create as agent', method: 'POST', path: '/api/v1/users', body: { email: 'z@example.com', password: 'long enough', name: 'Z' }, token: 'agent', status: 403, code: 'FORBIDDEN' },
      { name: 'users: create customer', method: 'POST', path: '/api/v1/users', body: { email: 'z@example.com', password: 'long enough', name: 'Z', role: 'customer' }, token: 'admin', status: 400, code: 'INVALID_PAYLOAD' },
      { name: 'users: patch bad id', method: 'PATCH', path: '/api/v1/users/not-a-uuid', body: { status: 'disabled' }, token: 'admin', status: 400, code: 'INVALID_PAYLOAD' },
      { name: 'users: patch unknown id', method: 'PATCH', path: `/api/v1/users/${uuid}`, body: { status: 'disabled' }, token: 'admin', status: 404, code: 'NOT_FOUND' },
      { name: 'users: patch nothing', method: 'PATCH', path: `/api/v1/users/${uuid}`, body: {}, token: 'admin', status: 400, code: 'INVALID_PAYLOAD' },
      { name: 'users: patch bad status', method: 'PATCH', path: `/api/v1/users/${uuid}`, body: { status: 'withdrawn' }, token: 'admin', status: 400, code: 'INVALID_PAYLOAD' },
      { name: 'users: reset unknown', method: 'POST', path: `/api/v1/users/${uuid}/password`, body: { password: 'long enough' }, token: 'admin', status: 404, code: 'NOT_FOUND' },
      { name: 'calls/config: junk token', method: 'GET', path: '/api/v1/calls/config', token: 'junk', status: 401, code: 'UNAUTHORIZED' },
      { name: 'unknown route', method: 'GET', path: '/api/v1/nothing', status: 404, code: 'NOT_FOUND' },
      { name: 'wrong method', method: 'DELETE', path: '/token', status: 404, code: 'NOT_FOUND' },
    ];
    const tokens = { agent: agentToken, admin: adminToken, junk: 'junk.junk.junk' };
    for (const row of table) {
      const headers: Record<string, string> = { ...(row.headers ?? {}) };
      if (row.token) headers.authorization = `Bearer ${tokens[row.token]}`;
      const r = await request(`${srv.url}${row.path}`, { method: row.method, body: row.body, rawBody: row.raw, headers });
      assert.equal(r.status, row.status, `${row.name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.success, false, row.name);
      assert.equal(r.body.error.code, row.code, `${row.name}: ${r.body.error.message}`);
      assert.ok(r.body.error.message.length > 3, row.name);
    }
    assert.equal((await request(`${srv.url}/health`)).body.status, 'ok');
  });

  test('REST is rate limited per client with a JSON 429, health exempt', async () => {
    const limited = await startParley({ RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_MS: '60000' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await request(`${limited.url}/api/v1/calls/config`)).status);
      assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200]);
      const r = await request(`${limited.url}/api/v1/calls/config`);
      assert.equal(r.status, 429);
      assert.equal(r.body.error.code, 'RATE_LIMITED');
      assert.ok(r.headers.get('retry-after'));
      for (let i = 0; i < 10; i++) assert.equal((await request(`${limited.url}/health`)).status, 200);
    } finally {
      await limited.close();
    }
  });
});
