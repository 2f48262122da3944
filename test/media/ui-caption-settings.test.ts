/**
 * Issue 10's pages for what the server keeps, in real Chromium: the dashboard's entry-point form
 * chooses captions (inherit / on / off) and each entry card changes it; the agent console's
 * history shows a past call's transcript — speaker, time, the masked word blurred — for a call
 * that agent handled, while another agent is refused that transcript. Screenshots in English and
 * Korean are kept in test-artifacts/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium, waitForParleyState } from '../support/browser.js';
import { callFrom, createAgent, createEntryPoint, firstAdmin, PASSWORD, RecordingSocket, type Staff } from '../support/consultation.js';
import { request, startParley, type RunningParley } from '../support/parleyServer.js';
import { openIn, shoot, signInOnPage } from '../support/uiPages.js';
import { en } from '../../web-src/ui/text/en.js';
import { ko } from '../../web-src/ui/text/ko.js';

describe('caption settings and transcripts on the pages', { timeout: 150_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  let admin: Staff;

  before(async () => {
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1' });
    browser = await launchChromium();
    admin = await firstAdmin(server.url);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test("the dashboard's entry-point form and cards set the caption setting the server keeps", async () => {
    const { page, context } = await openIn(browser, `${server.url}/admin/`, 'en');
    await signInOnPage(page, 'admin@example.com', PASSWORD);
    await waitForParleyState(page, 'ready');
    await page.click('#nav-entry');
    assert.equal(await page.locator('label[for="entry-captions"]').innerText(), en.entryCaptions.label);
    await page.fill('#entry-name', 'Quiet counter');
    await page.selectOption('#entry-captions', 'off');
    await page.click('#create-entry');
    const card = page.locator('#entries [data-entry-id]', { hasText: 'Quiet counter' });
    await card.waitFor({ timeout: 10_000 });
    const select = card.locator('select.entry-captions-select');
    assert.equal(await select.inputValue(), 'off');
    const id = await card.getAttribute('data-entry-id');
    const stored = async () => (await request(`${server.url}/api/v1/entry-points`, { token: admin.token })).body.entryPoints.find((e: { id: string }) => e.id === id).captions;
    assert.equal(await stored(), 'off', 'the form sent it');

    await select.selectOption('on');
    await card.locator('.entry-captions .saved', { hasText: en.entryCaptions.saved }).waitFor({ timeout: 10_000 });
    assert.equal(await stored(), 'on', 'the card changed it');
    assert.equal(await card.locator('.entry-captions').getAttribute('data-captions'), 'on');
    await card.scrollIntoViewIfNeeded();
    await shoot(page, 'entry-captions-en');
    await context.close();
  });

  test("the agent's history shows the transcript of a call they handled; another agent is refused it", async () => {
    const agent = await createAgent(server.url, admin, 'Mina Agent');
    const other = await createAgent(server.url, admin, 'Other Agent');
    const ep = await createEntryPoint(server.url, admin, 'Desk 4');
    // A call the agent took and ended, over the console's socket.
    const consoleSocket = await RecordingSocket.open(server.url, '/consult', agent.token);
    await consoleSocket.request('agent:set-state', { state: 'available' });
    const started = await callFrom(server.url, ep.entryToken, 'Park Customer');
    const id = started.consultation.id;
    await consoleSocket.waitFor('consultation:offer', (o) => o.consultationId === id, 10_000);
    assert.ok(!(await consoleSocket.request('consultation:accept', { consultationId: id })).error);
    assert.ok(!(await consoleSocket.request('consultation:end', { consultationId: id })).error);
    consoleSocket.close();
    // What the caption pipeline keeps for it (masked text and spans only).
    const line = { roomId: started.roomId, consultationId: id, peerId: 'p', language: 'ko', engine: 'openai', confidence: 0.9 };
    await server.parley.transcripts.record({ ...line, utteranceId: 'u1', userId: 'cust', role: 'customer', name: 'Park Customer', startMs: 1200, endMs: 3400, text: '** 환불은 언제 되나요', spans: [{ start: 0, end: 2, category: 'profanity' }] });
    await server.parley.transcripts.record({ ...line, utteranceId: 'u2', userId: agent.id, role: 'agent', name: 'Mina Agent', startMs: 65_000, endMs: 67_000, text: '내일까지 처리해 드리겠습니다', spans: [] });

    assert.equal((await request(`${server.url}/api/v1/consultations/${id}/transcript`, { token: agent.token })).status, 200);
    assert.equal((await request(`${server.url}/api/v1/consultations/${id}/transcript`, { token: other.token })).status, 403, "another agent may not read it");

    const { page, context } = await openIn(browser, `${server.url}/agent/`, 'ko');
    await signInOnPage(page, 'mina.agent@example.com', PASSWORD);
    await waitForParleyState(page, 'ready');
    const row = page.locator(`#history [data-consultation-id="${id}"]`);
    await row.waitFor({ timeout: 10_000 });
    await row.click();
    const transcript = page.locator('.call-transcript[data-state="ready"]');
    await transcript.waitFor({ timeout: 10_000 });
    assert.equal(await transcript.locator('strong').first().innerText(), ko.callTranscript.title);
    const lines = transcript.locator('li.final');
    assert.equal(await lines.count(), 2);
    const first = lines.nth(0);
    assert.match(await first.innerText(), /^0:01 Park Customer.*\(고객\)/s, 'speaker, role and time since the call started');
    assert.match(await lines.nth(1).innerText(), /^1:05 Mina Agent.*\(상담원\).*내일까지 처리해 드리겠습니다/s);
    const masked = first.locator('.masked');
    assert.equal(await masked.innerText(), '**');
    assert.match(await masked.evaluate((el) => getComputedStyle(el).filter), /blur/);
    assert.equal(await masked.getAttribute('title'), ko.captions.masked);
    await transcript.scrollIntoViewIfNeeded();
    await shoot(page, 'agent-history-transcript-ko');
    await context.close();

    // The other agent's history has no such call, and so no transcript.
    const second = await openIn(browser, `${server.url}/agent/`, 'en');
    await signInOnPage(second.page, 'other.agent@example.com', PASSWORD);
    await waitForParleyState(second.page, 'ready');
    await second.page.locator('#history td.muted', { hasText: en.console.noHistory }).waitFor({ timeout: 10_000 });
    assert.equal(await second.page.locator(`#history [data-consultation-id="${id}"]`).count(), 0);
    await second.context.close();
  });
});
