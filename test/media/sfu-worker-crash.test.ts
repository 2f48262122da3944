/**
 * Media workers isolate rooms: killing the worker of one room ends that room (its pages get
 * `room-closed` with the reason), the room on the other worker keeps flowing, the server
 * stays healthy, and the ended room can be joined again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium, saveConsoleLog, type OpenedPage } from '../support/browser.js';
import { request, startParley, type RunningParley } from '../support/parleyServer.js';
import { consumerStats, openVoicePage, peerIdOf, voiceEvents, waitUntilHearing } from '../support/voicePage.js';

const packetsOf = async (p: OpenedPage) => (await consumerStats(p.page)).reduce((a, r) => a + r.packetsReceived, 0);

describe('a media worker crash ends only its rooms', { timeout: 120_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  const pages: OpenedPage[] = [];

  before(async () => {
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '2' });
    browser = await launchChromium();
  });
  after(async () => {
    for (const [i, p] of pages.entries()) saveConsoleLog(`sfu-crash-${i}`, p.console);
    await browser?.close();
    await server?.close();
  });

  test('kill the worker of room A: A is told and ends, B keeps flowing, A can start again', async () => {
    const [a1, a2, b1, b2] = [
      await openVoicePage(browser, server.url, 'room-a', 'a1'),
      await openVoicePage(browser, server.url, 'room-a', 'a2'),
      await openVoicePage(browser, server.url, 'room-b', 'b1'),
      await openVoicePage(browser, server.url, 'room-b', 'b2'),
    ];
    pages.push(a1, a2, b1, b2);
    await waitUntilHearing(a1.page, [await peerIdOf(a2.page)]);
    await waitUntilHearing(b1.page, [await peerIdOf(b2.page)]);

    const media = server.parley.media;
    const workerA = media.workerOf('room-a');
    const workerB = media.workerOf('room-b');
    assert.ok(workerA && workerB);
    assert.notEqual(workerA.index, workerB.index, 'the two rooms are placed on different workers');

    await workerA.terminate();

    for (const p of [a1, a2]) {
      await p.page.waitForFunction(() => (window as unknown as { voice: { closedReason?: string } }).voice.closedReason !== undefined, undefined, { timeout: 10_000 });
      assert.deepEqual(await voiceEvents(p.page, 'room-closed'), [{ roomId: 'room-a', reason: 'media-worker-crashed' }]);
    }
    for (const p of [b1, b2]) assert.deepEqual(await voiceEvents(p.page, 'room-closed'), []);

    const before = await packetsOf(b1);
    await new Promise((r) => setTimeout(r, 1500));
    const afterKill = await packetsOf(b1);
    assert.ok(afterKill - before > 30, `room B still receives audio after the kill (${before} → ${afterKill})`);

    assert.equal((await request(`${server.url}/health`)).body.status, 'ok');
    assert.equal(media.workers.filter((w) => w.isAlive).length, 2, 'a replacement worker was started');

    const again1 = await openVoicePage(browser, server.url, 'room-a', 'a3');
    const again2 = await openVoicePage(browser, server.url, 'room-a', 'a4');
    pages.push(again1, again2);
    await waitUntilHearing(again1.page, [await peerIdOf(again2.page)]);
  });
});
