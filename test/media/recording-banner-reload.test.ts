/**
 * The recording banner survives a reload: a customer who agreed to recording calls from the
 * real customer page (Korean, phone-sized), an agent answers (over /consult, and stays in the
 * call's room over /voice, as the console does, so the room lives on), the page says the
 * call is being recorded; the customer reloads the page mid-call and, once it is back in the
 * call, it says so again at once, from the state the server sends on (re)connect, with no change
 * of the recording in between.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium, saveScreenshot, waitForParleyState } from '../support/browser.js';
import { createAgent, createEntryPoint, firstAdmin, RecordingSocket } from '../support/consultation.js';
import { request, startParley, type RunningParley } from '../support/parleyServer.js';
import { assertNotBlank, PHONE } from '../support/uiPages.js';
import { ko } from '../../web-src/ui/text/ko.js';

describe('the recording banner after a reload', { timeout: 150_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  let agentConsult: RecordingSocket | undefined;
  let agentVoice: RecordingSocket | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'parley-rec-reload-'));

  before(async () => {
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', RECORDINGS_PATH: join(dir, 'recordings'), CONSULT_OFFER_TIMEOUT_MS: '30000' });
    browser = await launchChromium();
  });
  after(async () => {
    agentConsult?.socket.close();
    agentVoice?.socket.close();
    await browser?.close();
    await server?.close();
  });

  test('the reloaded customer page says the call is being recorded', async () => {
    const admin = await firstAdmin(server.url);
    const agent = await createAgent(server.url, admin, 'Reload Agent');
    const ep = await createEntryPoint(server.url, admin, 'Counter 7');
    agentConsult = await RecordingSocket.open(server.url, '/consult', agent.token);
    await agentConsult.socket.timeout(5000).emitWithAck('agent:set-state', { state: 'available' });

    const page = await (await browser.newContext({ viewport: PHONE, locale: 'ko-KR' })).newPage();
    await page.goto(`${server.url}/c/?e=${encodeURIComponent(ep.entryToken)}`, { waitUntil: 'load' });
    await waitForParleyState(page, 'form');
    await page.fill('#name', '박녹음');
    await page.fill('#phone', '010-5555-6666');
    await page.check('#consent');
    await page.click('#call');
    const offer = await agentConsult.waitFor('consultation:offer', () => true, 15_000);
    const ack = await agentConsult.socket.timeout(10_000).emitWithAck('consultation:accept', { consultationId: offer.consultationId });
    assert.ok(!ack.error, JSON.stringify(ack));
    const roomId = (await request(`${server.url}/api/v1/consultations/${offer.consultationId}`, { token: admin.token })).body.consultation.roomId as string;
    agentVoice = await RecordingSocket.open(server.url, '/voice', agent.token);
    const joined = await agentVoice.request('join-room', { roomId });
    assert.ok(!joined.error, JSON.stringify(joined));
    await waitForParleyState(page, 'in-call', 20_000);

    const banner = page.locator('#recording-banner[data-status="recording"]');
    await banner.waitFor({ timeout: 20_000 });
    const sentence = (await banner.innerText()).trim();
    assert.equal(sentence, ko.recording.on);
    const pushesBefore = agentConsult.events.filter((e) => e.event === 'recording').length;

    await page.reload({ waitUntil: 'load' });
    await waitForParleyState(page, 'in-call', 20_000);
    await banner.waitFor({ timeout: 10_000 });
    assert.equal((await banner.innerText()).trim(), sentence, 'the same sentence after the reload');
    assert.equal(agentConsult.events.filter((e) => e.event === 'recording').length, pushesBefore, 'no recording change was pushed in between: the banner came from the reconnect snapshot');
    assertNotBlank(await saveScreenshot(page, 'recording-banner-after-reload'));
  });
});
