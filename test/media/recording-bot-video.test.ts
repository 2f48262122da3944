/**
 * What a room holds besides browser microphones is recorded too: a server-side (direct)
 * producer, the way the AI bot speaks (a direct producer fed by the media worker's paced writer,
 * `RoomMedia.createPacedWriter`, exactly as AgentSession does: Opus encoding and 20 ms pacing on the
 * worker's thread), and a camera. Ann's Chromium page sends its fake camera (VP8) and a 500 Hz beeping
 * microphone; the bot says a steady 1500 Hz. The files are measured as a viewer would:
 * the bot's track has its tone, Ann's video track is VP8 in WebM as produced, and the mixed
 * MP4 carries H.264 video (a picture, not black) beside AAC audio with both voices, as long
 * as the call.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { DirectProducerHandle } from '../../src/sfu/roomMedia.js';
import type { PacedWriterHandle } from '../../src/sfu/pacedWriterHandle.js';
import { launchChromium, saveConsoleLog, type OpenedPage } from '../support/browser.js';
import { request, startParley, type RunningParley } from '../support/parleyServer.js';
import { waitFor } from '../support/polling.js';
import { openVoicePage, peerIdOf } from '../support/voicePage.js';
import { beepWav, decodePcm, probeDuration, toneLevel } from '../recording-audio.js';

const run = promisify(execFile);
const RATE = 8000;

async function streams(path: string): Promise<Array<{ codec_type: string; codec_name: string; width?: number; height?: number }>> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name,width,height', '-of', 'json', path]);
  return (JSON.parse(stdout) as { streams: Array<{ codec_type: string; codec_name: string; width?: number; height?: number }> }).streams;
}

/** Spread of the luma (standard deviation, 0…255) of the picture at `atS` seconds: 0 for a plain black frame. */
async function lumaSpread(path: string, atS: number): Promise<number> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-ss', String(atS), '-i', path, '-frames:v', '1', '-vf', 'scale=64:48', '-pix_fmt', 'gray', '-f', 'rawvideo', '-'], { encoding: 'buffer', maxBuffer: 1024 * 1024 });
  assert.ok(stdout.length > 0, `a picture at ${atS} s`);
  let sum = 0;
  let sq = 0;
  for (const v of stdout) {
    sum += v;
    sq += v * v;
  }
  const mean = sum / stdout.length;
  return Math.sqrt(Math.max(0, sq / stdout.length - mean * mean));
}

