/**
 * The voice room page's peer list (a Preact view): every peer in the room gets one row with its
 * name as text — a name that looks like HTML stays text and runs nothing —, the page's own row
 * says "(you)", a muted peer's row is marked and loses its level bar and speaking border at
 * once, and a peer who leaves loses its row. A browser that
 * asks for Korean gets the page in Korean, its status line and mute button included, and the
 * header's language switch (the shared one) turns it to English at once and is remembered.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, saveConsoleLog, saveScreenshot, type OpenedPage } from '../support/browser.js';
import { assertNoHorizontalOverflow, shoot } from '../support/uiPages.js';
import { startParley, type RunningParley } from '../support/parleyServer.js';
import { openVoicePage, peerIdOf, waitForJoined } from '../support/voicePage.js';

const rows = (page: Page) =>
  page.$$eval('#peers li.peer', (lis) =>
    lis.map((li) => ({ peerId: (li as HTMLElement).dataset.peerId ?? '', name: li.querySelector('.name')?.textContent ?? '', muted: li.classList.contains('muted') })),
  );

/** Waits for the peer's row to be marked muted and answers its bar and border in that same redraw. */
async function whenMuted(page: Page, peerId: string): Promise<{ level: string; speaking: boolean }> {
  const handle = await page.waitForFunction(
    (id) => {
      const li = document.querySelector(`#peers li[data-peer-id="${id}"]`);
      if (!li?.classList.contains('muted')) return false;
      return { level: (li.querySelector('.level') as HTMLElement | null)?.style.width ?? '', speaking: li.classList.contains('speaking') };
    },
    peerId,
    { timeout: 10_000, polling: 'raf' },
  );
  return (await handle.jsonValue()) as { level: string; speaking: boolean };
}

