/**
 * The customer page in every state a customer meets, in Korean and English at 390 px (issue 15):
 * a link without a token, the form and its error, the queue with nobody online and the
 * callback form, the callback left, the queue with an agent online, the call with the agent,
 * and the end. Each state is screenshotted (test-artifacts/customer-state-*), checked not to
 * be blank and not to scroll sideways, and its sentences are the page's language's. Switching
 * the language on a page redraws the sentences the controller set, not only the fixed texts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, saveConsoleLog, waitForParleyState } from '../support/browser.js';
import { createAgent, createEntryPoint, firstAdmin, PASSWORD } from '../support/consultation.js';
import { startParley, type RunningParley } from '../support/parleyServer.js';
import { assertNoHorizontalOverflow, contextIn, openIn, PHONE, shoot, signInOnPage, type Lang } from '../support/uiPages.js';
import { en } from '../../web-src/ui/text/en.js';
import { ko } from '../../web-src/ui/text/ko.js';

const tables = { en, ko };

describe('customer page states, Korean and English, 390 px', { timeout: 240_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  let entryToken: string;
  const logs: Array<{ name: string; lines: string[] }> = [];

  const text = (page: Page, selector: string) => page.innerText(selector).then((s) => s.trim());
  const state = async (page: Page, name: string) => {
    await assertNoHorizontalOverflow(page, name);
    await shoot(page, `customer-state-${name}`);
  };
  const openForm = async (lang: Lang, label: string) => {
    const opened = await openIn(browser, `${server.url}/c/?e=${encodeURIComponent(entryToken)}`, lang, PHONE, label);
    logs.push({ name: label, lines: opened.lines });
    await waitForParleyState(opened.page, 'form');
    return opened;
  };
  const fillAndCall = async (page: Page, name: string, phone: string) => {
    await page.fill('#name', name);
    await page.fill('#phone', phone);
    await page.check('#consent');
    await page.click('#call');
    await waitForParleyState(page, 'queued');
  };

  before(async () => {
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1' });
    browser = await launchChromium();
    const admin = await firstAdmin(server.url);
    await createAgent(server.url, admin, 'Kim Minji');
    entryToken = (await createEntryPoint(server.url, admin, 'Gangnam store')).entryToken;
  });
  after(async () => {
    for (const l of logs) saveConsoleLog(`customer-states-${l.name}`, l.lines);
    await browser?.close();
    await server?.close();
  });

  for (const lang of ['en', 'ko'] as Lang[]) {
    const t = tables[lang].customer;
    const other: Lang = lang === 'en' ? 'ko' : 'en';

    test(`${lang}: no token, form error, nobody online, callback`, async () => {
      const bad = await openIn(browser, `${server.url}/c/`, lang, PHONE, `invalid-${lang}`);
      logs.push({ name: `invalid-${lang}`, lines: bad.lines });
      await waitForParleyState(bad.page, 'invalid-entry');
      assert.equal(await text(bad.page, '#invalid-reason'), t.page.noToken);
      assert.equal(await text(bad.page, '#status'), t.page.incomplete);
      await state(bad.page, `invalid-${lang}`);
      await bad.context.close();

      const { page, context } = await openForm(lang, `form-${lang}`);
      assert.equal(await text(page, '#entry-name'), 'Gangnam store');
      await state(page, `form-${lang}`);
      await page.click('#call');
      assert.equal(await text(page, '#form-error'), t.page.enterName);
      await state(page, `form-error-${lang}`);

      await fillAndCall(page, lang === 'ko' ? '박고객' : 'Lee Customer', '010-2222-3333');
      await page.locator('#no-agent').waitFor({ state: 'visible', timeout: 10_000 });
      assert.equal(await text(page, '#status'), t.status.noAgent);
      assert.equal(await text(page, '#position'), '1');
      assert.equal(await text(page, '#wait'), t.wait.noneOnline);
      assert.equal(await text(page, '#no-agent-detail'), t.status.noAgentDetail);
      await state(page, `no-agent-${lang}`);
      await page.click('#offer-callback');
      await page.fill('#callback-phone', '12');
      await page.click('#callback-send');
      assert.equal(await text(page, '#callback-error'), t.errors.badPhone);
      await page.fill('#callback-phone', '010-4444-5555');
      await state(page, `callback-form-${lang}`);
      await page.click('#callback-send');
      await waitForParleyState(page, 'ended');
      assert.equal(await text(page, '#ended-reason'), t.status.callbackSent('010-4444-5555'));
      assert.equal(await page.getAttribute('#status', 'data-cause'), 'callback-requested');
      await state(page, `callback-sent-${lang}`);

      // The language switch redraws the sentences the page wrote, in the other language.
      await page.selectOption('#lang', other);
      const o = tables[other].customer;
      await page.waitForFunction((s) => document.querySelector('#ended-reason')?.textContent === s, o.status.callbackSent('010-4444-5555'), { timeout: 5000 });
      assert.equal(await text(page, '#status'), o.status.callbackSent('010-4444-5555'));
      await context.close();
    });
  }

  test('with an agent online: queue, call, end, in both languages', async () => {
    const agentContext = await contextIn(browser, 'en', { width: 1200, height: 860 });
    const agent = await agentContext.newPage();
    await agent.goto(`${server.url}/agent/`, { waitUntil: 'load' });
    await signInOnPage(agent, 'kim.minji@example.com', PASSWORD);
    await waitForParleyState(agent, 'ready');
    await agent.click('#state-available');
    await agent.waitForFunction(() => document.querySelector<HTMLElement>('#agent-state')?.dataset.state === 'available', undefined, { timeout: 10_000 });

    for (const lang of ['en', 'ko'] as Lang[]) {
      const t = tables[lang].customer;
      const { page, context } = await openForm(lang, `call-${lang}`);
      // The agent's console rings at once; the customer waits in line until it is accepted.
      await fillAndCall(page, lang === 'ko' ? '최고객' : 'Kim Customer', '010-1234-5678');
      await page.waitForFunction(() => document.querySelector('#position')?.textContent === '1', undefined, { timeout: 10_000 });
      assert.equal(await text(page, '#call-title'), t.page.waitingTitle);
      assert.equal(await text(page, '#status'), t.status.waiting);
      await state(page, `queued-${lang}`);

      await waitForParleyState(agent, 'offered', 15_000);
      await agent.click('#accept');
      await waitForParleyState(page, 'in-call', 20_000);
      await page.waitForFunction((s) => document.querySelector('#call-title')?.textContent === s, t.page.talkingWith('Kim Minji'), { timeout: 10_000 });
      assert.equal(await text(page, '#agent-name'), 'Kim Minji');
      assert.match(await text(page, '#timer'), /^\d+:\d\d$/);
      assert.equal(await page.getAttribute('#status', 'data-status'), 'IN_PROGRESS');
      await page.click('#mute');
      await page.waitForFunction((s) => document.querySelector('#mute')?.textContent === s, t.page.unmute, { timeout: 5000 });
      await state(page, `in-call-${lang}`);

      await page.click('#hangup');
      await waitForParleyState(page, 'ended');
      assert.match(await text(page, '#ended-reason'), new RegExp(`^${t.ended.finished.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      assert.equal(await text(page, '#status'), t.status.ended);
      await state(page, `ended-${lang}`);
      await context.close();

      await waitForParleyState(agent, 'wrap-up', 10_000);
      await agent.click('#save-available');
      await waitForParleyState(agent, 'ready', 10_000);
    }
    await agentContext.close();
  });
});