describe('recording a direct producer (the bot\'s voice) and video', { timeout: 180_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  let page: OpenedPage | undefined;
  let bot: DirectProducerHandle | undefined;
  let writer: PacedWriterHandle | undefined;
  const room = `rec-bot-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'parley-rec-bot-'));

  before(async () => {
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', RECORDINGS_PATH: join(dir, 'recordings') });
    browser = await launchChromium({ audioFile: await beepWav(join(dir, 'ann.wav'), 500) });
  });
  after(async () => {
    if (page) saveConsoleLog('recording-bot-video', page.console);
    await writer?.close();
    await bot?.close();
    await browser?.close();
    await server?.close();
  });

  test('the bot\'s track has its voice; the camera is a VP8 track; the MP4 has H.264 video and both voices', async (t) => {
    page = await openVoicePage(browser, server.url, room, 'ann', { video: true });
    const annPeer = await peerIdOf(page.page);
    const media = await server.parley.media.room(room);
    await waitFor('ann producing audio and video', async () => {
      const mine = (await media.producers()).filter((p) => p.peerId === annPeer);
      return mine.some((p) => p.kind === 'audio') && mine.some((p) => p.kind === 'video');
    });

    // The bot, exactly as AgentSession speaks: a direct producer fed by the media worker's paced writer.
    const ssrc = 0x1234_5678;
    bot = await media.createDirectProducer('bot-test', {
      kind: 'audio',
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48_000, channels: 2 }], encodings: [{ ssrc }] },
      appData: { source: 'bot', role: 'bot' },
    });
    writer = await media.createPacedWriter(bot, { ssrc, payloadType: 111 });
    const firstPacket = new Promise<{ atMs: number }>((resolve) => writer!.once('playout-start', resolve));
    const tone = new Int16Array(16_000 * 30);
    for (let i = 0; i < tone.length; i++) tone[i] = Math.round(9000 * Math.sin((2 * Math.PI * 1500 * i) / 16_000));
    writer.push(tone, 16_000);
    // The worker says when its first packet went out: the voice below is the worker's, not an in-process writer's.
    await firstPacket;
    assert.equal(writer.playing, true, 'the worker is still sending the 30 s tone');

    const started = await request(`${server.url}/recordings/start`, { body: { roomName: room } });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const name = started.body.recording.name as string;
    const startedAt = started.body.recording.startedAt as number;
    await new Promise((r) => setTimeout(r, 6000));
    const stopSentAt = Date.now();
    const stopped = await request(`${server.url}/recordings/stop`, { body: { roomName: room } });
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    const callS = (stopSentAt - startedAt) / 1000;

    const item = (await request(`${server.url}/recordings?roomName=${room}`)).body.recordings.find((r: { name: string }) => r.name === name);
    assert.ok(item, 'listed');
    const tracks = item.tracks as Array<{ id: string; peerId: string; kind: string; offsetMs: number; durationMs: number }>;
    t.diagnostic(`tracks ${JSON.stringify(tracks.map((x) => [x.peerId, x.kind, x.offsetMs, x.durationMs]))}`);
    const botTrack = tracks.find((x) => x.peerId === 'bot-test');
    assert.ok(botTrack, `the bot's voice is a track of its own: ${JSON.stringify(tracks)}`);
    assert.equal(botTrack.kind, 'audio');
    const annAudio = tracks.find((x) => x.peerId === annPeer && x.kind === 'audio');
    const annVideo = tracks.find((x) => x.peerId === annPeer && x.kind === 'video');
    assert.ok(annAudio && annVideo, `ann's microphone and camera are both tracks: ${JSON.stringify(tracks)}`);

    const fetchTrack = async (id: string, ext: string): Promise<{ path: string; type: string | null }> => {
      const res = await fetch(`${server.url}/recordings/${name}/tracks/${id}`);
      assert.equal(res.status, 200);
      const path = join(dir, `${id}.${ext}`);
      writeFileSync(path, Buffer.from(await res.arrayBuffer()));
      return { path, type: res.headers.get('content-type') };
    };

    const botFile = await fetchTrack(botTrack.id, 'webm');
    assert.equal(botFile.type, 'audio/webm');
    const botPcm = await decodePcm(botFile.path, RATE);
    const botOwn = toneLevel(botPcm, RATE, 1500, 0.3, botTrack.durationMs / 1000 - 0.3);
    assert.ok(botOwn > 0.05, `the bot's track carries its 1500 Hz voice (${botOwn.toFixed(4)})`);
    assert.ok(botTrack.durationMs > (callS - 1) * 1000, `the bot spoke through the whole recording (${botTrack.durationMs} ms of ${callS} s)`);

    const videoFile = await fetchTrack(annVideo.id, 'webm');
    assert.equal(videoFile.type, 'video/webm');
    const vs = await streams(videoFile.path);
    assert.equal(vs.length, 1);
    assert.equal(vs[0]!.codec_type, 'video');
    assert.equal(vs[0]!.codec_name, 'vp8', 'VP8 as produced: no transcode');
    assert.ok((vs[0]!.width ?? 0) > 0 && (vs[0]!.height ?? 0) > 0, `a picture size: ${JSON.stringify(vs[0])}`);
    const videoS = await probeDuration(videoFile.path);
    assert.ok(Math.abs(videoS * 1000 - annVideo.durationMs) < 700 && videoS > callS - 1.5, `the camera track lasts ${videoS} s (listed ${annVideo.durationMs} ms, call ${callS} s)`);

    const mixRes = await fetch(`${server.url}/recordings/${name}`);
    assert.equal(mixRes.status, 200);
    const mixPath = join(dir, name);
    writeFileSync(mixPath, Buffer.from(await mixRes.arrayBuffer()));
    const ms = await streams(mixPath);
    assert.deepEqual(ms.map((x) => `${x.codec_type}:${x.codec_name}`).sort(), ['audio:aac', 'video:h264'], JSON.stringify(ms));
    const mixS = await probeDuration(mixPath);
    assert.ok(Math.abs(mixS - callS) < 0.5, `the MP4 lasts ${mixS} s, the call ${callS} s`);
    const luma = await lumaSpread(mixPath, Math.min(3, callS / 2));
    assert.ok(luma > 8, `the MP4's picture is the camera, not a plain black frame (luma spread ${luma.toFixed(1)})`);
    const mix = await decodePcm(mixPath, RATE);
    const levels = { bot: toneLevel(mix, RATE, 1500, 0.5, callS - 0.5), ann: toneLevel(mix, RATE, 500, 0.5, callS - 0.5) };
    t.diagnostic(`mix ${mixS.toFixed(3)} s, luma ${luma.toFixed(1)}, levels ${JSON.stringify(levels)}`);
    assert.ok(levels.bot > 0.02 && levels.ann > 0.02, `the mix has the bot and Ann: ${JSON.stringify(levels)}`);
  });
});
