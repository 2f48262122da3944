/**
 * The recording as people see it (issue 12, "Consultations"): a customer who agreed to
 * recording calls from the real customer page (English, phone-sized) and an agent answers on the
 * real console (Korean); both pages say the call is being recorded, from the server's
 * `recording` push. After the call the admin's call detail plays the mixed file from the
 * server (the <audio> element loads it and has a duration), shows a red mark per bleeped word,
 * offers each speaker's track, and a click on a transcript line moves the player to that line.
 * The speech engine is the OpenAI-compatible test server, which hears "fuck this refund" with
 * word times, so every utterance has a masked word to bleep.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startOpenAIServer, type OpenAITestServer } from '../ai-openaiServer.js';
import { artifactsDir, launchChromium, saveScreenshot, waitForParleyState } from '../support/browser.js';
import { callFrom, createAgent, createEntryPoint, firstAdmin, PASSWORD } from '../support/consultation.js';
import { request, startParley, type RunningParley } from '../support/parleyServer.js';
import { waitFor } from '../support/polling.js';
import { assertNotBlank, PHONE } from '../support/uiPages.js';

interface Track { id: string; name: string; bleeps: Array<{ startMs: number; endMs: number }>; roomStartedAt: number | null }
interface Row { name: string; status: string; startedAt: number; durationMs: number | null; tracks: Track[] }

describe('recording state on both sides, and the admin call detail plays the recording', { timeout: 240_000 }, () => {
  let server: RunningParley;
  let openai: OpenAITestServer;
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), 'parley-rec-ui-'));
  const serverLog: string[] = [];

  before(async () => {
    openai = await startOpenAIServer();
    openai.behave({ kind: 'ok', text: 'fuck this refund', language: 'english', words: [{ word: 'fuck', start: 0.1, end: 0.5 }, { word: 'this', start: 0.5, end: 0.8 }, { word: 'refund', start: 0.8, end: 1.4 }] });
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', STT_ENGINE: 'openai', STT_OPENAI_BASE_URL: openai.baseUrl, OPENAI_API_KEY: 'sk-test', STT_LANGUAGE: 'en', RECORDINGS_PATH: join(dir, 'recordings'), CONSULT_OFFER_TIMEOUT_MS: '30000' }, {}, serverLog);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await openai?.close();
  });

  /** A page in its own context, in a language (the microphone is Chromium's fake one, as in every media test). */
  async function pageIn(url: string, locale: string, viewport: { width: number; height: number }) {
    const page = await (await browser.newContext({ viewport, locale })).newPage();
    await page.goto(url, { waitUntil: 'load' });
    return page;
  }

  test('recorded, told on both pages; played, marked and seekable in the call detail', async () => {
    const admin = await firstAdmin(server.url);
    await createAgent(server.url, admin, 'Rec Page Agent');
    const ep = await createEntryPoint(server.url, admin, 'Counter 4');

    const agent = await pageIn(`${server.url}/agent/`, 'ko-KR', { width: 900, height: 800 });
    await agent.fill('#email', 'rec.page.agent@example.com');
    await agent.fill('#password', PASSWORD);
    await agent.click('#signin');
    await waitForParleyState(agent, 'ready');
    await agent.click('#state-available');
    const customer = await pageIn(`${server.url}/c/?e=${encodeURIComponent(ep.entryToken)}`, 'en-US', PHONE);
    await waitForParleyState(customer, 'form');
    await customer.fill('#name', 'Park Recorded');
    await customer.fill('#phone', '010-3333-4444');
    await customer.check('#consent');
    await customer.click('#call');
    await waitForParleyState(agent, 'offered', 15_000);
    await agent.click('#accept');
    await waitForParleyState(customer, 'in-call', 20_000);

    // Both sides are told, in their own language.
    for (const [label, page, sentence] of [['customer', customer, 'This call is being recorded.'], ['agent', agent, '녹음 중입니다.']] as const) {
      const banner = page.locator('#recording-banner[data-status="recording"]');
      await banner.waitFor({ timeout: 20_000 });
      assert.equal((await banner.innerText()).trim(), sentence, `${label}: the recording sentence`);
      assertNotBlank(await saveScreenshot(page, `recording-${label}-in-call`));
    }
    const consultationId = await customer.evaluate(() => (window as unknown as { parley: { consultationId?: string } }).parley.consultationId);
    assert.ok(consultationId);

    // Speak until two masked utterances are stored (each becomes a bleep).
    let seen: Array<{ text: string; speaker: { role: string } }> = [];
    await waitFor(
      'two masked utterances',
      async () => {
        const r = await request(`${server.url}/api/v1/consultations/${consultationId}/transcript`, { token: admin.token });
        seen = r.body.utterances ?? [];
        return seen.filter((u) => u.text.startsWith('****')).length >= 2;
      },
      60_000,
    ).catch(async (err: Error) => {
      const status = await customer.evaluate(() => JSON.stringify((window as unknown as { parley: { log: Array<{ event: string }> } }).parley.log.filter((e) => /caption|recording/.test(e.event))));
      writeFileSync(join(artifactsDir(), 'recording-ui-server.log'), serverLog.join('\n'));
      throw new Error(`${err.message}; stored: ${JSON.stringify(seen)}; engine asked ${openai.received.length}×; customer page: ${status}`);
    });
    // And until the recorder has written audio of both speakers (its scratch tracks grow while the call runs).
    const work = join(dir, 'recordings', '.work');
    await waitFor(
      'both scratch tracks hold audio',
      async () => {
        const files = readdirSync(work, { recursive: true }).map(String).filter((f) => f.endsWith('.webm'));
        return files.filter((f) => statSync(join(work, f)).size > 4000).length >= 2;
      },
      60_000,
    );
    await customer.click('#hangup');
    await waitForParleyState(customer, 'ended', 15_000);
    const row = await waitFor(
      'the recording is ready',
      async () => {
        const r = (await request(`${server.url}/recordings?roomName=${encodeURIComponent(String((await request(`${server.url}/api/v1/consultations/${consultationId}`, { token: admin.token })).body.consultation.roomId))}`, { token: admin.token })).body.recordings as Row[];
        return r.find((x) => x.status === 'ready');
      },
      60_000,
    );
    const bleeps = row.tracks.flatMap((t) => t.bleeps);
    if (bleeps.length === 0) {
      const stored = (await request(`${server.url}/api/v1/consultations/${consultationId}/transcript`, { token: admin.token })).body;
      writeFileSync(join(artifactsDir(), 'recording-ui-server.log'), serverLog.join('\n'));
      assert.fail(`no bleeps; recording ${JSON.stringify(row)}; transcript ${JSON.stringify(stored)}`);
    }
    assert.ok(row.tracks.every((t) => typeof t.roomStartedAt === 'number'), 'each track says where the transcript times start');

    // The admin's call detail.
    const dash = await pageIn(`${server.url}/admin/`, 'en-US', { width: 1100, height: 900 });
    await dash.fill('#email', 'admin@example.com');
    await dash.fill('#password', PASSWORD);
    await dash.click('#signin');
    await waitForParleyState(dash, 'ready');
    await dash.evaluate((id) => (location.hash = `#call/${id}`), consultationId);
    await dash.locator('#recording-audio').waitFor({ timeout: 20_000 });
    const duration = await dash.waitForFunction(() => {
      const a = document.querySelector<HTMLAudioElement>('#recording-audio');
      return a && Number.isFinite(a.duration) && a.duration > 0 ? a.duration : false;
    }, undefined, { timeout: 20_000, polling: 100 });
    const seconds = (await duration.jsonValue()) as number;
    assert.ok(Math.abs(seconds - (row.durationMs ?? 0) / 1000) < 0.5, `the player's duration ${seconds} s matches the recording's ${row.durationMs} ms`);
    assert.equal(await dash.locator('.rec-bleep').count(), bleeps.length, 'a mark per bleep');
    assert.equal(await dash.locator('button.rec-track').count(), row.tracks.length, 'a download per track');

    // Click a transcript line (not the first): the player moves to its time in the file.
    const lines = dash.locator('#call-transcript li.seekable');
    await lines.first().waitFor({ timeout: 10_000 });
    const n = await lines.count();
    const line = lines.nth(n - 1);
    const startMs = Number(await line.getAttribute('data-start-ms'));
    const zero = row.tracks[0]!.roomStartedAt! - row.startedAt;
    const expected = Math.max(0, (zero + startMs) / 1000);
    // Park the player near the end first, so the click has to move it.
    await dash.evaluate((s) => (document.querySelector<HTMLAudioElement>('#recording-audio')!.currentTime = s), Math.max(0, seconds - 0.2));
    assert.ok(Math.abs(seconds - 0.2 - expected) > 1, `the line (${expected} s) is far from where the player was parked (${seconds - 0.2} s)`);
    await line.click();
    const at = (await (await dash.waitForFunction((want) => {
      const a = document.querySelector<HTMLAudioElement>('#recording-audio')!;
      return Math.abs(a.currentTime - want) < 0.6 ? a.currentTime : false;
    }, expected, { timeout: 10_000, polling: 50 })).jsonValue()) as number;
    assert.ok(Math.abs(at - expected) < 0.6, `currentTime ${at} s ≈ ${expected} s`);
    await dash.evaluate(() => document.querySelector<HTMLAudioElement>('#recording-audio')!.pause());
    await dash.locator('#call-recording').scrollIntoViewIfNeeded();
    assertNotBlank(await saveScreenshot(dash, 'recording-admin-call-detail'));

    // The track download is the speaker's own file, fetched with the admin's token.
    const [download] = await Promise.all([dash.waitForEvent('download', { timeout: 15_000 }), dash.locator('button.rec-track').first().click()]);
    assert.match(download.suggestedFilename(), /\.webm$/);

    // A call that was never recorded (still waiting: nobody joined its room) says so, in Korean too.
    const waiting = await callFrom(server.url, ep.entryToken, 'Choi Waiting');
    await dash.evaluate((id) => (location.hash = `#call/${id}`), waiting.consultation.id as string);
    const none = dash.locator('#call-recording [data-recording="none"]');
    await none.waitFor({ timeout: 10_000 });
    assert.match(await none.innerText(), /not recorded/);
    assert.equal(await dash.locator('#recording-audio').count(), 0, 'no player without a recording');
    await dash.selectOption('#lang', 'ko');
    await dash.waitForFunction(() => document.querySelector('#call-recording [data-recording="none"]')?.textContent?.includes('녹음되지 않았습니다'), undefined, { timeout: 5000 });
    assert.equal((await dash.locator('#call-recording h2').innerText()).trim(), '녹음');
    await dash.locator('#call-recording').scrollIntoViewIfNeeded();
    assertNotBlank(await saveScreenshot(dash, 'recording-admin-none-ko'));
  });
});
