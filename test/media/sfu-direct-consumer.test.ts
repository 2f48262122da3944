/**
 * Server-side media API end to end: real Chromium with the stock mediasoup-client produces a
 * microphone (a WAV of 800 Hz tone bursts) into a room; server code sees it on the room
 * observer with the client's appData, opens a direct consumer and reads it in the audio
 * pipeline worker as 16 kHz frames; the page leaves and the consumer and the track end with
 * 'producer-closed'.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { frameDurationMs, type AudioFrame } from '../../src/media/audio/audioFrame.js';
import { AudioPipeline } from '../../src/media/audio/audioPipeline.js';
import { isGap, type AudioItem, type TrackClock } from '../../src/media/audio/audioTrack.js';
import type { ProducerInfo } from '../../src/sfu/worker/protocol.js';
import { launchChromium, saveConsoleLog, type OpenedPage } from '../support/browser.js';
import { startParley, type RunningParley } from '../support/parleyServer.js';
import { openVoicePage, peerIdOf } from '../support/voicePage.js';

const TONE_HZ = 800;

/** 400 ms of an 800 Hz tone, 400 ms of silence, for 8 s (Chromium loops the file). */
function toneBurstWav(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'parley-tone-')), 'bursts-48k.wav');
  execFileSync('sox', ['-n', '-r', '48000', '-c', '1', '-b', '16', file, 'synth', '0.4', 'sine', String(TONE_HZ), 'vol', '0.5', 'pad', '0', '0.4', 'repeat', '9'], { timeout: 20_000 });
  return file;
}

function rms(x: Int16Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / x.length);
}

