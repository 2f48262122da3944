/**
 * Issue 9 item 12, the three queue stories in real Chromium, through the pages people use
 * (agent console, customer page, admin dashboard), and item 15: what those pages say is a
 * sentence, never a code. Screenshots of each state go to test-artifacts/.
 *
 *  (a) the agent presses "Save and go available" exactly while a customer is waiting: the
 *      offer appears and can be accepted (it used to be dropped as `offer-ignored`);
 *  (b) the only agent rejects; the call comes back to them after the cool-down and they
 *      accept. With no agent online the customer page says so and takes a callback number,
 *      which the dashboard shows;
 *  (c) a customer hangs up while the agent accepts: the agent is not left busy.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, recordConsole, saveConsoleLog, saveScreenshot, waitForParleyState } from '../support/browser.js';
import { createAgent, createEntryPoint, firstAdmin, PASSWORD, type Staff } from '../support/consultation.js';
import { startParley, type RunningParley } from '../support/parleyServer.js';

/** Codes a page must never show a person (item 15). */
const CODES = /\b(INITIATING|RINGING|CONNECTING|IN_PROGRESS|ENDED|FAILED|CONFLICT|FORBIDDEN|INVALID_PAYLOAD|agent-hung-up|customer-hung-up|callback-requested|after-call-work)\b|[{}]"/;

async function visibleText(page: Page): Promise<string> {
  return page.evaluate(() => document.body.innerText);
}

async function assertSentences(page: Page, where: string): Promise<void> {
  const text = await visibleText(page);
  const m = CODES.exec(text);
  assert.equal(m, null, `${where} shows a code (${m?.[0]}): ${text.slice(Math.max(0, (m?.index ?? 0) - 80), (m?.index ?? 0) + 80)}`);
}

async function agentState(page: Page): Promise<string | undefined> {
  return page.evaluate(() => document.querySelector<HTMLElement>('#agent-state')?.dataset.state);
}

async function waitAgentState(page: Page, state: string, timeoutMs = 10_000): Promise<void> {
  await page.waitForFunction((s) => document.querySelector<HTMLElement>('#agent-state')?.dataset.state === s, state, { timeout: timeoutMs, polling: 100 });
}

