/**
 * A real AI-first consultation is recorded with the bot's voice: a customer who agreed to
 * recording calls an ai_first entry point that records, from the real customer page in
 * Chromium; the AI assistant (the embedded knowledge-base model, espeak-ng's voice) answers in
 * the call's own room and greets first. The customer's microphone is a steady 500 Hz tone, so
 * anything else in the mix is the bot. After the customer hangs up, the recording holds the
 * customer's track and the bot's (named as the AI assistant, with the energy of its greeting),
 * and the mixed file carries the bot's voice where the bot spoke and not where it was silent.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { artifactsDir, launchChromium, saveScreenshot, waitForParleyState } from '../support/browser.js';
import { firstAdmin } from '../support/consultation.js';
import { request, startParley, type RunningParley } from '../support/parleyServer.js';
import { waitFor } from '../support/polling.js';
import { assertNotBlank, PHONE } from '../support/uiPages.js';
import { beepWav, decodePcm, residualRms, rms, toneLevel } from '../recording-audio.js';

interface Track { id: string; peerId: string; name: string; role: string; kind: 'audio' | 'video'; offsetMs: number; durationMs: number; key?: string }
interface Row { name: string; status: string; durationMs: number | null; tracks: Track[] }

const RATE = 8000;

describe('an AI-first consultation is recorded with the bot\'s voice', { timeout: 240_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), 'parley-rec-ai-'));
  const recordings = join(dir, 'recordings');
  const serverLog: string[] = [];

  before(async () => {
    // A steady tone (no gaps): the bot's voice is what is left of the mix without it.
    const mic = await beepWav(join(dir, 'customer.wav'), 500, 60, 60, 0);
    server = await startParley({ AGENT_LLM: 'knowledge-base', AGENT_TTS: 'espeak', STT_ENGINE: 'pocketsphinx', STT_POCKETSPHINX_DECODERS: '1', STT_LANGUAGE: 'en', MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', RECORDINGS_PATH: recordings, LOG_LEVEL: 'info' }, {}, serverLog);
    browser = await launchChromium({ audioFile: mic });
  });
  after(async () => {
    writeFileSync(join(artifactsDir(), 'recording-ai-first-server.log'), serverLog.join('\n'));
    await browser?.close();
    await server?.close();
  });

  test('the customer\'s and the bot\'s tracks, the bot\'s with its greeting; the mix has the bot\'s voice', async (t) => {
    const admin = await firstAdmin(server.url);
    const made = await request(`${server.url}/api/v1/entry-points`, { token: admin.token, body: { name: 'AI recorded desk', ttlHours: 24, routing: 'ai_first', captions: 'off' } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const epId = made.body.entryPoint.id as string;
    const on = await request(`${server.url}/api/v1/entry-points/${epId}/recording`, { method: 'PUT', token: admin.token, body: { recording: 'on' } });
    assert.equal(on.status, 200, JSON.stringify(on.body));
    const entryUrl = new URL(made.body.entryPoint.url as string);

    const customer = await (await browser.newContext({ viewport: PHONE, locale: 'en-US' })).newPage();
    await customer.goto(`${server.url}${entryUrl.pathname}${entryUrl.search}`, { waitUntil: 'load' });
    await waitForParleyState(customer, 'form');
    await customer.fill('#name', 'Han Recorded');
    await customer.fill('#phone', '010-5555-6666');
    await customer.check('#consent');
    await customer.click('#call');
    await waitForParleyState(customer, 'in-call', 30_000);
    await customer.waitForFunction(() => document.querySelector<HTMLElement>('#status')?.dataset.assistant === 'talking', undefined, { timeout: 15_000 });
    await customer.locator('#recording-banner[data-status="recording"]').waitFor({ timeout: 20_000 });
    assertNotBlank(await saveScreenshot(customer, 'recording-ai-first-customer'));
    const consultationId = await customer.evaluate(() => (window as unknown as { parley: { consultationId: string } }).parley.consultationId);

    // Until the bot has greeted and gone quiet while the customer's tone goes on: one scratch
    // track that stopped growing (the bot: nothing is sent between its sentences), one growing.
    const work = join(recordings, '.work');
    const history: Array<Map<string, number>> = [];
    await waitFor(
      'the bot greeted and went quiet while the customer goes on',
      async () => {
        await new Promise((r) => setTimeout(r, 450)); // a sample every ~500 ms (the probe's own pace)
        const now = new Map(readdirSync(work, { recursive: true }).map(String).filter((f) => f.endsWith('.webm')).map((f) => [f, statSync(join(work, f)).size] as const));
        history.push(now);
        const then = history.length > 6 ? history[history.length - 7]! : undefined; // ~3 s ago (500 ms polls)
        if (!then || now.size < 2) return false;
        const grew = [...now].filter(([f, size]) => size > (then.get(f) ?? 0));
        const quiet = [...now].filter(([f, size]) => size > 4000 && size === then.get(f));
        return grew.length >= 1 && quiet.length >= 1;
      },
      90_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; scratch sizes: ${JSON.stringify([...(history.at(-1) ?? new Map())])}`);
    });

    await customer.click('#hangup');
    await waitForParleyState(customer, 'ended', 15_000);
    const roomName = `call-${consultationId}`;
    const row = await waitFor('the recording is ready', async () => ((await request(`${server.url}/recordings?roomName=${roomName}`, { token: admin.token })).body.recordings as Row[]).find((r) => r.status !== 'recording' && r.status !== 'finalizing'), 60_000);
    assert.equal(row.status, 'ready', JSON.stringify(row));
    const bot = row.tracks.find((t) => t.role === 'bot');
    const caller = row.tracks.find((t) => t.role === 'customer');
    assert.ok(bot, `the bot's track is in the recording: ${JSON.stringify(row.tracks)}`);
    assert.ok(caller, `the customer's track is in the recording: ${JSON.stringify(row.tracks)}`);
    assert.equal(bot.name, 'AI assistant');

    // The bot's track: its greeting has energy.
    const botPcm = await decodePcm(join(recordings, bot.key ?? `${row.name.replace(/\.mp4$/, '')}/${bot.id}.webm`), RATE);
    const botLevel = rms(botPcm, RATE, 0, botPcm.length / RATE);
    assert.ok(botLevel > 0.01, `the bot's track has its voice (rms ${botLevel})`);
    const callerPcm = await decodePcm(join(recordings, caller.key ?? `${row.name.replace(/\.mp4$/, '')}/${caller.id}.webm`), RATE);
    assert.ok(toneLevel(callerPcm, RATE, 500, 0.5, callerPcm.length / RATE - 0.5) > 0.05, "the customer's track has their tone");

    // The mix: where the bot spoke, more than the customer's tone; where it was silent, the tone alone.
    const mix = await decodePcm(join(recordings, row.name), RATE);
    const loudest = loudestSecond(botPcm);
    const botAt = bot.offsetMs / 1000 + loudest;
    const botEnd = (bot.offsetMs + bot.durationMs) / 1000;
    const mixEnd = mix.length / RATE;
    assert.ok(mixEnd - botEnd > 1.5, `the call went on after the bot's last word (bot until ${botEnd} s, mix ${mixEnd} s)`);
    const voiced = residualRms(mix, RATE, 500, botAt, botAt + 1);
    const quiet = residualRms(mix, RATE, 500, botEnd + 0.3, Math.min(mixEnd - 0.2, botEnd + 1.3));
    assert.ok(voiced > 0.01 && voiced > 3 * quiet, `the mix has the bot's voice at ${botAt} s (rest ${voiced}) above the tone alone after it (${quiet})`);
    t.diagnostic(`bot rms ${botLevel.toFixed(3)}; mix without the tone: ${voiced.toFixed(4)} where the bot spoke, ${quiet.toFixed(4)} after it; tracks ${row.tracks.map((x) => `${x.role}:${x.kind}:${x.durationMs}ms`).join(', ')}; call ${row.durationMs} ms`);
    assert.ok(toneLevel(mix, RATE, 500, botEnd + 0.3, Math.min(mixEnd - 0.2, botEnd + 1.3)) > 0.02, "and the customer's tone");
  });
});

/** Start (s) of the loudest second of a track. */
function loudestSecond(pcm: Float32Array): number {
  let best = 0;
  let at = 0;
  for (let s = 0; s + 1 <= pcm.length / RATE; s += 0.25) {
    const level = rms(pcm, RATE, s, s + 1);
    if (level > best) {
      best = level;
      at = s;
    }
  }
  return at;
}
