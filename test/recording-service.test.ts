/**
 * Recordings' rules without a browser: who may start, stop, list, play and delete (the
 * production posture closes them as it closes POST /token; anonymous clients reach open rooms
 * only, in development). A disk that fills up mid-recording is test/media/recording-disk-full.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAgent, firstAdmin, type Staff } from './support/consultation.js';
import { request, startParley, type RunningParley } from './support/parleyServer.js';

const KEY = 'APIrecordings';
const SECRET = 'recordings-secret-recordings-secret-0123';
const basic = `Basic ${Buffer.from(`${KEY}:${SECRET}`).toString('base64')}`;

describe('production posture: recordings are closed like POST /token', () => {
  let srv: RunningParley;
  let admin: Staff;
  let agent: Staff;
  before(async () => {
    srv = await startParley({ NODE_ENV: 'production', SIGNUP_OPEN: 'true', LIVEKIT_API_KEY: KEY, LIVEKIT_API_SECRET: SECRET });
    admin = await firstAdmin(srv.url);
    agent = await createAgent(srv.url, admin, 'Agent Rec');
  });
  after(() => srv.close());

  const calls = (roomName: string) =>
    [
      ['POST', '/recordings/start', { roomName }],
      ['POST', '/recordings/stop', { roomName }],
      ['GET', `/recordings?roomName=${roomName}`, undefined],
      ['GET', '/recordings/some-room-20260101T000000Z-abcdef.mp4', undefined],
      ['DELETE', '/recordings/some-room-20260101T000000Z-abcdef.mp4', undefined],
    ] as const;

  test('no credential: 401 on every route, saying which credential to bring', async () => {
    for (const [method, path, body] of calls('lobby')) {
      const r = await request(`${srv.url}${path}`, { method, body });
      assert.equal(r.status, 401, `${method} ${path}: ${JSON.stringify(r.body)}`);
      assert.match(r.body.error.message, /LIVEKIT_API_KEY|access token/);
    }
  });

  test('a wrong key pair is 401 before the body is read', async () => {
    const wrong = `Basic ${Buffer.from(`${KEY}:not-the-secret`).toString('base64')}`;
    const r = await request(`${srv.url}/recordings/start`, { method: 'POST', rawBody: '{not json', headers: { authorization: wrong, 'content-type': 'application/json' } });
    assert.equal(r.status, 401);
  });

  test("the integrator's key pair and admins pass; an agent may not record an open room", async () => {
    for (const authorization of [basic, `Bearer ${admin.token}`]) {
      const start = await request(`${srv.url}/recordings/start`, { body: { roomName: 'lobby' }, headers: { authorization } });
      assert.equal(start.status, 404, 'past the credential check: the room has nobody in it');
      const list = await request(`${srv.url}/recordings`, { headers: { authorization } });
      assert.equal(list.status, 200);
      assert.deepEqual(list.body, { recordings: [] });
      const play = await request(`${srv.url}/recordings/some-room-20260101T000000Z-abcdef.mp4`, { headers: { authorization } });
      assert.equal(play.status, 404);
    }
    const byAgent = await request(`${srv.url}/recordings/start`, { token: agent.token, body: { roomName: 'lobby' } });
    assert.equal(byAgent.status, 403);
    const agentList = await request(`${srv.url}/recordings`, { token: agent.token });
    assert.equal(agentList.status, 200, 'an agent lists the recordings of their own consultations (none yet)');
    const del = await request(`${srv.url}/recordings/some-room-20260101T000000Z-abcdef.mp4`, { method: 'DELETE', token: agent.token });
    assert.equal(del.status, 404, 'nothing to delete (an agent is refused only on a recording that exists)');
  });

  test('bad input is a 400 with a message', async () => {
    for (const body of [{}, { roomName: '' }, { roomName: 'x'.repeat(200) }, { roomName: 42 }]) {
      const r = await request(`${srv.url}/recordings/start`, { body, headers: { authorization: basic } });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.ok(r.body.error.message.length > 0);
    }
    const r = await request(`${srv.url}/recordings/..%2F..%2Fetc%2Fpasswd`, { headers: { authorization: basic } });
    assert.equal(r.status, 400);
  });
});

describe('development posture: anonymous clients reach open rooms only', () => {
  let srv: RunningParley;
  before(async () => {
    srv = await startParley();
  });
  after(() => srv.close());

  test("a consultation's room needs its agent's or an admin's token", async () => {
    const r = await request(`${srv.url}/recordings/start`, { body: { roomName: 'call-00000000-0000-4000-8000-000000000000' } });
    assert.equal(r.status, 401);
    assert.match(r.body.error.message, /consultation/);
    const open = await request(`${srv.url}/recordings/start`, { body: { roomName: 'lobby' } });
    assert.equal(open.status, 404, 'an open room: allowed, but nobody is in it');
  });
});
