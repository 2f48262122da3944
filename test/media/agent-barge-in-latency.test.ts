/**
 * Barge-in stop latency as a listener hears it: real Chromium (the stock voice room page) subscribes to a bot's
 * direct producer through the SFU; the bot speaks through the media worker's paced writer (as AgentSession does);
 * `clearQueue()` is called mid-reply and the page's own inbound-rtp stats say when its last packet arrived.
 * The figure printed is clearQueue → the subscriber's last packet; it must be under 200 ms.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, saveConsoleLog, type OpenedPage } from '../support/browser.js';
import { startParley, type RunningParley } from '../support/parleyServer.js';
import { openVoicePage, waitUntilHearing } from '../support/voicePage.js';

const BOT = 'bot-latency';

function tone(seconds: number, rate: number): Int16Array {
  const s = new Int16Array(Math.round(seconds * rate));
  for (let i = 0; i < s.length; i++) s[i] = Math.round(9000 * Math.sin((2 * Math.PI * 440 * i) / rate));
  return s;
}

/** The page's inbound-rtp of the bot's consumer: packets and when the last one arrived (Unix ms, Chromium's clock). */
function botInbound(page: Page): Promise<{ packets: number; lastAtMs: number; now: number }> {
  return page.evaluate(async (bot) => {
    const v = (window as unknown as { voice: { consumers: Map<string, { kind: string; closed: boolean; appData: { peerId: string }; getStats(): Promise<RTCStatsReport> }> } }).voice;
    let packets = 0;
    let lastAtMs = 0;
    for (const c of v.consumers.values()) {
      if (c.closed || c.kind !== 'audio' || c.appData.peerId !== bot) continue;
      (await c.getStats()).forEach((s: Record<string, unknown>) => {
        if (s.type !== 'inbound-rtp') return;
        packets += Number(s.packetsReceived ?? 0);
        lastAtMs = Math.max(lastAtMs, Number(s.lastPacketReceivedTimestamp ?? 0));
      });
    }
    return { packets, lastAtMs, now: Date.now() };
  }, BOT);
}

describe('barge-in stop latency at a Chromium subscriber', { timeout: 90_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  let page: OpenedPage | undefined;

  before(async () => {
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1' });
    browser = await launchChromium();
  });
  after(async () => {
    if (page) saveConsoleLog('agent-barge-in-latency', page.console);
    await browser?.close();
    await server?.close();
  });

  test('clearQueue() mid-reply: the listener receives no bot packet later than 200 ms after it', async () => {
    const roomId = 'barge-latency';
    page = await openVoicePage(browser, server.url, roomId, 'listener');
    const room = await server.parley.media.room(roomId);
    const ssrc = 31_337;
    room.peerJoined(BOT, { role: 'bot' });
    const producer = await room.createDirectProducer(BOT, {
      kind: 'audio',
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48_000, channels: 2 }], encodings: [{ ssrc }] },
      appData: { source: 'bot', role: 'bot' },
    });
    const writer = await room.createPacedWriter(producer, { ssrc, payloadType: 111 });
    const rounds: number[] = [];
    for (let round = 0; round < 3; round++) {
      // A long reply: 6 s of a tone at a speech engine's rate, pushed in 200 ms pieces as TTS streams it.
      const reply = tone(6, 22_050);
      for (let o = 0; o < reply.length; o += 4410) writer.push(reply.subarray(o, o + 4410), 22_050);
      await waitUntilHearing(page.page, [BOT], 20_000);
      const before = await botInbound(page.page);
      // Mid-reply, the way AgentSession's barge-in does it.
      await new Promise((r) => setTimeout(r, 700));
      const clearedAt = Date.now();
      const { droppedMs } = await writer.clearQueue();
      let last = await botInbound(page.page);
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 150));
        const now = await botInbound(page.page);
        if (now.packets === last.packets && now.now - clearedAt > 600) break;
        last = now;
      }
      assert.ok(last.packets > before.packets, 'the reply was playing when it was cleared');
      assert.ok(droppedMs > 3000, `most of the reply was dropped (${droppedMs} ms)`);
      // Chromium stamps packets on the same wall clock: the last one arrived within a packet interval or so of the call.
      assert.ok(Math.abs(last.lastAtMs - clearedAt) < 2000, `lastPacketReceivedTimestamp ${last.lastAtMs} vs ${clearedAt}`);
      const stopMs = Math.max(0, last.lastAtMs - clearedAt);
      rounds.push(stopMs);
      console.log(`barge-in round ${round + 1}: clearQueue → last bot packet at the Chromium subscriber ${stopMs.toFixed(1)} ms (signed ${(last.lastAtMs - clearedAt).toFixed(1)} ms, negative when it came before the call; ${droppedMs} ms of speech dropped)`);
      // Silence, then the next reply.
      await new Promise((r) => setTimeout(r, 500));
      const silent = await botInbound(page.page);
      assert.equal(silent.packets, last.packets, 'no bot packet after the barge-in');
    }
    console.log(`barge-in stop latency at the subscriber over ${rounds.length} rounds: max ${Math.max(...rounds).toFixed(1)} ms`);
    assert.ok(rounds.every((ms) => ms < 200), `stop latencies ${rounds.join(', ')} ms`);
    await writer.close();
    await producer.close();
  });
});
