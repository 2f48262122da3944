/**
 * The agent console while the cluster refuses changes for now (issue 15 after issue 13), in
 * real Chromium against a real Parley. The refusal a node gives while the routing owner hands
 * over is made on the wire: the console's WebSocket runs through Playwright's WebSocket route,
 * which forwards every frame both ways except the console's `agent:set-state` requests that it
 * is told to refuse — those never reach the server (as a refused change is not applied) and are
 * answered in Socket.IO's ack frame with Parley's `{ error: { code: 'CLUSTER_UNAVAILABLE' } }`.
 * - refused twice: the console says "Reconnecting to the queue…" meanwhile, the third try goes
 *   through, the agent is available and the sentence goes away (English, desktop);
 * - refused every time: after about 20 s the console gives up with the sentence that nothing
 *   was changed, and no try reached the server (Korean, 390 px).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, saveConsoleLog, waitForParleyState } from '../support/browser.js';
import { createAgent, firstAdmin, PASSWORD, type Staff } from '../support/consultation.js';
import { startParley, type RunningParley } from '../support/parleyServer.js';
import { assertNoHorizontalOverflow, contextIn, DESKTOP, PHONE, shoot, signInOnPage, type Lang } from '../support/uiPages.js';
import { recordConsole } from '../support/browser.js';

/** Refuses the console's next `refuse` `agent:set-state` requests at the wire; returns what it saw. */
async function refuseSetState(page: Page, refuse: number): Promise<{ refused: number; forwarded: number }> {
  const seen = { refused: 0, forwarded: 0 };
  await page.routeWebSocket(/\/socket\.io\//, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((frame) => {
      // Socket.IO over engine.io: `42/consult,<ackId>["agent:set-state",{…}]` is an event with an ack.
      const m = typeof frame === 'string' ? /^42\/consult,(\d+)\["agent:set-state"/.exec(frame) : null;
      if (m && seen.refused < refuse) {
        seen.refused++;
        ws.send(`43/consult,${m[1]}[${JSON.stringify({ error: { code: 'CLUSTER_UNAVAILABLE', message: 'the node that routes consultations did not answer; try again in a few seconds' } })}]`);
        return;
      }
      if (m) seen.forwarded++;
      server.send(frame);
    });
    server.onMessage((frame) => ws.send(frame));
  });
  return seen;
}

describe('agent console: a change refused with CLUSTER_UNAVAILABLE is sent again, then given up with a sentence', { timeout: 150_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  let admin: Staff;
  const logs: Array<{ name: string; lines: string[] }> = [];

  before(async () => {
    server = await startParley();
    browser = await launchChromium();
    admin = await firstAdmin(server.url);
  });
  after(async () => {
    for (const l of logs) saveConsoleLog(`ui-cluster-retry-${l.name}`, l.lines);
    await browser?.close();
    await server?.close();
  });

  async function signedInConsole(lang: Lang, viewport: { width: number; height: number }, name: string, refuse: number): Promise<{ page: Page; seen: { refused: number; forwarded: number }; close: () => Promise<void> }> {
    await createAgent(server.url, admin, name);
    const context = await contextIn(browser, lang, viewport);
    const page = await context.newPage();
    logs.push({ name: `${lang}-${viewport.width}`, lines: recordConsole(page, 'console') });
    const seen = await refuseSetState(page, refuse);
    await page.goto(`${server.url}/agent/`, { waitUntil: 'load' });
    await signInOnPage(page, `${name.toLowerCase().replace(/\W+/g, '.')}@example.com`, PASSWORD);
    await waitForParleyState(page, 'ready');
    return { page, seen, close: () => context.close() };
  }

  test('refused twice: "Reconnecting to the queue…" while it retries, then the agent is available (English, desktop)', async () => {
    const { page, seen, close } = await signedInConsole('en', DESKTOP, 'Lee Jiwoo', 2);
    await page.click('#state-available');
    const notice = page.locator('#queue-retrying');
    await notice.waitFor({ state: 'visible', timeout: 5_000 });
    assert.equal((await notice.textContent())?.trim(), 'Reconnecting to the queue… What you just did will be sent again in a moment.');
    await shoot(page, 'ui-cluster-retry-en-desktop');
    await page.waitForSelector('#agent-state[data-state="available"]', { timeout: 10_000 });
    await notice.waitFor({ state: 'detached', timeout: 2_000 });
    assert.deepEqual(seen, { refused: 2, forwarded: 1 }, 'two tries refused on the wire, the third reached the server');
    assert.equal(await page.locator('#error-banner').isHidden(), true, 'no error once the change went through');
    await close();
  });

  test('refused every time: after about 20 s it gives up, saying nothing changed, and nothing reached the server (Korean, 390 px)', async () => {
    const { page, seen, close } = await signedInConsole('ko', PHONE, 'Choi Yuna', 1_000);
    const started = Date.now();
    await page.click('#state-available');
    const notice = page.locator('#queue-retrying');
    await notice.waitFor({ state: 'visible', timeout: 5_000 });
    assert.equal((await notice.textContent())?.trim(), '대기열에 다시 연결하는 중입니다… 방금 한 작업을 곧 다시 보냅니다.');
    await assertNoHorizontalOverflow(page, 'the console with the retry notice at 390 px');
    await shoot(page, 'ui-cluster-retry-ko-390');
    await page.waitForFunction(() => !document.querySelector('#error-banner')?.hasAttribute('hidden'), undefined, { timeout: 30_000 });
    const gaveUpAfter = Date.now() - started;
    assert.equal((await page.textContent('#error-banner'))?.trim(), '약 20초 동안 대기열에 연결하지 못해 아무것도 바뀌지 않았습니다. 잠시 후 다시 시도하세요.');
    assert.equal(await notice.count(), 0, 'the retry notice is gone once it gave up');
    assert.ok(gaveUpAfter > 12_000 && gaveUpAfter < 25_000, `gave up after about 20 s (${gaveUpAfter} ms)`);
    assert.ok(seen.refused >= 5 && seen.refused <= 9 && seen.forwarded === 0, `retried with a growing pause, nothing reached the server: ${JSON.stringify(seen)}`);
    assert.notEqual(await page.getAttribute('#agent-state', 'data-state'), 'available', 'the console does not claim a state the server never took');
    await shoot(page, 'ui-cluster-retry-ko-390-gave-up');
    await close();
  });
});
