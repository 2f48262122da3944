/**
 * The in-process SFU API that captions, the AI agent and recording build on: server code
 * taps a browser's producer (reads its RTP) and feeds a direct producer (writes RTP into
 * the room). Here an echo bot does both: the page hears its own voice back as "echo-bot".
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { RtpPacket } from 'werift';
import { launchChromium, saveConsoleLog, type OpenedPage } from '../support/browser.js';
import { startParley, type RunningParley } from '../support/parleyServer.js';
import { openVoicePage, peerIdOf, waitUntilHearing } from '../support/voicePage.js';

describe('in-process SFU API: tap a producer, produce into a room', { timeout: 60_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  let page: OpenedPage | undefined;

  before(async () => {
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1' });
    browser = await launchChromium();
  });
  after(async () => {
    if (page) saveConsoleLog('sfu-server-api', page.console);
    await browser?.close();
    await server?.close();
  });

  test('an echo bot taps the caller and plays the audio back into the room', async () => {
    const roomId = 'api-room';
    page = await openVoicePage(browser, server.url, roomId, 'caller');
    const callerId = await peerIdOf(page.page);
    const room = await server.parley.media.room(roomId);
    const producers = await room.producers();
    const mic = producers.find((p) => p.peerId === callerId && p.kind === 'audio');
    assert.ok(mic, JSON.stringify(producers));

    const bot = await room.createDirectProducer('echo-bot', {
      kind: 'audio',
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 42424242 }] },
    });
    const tapped: RtpPacket[] = [];
    const tap = await room.tap(mic.producerId, (bytes) => {
      const packet = RtpPacket.deSerialize(Buffer.from(bytes));
      tapped.push(packet);
      bot.send(bytes);
    });

    await waitUntilHearing(page.page, ['echo-bot'], 15_000);
    const stats = (await room.stats()) as { transports: Array<{ peerId: string; connected: boolean; rtpPacketsSent: number }> };
    const callerTransports = stats.transports.filter((t) => t.peerId === callerId);
    assert.ok(callerTransports.some((t) => t.connected && t.rtpPacketsSent > 0), `RTP leaves through the transport's own send path: ${JSON.stringify(stats.transports)}`);
    const deadline = Date.now() + 5000;
    while (tapped.length < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await tap.close();
    assert.ok(tapped.length >= 50, `tapped ${tapped.length} packets`);
    const ssrcs = new Set(tapped.map((p) => p.header.ssrc));
    assert.equal(ssrcs.size, 1, 'one stream: the caller’s microphone');
    assert.ok(tapped.every((p) => p.header.payloadType === 111 && p.payload.length > 0));
    const count = tapped.length;
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(tapped.length - count <= 2, 'a closed tap stops delivering');
  });
});
