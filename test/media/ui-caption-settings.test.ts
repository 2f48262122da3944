/**
 * Issue 10's pages for what the server keeps, in real Chromium: the dashboard's entry-point form
 * chooses captions (inherit / on / off) and each entry card changes it; the agent console's
 * history shows a past call's transcript — speaker, time, the masked word blurred — for a call
 * that agent handled, while another agent is refused that transcript. Screenshots in English and
 * Korean are kept in test-artifacts/.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitForParleyState } from '../support/browser.js';
import { callFrom, createAgent, createEntryPoint, PASSWORD, RecordingSocket } from '../support/consultation.js';
import { request } from '../support/parleyServer.js';
import { adminDashboard, createEntryOnPage, openIn, shoot, signInOnPage, uiFixture } from '../support/uiPages.js';
import { en } from '../../web-src/ui/text/en.js';
import { ko } from '../../web-src/ui/text/ko.js';

describe('caption settings and transcripts on the pages', { timeout: 150_000 }, () => {
  const f = uiFixture();

  test("the dashboard's entry-point form and cards set the caption setting the server keeps", async () => {
    const { page, context } = await adminDashboard(f, 'en');
    await page.click('#nav-entry');
    assert.equal(await page.locator('label[for="entry-captions"]').innerText(), en.entryCaptions.label);
    const { card, id } = await createEntryOnPage(page, 'Quiet counter', async (p) => void (await p.selectOption('#entry-captions', 'off')));
    const select = card.locator('select.entry-captions-select');
    assert.equal(await select.inputValue(), 'off');
    const stored = async () => (await request(`${f.server.url}/api/v1/entry-points`, { token: f.admin.token })).body.entryPoints.find((e: { id: string }) => e.id === id).captions;
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
    const agent = await createAgent(f.server.url, f.admin, 'Mina Agent');
    const other = await createAgent(f.server.url, f.admin, 'Other Agent');
    const ep = await createEntryPoint(f.server.url, f.admin, 'Desk 4');
    // A call the agent took and ended, over the console's socket.
    const consoleSocket = await RecordingSocket.open(f.server.url, '/consult', agent.token);
    await consoleSocket.request('agent:set-state', { state: 'available' });
    const started = await callFrom(f.server.url, ep.entryToken, 'Park Customer');
    const id = started.consultation.id;
    await consoleSocket.waitFor('consultation:offer', (o) => o.consultationId === id, 10_000);
    assert.ok(!(await consoleSocket.request('consultation:accept', { consultationId: id })).error);
    assert.ok(!(await consoleSocket.request('consultation:end', { consultationId: id })).error);
    consoleSocket.close();
    // What the caption pipeline keeps for it (masked text and spans only).
    const line = { roomId: started.roomId, consultationId: id, peerId: 'p', language: 'ko', engine: 'openai', confidence: 0.9 };
    await f.server.parley.transcripts.record({ ...line, utteranceId: 'u1', userId: 'cust', role: 'customer', name: 'Park Customer', startMs: 1200, endMs: 3400, text: '** 환불은 언제 되나요', spans: [{ start: 0, end: 2, category: 'profanity' }] });
    await f.server.parley.transcripts.record({ ...line, utteranceId: 'u2', userId: agent.id, role: 'agent', name: 'Mina Agent', startMs: 65_000, endMs: 67_000, text: '내일까지 처리해 드리겠습니다', spans: [] });

    assert.equal((await request(`${f.server.url}/api/v1/consultations/${id}/transcript`, { token: agent.token })).status, 200);
    assert.equal((await request(`${f.server.url}/api/v1/consultations/${id}/transcript`, { token: other.token })).status, 403, "another agent may not read it");

    const { page, context } = await openIn(f.browser, `${f.server.url}/agent/`, 'ko');
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
    const second = await openIn(f.browser, `${f.server.url}/agent/`, 'en');
    await signInOnPage(second.page, 'other.agent@example.com', PASSWORD);
    await waitForParleyState(second.page, 'ready');
    await second.page.locator('#history td.muted', { hasText: en.console.noHistory }).waitFor({ timeout: 10_000 });
    assert.equal(await second.page.locator(`#history [data-consultation-id="${id}"]`).count(), 0);
    await second.context.close();
  });
});
