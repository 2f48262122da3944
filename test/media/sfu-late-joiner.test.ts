/**
 * The late joiner who heard nobody (issue 14): three pages talk in one room through the stock
 * mediasoup-client; a fourth page joins, must hear all three, and leaves — again and again,
 * each time a fresh page. Once in a few runs its three consumers used to receive 0 packets.
 * Bounded: LATE_JOINS rounds and the describe's timeout.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium, saveConsoleLog, type OpenedPage } from '../support/browser.js';
import { startParley, type RunningParley } from '../support/parleyServer.js';
import { consumerStats, openVoicePage, peerIdOf, waitUntilHearing } from '../support/voicePage.js';

const LATE_JOINS = Number(process.env.PARLEY_LATE_JOINS ?? 12);

interface RouterStats {
  transports: Array<{ id: string; peerId: string; connected: boolean; rtpPacketsSent: number }>;
  consumers: Array<{ peerId: string; paused: boolean; packetsSent: number }>;
}

describe('a late joiner hears everyone, every time', { timeout: 60_000 + LATE_JOINS * 30_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  const talkers: OpenedPage[] = [];
  const talkerIds: string[] = [];
  const room = `late-${process.pid}`;

  before(async () => {
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1' });
    browser = await launchChromium();
    for (const name of ['ann', 'ben', 'cho']) {
      const p = await openVoicePage(browser, server.url, room, name);
      talkers.push(p);
      talkerIds.push(await peerIdOf(p.page));
    }
    for (const [i, p] of talkers.entries()) await waitUntilHearing(p.page, talkerIds.filter((_, j) => j !== i));
  });
  after(async () => {
    for (const [i, p] of talkers.entries()) saveConsoleLog(`sfu-late-talker-${i}`, p.console);
    await browser?.close();
    await server?.close();
  });

  test(`${LATE_JOINS} late joins in a row: each hears the three talkers`, async (t) => {
    const media = await server.parley.media.room(room);
    const failures: string[] = [];
    const hearMs: number[] = [];
    for (let round = 0; round < LATE_JOINS; round++) {
      const late = await openVoicePage(browser, server.url, room, `late-${round}`);
      const lateId = await peerIdOf(late.page);
      const joinedAt = Date.now();
      try {
        await waitUntilHearing(late.page, talkerIds, 15_000);
        hearMs.push(Date.now() - joinedAt);
      } catch (err) {
        const stats = (await media.stats()) as RouterStats;
        const client = await late.page.evaluate(() => {
          const v = (window as unknown as { voice: { recvTransport?: { connectionState: string }; sendTransport?: { connectionState: string }; errors: string[] } }).voice;
          return { recv: v.recvTransport?.connectionState, send: v.sendTransport?.connectionState, errors: v.errors };
        });
        const mine = { client, transports: stats.transports.filter((t) => t.peerId === lateId), consumers: stats.consumers.filter((c) => c.peerId === lateId) };
        failures.push(`round ${round}: ${(err as Error).message.slice(0, 300)}; server side: ${JSON.stringify(mine)}`);
        saveConsoleLog(`sfu-late-joiner-${round}`, late.console);
      }
      // The three talkers keep hearing each other through every join and leave.
      const heard = await consumerStats(late.page);
      assert.ok(heard.length <= 3, `round ${round}: at most one consumer per talker (${heard.length})`);
      await late.context.close();
      await waitForPeerGone(media, lateId);
    }
    hearMs.sort((a, b) => a - b);
    t.diagnostic(`joined → hearing all three (ms): median ${hearMs[hearMs.length >> 1]}, max ${hearMs.at(-1)}, of ${hearMs.length}`);
    assert.deepEqual(failures, [], `late joiners that did not hear everyone:\n${failures.join('\n')}`);
  });
});

/** Resolves once the SFU holds no transport of `peerId` (its socket's disconnect reached the server). */
async function waitForPeerGone(media: { stats(): Promise<unknown> }, peerId: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const stats = (await media.stats()) as RouterStats;
    if (!stats.transports.some((t) => t.peerId === peerId)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`peer ${peerId} still has transports ${timeoutMs} ms after its page closed`);
}
