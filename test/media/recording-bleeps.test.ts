/**
 * Profanity bleeped in recordings: a /voice room is captioned by the OpenAI-compatible test
 * engine, which hears "fuck this refund" in every utterance, with word times. Each masked
 * word's time becomes a 1 kHz tone of the same length in the mixed MP4 and in the speaker's
 * own track; the speech under it is gone, the words around it are kept, and no unbleeped
 * original is left on disk.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { MessagePort } from 'node:worker_threads';
import type { Browser } from 'playwright-core';
import { startOpenAIServer, type OpenAITestServer } from '../ai-openaiServer.js';
import { launchChromium, saveConsoleLog, type OpenedPage } from '../support/browser.js';
import { firstAdmin } from '../support/consultation.js';
import { request, startParley, type RunningParley } from '../support/parleyServer.js';
import { waitFor } from '../support/polling.js';
import { openVoicePage } from '../support/voicePage.js';
import { decodePcm, residualRms, rms, toneLevel } from '../recording-audio.js';
import type { DirectConsumerMessage } from '../../src/sfu/directPort.js';

const RATE = 8000;

/** The room's media time 0 (Unix ms), as a direct consumer's start message gives it to captions and the recorder. */
async function roomZero(server: RunningParley, roomName: string): Promise<number> {
  const media = await server.parley.media.room(roomName);
  const mic = (await media.producers()).find((p) => p.kind === 'audio');
  assert.ok(mic, 'a microphone in the room');
  let reader!: MessagePort;
  const consumer = await media.createDirectConsumer(mic.producerId, { appData: { purpose: 'test' }, transferReader: (port) => (reader = port) });
  try {
    return await new Promise<number>((resolve, reject) => {
      reader.once('message', (m: DirectConsumerMessage) => (m.type === 'start' ? resolve(m.roomStartedAtMs) : reject(new Error(`the first message was ${m.type}`))));
    });
  } finally {
    reader.close();
    await consumer.close();
  }
}