/** Amplitude (as RMS) of one frequency in x (Goertzel). */
function toneLevel(x: Int16Array, freq: number, rate: number): number {
  const c = 2 * Math.cos((2 * Math.PI * freq) / rate);
  let s1 = 0;
  let s2 = 0;
  for (const v of x) {
    const s = v + c * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return Math.sqrt((2 * (s1 * s1 + s2 * s2 - c * s1 * s2)) / x.length) / Math.SQRT2;
}

describe('server-side media API: observer, direct consumer, audio pipeline worker', { timeout: 90_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  let pipeline: AudioPipeline;
  let page: OpenedPage | undefined;

  before(async () => {
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1' });
    browser = await launchChromium({ audioFile: toneBurstWav() });
    pipeline = new AudioPipeline();
  });
  after(async () => {
    if (page) saveConsoleLog('sfu-direct-consumer', page.console);
    await pipeline?.close();
    await browser?.close();
    await server?.close();
  });

  test('a browser microphone read off the main thread: 16 kHz frames of the tone, wall clock from the sender report, producer-closed at the end', async () => {
    const roomId = 'captions-room';
    const room = await server.parley.media.room(roomId);
    const joined: string[] = [];
    const left: string[] = [];
    const closedProducers: string[] = [];
    room.observer.on('peerjoined', ({ peerId }) => joined.push(peerId));
    room.observer.on('peerleft', ({ peerId }) => left.push(peerId));
    room.observer.on('producerclose', ({ producerId }) => closedProducers.push(producerId));
    const newAudio = new Promise<ProducerInfo>((resolve) => room.observer.on('newproducer', (p) => p.kind === 'audio' && resolve(p)));

    page = await openVoicePage(browser, server.url, roomId, 'speaker');
    const speaker = await peerIdOf(page.page);
    const mic = await newAudio;
    // (d) the client's appData from mediasoup-client's produce() reaches server code.
    assert.equal(mic.peerId, speaker);
    assert.equal(mic.appData.source, 'mic', JSON.stringify(mic.appData));
    assert.equal(mic.direct, false);
    assert.deepEqual(joined, [speaker]);
    assert.equal((await room.producers()).find((p) => p.producerId === mic.producerId)?.appData.source, 'mic');

    const consumer = await room.createDirectConsumer(mic.producerId, { appData: { purpose: 'captions' } });
    const consumerClosed = new Promise<string>((resolve) => consumer.observer.once('close', resolve));
    const track = pipeline.read(consumer, { sampleRate: 16000 });
    const clocks: TrackClock[] = [];
    track.on('clock', (c) => clocks.push(c));

    const items: AudioItem[] = [];
    let firstAt = 0;
    let windowEnd = 0;
    const reading = (async () => {
      for await (const item of track) {
        if (items.length === 0) firstAt = performance.now();
        items.push(item);
      }
    })();

    // Read for 4 s of wall time after the first frame, and at least until a sender report placed the clock.
    const deadline = performance.now() + 30_000;
    while (performance.now() < deadline && (items.length === 0 || performance.now() - firstAt < 4000 || !clocks.some((c) => c.source === 'sender-report'))) {
      await new Promise((r) => setTimeout(r, 100));
    }
    windowEnd = performance.now();
    const inWindow = items.slice();
    assert.equal(track.info?.producerId, mic.producerId);
    assert.equal(track.info?.producerAppData.source, 'mic');

    // Duration: the frames (and gaps) cover the time that passed.
    const frames = inWindow.filter((i): i is AudioFrame => !isGap(i));
    assert.ok(frames.length > 100, `${frames.length} frames`);
    assert.ok(frames.every((f) => f.sampleRate === 16000 && f.channels === 1 && f.data.length === f.samplesPerChannel));
    const covered = inWindow.reduce((s, i) => s + (isGap(i) ? i.durationMs : frameDurationMs(i)), 0);
    const wall = windowEnd - firstAt;
    // Nothing lost (the frames cover the time read); a loaded machine may hand over a backlog from
    // before the first frame was read, so the upper bound allows for that catch-up.
    assert.ok(covered > 0.9 * wall - 150 && covered < wall + 1500, `audio covers ${covered.toFixed(0)} ms of ${wall.toFixed(0)} ms read`);
    const span = inWindow.at(-1)!.timestampMs - inWindow[0]!.timestampMs;
    assert.ok(Math.abs(span - covered) < 0.1 * covered + 100, `media time spans ${span.toFixed(0)} ms for ${covered.toFixed(0)} ms of audio`);

    // Content: in 100 ms windows, loud ones are the 800 Hz tone; about half are loud (400 on / 400 off). The
    // windows do not line up with the beeps, so a beep touches five windows and its fading tail a sixth: up to
    // 6 of every 8 windows can be loud, and a stream that never goes quiet (8 of 8) still fails.
    const pcm = new Int16Array(frames.reduce((n, f) => n + f.data.length, 0));
    let o = 0;
    for (const f of frames) {
      pcm.set(f.data, o);
      o += f.data.length;
    }
    const win = 1600;
    let loud = 0;
    let toned = 0;
    let total = 0;
    const levels = [];
    for (let i = 0; i + win <= pcm.length; i += win) {
      const w = pcm.subarray(i, i + win);
      const level = rms(w);
      levels.push(Math.round(level));
      total++;
      if (level < 300) continue;
      loud++;
      if (toneLevel(w, TONE_HZ, 16000) > 0.6 * level) toned++;
    }
    assert.ok(loud / total > 0.25 && loud / total <= 0.8, `loud windows ${loud}/${total}: ${levels.join(' ')}`);
    assert.ok(toned / loud > 0.8, `${toned} of ${loud} loud windows are the ${TONE_HZ} Hz tone`);

    // Wall clock: after the first sender report, media time is on the sender's NTP timeline.
    const sr = clocks.find((c) => c.source === 'sender-report');
    assert.ok(sr?.senderReport, `clock: ${JSON.stringify(clocks)}`);
    assert.ok(Math.abs(sr.senderReport.ntpMs - sr.senderReport.receivedAtMs) < 2000, 'the sender report is on this machine\'s clock');
    const last = frames.at(-1)!;
    const lastWall = sr.roomStartedAtMs + last.timestampMs;
    assert.ok(Math.abs(Date.now() - lastWall) < 1500, `last frame at wall clock ${new Date(lastWall).toISOString()}`);

    // (b) the producer goes (the page leaves): the consumer and the track end with the reason.
    await page.page.close();
    assert.equal(await consumerClosed, 'producer-closed');
    assert.equal(await track.ended, 'producer-closed');
    await reading;
    assert.ok(closedProducers.includes(mic.producerId));
    const until = Date.now() + 10_000;
    while (!left.includes(speaker) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(left, [speaker]);
  });
});
