/**
 * Every page in real Chromium, in English and Korean (issue 15): the browser's language picks
 * Korean, the header's switch changes it and is remembered; the home page shows the server's
 * status; a missing page is a real 404 page for browsers and JSON for API clients; the customer
 * page and the agent console do not scroll sideways at 390 px. Screenshots of each page and
 * language are kept in test-artifacts/ and checked not to be blank.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium, saveConsoleLog, waitForParleyState } from '../support/browser.js';
import { callFrom, createAgent, createEntryPoint, firstAdmin, PASSWORD, type Staff } from '../support/consultation.js';
import { request, startParley, type RunningParley } from '../support/parleyServer.js';
import { assertNoHorizontalOverflow, DESKTOP, englishWordsIn, hasHangul, openIn, PHONE, shoot, signInOnPage, type Lang } from '../support/uiPages.js';

describe('pages in both languages, in Chromium', { timeout: 240_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  let admin: Staff;
  let agent: Staff;
  let entryToken: string;
  const logs: Array<{ name: string; lines: string[] }> = [];

  before(async () => {
    server = await startParley();
    browser = await launchChromium();
    admin = await firstAdmin(server.url);
    agent = await createAgent(server.url, admin, 'Kim Minji');
    entryToken = (await createEntryPoint(server.url, admin, 'Gangnam store')).entryToken;
  });
  after(async () => {
    for (const l of logs) saveConsoleLog(`ui-pages-${l.name}`, l.lines);
    await browser?.close();
    await server?.close();
  });

  for (const lang of ['en', 'ko'] as Lang[]) {
    test(`home page (${lang}): what Parley is, a link per role, the server's status`, async () => {
      const { page, context, lines } = await openIn(browser, `${server.url}/`, lang, DESKTOP, `home-${lang}`);
      logs.push({ name: `home-${lang}`, lines });
      await page.waitForSelector('#health[data-health="up"]', { timeout: 10_000 });
      assert.equal(await page.getAttribute('html', 'lang'), lang);
      assert.equal(await hasHangul(page, 'main'), lang === 'ko', 'Korean text exactly when the browser asks for Korean');
      assert.equal(await page.getAttribute('#role-agent', 'href'), '/agent/');
      assert.equal(await page.getAttribute('#role-admin', 'href'), '/admin/');
      await shoot(page, `ui-home-${lang}`);
      await context.close();
    });

    test(`404 (${lang}): a page for the browser, in its language`, async () => {
      const { page, context } = await openIn(browser, `${server.url}/no/such/page`, lang);
      const res = await page.reload({ waitUntil: 'load' });
      assert.equal(res?.status(), 404);
      await page.waitForSelector('#not-found-title');
      const title = await page.innerText('#not-found-title');
      assert.equal(title, lang === 'ko' ? '페이지를 찾을 수 없습니다' : 'Page not found');
      assert.match(await page.innerText('main'), /\/no\/such\/page/);
      assert.equal(await page.getAttribute('#home-link', 'href'), '/');
      await shoot(page, `ui-404-${lang}`);
      await context.close();
    });

    test(`customer page (${lang}) at 390 px: the form in the browser's language, no sideways scroll`, async () => {
      const { page, context } = await openIn(browser, `${server.url}/c/?e=${encodeURIComponent(entryToken)}`, lang, PHONE);
      await page.waitForSelector('#view-form:not([hidden])', { timeout: 10_000 });
      assert.equal(await page.innerText('label[for="name"]'), lang === 'ko' ? '이름' : 'Your name');
      assert.equal(await page.innerText('#call'), lang === 'ko' ? '전화하기' : 'Call');
      await assertNoHorizontalOverflow(page, `customer page (${lang})`);
      await shoot(page, `ui-customer-${lang}-390`);
      await context.close();
    });

    test(`agent console (${lang}) at 390 px: signed in, panels in the browser's language, no sideways scroll`, async () => {
      const { page, context } = await openIn(browser, `${server.url}/agent/`, lang, PHONE);
      assert.equal(await page.innerText('#signin'), lang === 'ko' ? '로그인' : 'Sign in');
      await assertNoHorizontalOverflow(page, `agent sign-in (${lang})`);
      await shoot(page, `ui-agent-signin-${lang}-390`);
      await signInOnPage(page, 'kim.minji@example.com', PASSWORD);
      await waitForParleyState(page, 'ready');
      await page.waitForSelector('#connection[data-conn="online"]');
      assert.equal(await page.innerText('#connection'), lang === 'ko' ? '온라인' : 'Online');
      assert.equal(await page.innerText('#state-available'), lang === 'ko' ? '상담 가능' : 'Available');
      await page.click('.devices summary');
      await assertNoHorizontalOverflow(page, `agent console (${lang})`);
      await shoot(page, `ui-agent-${lang}-390`);
      await context.close();
    });

    test(`admin dashboard (${lang}): signed in, live board in the browser's language`, async () => {
      const { page, context } = await openIn(browser, `${server.url}/admin/`, lang, DESKTOP);
      await signInOnPage(page, 'admin@example.com', PASSWORD);
      await page.waitForSelector('#view-live:not([hidden])', { timeout: 10_000 });
      await page.waitForSelector('#conn[data-conn="connected"]', { timeout: 10_000 });
      assert.equal(await page.innerText('#nav-live'), lang === 'ko' ? '실시간 현황' : 'Live board');
      assert.equal(await hasHangul(page, '#view-live'), lang === 'ko');
      await shoot(page, `ui-admin-${lang}`);
      await context.close();
    });
  }

  // Every part of the dashboard an admin opens — not only the live board — reads in Korean:
  // whatever English word is left on screen (names, addresses and format names aside) fails.
  test('admin dashboard (ko): accounts, entry points, history, call detail and webhooks have no English left', async () => {
    const pending = await request(`${server.url}/api/v1/auth/signup`, { body: { email: 'lee.pending@example.com', password: PASSWORD, name: '이대기' } });
    assert.equal(pending.status, 201, JSON.stringify(pending.body));
    const hook = await request(`${server.url}/api/v1/webhooks`, { token: admin.token, body: { url: 'https://hooks.example.com/parley', description: '주문 시스템' } });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));
    const started = await callFrom(server.url, entryToken, '박고객', '01055556666', '배송 문의');
    const { page, context, lines } = await openIn(browser, `${server.url}/admin/`, 'ko', DESKTOP, 'admin-sections-ko');
    logs.push({ name: 'admin-sections-ko', lines });
    await signInOnPage(page, 'admin@example.com', PASSWORD);
    await page.waitForSelector('#view-live:not([hidden])', { timeout: 10_000 });
    const englishIn = (selector: string): Promise<string[]> => englishWordsIn(page, selector);
    const sections: Array<[string, string, string]> = [
      ['#agents', '#view-agents', '#agents tr[data-user-id]'],
      ['#entry', '#view-entry', '#entries .entry'],
      ['#history', '#view-history', '#history tr[data-consultation-id]'],
      [`#call/${started.consultation.id}`, '#view-call', '#call-summary dd.customer'],
      ['#webhooks', '#view-webhooks', '#webhooks .webhook .deliveries tr'],
    ];
    for (const [hash, view, ready] of sections) {
      await page.evaluate((h) => (location.hash = h), hash);
      await page.waitForSelector(`${view}:not([hidden]) ${ready.replace(/^#view-\w+ /, '')}`, { timeout: 10_000 });
      assert.deepEqual(await englishIn(view), [], `English left in ${view}`);
      await shoot(page, `ui-admin-${view.slice(6)}-ko`);
    }
    await context.close();
  });

  // The same sections at 390 px in both languages, and at desktop width in English: screenshots
  // to look at; the English page has no Korean label left (the names are Korean on purpose).
  for (const [lang, viewport, size] of [['ko', PHONE, '390'], ['en', PHONE, '390'], ['en', DESKTOP, 'desktop']] as const) {
    test(`admin dashboard (${lang}, ${size}): every section shown, in its language`, async () => {
      const started = await callFrom(server.url, entryToken, '최고객', '01077778888', '환불 문의');
      const { page, context, lines } = await openIn(browser, `${server.url}/admin/`, lang, viewport, `admin-sections-${lang}-${size}`);
      logs.push({ name: `admin-sections-${lang}-${size}`, lines });
      await signInOnPage(page, 'admin@example.com', PASSWORD);
      await page.waitForSelector('#view-live:not([hidden])', { timeout: 10_000 });
      for (const [hash, view, ready] of [
        ['#agents', '#view-agents', '#agents tr[data-user-id]'],
        ['#entry', '#view-entry', '#entries .entry img.qr[data-qr="loaded"]'],
        ['#history', '#view-history', '#history tr[data-consultation-id]'],
        [`#call/${started.consultation.id}`, '#view-call', '#call-summary dd.customer'],
        ['#webhooks', '#view-webhooks', '#webhooks .webhook .deliveries tr'],
      ] as const) {
        await page.evaluate((h) => (location.hash = h), hash);
        await page.waitForSelector(`${view}:not([hidden]) ${ready.replace(/^#view-\w+ /, '')}`, { timeout: 10_000 });
        if (lang === 'en') {
          const left = (await page.innerText(view)).replace(/이대기|주문 시스템|박고객|최고객|배송 문의|환불 문의|한국어/g, '');
          assert.doesNotMatch(left, /[\uac00-\ud7a3]/, `Korean left in the English ${view}`);
        } else assert.deepEqual(await englishWordsIn(page, view), [], `English left in ${view}`);
        await shoot(page, `ui-admin-${view.slice(6)}-${lang}-${size}`);
      }
      await context.close();
    });
  }

  test('admin dashboard (ko): a webhook made from the form shows its signing secret once; Done forgets it', async () => {
    const { page, context } = await openIn(browser, `${server.url}/admin/`, 'ko', PHONE);
    await signInOnPage(page, 'admin@example.com', PASSWORD);
    await page.waitForSelector('#view-live:not([hidden])', { timeout: 10_000 });
    await page.click('#nav-webhooks');
    await page.fill('#webhook-url', 'https://hooks.example.com/secret-once');
    await page.click('#create-webhook');
    const box = page.locator('#webhook-secret-box');
    await box.waitFor({ timeout: 10_000 });
    assert.equal(await page.innerText('#webhook-secret-url'), 'https://hooks.example.com/secret-once');
    assert.ok((await page.innerText('#webhook-secret')).trim().length >= 16, 'the secret is shown');
    assert.deepEqual(await englishWordsIn(page, '#webhook-secret-box'), [], 'the box reads in Korean');
    await page.locator('#webhooks [data-webhook-id]', { hasText: 'secret-once' }).waitFor({ timeout: 10_000 });
    await shoot(page, 'ui-admin-webhook-secret-ko-390');
    await page.click('#webhook-secret-hide');
    await box.waitFor({ state: 'detached', timeout: 5000 });
    await context.close();
  });

  test('the header switch changes the language at once and is remembered after a reload', async () => {
    const { page, context } = await openIn(browser, `${server.url}/agent/`, 'en', DESKTOP);
    assert.equal(await page.innerText('#signin'), 'Sign in');
    await page.selectOption('#lang', 'ko');
    assert.equal(await page.innerText('#signin'), '로그인');
    assert.equal(await page.getAttribute('html', 'lang'), 'ko');
    await page.reload({ waitUntil: 'load' });
    assert.equal(await page.innerText('#signin'), '로그인');
    await page.selectOption('#lang', 'en');
    assert.equal(await page.innerText('#signin'), 'Sign in');
    await context.close();
  });

  test('404 for an API client is JSON in the error shape', async () => {
    const r = await request(`${server.url}/no/such/page`, { headers: { accept: 'application/json' } });
    assert.equal(r.status, 404);
    assert.equal(r.body.success, false);
    assert.equal(r.body.error.code, 'NOT_FOUND');
    const api = await request(`${server.url}/api/v1/nothing-here`, { headers: { accept: 'text/html' } });
    assert.equal(api.status, 404);
    assert.equal(api.body.error.code, 'NOT_FOUND', 'paths under /api/ always answer JSON');
  });
});
