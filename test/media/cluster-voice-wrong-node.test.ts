/**
 * Parley's own /voice page follows a room's pin (issue 13): three nodes behind HAProxy
 * (deploy/haproxy.cfg) with a Redis of the test's own (media tests run in a loopback-only
 * network namespace). Ann's page pins the room on the node its socket reached; HAProxy's
 * leastconn sends Ben's socket to another node, which answers WRONG_NODE; the page reconnects
 * with `?node=<Ann's node>` through the same balancer, and the two hear each other in real
 * Chromium with the stock mediasoup-client.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium, openPage, saveConsoleLog, type OpenedPage } from '../support/browser.js';
import { startHaproxy, type RunningHaproxy } from '../support/haproxy.js';
import { request, startParley, type RunningParley } from '../support/parleyServer.js';
import { startOwnRedis, type OwnRedis } from '../support/redis.js';
import { peerIdOf, voiceEvents, waitForJoined, waitUntilHearing } from '../support/voicePage.js';

describe('the /voice page follows WRONG_NODE to the node hosting the room', { timeout: 180_000 }, () => {
  let redis: OwnRedis;
  const nodes: RunningParley[] = [];
  let lb: RunningHaproxy;
  let browser: Browser;
  const pages: OpenedPage[] = [];
  const room = `pinned-${process.pid}`;

  before(async () => {
    redis = await startOwnRedis();
    const SQLITE_PATH = join(mkdtempSync(join(tmpdir(), 'parley-voice-pin-')), 'parley.sqlite');
    const env = { SQLITE_PATH, REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'pin-test:', MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', NODE_HEARTBEAT_MS: '500', NODE_TTL_MS: '2000' };
    // NODE_IDs are the balancer's server names (compose.yml): `?node=` routes on them.
    for (const id of ['parley-1', 'parley-2', 'parley-3']) nodes.push(await startParley({ ...env, NODE_ID: id }));
    lb = await startHaproxy(nodes.map((n, i) => ({ name: `parley-${i + 1}`, port: n.port })));
    browser = await launchChromium();
  });
  after(async () => {
    for (const [i, p] of pages.entries()) saveConsoleLog(`cluster-voice-wrong-node-${i}`, p.console);
    await browser?.close();
    await lb?.close();
    for (const n of nodes) await n.close();
    await redis?.stop();
  });

  test("a page that reached the other node reconnects to the room's node, and both hear each other", async () => {
    const page = (user: string) => openPage(browser, `${lb.url}/voice/?room=${encodeURIComponent(room)}&user=${user}`, user);
    const onNode = async (n: RunningParley) => (await request(`${n.url}/metrics`)).body.roomDetails.find((r: { name: string }) => r.name === `voice:${room}`)?.participants ?? 0;
    const ann = await page('ann');
    pages.push(ann);
    await waitForJoined(ann.page);
    assert.equal(((await voiceEvents(ann.page, 'wrong-node')) as unknown[]).length, 0, "Ann's page joined where it landed");
    const counts = await Promise.all(nodes.map(onNode));
    const host = counts.indexOf(1);
    assert.ok(host >= 0 && counts.filter((c) => c > 0).length === 1, `Ann is in the room on one node (${counts.join(',')})`);

    const ben = await page('ben');
    pages.push(ben);
    await waitForJoined(ben.page);
    const redirects = (await voiceEvents(ben.page, 'wrong-node')) as Array<{ node: string }>;
    assert.deepEqual(redirects.map((r) => r.node), [`parley-${host + 1}`], "leastconn sent Ben's socket to another node, which named the room's node once");
    assert.deepEqual(await Promise.all(nodes.map(onNode)), nodes.map((_, i) => (i === host ? 2 : 0)), "both peers are in the room on Ann's node, nobody in a room elsewhere");

    const [annId, benId] = [await peerIdOf(ann.page), await peerIdOf(ben.page)];
    const heardByBen = await waitUntilHearing(ben.page, [annId], 30_000);
    const heardByAnn = await waitUntilHearing(ann.page, [benId], 30_000);
    assert.ok(heardByBen.some((s) => s.kind === 'audio' && s.totalAudioEnergy > 0), 'Ben hears Ann');
    assert.ok(heardByAnn.some((s) => s.kind === 'audio' && s.totalAudioEnergy > 0), 'Ann hears Ben');
  });
});
