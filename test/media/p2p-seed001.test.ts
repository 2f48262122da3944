/**
 * Seed 001 in two real Chromium pages: a client that follows seed 001's README code
 * (fixtures/seed001-client.html) calls another through Parley's `/signaling` namespace —
 * join-session, then offer/answer/ice-candidate {sessionId, peerId, …} relayed to the rest of
 * the session as {peerId, …} — and speech reaches both sides. The fixture is served on Parley's
 * own origin through page routing, so getUserMedia has a secure context and socket.io is
 * same-origin. Runs inside scripts/test.sh's loopback-only network namespace.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  launchChromium,
  pageEvents,
  recordConsole,
  saveConsoleLog,
  saveScreenshot,
  waitForConnectedPeers,
  waitForInboundAudio,
  waitForPageEvent,
  waitForParleyState,
  type OpenedPage,
} from '../support/browser.js';
import { startParley, type RunningParley } from '../support/parleyServer.js';

const fixture = readFileSync(new URL('./fixtures/seed001-client.html', import.meta.url), 'utf8');

describe('seed 001 call in real Chromium (/signaling)', { timeout: 60_000 }, () => {
  let server: RunningParley | undefined;
  let browser: Browser | undefined;
  let pageA: OpenedPage | undefined;
  let pageB: OpenedPage | undefined;
  const sessionId = `seed001-${process.pid}`;

  /** A fresh context whose /__test/seed001.html on Parley's origin is the fixture. */
  const openClient = async (peer: string, role: 'offer' | 'answer'): Promise<OpenedPage> => {
    const fixtureUrl = `${server!.url}/__test/seed001.html`;
    const context = await browser!.newContext({ viewport: { width: 640, height: 480 } });
    await context.route(
      (url) => url.href.split('?')[0] === fixtureUrl,
      (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: fixture }),
    );
    const page = await context.newPage();
    const lines = recordConsole(page, `peer ${peer}`);
    await page.goto(`${fixtureUrl}?session=${encodeURIComponent(sessionId)}&peer=${peer}&role=${role}`, { timeout: 15_000 });
    return { context, page, console: lines };
  };

  before(async () => {
    server = await startParley();
    // A routed (fulfilled) document has no IP address space, so Chromium's Local Network Access
    // checks treat it as public and block its WebSocket to 127.0.0.1: socket.io would silently
    // stay on long-polling. A page really served by Parley has no such problem. Granting the
    // 'local-network-access' permission instead stopped ICE gathering altogether (Chromium 156),
    // so switch off just the WebSocket part of the checks for this browser.
    browser = await launchChromium({ extraArgs: ['--disable-features=LocalNetworkAccessChecksWebSockets'] });
  });

  after(async () => {
    const events: string[] = [];
    for (const [name, p] of [['A', pageA], ['B', pageB]] as const) {
      if (p && !p.page.isClosed()) for (const e of await pageEvents(p.page).catch(() => [])) events.push(`[peer ${name}] event ${e.event} ${JSON.stringify(e.data)}`);
    }
    saveConsoleLog('p2p-seed001', [...(pageA?.console ?? []), ...(pageB?.console ?? []), ...events]);
    await pageA?.context.close().catch(() => undefined);
    await pageB?.context.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await server?.close();
  });

  test('B joins and answers, A joins and offers; each hears the other', async () => {
    pageB = await openClient('B', 'answer');
    await waitForParleyState(pageB.page, 'joined');
    assert.deepEqual(await waitForPageEvent(pageB.page, 'joined-session'), { sessionId, peerId: 'B' });

    pageA = await openClient('A', 'offer');
    await waitForParleyState(pageA.page, 'joined');
    assert.deepEqual(await waitForPageEvent(pageA.page, 'joined-session'), { sessionId, peerId: 'A' });
    assert.deepEqual(await waitForPageEvent(pageB.page, 'peer-joined'), { peerId: 'A' });

    await Promise.all([waitForConnectedPeers(pageA.page, 1, 20_000), waitForConnectedPeers(pageB.page, 1, 20_000)]);
    for (const p of [pageA, pageB]) {
      await p.page.waitForFunction(
        () => (window as unknown as { parley: { socket: { io: { engine: { transport: { name: string } } } } } }).parley.socket.io.engine.transport.name === 'websocket',
        undefined,
        { timeout: 5000 },
      );
    }

    // The relay names the sender by its peerId and never echoes to the sender.
    assert.deepEqual((await pageEvents(pageB.page, 'offer')).map((e) => e.data), [{ peerId: 'A', type: 'offer' }]);
    assert.deepEqual((await pageEvents(pageA.page, 'answer')).map((e) => e.data), [{ peerId: 'B', type: 'answer' }]);
    assert.equal((await pageEvents(pageA.page, 'offer')).length, 0);
    assert.equal((await pageEvents(pageB.page, 'answer')).length, 0);
    const iceAtB = await pageEvents(pageB.page, 'ice-candidate');
    const iceAtA = await pageEvents(pageA.page, 'ice-candidate');
    assert.ok(iceAtB.length > 0 && iceAtB.every((e) => (e.data as { peerId: string }).peerId === 'A'), JSON.stringify(iceAtB));
    assert.ok(iceAtA.length > 0 && iceAtA.every((e) => (e.data as { peerId: string }).peerId === 'B'), JSON.stringify(iceAtA));
    assert.deepEqual(await pageEvents(pageA.page, 'error'), []);
    assert.deepEqual(await pageEvents(pageB.page, 'error'), []);

    const [atA, atB] = await Promise.all([waitForInboundAudio(pageA.page), waitForInboundAudio(pageB.page)]);
    for (const [who, rows, from] of [['A', atA, 'B'], ['B', atB, 'A']] as const) {
      assert.equal(rows.length, 1, `${who}: one peer connection`);
      const row = rows[0]!;
      assert.equal(row.peer, from);
      assert.ok(row.packetsReceived > 0, `${who} received no audio packets: ${JSON.stringify(rows)}`);
      assert.ok(row.totalAudioEnergy > 0, `${who} received packets but no audio energy: ${JSON.stringify(rows)}`);
    }

    await saveScreenshot(pageA.page, 'p2p-seed001-A');
    await saveScreenshot(pageB.page, 'p2p-seed001-B');
  });

  test('when A closes its page, B receives peer-disconnected {peerId: "A"}', async () => {
    assert.ok(pageA && pageB, 'the call test must have run');
    assert.deepEqual(await pageEvents(pageB.page, 'peer-disconnected'), []);
    await pageA.page.close();
    const data = await waitForPageEvent(pageB.page, 'peer-disconnected', 10_000);
    assert.deepEqual(data, { peerId: 'A' });
    assert.deepEqual(await pageEvents(pageB.page, 'peer-left'), [], 'a closed page disconnects; it does not leave-session');
    await saveScreenshot(pageB.page, 'p2p-seed001-B-after-A-left');
  });
});
