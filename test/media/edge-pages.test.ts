/**
 * The pages under the security headers, in real Chromium (issue 9, items 10 and 11): every
 * page loads with zero CSP violations and its Socket.IO connection still works; `/agent` and
 * `/c?e=…` without the trailing slash work; no password ever lands in a URL, even when the
 * console's script fails to load.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page, Request } from 'playwright-core';
import { launchChromium, recordConsole, saveConsoleLog, waitForPageEvent, waitForParleyState } from '../support/browser.js';
import { createAgent, createEntryPoint, firstAdmin, PASSWORD } from '../support/consultation.js';
import { request, startParley, type RunningParley } from '../support/parleyServer.js';

interface Watched {
  page: Page;
  /** CSP violations the page reported (securitypolicyviolation events and console reports). */
  violations(): Promise<string[]>;
  /** Every URL the page requested, and every request body it sent. */
  urls: string[];
  bodies: string[];
  /** The Content-Security-Policy header of the document the page ended on. */
  csp: string;
}

describe('pages under the security headers, in Chromium', { timeout: 120_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  let entryToken: string;
  const logs: Array<{ name: string; lines: string[] }> = [];

  const open = async (name: string, path: string, setup?: (page: Page) => Promise<void>): Promise<Watched> => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
    const page = await context.newPage();
    const lines = recordConsole(page, name);
    logs.push({ name, lines });
    const consoleViolations: string[] = [];
    page.on('console', (m) => {
      if (/Content[- ]Security[- ]Policy/i.test(m.text())) consoleViolations.push(m.text());
    });
    await page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { __csp: string[] }).__csp = seen;
      document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`));
    });
    const urls: string[] = [];
    const bodies: string[] = [];
    page.on('request', (r: Request) => {
      urls.push(r.url());
      const body = r.postData();
      if (body) bodies.push(body);
    });
    await setup?.(page);
    const response = await page.goto(`${server.url}${path}`, { waitUntil: 'load', timeout: 15_000 });
    return {
      page,
      urls,
      bodies,
      csp: (await response?.allHeaders())?.['content-security-policy'] ?? '',
      violations: async () => [...consoleViolations, ...(await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []))],
    };
  };

  before(async () => {
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1' });
    browser = await launchChromium();
    const admin = await firstAdmin(server.url);
    await createAgent(server.url, admin, 'Csp Agent');
    entryToken = (await createEntryPoint(server.url, admin)).entryToken;
  });
  after(async () => {
    for (const l of logs) saveConsoleLog(`edge-pages-${l.name}`, l.lines);
    await browser?.close();
    await server?.close();
  });

  test('every page loads with zero CSP violations', async () => {
    for (const path of ['/', '/c/', '/agent/', '/admin/', '/voice/', '/demo/', '/api/docs']) {
      const w = await open(`load${path.replaceAll('/', '-')}`, path);
      assert.match(w.csp, /script-src 'self'/, `${path}: no CSP header`);
      // Let late scripts (Swagger UI renders after load) run.
      await w.page.waitForLoadState('networkidle', { timeout: 10_000 }).catch(() => undefined);
      assert.deepEqual(await w.violations(), [], `${path}: CSP violations`);
      if (path === '/api/docs') await w.page.locator('.swagger-ui .info').waitFor({ timeout: 10_000 });
      await w.page.context().close();
    }

    // The watch does see a violation when one happens (an inline script under this CSP).
    const probe = await open('probe', '/');
    await probe.page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.inlineRan = true';
      document.body.append(s);
    });
    await probe.page.waitForFunction(() => ((window as unknown as { __csp?: string[] }).__csp ?? []).length > 0, undefined, { timeout: 5_000 });
    assert.equal(await probe.page.evaluate(() => (window as unknown as { inlineRan?: boolean }).inlineRan), undefined);
    assert.ok((await probe.violations()).some((v) => v.startsWith('script-src')));
    await probe.page.context().close();
  });

  test('the consoles and the demo still connect their sockets (connect-src self covers ws:)', async () => {
    const agent = await open('agent-socket', '/agent/');
    await agent.page.fill('#email', 'csp.agent@example.com');
    await agent.page.fill('#password', PASSWORD);
    await agent.page.click('#signin');
    await waitForParleyState(agent.page, 'ready');
    await waitForPageEvent(agent.page, 'connect');

    const admin = await open('admin-socket', '/admin/');
    await admin.page.fill('#email', 'admin@example.com');
    await admin.page.fill('#password', PASSWORD);
    await admin.page.click('#signin');
    await waitForParleyState(admin.page, 'ready');
    await admin.page.locator('#conn[data-conn="connected"]').waitFor({ timeout: 10_000 });

    const demo = await open('demo-socket', '/demo/p2p.html?room=csp-room&user=csp-user&video=0');
    await demo.page.waitForFunction(() => (window as unknown as { parley?: { state?: string } }).parley?.state === 'joined', undefined, { timeout: 15_000, polling: 100 });

    for (const w of [agent, admin, demo]) assert.deepEqual(await w.violations(), []);
    for (const w of [agent, admin, demo]) await w.page.context().close();
  });

  test('/agent (no slash) loads the console, signs in, and no password appears in any URL', async () => {
    const w = await open('agent-noslash', '/agent');
    assert.equal(new URL(w.page.url()).pathname, '/agent/');
    await w.page.fill('#email', 'csp.agent@example.com');
    await w.page.fill('#password', PASSWORD);
    await w.page.click('#signin');
    await waitForParleyState(w.page, 'ready');
    assert.equal(await w.page.locator('#console-view').isVisible(), true);
    const leaked = w.urls.filter((u) => u.includes(encodeURIComponent(PASSWORD)) || u.includes(PASSWORD) || /[?&]password=/.test(u));
    assert.deepEqual(leaked, []);
    await w.page.context().close();
  });

  test('with the console script blocked, submitting the sign-in form sends no password anywhere', async () => {
    const w = await open('agent-noscript', '/agent', async (page) => {
      await page.route('**/console.js', (route) => route.abort());
    });
    await w.page.fill('#email', 'csp.agent@example.com');
    await w.page.fill('#password', PASSWORD);
    const navigated = w.page.waitForEvent('framenavigated', { timeout: 10_000 });
    await w.page.click('#signin');
    await navigated;
    await w.page.waitForLoadState('load');
    assert.ok(!w.page.url().includes('password'), w.page.url());
    const everything = [...w.urls, ...w.bodies];
    assert.deepEqual(
      everything.filter((s) => s.includes(PASSWORD) || s.includes(encodeURIComponent(PASSWORD))),
      [],
      'the password was sent',
    );
    await w.page.context().close();
  });

  test('a self-signed-up account waits in the Agents list until the admin presses Approve', async () => {
    const up = await request(`${server.url}/api/v1/auth/signup`, { body: { email: 'walk.in@example.com', password: PASSWORD, name: 'Walk In' } });
    assert.equal(up.body.user.status, 'pending');
    const agent = await open('pending-agent', '/agent/');
    await agent.page.fill('#email', 'walk.in@example.com');
    await agent.page.fill('#password', PASSWORD);
    await agent.page.click('#signin');
    await agent.page.locator('#signin-error', { hasText: 'waiting for an administrator to approve this account' }).waitFor({ timeout: 10_000 });

    const admin = await open('admin-approve', '/admin/');
    await admin.page.fill('#email', 'admin@example.com');
    await admin.page.fill('#password', PASSWORD);
    await admin.page.click('#signin');
    await waitForParleyState(admin.page, 'ready');
    await admin.page.click('#nav-agents');
    const row = admin.page.locator('#agents tr[data-status="pending"]', { hasText: 'walk.in@example.com' });
    await row.waitFor({ timeout: 10_000 });
    assert.match((await row.locator('.status').textContent()) ?? '', /^Waiting for approval$/);
    await row.locator('button.approve').click();
    await admin.page.locator('#agents tr[data-status="active"]', { hasText: 'walk.in@example.com' }).waitFor({ timeout: 10_000 });

    await agent.page.click('#signin');
    await waitForParleyState(agent.page, 'ready');
    for (const w of [agent, admin]) await w.page.context().close();
  });

  test('/c?e=<entry token> (no slash) shows the customer form', async () => {
    const w = await open('customer-noslash', `/c?e=${encodeURIComponent(entryToken)}`);
    assert.equal(new URL(w.page.url()).pathname, '/c/');
    await waitForParleyState(w.page, 'form');
    assert.equal(await w.page.locator('#view-form').isVisible(), true);
    assert.deepEqual(await w.violations(), []);
    await w.page.context().close();
  });
});