describe('voice room peer list', { timeout: 120_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  const pages: OpenedPage[] = [];
  const room = `peers-${process.pid}`;
  const hostile = '<img src=x onerror="window.__xss=1">';

  before(async () => {
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1' });
    browser = await launchChromium();
  });
  after(async () => {
    for (const [i, p] of pages.entries()) saveConsoleLog(`voice-room-peers-${i}`, p.console);
    await browser?.close();
    await server?.close();
  });

  test('names are shown as text, the own row says (you), mute and leave show', async () => {
    const ann = await openVoicePage(browser, server.url, room, 'ann');
    pages.push(ann);
    const other = await openVoicePage(browser, server.url, room, hostile);
    pages.push(other);
    const annId = await peerIdOf(ann.page);
    const otherId = await peerIdOf(other.page);

    await ann.page.waitForFunction((n) => document.querySelectorAll('#peers li.peer').length === n, 2, { timeout: 15_000 });
    assert.deepEqual(
      (await rows(ann.page)).sort((a, b) => a.peerId.localeCompare(b.peerId)),
      [
        { peerId: annId, name: 'ann (you)', muted: false },
        { peerId: otherId, name: hostile, muted: false },
      ].sort((a, b) => a.peerId.localeCompare(b.peerId)),
    );
    assert.equal(await ann.page.$$eval('#peers img', (imgs) => imgs.length), 0, 'the name did not become an element');
    assert.equal(await ann.page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined, 'nothing ran');
    assert.equal((await rows(other.page)).find((r) => r.peerId === otherId)?.name, `${hostile} (you)`);

    // Ann mutes herself first, so the other peer is the only voice: its bar fills and it becomes
    // the speaker. Each mute must empty the bar and drop the border in the same redraw that marks
    // the row muted — the server sends no level for a paused producer, so nothing else would.
    await ann.page.click('#mute');
    assert.deepEqual(await whenMuted(ann.page, annId), { level: '0%', speaking: false }, 'the own row goes quiet at the mute');
    await ann.page.waitForFunction(
      (id) => {
        const li = document.querySelector(`#peers li[data-peer-id="${id}"]`);
        return li?.classList.contains('speaking') === true && parseFloat((li.querySelector('.level') as HTMLElement | null)?.style.width ?? '0') > 0;
      },
      otherId,
      { timeout: 15_000 },
    );
    await saveScreenshot(ann.page, 'voice-room-peers-other-speaking');
    await other.page.click('#mute');
    assert.deepEqual(await whenMuted(ann.page, otherId), { level: '0%', speaking: false }, 'a peer who mutes loses the bar and the speaking border at once');
    await saveScreenshot(ann.page, 'voice-room-peers-ann');
    await ann.page.click('#mute');
    await ann.page.waitForFunction((id) => document.querySelector(`#peers li[data-peer-id="${id}"]`)?.classList.contains('muted') === false, annId, { timeout: 10_000 });

    // A Korean browser: the fixed texts, the status line, the own row and the mute button in Korean.
    const koContext = await browser.newContext({ viewport: { width: 390, height: 720 }, locale: 'ko-KR' });
    const ko = await koContext.newPage();
    await ko.goto(`${server.url}/voice/?room=${encodeURIComponent(room)}&user=bora`, { waitUntil: 'load' });
    await waitForJoined(ko);
    assert.equal(await ko.textContent('header > span[data-i18n]'), 'Parley 음성 방');
    await ko.waitForFunction((r) => document.querySelector('#status')?.textContent === `${r} 방에 있습니다`, room, { timeout: 10_000 });
    assert.equal(await ko.textContent('#leave'), '나가기');
    assert.equal(await ko.textContent('#mute'), '음소거');
    await ko.waitForFunction(() => [...document.querySelectorAll('#peers .name')].some((n) => n.textContent === 'bora (나)'), undefined, { timeout: 10_000 });
    await ko.click('#mute');
    await ko.waitForFunction(() => document.querySelector('#mute')?.textContent === '음소거 해제', undefined, { timeout: 10_000 });
    assert.equal(await ko.evaluate(() => document.documentElement.lang), 'ko');
    await assertNoHorizontalOverflow(ko, 'the Korean voice room at 390 px');
    await shoot(ko, 'voice-room-ko-390');

    // The header's switch, the same as the other pages': English at once (status line, mute
    // button, own row, <html lang>), and still English after a reload.
    assert.equal(await ko.inputValue('header #lang'), 'ko');
    await ko.selectOption('header #lang', 'en');
    await ko.waitForFunction((r) => document.querySelector('#status')?.textContent === `in room ${r}`, room, { timeout: 5_000 });
    assert.equal(await ko.textContent('header > span[data-i18n]'), 'Parley voice room');
    assert.equal(await ko.textContent('#mute'), 'Unmute');
    assert.ok((await rows(ko)).some((r) => r.name === 'bora (you) · muted'), JSON.stringify(await rows(ko)));
    assert.equal(await ko.evaluate(() => document.documentElement.lang), 'en');
    await assertNoHorizontalOverflow(ko, 'the English voice room at 390 px');
    await shoot(ko, 'voice-room-en-390');
    await ko.reload({ waitUntil: 'load' });
    await waitForJoined(ko);
    assert.equal(await ko.textContent('#leave'), 'Leave', 'the choice is remembered over the browser\'s Korean');
    await koContext.close();

    // Desktop, both languages (Ann's page asks for English; she switches to Korean and back).
    await ann.page.setViewportSize({ width: 1200, height: 800 });
    await shoot(ann.page, 'voice-room-en-desktop');
    await ann.page.selectOption('header #lang', 'ko');
    await ann.page.waitForFunction(() => document.querySelector('#leave')?.textContent === '나가기', undefined, { timeout: 5_000 });
    await shoot(ann.page, 'voice-room-ko-desktop');
    await ann.page.selectOption('header #lang', 'en');

    await other.page.close();
    await ann.page.waitForFunction(() => document.querySelectorAll('#peers li.peer').length === 1, undefined, { timeout: 15_000 });
    assert.deepEqual(await rows(ann.page), [{ peerId: annId, name: 'ann (you)', muted: false }]);
  });
});
