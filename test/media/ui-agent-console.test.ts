/**
 * The agent console's new panels in real Chromium (issue 15):
 * - background-tab alert: another tab in front, the console unfocused (CDP focus emulation off)
 *   and hidden (document.visibilityState 'hidden', set on the page: headless Chromium keeps every
 *   tab visible), an offer changes the console's tab title
 *   and raises a desktop notification (permission granted through the Playwright context);
 *   the title comes back once the offer is answered;
 * - during the call: notes typed in the call panel start the wrap-up note, the caption panel
 *   shows its placeholder, the after-call timer runs in wrap-up;
 * - the admin's Listen / Whisper / Barge on the live board join the call in that mode, and the
 *   agent's Transfer sends the call back to the queue and leaves it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, saveConsoleLog, waitForParleyState } from '../support/browser.js';
import { callFrom, createAgent, createEntryPoint, firstAdmin, PASSWORD } from '../support/consultation.js';
import { startParley, type RunningParley } from '../support/parleyServer.js';
import { DESKTOP, PHONE, recordNotifications, shoot, signInOnPage } from '../support/uiPages.js';
import { recordConsole } from '../support/browser.js';

describe('agent console: alert in a background tab, call panels, transfer and supervise buttons', { timeout: 180_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  let entryToken: string;
  const logs: Array<{ name: string; lines: string[] }> = [];

  before(async () => {
    server = await startParley();
    browser = await launchChromium();
    const admin = await firstAdmin(server.url);
    await createAgent(server.url, admin, 'Kim Minji');
    entryToken = (await createEntryPoint(server.url, admin, 'Gangnam store')).entryToken;
  });
  after(async () => {
    for (const l of logs) saveConsoleLog(`ui-agent-${l.name}`, l.lines);
    await browser?.close();
    await server?.close();
  });

  test('an offer alerts a background console: tab title, desktop notification; then the call panels', async () => {
    const context = await browser.newContext({ viewport: PHONE, locale: 'en-US', permissions: ['notifications'] });
    await context.grantPermissions(['notifications'], { origin: server.url });
    const agent = await context.newPage();
    logs.push({ name: 'console', lines: recordConsole(agent, 'console') });
    await recordNotifications(agent);
    await agent.goto(`${server.url}/agent/`, { waitUntil: 'load' });
    await signInOnPage(agent, 'kim.minji@example.com', PASSWORD);
    await waitForParleyState(agent, 'ready');
    assert.equal(await agent.getAttribute('#notify-state', 'data-permission'), 'granted');
    await agent.click('#state-available');
    await agent.waitForSelector('#agent-state[data-state="available"]');
    const baseTitle = await agent.title();

    // The console becomes a hidden background tab: another tab in front, focus emulation off
    // (document.hasFocus() is false), and the page told it is hidden. Headless Chromium keeps
    // every tab "visible" whatever is in front (neither bringToFront, a minimized window nor
    // a background target changes it), so the hidden state is set on the document itself and
    // announced with a real visibilitychange, as a browser does when the tab goes behind.
    const other = await context.newPage();
    await other.goto(`${server.url}/`, { waitUntil: 'load' });
    await other.bringToFront();
    const cdp = await context.newCDPSession(agent);
    await cdp.send('Emulation.setFocusEmulationEnabled', { enabled: false });
    // A string, not a function: tsx's keepNames helpers (`__name`) do not exist in the page.
    await agent.evaluate(`(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get() { return 'hidden'; } });
      Object.defineProperty(document, 'hidden', { configurable: true, get() { return true; } });
      document.dispatchEvent(new Event('visibilitychange'));
    })()`);
    assert.deepEqual(await agent.evaluate(() => [document.visibilityState, document.hasFocus()]), ['hidden', false]);

    await callFrom(server.url, entryToken, 'Jane Customer', '01012345678', 'Where is my parcel?');
    await waitForParleyState(agent, 'offered');
    const title = await agent.title();
    assert.match(title, /Call from Jane Customer/, `the tab title tells who calls (was "${title}")`);
    const raised = await agent.evaluate(() => (window as unknown as { __notifications: Array<{ title: string; body: string }> }).__notifications);
    const alerts = await agent.evaluate(() => (window as unknown as { parley: { log: Array<{ event: string; data: unknown }> } }).parley.log.filter((e) => e.event === 'alert' || e.event === 'consultation:offer'));
    assert.equal(raised.length, 1, `one desktop notification per offer: ${JSON.stringify({ raised, alerts })}`);
    assert.equal(raised[0]!.title, 'Incoming call');
    assert.equal(raised[0]!.body, 'Jane Customer: Where is my parcel?');
    const alert = alerts.find((e) => e.event === 'alert')?.data as { visibility: string; focused: boolean } | undefined;
    assert.deepEqual(alert && { visibility: alert.visibility, focused: alert.focused }, { visibility: 'hidden', focused: false }, 'the alert was raised while the tab was hidden and unfocused');
    await cdp.send('Emulation.setFocusEmulationEnabled', { enabled: true });
    await agent.evaluate(`(() => { delete document.visibilityState; delete document.hidden; document.dispatchEvent(new Event('visibilitychange')); })()`);

    await agent.bringToFront();
    await agent.click('#accept');
    await waitForParleyState(agent, 'in-call', 20_000);
    assert.equal(await agent.title(), baseTitle, 'the title comes back once the call is answered');
    // The test server runs without a speech engine (STT_ENGINE=none): the panel says so in a sentence.
    assert.match(await agent.innerText('#caption-panel'), /Captions are off for this call\./);
    await agent.fill('#call-notes', 'Parcel stuck in Busan; promised a call back.');

    await shoot(agent, 'ui-agent-in-call-en-390');

    await agent.click('#end');
    await waitForParleyState(agent, 'wrap-up');
    assert.equal(await agent.inputValue('#note'), 'Parcel stuck in Busan; promised a call back.', 'the notes written during the call start the wrap-up');
    await agent.waitForSelector('#acw-timer');
    assert.match(await agent.innerText('#acw-timer'), /^After-call work for 0:0\d$/);
    await shoot(agent, 'ui-agent-wrap-up-en-390');
    await context.close();
  });

  test('the admin live board has Listen / Whisper / Barge per live call and joins in that mode; the agent transfers the call back to the queue', async () => {
    const agentCtx = await browser.newContext({ viewport: DESKTOP, locale: 'ko-KR' });
    const agent = await agentCtx.newPage();
    await agent.goto(`${server.url}/agent/`, { waitUntil: 'load' });
    await signInOnPage(agent, 'kim.minji@example.com', PASSWORD);
    await agent.waitForFunction(() => (window as unknown as { parley: { state: string } }).parley.state !== 'signed-out');
    const st = await agent.evaluate(() => { const p = (window as unknown as { parley: { state: string; offer?: unknown; agent?: unknown } }).parley; return { state: p.state, offer: p.offer, agent: p.agent }; });
    assert.equal(st.state, 'ready', JSON.stringify(st));
    if ((await agent.getAttribute('#agent-state', 'data-state')) !== 'available') await agent.click('#state-available');
    await agent.waitForSelector('#agent-state[data-state="available"]');
    await callFrom(server.url, entryToken, '홍길동', '01098765432', '환불 문의');
    await waitForParleyState(agent, 'offered');
    await agent.click('#accept');
    await waitForParleyState(agent, 'in-call', 20_000);

    const adminCtx = await browser.newContext({ viewport: DESKTOP, locale: 'ko-KR' });
    const admin: Page = await adminCtx.newPage();
    logs.push({ name: 'admin', lines: recordConsole(admin, 'admin') });
    await admin.goto(`${server.url}/admin/`, { waitUntil: 'load' });
    await signInOnPage(admin, 'admin@example.com', PASSWORD);
    await admin.waitForSelector('#board-live tr[data-consultation-id] td.supervise button', { timeout: 15_000 });
    const labels = await admin.$$eval('#board-live td.supervise button', (bs) => bs.map((b) => b.textContent));
    assert.deepEqual(labels, ['모니터링', '귓속말', '끼어들기']);
    await shoot(admin, 'ui-admin-live-call-ko');
    await admin.click('#board-live td.supervise button:has([data-mode="listen"])');
    await admin.waitForSelector('#supervise[data-mode="listen"]', { timeout: 20_000 });
    assert.equal(await admin.$('#supervise-unsupported'), null, 'this server supervises');
    await shoot(admin, 'ui-admin-supervising-ko');
    // The agent is told, in a sentence, who listens.
    await agent.waitForSelector('#supervisor-notice [data-mode="listen"]', { timeout: 10_000 });
    assert.match(await agent.innerText('#supervisor-notice'), /감독자 .+ 님이 이 통화를 듣고 있습니다/);
    await shoot(agent, 'ui-agent-supervised-ko');
    // Leave ends the supervision on the server: the notice goes from the agent's console.
    await admin.click('#supervise-leave');
    await agent.waitForSelector('#supervisor-notice [data-mode]', { state: 'detached', timeout: 10_000 });
    // Supervising again, then the admin's page closes: the supervision ends with it.
    await admin.click('#board-live td.supervise button:has([data-mode="whisper"])');
    await agent.waitForSelector('#supervisor-notice [data-mode="whisper"]', { timeout: 20_000 });
    await adminCtx.close();
    await agent.waitForSelector('#supervisor-notice [data-mode]', { state: 'detached', timeout: 10_000 });

    // Transfer back to the queue: the console leaves the call and says where it went.
    await agent.click('#transfer');
    await agent.waitForSelector('#transfer-dialog[open]');
    await agent.click('#transfer-queue');
    await waitForParleyState(agent, 'ready', 15_000);
    assert.match(await agent.innerText('#notice-banner'), /대기열|queue/);
    await agentCtx.close();
  });
});
