/**
 * Recordings' rules without a browser: who may start, stop, list, play and delete (the
 * production posture closes them as it closes POST /token), and a disk that fills up in the
 * middle of a recording — the recording is marked failed with a sentence saying what to do,
 * the call goes on, and once space is back the next recording works. The speakers are direct
 * producers sending Opus tones (test/recording-speaker.ts).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DirectConsumerMessage } from '../src/sfu/directPort.js';
import { createAgent, firstAdmin, type Staff } from './support/consultation.js';
import { request, startParley, type RunningParley } from './support/parleyServer.js';
import { waitFor } from './support/polling.js';
import { connect } from './support/sockets.js';
import { opusTone, toneSpeaker, type ToneSpeaker } from './recording-speaker.js';

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

/** Writes zeros into `path` until the file system is full. */
function fillDisk(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(16 * 1024);
  try {
    for (let i = 0; i < 100_000; i++) writeSync(fd, chunk);
    throw new Error('the tmpfs never filled up');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

describe('a disk that fills up mid-recording (tmpfs, needs root)', { timeout: 90_000 }, () => {
  let srv: RunningParley;
  const mount = mkdtempSync(join(tmpdir(), 'parley-rec-full-'));
  let mounted = false;
  const speakers: ToneSpeaker[] = [];
  let socket: Awaited<ReturnType<typeof connect>> | undefined;
  const room = `full-${process.pid}`;

  before(async () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount]);
    mounted = true;
    srv = await startParley({ RECORDINGS_PATH: mount, MEDIA_WORKERS: '1' });
  });
  after(async () => {
    for (const s of speakers) await s.stop().catch(() => undefined);
    socket?.close();
    await srv?.close();
    if (mounted) execFileSync('umount', ['-l', mount]);
    rmSync(mount, { recursive: true, force: true });
  });

  test('the recording is marked failed, the call goes on, and the next one works once space is back', async () => {
    socket = await connect(`${srv.url}/voice`);
    const joined = await socket.emitWithAck('join-room', { roomId: room, userId: 'listener' });
    assert.ok(!joined.error, JSON.stringify(joined));
    const media = await srv.parley.media.room(room);
    speakers.push(await toneSpeaker(media, 'tone-ann', opusTone(500, 1), 1111));

    const started = await request(`${srv.url}/recordings/start`, { body: { roomName: room } });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const work = join(mount, '.work');
    await waitFor('a track file being written', async () => readdirSync(work, { recursive: true }).some((f) => String(f).endsWith('.webm')));

    fillDisk(join(mount, 'filler'));
    const failed = await waitFor('the recording marked failed', async () => {
      const r = (await request(`${srv.url}/recordings?roomName=${room}`)).body.recordings[0];
      return r?.status === 'failed' ? r : undefined;
    });
    assert.match(failed.failure, /ENOSPC/);
    assert.match(failed.failure, /free disk space/);

    // The call goes on: the listener is still connected, the producer still sends, and a new
    // reader of it gets packets.
    assert.ok(socket.connected);
    const producers = await media.producers();
    assert.ok(producers.some((p) => p.producerId === speakers[0]!.producerId));
    const reader = await media.createDirectConsumer(speakers[0]!.producerId);
    let rtp = 0;
    reader.port.on('message', (m: DirectConsumerMessage) => {
      if (m.type === 'rtp') rtp++;
    });
    await waitFor('packets still flowing', async () => rtp >= 10);
    await reader.close();
    reader.port.close();
    assert.equal((await request(`${srv.url}/health`)).body.status, 'ok');

    const stop = await request(`${srv.url}/recordings/stop`, { body: { roomName: room } });
    assert.equal(stop.status, 409);
    assert.match(stop.body.error.message, /failed/);

    // Space back: a new recording works.
    rmSync(join(mount, 'filler'));
    const again = await request(`${srv.url}/recordings/start`, { body: { roomName: room } });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    await waitFor('a track file being written', async () => readdirSync(work, { recursive: true }).some((f) => String(f).endsWith('.webm')));
    await new Promise((r) => setTimeout(r, 1500));
    const stopped = await request(`${srv.url}/recordings/stop`, { body: { roomName: room } });
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    assert.equal(stopped.body.recording.status, 'ready');
    assert.ok(stopped.body.recording.size > 0);
  });
});
