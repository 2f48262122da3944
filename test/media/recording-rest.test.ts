/**
 * Seed 004's recording API as its clients use it (REST only), against a /voice room in which
 * real Chromium pages speak. Ann's microphone beeps at 500 Hz, Ben's at 1500 Hz; Ben joins
 * after the recording started and leaves before it stops. The files are then measured as a
 * listener would: ffprobe's durations, each track's own beeps, the mix with Ann alone, both,
 * and Ann alone again, placed where they happened on the wall clock.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium, saveConsoleLog, type OpenedPage } from '../support/browser.js';
import { request, startParley, type RunningParley } from '../support/parleyServer.js';
import { waitFor } from '../support/polling.js';
import { openVoicePage, peerIdOf } from '../support/voicePage.js';
import { beepWav, decodePcm, probeDuration, probeStream, toneLevel } from '../recording-audio.js';

const RATE = 8000;

describe('seed 004 recordings of a /voice room with real Chromium speakers', { timeout: 180_000 }, () => {
  let server: RunningParley;
  let annBrowser: Browser;
  let benBrowser: Browser;
  const pages: OpenedPage[] = [];
  const room = `rec-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'parley-rec-test-'));
  const recordingsPath = join(dir, 'recordings');

  before(async () => {
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', RECORDINGS_PATH: recordingsPath });
    annBrowser = await launchChromium({ audioFile: await beepWav(join(dir, 'ann.wav'), 500) });
    benBrowser = await launchChromium({ audioFile: await beepWav(join(dir, 'ben.wav'), 1500) });
  });
  after(async () => {
    for (const [i, p] of pages.entries()) saveConsoleLog(`recording-rest-${i}`, p.console);
    await annBrowser?.close();
    await benBrowser?.close();
    await server?.close();
  });

  const producers = async () => (await server.parley.media.room(room)).producers();
  const post = (path: string, body: unknown) => request(`${server.url}${path}`, { body });

  test('start, 409, a late joiner and a leaver, stop with size, list filters, Range, delete then 404', async (t) => {
    const ann = await openVoicePage(annBrowser, server.url, room, 'ann');
    pages.push(ann);
    const annPeer = await peerIdOf(ann.page);
    await waitFor('ann producing', async () => (await producers()).some((p) => p.peerId === annPeer));

    const notYet = await post('/recordings/stop', { roomName: room });
    assert.equal(notYet.status, 409, 'stop without a start');
    const empty = await post('/recordings/start', { roomName: `nobody-${process.pid}` });
    assert.equal(empty.status, 404, 'a room nobody is in cannot be recorded');
    assert.match(empty.body.error.message, /nobody/);

    const started = await post('/recordings/start', { roomName: room });
    const startedLocal = Date.now();
    assert.equal(started.status, 200, JSON.stringify(started.body));
    assert.equal(started.body.message, 'Recording started');
    assert.match(started.body.recording.name, /\.mp4$/);
    assert.ok(Math.abs(started.body.recording.startedAt - startedLocal) < 2000, 'startedAt is Unix ms');
    const name = started.body.recording.name as string;
    const again = await post('/recordings/start', { roomName: room });
    assert.equal(again.status, 409, 'second start');

    // Ann alone for ~2.5 s, then Ben joins…
    await new Promise((r) => setTimeout(r, 2500));
    const ben = await openVoicePage(benBrowser, server.url, room, 'ben');
    pages.push(ben);
    const benPeer = await peerIdOf(ben.page);
    await waitFor('ben producing', async () => (await producers()).some((p) => p.peerId === benPeer));
    const benJoinedS = (Date.now() - started.body.recording.startedAt) / 1000;
    // …both for ~3.5 s, then Ben leaves…
    await new Promise((r) => setTimeout(r, 3500));
    await ben.page.close();
    await waitFor('ben gone', async () => !(await producers()).some((p) => p.peerId === benPeer));
    const benLeftS = (Date.now() - started.body.recording.startedAt) / 1000;
    // …and Ann alone again for ~2 s.
    await new Promise((r) => setTimeout(r, 2000));

    const stopSentAt = Date.now();
    const stopped = await post('/recordings/stop', { roomName: room });
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    assert.equal(stopped.body.message, 'Recording stopped');
    assert.equal(stopped.body.recording.name, name);
    assert.equal(stopped.body.recording.startedAt, started.body.recording.startedAt);
    assert.ok(stopped.body.recording.size > 0, 'size > 0');
    assert.equal((await post('/recordings/stop', { roomName: room })).status, 409, 'stop after stop');
    const callS = (stopSentAt - started.body.recording.startedAt) / 1000;

    // List and its filters.
    const all = await request(`${server.url}/recordings`);
    assert.equal(all.status, 200);
    const item = all.body.recordings.find((r: { name: string }) => r.name === name);
    assert.ok(item, JSON.stringify(all.body));
    assert.deepEqual(
      { id: typeof item.id, name: item.name, roomName: item.roomName, roomId: typeof item.roomId, startedAt: item.startedAt, size: item.size },
      { id: 'string', name, roomName: room, roomId: 'string', startedAt: started.body.recording.startedAt, size: stopped.body.recording.size },
    );
    assert.equal((await request(`${server.url}/recordings?roomName=${room}`)).body.recordings.length, 1);
    assert.equal((await request(`${server.url}/recordings?roomName=other-${room}`)).body.recordings.length, 0);
    assert.equal((await request(`${server.url}/recordings?roomId=${item.roomId}`)).body.recordings.length, 1);
    assert.equal((await request(`${server.url}/recordings?roomName=${room}&roomId=RM_nope`)).body.recordings.length, 0);

    // The whole file, then byte ranges.
    const whole = await fetch(`${server.url}/recordings/${name}`);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-type'), 'video/mp4');
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    const bytes = Buffer.from(await whole.arrayBuffer());
    assert.equal(bytes.length, stopped.body.recording.size);
    const part = await fetch(`${server.url}/recordings/${name}`, { headers: { range: 'bytes=100-1099' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 100-1099/${bytes.length}`);
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 1100)), 'the exact bytes 100…1099');
    const tail = await fetch(`${server.url}/recordings/${name}`, { headers: { range: 'bytes=-500' } });
    assert.equal(tail.status, 206);
    assert.equal(tail.headers.get('content-range'), `bytes ${bytes.length - 500}-${bytes.length - 1}/${bytes.length}`);
    assert.ok(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(bytes.length - 500)));
    const open = await fetch(`${server.url}/recordings/${name}`, { headers: { range: 'bytes=1000-' } });
    assert.equal(open.status, 206);
    assert.ok(Buffer.from(await open.arrayBuffer()).equals(bytes.subarray(1000)));
    const beyond = await fetch(`${server.url}/recordings/${name}`, { headers: { range: `bytes=${bytes.length + 10}-` } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${bytes.length}`);

    // The mixed file: MP4/AAC as long as the call, Ann alone, both, Ann alone.
    const mixPath = join(dir, name);
    writeFileSync(mixPath, bytes);
    assert.deepEqual(await probeStream(mixPath), { codec: 'aac', format: 'mov,mp4,m4a,3gp,3g2,mj2' });
    const mixS = await probeDuration(mixPath);
    assert.ok(Math.abs(mixS - callS) < 0.5, `mix lasts ${mixS} s, the call ${callS} s`);

    // Each participant's track: Opus in WebM as sent, with that participant's beeps.
    assert.equal(item.tracks.length, 2, JSON.stringify(item.tracks));
    const annTrack = item.tracks.find((t: { peerId: string }) => t.peerId === annPeer);
    const benTrack = item.tracks.find((t: { peerId: string }) => t.peerId === benPeer);
    assert.equal(annTrack.name, 'ann');
    assert.equal(benTrack.name, 'ben');
    assert.ok(annTrack.offsetMs < 500, `ann was there from the start (offset ${annTrack.offsetMs} ms)`);
    assert.ok(Math.abs(benTrack.offsetMs / 1000 - benJoinedS) < 0.5, `ben placed at ${benTrack.offsetMs} ms, joined at ${benJoinedS} s`);
    assert.ok(Math.abs((benTrack.offsetMs + benTrack.durationMs) / 1000 - benLeftS) < 0.7, `ben's track ends at ${(benTrack.offsetMs + benTrack.durationMs) / 1000} s, he left at ${benLeftS} s`);
    for (const [track, freq, other] of [[annTrack, 500, 1500], [benTrack, 1500, 500]] as const) {
      const res = await fetch(`${server.url}/recordings/${name}/tracks/${track.id}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'audio/webm');
      const path = join(dir, `${track.id}.webm`);
      writeFileSync(path, Buffer.from(await res.arrayBuffer()));
      assert.deepEqual(await probeStream(path), { codec: 'opus', format: 'matroska,webm' });
      assert.ok(Math.abs((await probeDuration(path)) * 1000 - track.durationMs) < 500, `${track.name}: ffprobe agrees with the listed duration`);
      const pcm = await decodePcm(path, RATE);
      const own = toneLevel(pcm, RATE, freq, 0.5, track.durationMs / 1000 - 0.3);
      const foreign = toneLevel(pcm, RATE, other, 0.5, track.durationMs / 1000 - 0.3);
      assert.ok(own > 0.02 && own > 5 * foreign, `${track.name}'s track carries their ${freq} Hz (${own.toFixed(4)}) and not the other's (${foreign.toFixed(4)})`);
    }

    const mix = await decodePcm(mixPath, RATE);
    const level = (f: number, a: number, b: number) => toneLevel(mix, RATE, f, a, b);
    const annAlone = { ann: level(500, 0.5, benJoinedS - 0.5), ben: level(1500, 0.5, benJoinedS - 0.5) };
    const both = { ann: level(500, benJoinedS + 0.5, benLeftS - 0.5), ben: level(1500, benJoinedS + 0.5, benLeftS - 0.5) };
    const annAgain = { ann: level(500, benLeftS + 0.5, callS - 0.3), ben: level(1500, benLeftS + 0.5, callS - 0.3) };
    const say = JSON.stringify({ annAlone, both, annAgain, benJoinedS, benLeftS, callS });
    t.diagnostic(`levels ${say}; mix ${mixS.toFixed(3)} s; tracks ${JSON.stringify(item.tracks.map((x: { name: string; offsetMs: number; durationMs: number }) => [x.name, x.offsetMs, x.durationMs]))}`);
    assert.ok(annAlone.ann > 0.02 && annAlone.ben < annAlone.ann / 5, `before Ben joined only Ann is in the mix: ${say}`);
    assert.ok(both.ann > 0.02 && both.ben > 0.02, `while both were there the mix has both: ${say}`);
    assert.ok(annAgain.ann > 0.02 && annAgain.ben < annAgain.ann / 5, `after Ben left only Ann is in the mix: ${say}`);

    // Delete: files and metadata gone, then 404.
    const deleted = await request(`${server.url}/recordings/${name}`, { method: 'DELETE' });
    assert.equal(deleted.status, 200);
    assert.deepEqual(deleted.body, { message: 'Recording deleted' });
    assert.equal((await request(`${server.url}/recordings/${name}`)).status, 404);
    assert.equal((await request(`${server.url}/recordings/${name}`, { method: 'DELETE' })).status, 404);
    assert.equal((await request(`${server.url}/recordings?roomName=${room}`)).body.recordings.length, 0);
    const left = existsSync(recordingsPath) ? readdirSync(recordingsPath, { recursive: true }).filter((f) => !String(f).startsWith('.work')) : [];
    assert.deepEqual(left.filter((f) => String(f).endsWith('.mp4') || String(f).endsWith('.webm')), [], 'no file of the recording is left on disk');
  });
});