describe('queue stories in Chromium: console, customer page, dashboard', { timeout: 240_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  let admin: Staff;
  let entryPath: string;
  const logs: Array<{ name: string; lines: string[] }> = [];

  const open = async (name: string, path: string, viewport = { width: 1100, height: 860 }): Promise<Page> => {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    logs.push({ name, lines: recordConsole(page, name) });
    await page.goto(`${server.url}${path}`, { waitUntil: 'load', timeout: 15_000 });
    return page;
  };

  const openConsole = async (name: string, email: string): Promise<Page> => {
    const page = await open(`agent-${name}`, '/agent/');
    await page.fill('#email', email);
    await page.fill('#password', PASSWORD);
    await page.click('#signin');
    await waitForParleyState(page, 'ready');
    return page;
  };

  const call = async (name: string, phone = '010-1234-5678'): Promise<Page> => {
    const page = await open(`customer-${name}`, entryPath, { width: 390, height: 844 });
    await waitForParleyState(page, 'form');
    await page.fill('#name', name);
    await page.fill('#phone', phone);
    await page.fill('#inquiry', `Question from ${name}`);
    await page.check('#consent');
    await page.click('#call');
    await waitForParleyState(page, 'queued');
    return page;
  };

  before(async () => {
    browser = await launchChromium();
  });
  // Each story has its own server (its own queue and agents): one story's leftovers are not another's.
  beforeEach(async () => {
    server = await startParley({
      MEDIA_LISTEN_IP: '127.0.0.1',
      MEDIA_WORKERS: '1',
      CONSULT_OFFER_TIMEOUT_MS: '30000',
      CONSULT_REOFFER_COOLDOWN_MS: '3000',
      CONSULT_OFFER_RESEND_MS: '1000',
      CONSULT_AGENT_GRACE_MS: '300',
    });
    admin = await firstAdmin(server.url);
    const ep = await createEntryPoint(server.url, admin, 'Store 7 counter');
    entryPath = `/c/?e=${encodeURIComponent(ep.entryToken)}`;
  });
  afterEach(async () => {
    for (const c of browser?.contexts() ?? []) await c.close();
    await server?.close();
  });
  after(async () => {
    for (const l of logs) saveConsoleLog(`consultation-queue-${l.name}`, l.lines);
    await browser?.close();
  });

  test('(a) "Save and go available" while a customer waits: the offer appears and is accepted', async () => {
    await createAgent(server.url, admin, 'Ava Agent');
    const agent = await openConsole('ava', 'ava.agent@example.com');
    await agent.click('#state-available');
    await waitAgentState(agent, 'available');
    await assertSentences(agent, 'console (available)');
    await saveScreenshot(agent, 'queue-a1-agent-available');

    const first = await call('First Customer');
    await waitForParleyState(agent, 'offered');
    await saveScreenshot(agent, 'queue-a2-agent-offer');
    await assertSentences(agent, 'console (offer)');
    await agent.click('#accept');
    await waitForParleyState(agent, 'in-call', 20_000);
    await waitForParleyState(first, 'in-call', 20_000);
    await saveScreenshot(first, 'queue-a3-customer-in-call');
    await assertSentences(first, 'customer page (in call)');

    // A second customer calls during the first call and waits.
    const second = await call('Second Customer');
    await second.waitForFunction(() => document.querySelector('#position')?.textContent === '1', undefined, { timeout: 10_000 });
    await saveScreenshot(second, 'queue-a4-customer-waiting');
    await assertSentences(second, 'customer page (waiting)');
    assert.match((await second.textContent('#status')) ?? '', /You are in the queue/);
    // The agent's queue panel lists the waiting customer with a wait that counts on.
    const waiting = agent.locator('#queue li[data-consultation-id]', { hasText: 'Second Customer' });
    await waiting.waitFor({ timeout: 10_000 });
    assert.equal((await agent.textContent('#queue-count'))?.trim(), '1');
    const waitedNow = (await waiting.locator('.timer').innerText()).trim();
    assert.match(waitedNow, /^waiting \d+:\d\d$/);
    await agent.waitForFunction((before) => document.querySelector('#queue li[data-consultation-id] .timer')?.textContent?.trim() !== before, waitedNow, { timeout: 5_000 });

    await agent.click('#end');
    await waitForParleyState(agent, 'wrap-up');
    await waitForParleyState(first, 'ended');
    assert.match((await agent.textContent('#wrapup-summary')) ?? '', /You ended the call/);
    assert.doesNotMatch((await agent.textContent('#wrapup-summary')) ?? '', /customer hung up/i, 'the agent ended it, not the customer');
    await saveScreenshot(agent, 'queue-a5-agent-wrap-up');
    await saveScreenshot(first, 'queue-a6-customer-ended');
    await assertSentences(agent, 'console (wrap-up)');
    await assertSentences(first, 'customer page (ended)');
    assert.match((await first.textContent('#ended-reason')) ?? '', /The agent ended the call/);

    // The moment of the bug: the offer is sent in the instant the agent becomes available.
    await agent.fill('#note', 'Explained the warranty.');
    await agent.selectOption('#disposition', 'resolved');
    await agent.click('#save-available');
    await waitForParleyState(agent, 'offered', 10_000);
    assert.match((await agent.textContent('#offer')) ?? '', /Second Customer/);
    const log = await agent.evaluate(() => (window as unknown as { parley: { log: Array<{ event: string }> } }).parley.log.map((l) => l.event));
    assert.ok(!log.includes('offer-ignored'));
    assert.ok(log.includes('consultation:offer-ack'), 'the console acknowledged the offer');
    await agent.click('#accept');
    await waitForParleyState(agent, 'in-call', 20_000);
    await waitForParleyState(second, 'in-call', 20_000);
    await agent.click('#end');
    await waitForParleyState(agent, 'wrap-up');
    await agent.click('#state-offline');
    await waitAgentState(agent, 'offline');
    await agent.context().close();
    for (const p of [first, second]) await p.context().close();
  });

  test('(b) the only agent rejects; the call comes back after the cool-down; with nobody online the customer leaves a callback number', async () => {
    await createAgent(server.url, admin, 'Bo Agent');
    const agent = await openConsole('bo', 'bo.agent@example.com');
    await agent.click('#state-available');
    await waitAgentState(agent, 'available');
    const customer = await call('Patient Customer');
    await waitForParleyState(agent, 'offered');
    await agent.click('#reject');
    await waitForParleyState(agent, 'ready');
    const rejectedAt = Date.now();
    await saveScreenshot(customer, 'queue-b1-customer-waiting-after-reject');
    // Back to the same agent after the cool-down (3 s): nobody else is available.
    await waitForParleyState(agent, 'offered', 15_000);
    assert.ok(Date.now() - rejectedAt >= 2500, `came back after the cool-down (${Date.now() - rejectedAt} ms)`);
    assert.match((await agent.textContent('#offer')) ?? '', /Patient Customer/);
    await agent.click('#accept');
    await waitForParleyState(agent, 'in-call', 20_000);
    await waitForParleyState(customer, 'in-call', 20_000);
    await customer.click('#hangup');
    await waitForParleyState(customer, 'ended');
    await waitForParleyState(agent, 'wrap-up', 10_000);
    assert.match((await agent.textContent('#wrapup-summary')) ?? '', /The customer hung up/);
    await assertSentences(agent, 'console (customer hung up)');
    await agent.click('#state-offline');
    await waitAgentState(agent, 'offline');

    // Nobody online: the customer is told so, with no made-up estimate, and leaves a number.
    const lonely = await call('Lonely Customer', '010-2222-3333');
    await lonely.locator('#no-agent').waitFor({ state: 'visible', timeout: 10_000 });
    assert.match((await lonely.textContent('#status')) ?? '', /No agent is available right now/);
    assert.doesNotMatch((await lonely.textContent('#wait')) ?? '', /min/, 'no estimate when nobody is online');
    await assertSentences(lonely, 'customer page (no agent)');
    await saveScreenshot(lonely, 'queue-b2-customer-no-agent');
    await lonely.click('#offer-callback');
    assert.equal(await lonely.inputValue('#callback-phone'), '010-2222-3333', 'prefilled with the number given');
    await lonely.fill('#callback-phone', '010-4444-5555');
    await saveScreenshot(lonely, 'queue-b3-customer-callback-form');
    await lonely.click('#callback-send');
    await waitForParleyState(lonely, 'ended');
    assert.match((await lonely.textContent('#ended-reason')) ?? '', /call you back at 010-4444-5555/);
    await assertSentences(lonely, 'customer page (callback left)');
    await saveScreenshot(lonely, 'queue-b4-customer-callback-sent');

    // The dashboard's history and detail show the callback request.
    const dash = await open('admin', '/admin/');
    await dash.fill('#email', 'admin@example.com');
    await dash.fill('#password', PASSWORD);
    await dash.click('#signin');
    await waitForParleyState(dash, 'ready');
    await dash.click('#nav-history');
    await dash.click('#apply-filters');
    const row = dash.locator('#history [data-consultation-id]', { hasText: 'Lonely Customer' });
    await row.waitFor({ timeout: 10_000 });
    assert.match((await row.locator('.status').textContent()) ?? '', /Did not connect[\s\S]*Call back at \+82 10 4444 5555/);
    await assertSentences(dash, 'dashboard history');
    await saveScreenshot(dash, 'queue-b5-admin-history');
    await row.click();
    await dash.locator('#call-timeline li[data-type="callback-requested"]').waitFor({ timeout: 10_000 });
    // The timeline's sentence writes the number as the page's language does, never as raw E.164.
    assert.match((await dash.textContent('#call-timeline')) ?? '', /asked to be called back at \+82 10 4444 5555\./);
    assert.doesNotMatch((await dash.textContent('#view-call')) ?? '', /\+8210/);
    assert.match((await dash.textContent('[data-field="callback"]')) ?? '', /\+82 10 4444 5555/, 'the number as an English page writes a Korean number');
    await assertSentences(dash, 'dashboard call detail');
    await saveScreenshot(dash, 'queue-b6-admin-call-detail');
    for (const p of [agent, customer, lonely, dash]) await p.context().close();
  });

  test('(c) a customer hangs up while the agent accepts: the agent is not stuck busy', async () => {
    await createAgent(server.url, admin, 'Cy Agent');
    const agent = await openConsole('cy', 'cy.agent@example.com');
    await agent.click('#state-available');
    await waitAgentState(agent, 'available');
    const customer = await call('Hasty Customer');
    await waitForParleyState(agent, 'offered');
    // A race: when the hang-up lands first the offer is withdrawn and Accept disappears before
    // the click — that outcome is as legal as the other, so a vanished button is not a failure.
    await Promise.all([agent.click('#accept', { timeout: 5_000 }).catch(() => 'accept was withdrawn first'), customer.click('#hangup')]);
    await waitForParleyState(customer, 'ended');
    // Whichever won, the console ends up ready or wrapping up — never in a call, never busy.
    await agent
      .waitForFunction(
        () => {
          const p = (window as unknown as { parley: { state: string } }).parley;
          const s = document.querySelector<HTMLElement>('#agent-state')?.dataset.state;
          return (p.state === 'ready' || p.state === 'wrap-up') && (s === 'available' || s === 'after-call-work');
        },
        undefined,
        { timeout: 15_000, polling: 100 },
      )
      .catch(async (err: unknown) => {
        const seen = await agent.evaluate(() => {
          const p = (window as unknown as { parley: { state: string; errors: string[]; log: Array<{ event: string; data: unknown }> } }).parley;
          return JSON.stringify({ state: p.state, agent: document.querySelector<HTMLElement>('#agent-state')?.dataset.state, errors: p.errors, log: p.log.slice(-15) });
        });
        throw new Error(`the console is stuck: ${seen}`, { cause: err });
      });
    assert.notEqual(await agentState(agent), 'busy');
    await saveScreenshot(agent, 'queue-c1-agent-after-race');
    await assertSentences(agent, 'console (after the race)');
    // And the agent can take the next call.
    if ((await agentState(agent)) !== 'available') {
      if ((await agent.evaluate(() => (window as unknown as { parley: { state: string } }).parley.state)) === 'wrap-up') await agent.click('#save-available');
      else await agent.click('#state-available');
      await waitAgentState(agent, 'available');
    }
    const next = await call('Next Customer');
    await waitForParleyState(agent, 'offered');
    await agent.click('#accept');
    await waitForParleyState(agent, 'in-call', 20_000);
    await waitForParleyState(next, 'in-call', 20_000);
    await saveScreenshot(agent, 'queue-c2-agent-in-call');
    await assertSentences(agent, 'console (in call)');
    await agent.click('#end');
    await waitForParleyState(agent, 'wrap-up');
    for (const p of [agent, customer, next]) await p.context().close();
  });
});
