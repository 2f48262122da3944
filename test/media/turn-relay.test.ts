/**
 * TURN through a real coturn: Parley hands out TURN REST API credentials
 * (TURN_URLS + TURN_SECRET), two /demo/p2p.html pages forced to iceTransportPolicy "relay"
 * (?relay=1) call each other over seed 002, and the call really runs relay ↔ relay with audio
 * both ways. Runs inside scripts/test.sh's loopback-only network namespace.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  launchChromium,
  openPage,
  pageEvents,
  saveConsoleLog,
  saveScreenshot,
  selectedCandidatePairs,
  waitForConnectedPeers,
  waitForInboundAudio,
  waitForParleyState,
  type OpenedPage,
} from '../support/browser.js';
import { startCoturn, type RunningCoturn } from '../support/coturn.js';
import { startParley, type RunningParley } from '../support/parleyServer.js';

interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

describe('TURN relay through coturn (seed 002 page, ?relay=1)', { timeout: 60_000 }, () => {
  let coturn: RunningCoturn | undefined;
  let server: RunningParley | undefined;
  let browser: Browser | undefined;
  let alice: OpenedPage | undefined;
  let bob: OpenedPage | undefined;
  const room = `turn-${process.pid}`;

  before(async () => {
    coturn = await startCoturn({ secret: `parley-turn-${process.pid}-secret`, realm: 'parley.test' });
    server = await startParley({
      TURN_URLS: `turn:127.0.0.1:${coturn.port}?transport=udp`,
      TURN_SECRET: coturn.secret,
      STUN_SERVER_URL: `stun:127.0.0.1:${coturn.port}`,
    });
    browser = await launchChromium();
  });

  after(async () => {
    const events: string[] = [];
    for (const [name, p] of [['alice', alice], ['bob', bob]] as const) {
      if (p && !p.page.isClosed()) for (const e of await pageEvents(p.page).catch(() => [])) events.push(`[${name}] event ${e.event} ${JSON.stringify(e.data)}`);
    }
    saveConsoleLog('turn-relay', [...(alice?.console ?? []), ...(bob?.console ?? []), ...events, ...(coturn?.output ?? []).map((l) => `[coturn] ${l}`)]);
    await alice?.context.close().catch(() => undefined);
    await bob?.context.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await server?.close();
    await coturn?.stop();
  });

  test('GET /api/v1/calls/config lists the STUN server and TURN with REST API credentials for coturn', async () => {
    const res = await fetch(`${server!.url}/api/v1/calls/config`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { success: boolean; data: { config: { iceServers: IceServer[] } } };
    assert.equal(body.success, true);
    const servers = body.data.config.iceServers;
    assert.ok(servers.some((s) => s.urls === `stun:127.0.0.1:${coturn!.port}`), JSON.stringify(servers));
    const turn = servers.find((s) => [s.urls].flat().some((u) => u.startsWith('turn:')));
    assert.ok(turn, `no TURN entry in ${JSON.stringify(servers)}`);
    assert.deepEqual([turn.urls].flat(), [`turn:127.0.0.1:${coturn!.port}?transport=udp`]);
    assert.match(turn.username ?? '', /^\d+:.+/);
    const expiry = Number((turn.username ?? '').split(':')[0]);
    assert.ok(expiry > Date.now() / 1000, 'credentials must expire in the future');
    assert.equal(turn.credential, createHmac('sha1', coturn!.secret).update(turn.username ?? '').digest('base64'));
  });

  test('two pages forced to relay connect relay ↔ relay and carry audio both ways', async (t) => {
    bob = await openPage(browser!, `${server!.url}/demo/p2p.html?room=${room}&user=bob&video=0&relay=1`, 'bob');
    await waitForParleyState(bob.page, 'joined');
    alice = await openPage(browser!, `${server!.url}/demo/p2p.html?room=${room}&user=alice&video=0&relay=1`, 'alice');
    await waitForParleyState(alice.page, 'joined');

    const policies = await Promise.all(
      [alice, bob].map((p) => p.page.evaluate(() => (window as unknown as { parley: { rtcConfig: RTCConfiguration } }).parley.rtcConfig.iceTransportPolicy)),
    );
    assert.deepEqual(policies, ['relay', 'relay']);

    await Promise.all([waitForConnectedPeers(alice.page, 1, 25_000), waitForConnectedPeers(bob.page, 1, 25_000)]);

    for (const [who, p] of [['alice', alice], ['bob', bob]] as const) {
      // The connection reports "connected" as soon as a pair works; the pair's own stats entry
      // may still say "in-progress" for a moment on a loaded machine. Wait for it (bounded).
      let pairs = await selectedCandidatePairs(p.page);
      for (let i = 0; i < 50 && pairs.length === 1 && pairs[0]!.state === 'in-progress'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        pairs = await selectedCandidatePairs(p.page);
      }
      t.diagnostic(`${who}: ${JSON.stringify(pairs)}`);
      assert.equal(pairs.length, 1, `${who}: one peer connection`);
      const pair = pairs[0]!;
      assert.equal(pair.state, 'succeeded', `${who}: selected pair ${JSON.stringify(pair)}`);
      assert.equal(pair.local?.candidateType, 'relay', `${who}: local candidate ${JSON.stringify(pair.local)}`);
      assert.equal(pair.remote?.candidateType, 'relay', `${who}: remote candidate ${JSON.stringify(pair.remote)}`);
      assert.equal(pair.local?.address, '127.0.0.1');
      assert.equal(pair.local?.relayProtocol, 'udp');
    }

    const [atAlice, atBob] = await Promise.all([waitForInboundAudio(alice.page), waitForInboundAudio(bob.page)]);
    for (const [who, rows] of [['alice', atAlice], ['bob', atBob]] as const) {
      const row = rows[0];
      assert.ok(row && row.packetsReceived > 0, `${who} received no audio packets: ${JSON.stringify(rows)}`);
      assert.ok(row.totalAudioEnergy > 0, `${who} received packets but no audio energy: ${JSON.stringify(rows)}`);
    }

    // coturn itself allocated the relays, for the REST API usernames Parley gave each page.
    for (const [who, p] of [['alice', alice], ['bob', bob]] as const) {
      const username = await p.page.evaluate(() => {
        const servers = (window as unknown as { parley: { rtcConfig: RTCConfiguration } }).parley.rtcConfig.iceServers ?? [];
        return servers.find((s) => s.username !== undefined)?.username ?? '';
      });
      assert.match(username, /^\d+:/, `${who}: no TURN username in the page's config`);
      const allocated = coturn!.output.some((l) => l.includes(`user <${username}>: incoming packet ALLOCATE processed, success`));
      assert.ok(allocated, `coturn logged no allocation for ${who} (${username}):\n${coturn!.output.slice(-20).join('\n')}`);
    }

    await saveScreenshot(alice.page, 'turn-relay-alice');
    await saveScreenshot(bob.page, 'turn-relay-bob');
  });
});
