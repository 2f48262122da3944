/**
 * The consultation product end to end in real Chromium, through the pages a user sees:
 * the admin creates an agent and a QR entry on the dashboard; the agent signs in on the
 * console and goes available; a customer on a phone-sized page opens the QR link, fills the
 * form and calls; the console rings, the agent accepts; audio flows both ways through the
 * SFU (getStats on both pages); the agent ends the call and writes a note; the dashboard's
 * history shows the call with its states and durations. Every page is screenshotted (kept
 * in test-artifacts/) and checked not to be blank.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, recordConsole, saveConsoleLog, saveScreenshot, waitForParleyState } from '../support/browser.js';
import { waitForCallAudio as waitForAudio } from '../support/callAudio.js';
import { PASSWORD } from '../support/consultation.js';
import { assertNotBlank } from '../support/uiPages.js';
import { request, startParley, type RunningParley } from '../support/parleyServer.js';

async function shoot(page: Page, name: string): Promise<void> {
  assertNotBlank(await saveScreenshot(page, name));
}

describe('consultation end to end in Chromium: dashboard, console, customer page', { timeout: 180_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  const logs: Array<{ name: string; lines: string[] }> = [];
  const open = async (name: string, path: string, viewport = { width: 1100, height: 800 }): Promise<Page> => {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    logs.push({ name, lines: recordConsole(page, name) });
    await page.goto(`${server.url}${path}`, { waitUntil: 'load', timeout: 15_000 });
    return page;
  };

  before(async () => {
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', CONSULT_OFFER_TIMEOUT_MS: '30000' });
    browser = await launchChromium();
  });
  after(async () => {
    for (const l of logs) saveConsoleLog(`consultation-${l.name}`, l.lines);
    await browser?.close();
    await server?.close();
  });

  test('QR entry → queue → accept → two-way audio → end → note → history', async () => {
    // The first account of a fresh server is the admin (sign-up is the one step not on a page).
    const signup = await request(`${server.url}/api/v1/auth/signup`, { body: { email: 'admin@example.com', password: PASSWORD, name: 'Ada Admin' } });
    assert.equal(signup.status, 201);

    // --- Admin: sign in, create the agent and the QR entry point.
    const admin = await open('admin', '/admin/');
    await admin.fill('#email', 'admin@example.com');
    await admin.fill('#password', PASSWORD);
    await admin.click('#signin');
    await waitForParleyState(admin, 'ready');
    await admin.click('#nav-agents');
    await admin.fill('#new-agent-name', 'Dana Agent');
    await admin.fill('#new-agent-email', 'dana@example.com');
    await admin.fill('#new-agent-password', PASSWORD);
    await admin.selectOption('#new-agent-role', 'agent');
    await admin.click('#create-agent');
    await admin.locator('#agents [data-user-id]', { hasText: 'dana@example.com' }).waitFor({ timeout: 10_000 });
    await admin.click('#nav-entry');
    await admin.fill('#entry-name', 'Store 12 counter');
    await admin.fill('#entry-hours', '24');
    await admin.click('#create-entry');
    const entry = admin.locator('#entries [data-entry-id]', { hasText: 'Store 12 counter' });
    await entry.waitFor({ timeout: 10_000 });
    await entry.locator('img.qr').waitFor({ state: 'visible', timeout: 10_000 });
    const entryUrl = await entry.locator('a.entry-url').getAttribute('href');
    assert.ok(entryUrl && new URL(entryUrl, server.url).pathname === '/c/', `entry link: ${entryUrl}`);
    await shoot(admin, 'consultation-1-admin-entry');

    // --- Agent: sign in on the console and go available.
    const agent = await open('agent', '/agent/');
    await agent.fill('#email', 'dana@example.com');
    await agent.fill('#password', PASSWORD);
    await agent.click('#signin');
    await waitForParleyState(agent, 'ready');
    await agent.click('#state-available');
    await agent.waitForFunction(() => document.querySelector<HTMLElement>('#agent-state')?.dataset.state === 'available', undefined, { timeout: 10_000 });
    await admin.click('#nav-live');
    await admin.locator('#board-agents [data-agent-id][data-state="available"] .state', { hasText: 'Available' }).waitFor({ timeout: 10_000 });
    await shoot(agent, 'consultation-2-agent-available');

    // --- Customer: a phone-sized page opens the QR link, fills the form and calls.
    const customer = await open('customer', new URL(entryUrl, server.url).pathname + new URL(entryUrl, server.url).search, { width: 390, height: 844 });
    await waitForParleyState(customer, 'form');
    await customer.fill('#name', 'Kim Customer');
    await customer.fill('#phone', '010-1234-5678');
    await customer.fill('#inquiry', 'The screen of my phone is broken.');
    await customer.check('#consent');
    await shoot(customer, 'consultation-3-customer-form');
    await customer.click('#call');

    // --- The console rings with the customer's details; the agent accepts.
    await waitForParleyState(agent, 'offered');
    assert.match((await agent.textContent('#offer')) ?? '', /Kim Customer/);
    assert.match((await agent.textContent('#offer')) ?? '', /The screen of my phone is broken/);
    await customer.waitForFunction(() => document.querySelector('#position')?.textContent?.includes('1'), undefined, { timeout: 10_000 });
    await shoot(customer, 'consultation-4-customer-queued');
    await shoot(agent, 'consultation-5-agent-offer');
    await agent.click('#accept');
    await waitForParleyState(agent, 'in-call', 20_000);
    await waitForParleyState(customer, 'in-call', 20_000);

    // --- Audio both ways through the SFU.
    const heardByAgent = await waitForAudio(agent);
    const heardByCustomer = await waitForAudio(customer);
    assert.ok(heardByAgent.received >= 100 && heardByAgent.energy > 0, `agent hears the customer: ${JSON.stringify(heardByAgent)}`);
    assert.ok(heardByCustomer.received >= 100 && heardByCustomer.energy > 0, `customer hears the agent: ${JSON.stringify(heardByCustomer)}`);
    assert.ok(heardByAgent.sent > 0 && heardByCustomer.sent > 0);
    await admin.locator('#board-live [data-consultation-id][data-status="IN_PROGRESS"]', { hasText: 'In conversation' }).waitFor({ timeout: 10_000 });
    await shoot(admin, 'consultation-6-admin-live');
    await shoot(customer, 'consultation-7-customer-in-call');
    await shoot(agent, 'consultation-8-agent-in-call');
    await new Promise((r) => setTimeout(r, 1500));

    // --- The agent ends the call and writes a note.
    await agent.click('#end');
    await waitForParleyState(agent, 'wrap-up');
    await waitForParleyState(customer, 'ended');
    await shoot(customer, 'consultation-9-customer-ended');
    await agent.fill('#note', 'Replacement screen ordered; customer will get an SMS.');
    await agent.selectOption('#disposition', 'resolved');
    await agent.click('#save-available');
    await waitForParleyState(agent, 'ready');
    await agent.waitForFunction(() => document.querySelector<HTMLElement>('#agent-state')?.dataset.state === 'available', undefined, { timeout: 10_000 });

    // --- The dashboard's history shows the call; its detail has the states, durations and the note.
    await admin.click('#nav-history');
    await admin.click('#apply-filters');
    const row = admin.locator('#history [data-consultation-id]', { hasText: 'Kim Customer' });
    await row.waitFor({ timeout: 10_000 });
    assert.equal(await row.getAttribute('data-status'), 'ENDED');
    assert.match((await row.locator('.status').textContent()) ?? '', /Finished/);
    assert.match((await row.locator('.agent').textContent()) ?? '', /Dana Agent/);
    assert.match((await row.locator('.duration').textContent()) ?? '', /\d+:\d\d/);
    const id = await row.getAttribute('data-consultation-id');
    await shoot(admin, 'consultation-10-admin-history');
    await row.click();
    await admin.locator('#call-timeline li[data-to="IN_PROGRESS"]').first().waitFor({ timeout: 10_000 });
    for (const status of ['RINGING', 'CONNECTING', 'IN_PROGRESS', 'ENDED']) assert.equal(await admin.locator(`#call-timeline li[data-to="${status}"]`).count(), 1, `timeline has ${status}`);
    // People read sentences, not codes (issue 9 item 15).
    const timeline = (await admin.textContent('#call-timeline')) ?? '';
    assert.match(timeline, /Joined the queue[\s\S]*Dana Agent accepted the call[\s\S]*the conversation started[\s\S]*The agent ended the call/);
    assert.doesNotMatch(timeline, /RINGING|IN_PROGRESS|agent-hung-up|[{]/);
    assert.match((await admin.textContent('#call-notes')) ?? '', /Replacement screen ordered/);
    assert.match((await admin.textContent('#call-participants')) ?? '', /Kim Customer[\s\S]*Dana Agent|Dana Agent[\s\S]*Kim Customer/);
    await shoot(admin, 'consultation-11-admin-call-detail');

    // The stored record agrees with what the pages showed.
    const token = (await request(`${server.url}/api/v1/auth/signin`, { body: { email: 'admin@example.com', password: PASSWORD } })).body.accessToken as string;
    const detail = (await request(`${server.url}/api/v1/consultations/${id}`, { token })).body.consultation;
    assert.equal(detail.status, 'ENDED');
    assert.equal(detail.disposition, 'resolved');
    assert.ok(detail.durationSeconds >= 2, `duration ${detail.durationSeconds}`);
    assert.deepEqual(
      detail.transitions.map((t: { to: string }) => t.to),
      ['INITIATING', 'RINGING', 'CONNECTING', 'IN_PROGRESS', 'ENDED'],
    );
  });
});
