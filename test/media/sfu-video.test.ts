/**
 * VP8 through the SFU: one publisher with camera and microphone, two subscribers with
 * stock mediasoup-client; both decode video frames (the SFU forwards the key frame request
 * a new consumer needs) and hear the audio.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium, saveConsoleLog, saveScreenshot, type OpenedPage } from '../support/browser.js';
import { startParley, type RunningParley } from '../support/parleyServer.js';
import { consumerStats, openVoicePage, peerIdOf } from '../support/voicePage.js';

describe('SFU video: one VP8 publisher, two subscribers', { timeout: 90_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  const pages: OpenedPage[] = [];

  before(async () => {
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1' });
    browser = await launchChromium();
  });
  after(async () => {
    for (const [i, p] of pages.entries()) saveConsoleLog(`sfu-video-${i}`, p.console);
    await browser?.close();
    await server?.close();
  });

  test('both subscribers decode frames from the publisher', async () => {
    const room = `video-${process.pid}`;
    const publisher = await openVoicePage(browser, server.url, room, 'publisher', { video: true });
    pages.push(publisher);
    const publisherId = await peerIdOf(publisher.page);
    for (const name of ['sub-1', 'sub-2']) pages.push(await openVoicePage(browser, server.url, room, name));

    for (const sub of pages.slice(1)) {
      const deadline = Date.now() + 20_000;
      let rows = await consumerStats(sub.page);
      while (Date.now() < deadline && !rows.some((r) => r.kind === 'video' && r.framesDecoded > 10)) {
        await new Promise((r) => setTimeout(r, 250));
        rows = await consumerStats(sub.page);
      }
      const video = rows.find((r) => r.kind === 'video' && r.peerId === publisherId);
      assert.ok(video, `subscriber consumes the publisher's video: ${JSON.stringify(rows)}`);
      assert.ok(video.framesDecoded > 10, `frames decoded: ${JSON.stringify(video)}`);
      const audio = rows.find((r) => r.kind === 'audio' && r.peerId === publisherId);
      assert.ok(audio && audio.packetsReceived > 0, `audio too: ${JSON.stringify(rows)}`);
      const size = await sub.page.evaluate(() => {
        const v = document.querySelector<HTMLVideoElement>('#videos video');
        return v ? { w: v.videoWidth, h: v.videoHeight } : undefined;
      });
      assert.ok(size && size.w > 0 && size.h > 0, `video element shows a picture: ${JSON.stringify(size)}`);
    }
    await saveScreenshot(pages[1]!.page, 'sfu-video-subscriber');
  });

  test('subscribers get RTCP sender reports for their streams (remote-outbound-rtp)', async () => {
    const sub = pages[1]!.page;
    const deadline = Date.now() + 15_000;
    let rows = await consumerStats(sub);
    while (Date.now() < deadline && !rows.every((r) => r.remotePacketsSent > 0)) {
      await new Promise((r) => setTimeout(r, 500));
      rows = await consumerStats(sub);
    }
    for (const r of rows) assert.ok(r.remotePacketsSent > 0, `${r.kind} consumer has a sender report: ${JSON.stringify(r)}`);
  });
});