describe('masked words are a 1 kHz tone in the recording', { timeout: 180_000 }, () => {
  let server: RunningParley;
  let openai: OpenAITestServer;
  let browser: Browser;
  let page: OpenedPage | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'parley-rec-bleep-'));
  const recordingsPath = join(dir, 'recordings');
  const room = `bleep-${process.pid}`;

  before(async () => {
    openai = await startOpenAIServer();
    openai.behave({ kind: 'ok', text: 'fuck this refund', language: 'english', words: [{ word: 'fuck', start: 0.1, end: 0.5 }, { word: 'this', start: 0.5, end: 0.8 }, { word: 'refund', start: 0.8, end: 1.4 }] });
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', STT_ENGINE: 'openai', STT_OPENAI_BASE_URL: openai.baseUrl, OPENAI_API_KEY: 'sk-test', STT_LANGUAGE: 'en', CAPTIONS_ALL_ROOMS: 'true', RECORDINGS_PATH: recordingsPath });
    browser = await launchChromium();
  });
  after(async () => {
    if (page) saveConsoleLog('recording-bleeps', page.console);
    await browser?.close();
    await server?.close();
    await openai?.close();
  });

  test('each masked span: tone in the mix and in the track, not the speech; the words around it kept', async (t) => {
    const admin = await firstAdmin(server.url);
    page = await openVoicePage(browser, server.url, room, 'ann');
    await waitFor('ann producing', async () => (await (await server.parley.media.room(room)).producers()).length > 0);
    const started = await request(`${server.url}/recordings/start`, { body: { roomName: room } });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const since = started.body.recording.startedAt as number;
    // The room's media time 0 (utterance times are ms after it), from a reader of Ann's microphone of our own.
    const zero = await roomZero(server, room);
    // Once Ann's track holds audio (more than the WebM header, a few hundred bytes), anything she begins saying is in it.
    const work = join(recordingsPath, '.work');
    await waitFor('ann\'s track holds audio', async () => readdirSync(work, { recursive: true }).map(String).some((f) => f.endsWith('.webm') && statSync(join(work, f)).size > 1500), 30_000);
    const audioFrom = Date.now();
    // Speak until an utterance begun after that is in the transcript. Stored since the start is not enough: the fake
    // microphone's speech runs on, so the VAD cuts it at VAD_MAX_SPEECH_MS (20 s), and on a loaded machine the lines
    // stored first after the start were begun (and their masked word said) before the track began.
    let seen: Array<{ createdAt: string; text: string; startMs: number }> = [];
    await waitFor(
      'a masked utterance begun while the track recorded',
      async () => {
        // Two requests a second at most: the server answers 300 a minute (RATE_LIMIT_MAX), and a line takes ~20 s.
        await new Promise((r) => setTimeout(r, 450));
        const r = await request(`${server.url}/api/v1/rooms/${room}/transcript`, { token: admin.token });
        assert.notEqual(r.status, 429, 'polled within the rate limit');
        seen = r.body.utterances ?? [];
        return seen.filter((u) => Date.parse(u.createdAt) >= since && u.text.startsWith('****') && zero + u.startMs >= audioFrom).length >= 1;
      },
      90_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; room zero ${zero}, track audio from ${audioFrom}; stored: ${JSON.stringify(seen)}`);
    });
    t.diagnostic(`stop at ${Date.now() - since} ms; recording from ${since}, room zero ${zero}, track audio from ${audioFrom}; lines ${JSON.stringify(seen.map((u) => [zero + u.startMs - since, Date.parse(u.createdAt) - since, u.text]))}`);
    const stopped = await request(`${server.url}/recordings/stop`, { body: { roomName: room } });
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    assert.equal(stopped.body.recording.status, 'ready', JSON.stringify(stopped.body));
    const item = (await request(`${server.url}/recordings?roomName=${room}`)).body.recordings[0];
    const track = item.tracks[0];
    assert.ok(track.bleeps.length >= 1, `bleeps: ${JSON.stringify(track.bleeps)}; recording ${JSON.stringify(item)}; transcript ${JSON.stringify(seen)}`);
    // A word said before the recording started is cut at its start; every other lasts as long as the word.
    const whole = (track.bleeps as Array<{ startMs: number; endMs: number }>).filter((b) => b.startMs > track.offsetMs + 20 && b.endMs < track.offsetMs + track.durationMs - 20);
    assert.ok(whole.length >= 1, `bleeps: ${JSON.stringify(track.bleeps)}`);
    for (const b of whole) assert.ok(Math.abs(b.endMs - b.startMs - 400) <= 2, `each bleep lasts as long as the masked word (400 ms): ${JSON.stringify(b)}`);

    const name = item.name as string;
    const mixPath = join(dir, name);
    writeFileSync(mixPath, Buffer.from(await (await fetch(`${server.url}/recordings/${name}`)).arrayBuffer()));
    const trackPath = join(dir, 'ann.webm');
    writeFileSync(trackPath, Buffer.from(await (await fetch(`${server.url}/recordings/${name}/tracks/${track.id}`)).arrayBuffer()));
    const mix = await decodePcm(mixPath, RATE);
    const own = await decodePcm(trackPath, RATE);

    const rows: string[] = [];
    for (const b of whole) {
      // Inside the span (a margin for where the engine's clock and the recording's meet).
      const [from, to] = [(b.startMs + 80) / 1000, (b.endMs - 80) / 1000];
      // The next words ("this refund") are speech, unbleeped.
      const [sFrom, sTo] = [(b.endMs + 100) / 1000, (b.endMs + 800) / 1000];
      for (const [label, pcm, shift] of [['mix', mix, 0], ['track', own, track.offsetMs / 1000]] as const) {
        const tone = toneLevel(pcm, RATE, 1000, from - shift, to - shift);
        const left = residualRms(pcm, RATE, 1000, from - shift, to - shift);
        const speech = rms(pcm, RATE, sFrom - shift, sTo - shift);
        const speechTone = toneLevel(pcm, RATE, 1000, sFrom - shift, sTo - shift);
        rows.push(`${label} ${b.startMs}-${b.endMs}: tone ${tone.toFixed(3)} residual ${left.toFixed(4)} | after: speech rms ${speech.toFixed(4)} tone ${speechTone.toFixed(3)}`);
        assert.ok(tone > 0.2, `${label}: a 1 kHz tone fills the masked span (${rows.at(-1)})`);
        assert.ok(left < speech / 3, `${label}: no speech under the tone (${rows.at(-1)})`);
        assert.ok(speechTone < 0.05, `${label}: the words after it are not toned (${rows.at(-1)})`);
      }
    }
    t.diagnostic(rows.join('\n'));
    const files = readdirSync(recordingsPath, { recursive: true }).map(String);
    assert.deepEqual(files.filter((f) => f.includes('original')), [], 'no unbleeped original kept');
    assert.deepEqual(files.filter((f) => f.startsWith('.work') && f.endsWith('.webm')), [], 'no scratch track left');
  });
});
