/**
 * Seed 002 in two real Chromium pages: the demo page /demo/p2p.html, served by Parley, calls
 * another copy of itself through the default namespace (video:join-room → room-state →
 * offer/answer/ice-candidate by socket id), and speech from the fake microphone reaches the
 * other side. Runs inside scripts/test.sh's loopback-only network namespace.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  inboundAudioStats,
  launchChromium,
  openPage,
  pageEvents,
  saveConsoleLog,
  saveScreenshot,
  waitForConnectedPeers,
  waitForInboundAudio,
  waitForPageEvent,
  waitForParleyState,
  type OpenedPage,
} from '../support/browser.js';
import { startParley, type RunningParley } from '../support/parleyServer.js';

type Participant = { socketId: string; userId: string };

const socketIdOf = (p: OpenedPage): Promise<string> => p.page.evaluate(() => String((window as unknown as { parley: { socketId: string } }).parley.socketId));
const peerKeys = (p: OpenedPage): Promise<string[]> =>
  p.page.evaluate(() => [...(window as unknown as { parley: { peers: Map<string, RTCPeerConnection> } }).parley.peers.keys()]);
const energyOf = async (p: OpenedPage): Promise<{ packets: number; energy: number }> => {
  const rows = await inboundAudioStats(p.page);
  return { packets: rows.reduce((a, r) => a + r.packetsReceived, 0), energy: rows.reduce((a, r) => a + r.totalAudioEnergy, 0) };
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('seed 002 call in real Chromium (/demo/p2p.html)', { timeout: 60_000 }, () => {
  let server: RunningParley | undefined;
  let browser: Browser | undefined;
  let alice: OpenedPage | undefined;
  let bob: OpenedPage | undefined;
  let aliceId = '';
  let bobId = '';
  const room = `seed002-${process.pid}`;

  before(async () => {
    server = await startParley();
    browser = await launchChromium();
  });

  after(async () => {
    saveConsoleLog('p2p-seed002', [...(alice?.console ?? []), ...(bob?.console ?? [])]);
    await alice?.context.close().catch(() => undefined);
    await bob?.context.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await server?.close();
  });

  test('the page is served by Parley and GET /api/v1/calls/config answers', async () => {
    const page = await fetch(`${server!.url}/demo/p2p.html`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const html = await page.text();
    assert.match(html, /\/socket\.io\/socket\.io\.js/);
    const config = (await (await fetch(`${server!.url}/api/v1/calls/config`)).json()) as { success: boolean; data: { config: { iceServers: unknown[] } } };
    assert.equal(config.success, true);
    assert.ok(Array.isArray(config.data.config.iceServers));
  });

  test('the newcomer offers to the one already in the room, and each hears the other', async () => {
    // Bob is first: his room-state is empty and he waits for an offer.
    bob = await openPage(browser!, `${server!.url}/demo/p2p.html?room=${room}&user=bob&video=1`, 'bob');
    await waitForParleyState(bob.page, 'joined');
    bobId = await socketIdOf(bob);
    const bobState = (await waitForPageEvent(bob.page, 'video:room-state')) as { participants: Participant[] };
    assert.deepEqual(bobState.participants, []);

    alice = await openPage(browser!, `${server!.url}/demo/p2p.html?room=${room}&user=alice&video=1`, 'alice');
    await waitForParleyState(alice.page, 'joined');
    aliceId = await socketIdOf(alice);
    const aliceState = (await waitForPageEvent(alice.page, 'video:room-state')) as { participants: Participant[] };
    assert.deepEqual(
      aliceState.participants.map((p) => ({ socketId: p.socketId, userId: p.userId })),
      [{ socketId: bobId, userId: 'bob' }],
    );

    const joined = (await waitForPageEvent(bob.page, 'video:user-joined')) as Participant;
    assert.equal(joined.socketId, aliceId);
    assert.equal(joined.userId, 'alice');

    await Promise.all([waitForConnectedPeers(alice.page, 1, 20_000), waitForConnectedPeers(bob.page, 1, 20_000)]);
    assert.deepEqual(await peerKeys(alice), [bobId]);
    assert.deepEqual(await peerKeys(bob), [aliceId]);

    // Offer from the newcomer only; the answer comes back from the one who was there.
    assert.deepEqual((await pageEvents(bob.page, 'video:offer')).map((e) => e.data), [{ from: aliceId }]);
    assert.deepEqual((await pageEvents(alice.page, 'video:answer')).map((e) => e.data), [{ from: bobId }]);
    assert.equal((await pageEvents(alice.page, 'video:offer')).length, 0);

    const [atAlice, atBob] = await Promise.all([waitForInboundAudio(alice.page), waitForInboundAudio(bob.page)]);
    for (const [who, rows] of [['alice', atAlice], ['bob', atBob]] as const) {
      assert.equal(rows.length, 1, `${who}: one peer connection`);
      const row = rows[0]!;
      assert.ok(row.packetsReceived > 0, `${who} received no audio packets: ${JSON.stringify(rows)}`);
      assert.ok(row.totalAudioEnergy > 0, `${who} received packets but no audio energy: ${JSON.stringify(rows)}`);
    }

    // Video frames from the fake camera arrive and play.
    const videoSize = await bob.page.evaluate(() => {
      const v = document.querySelector('.tile.remote video') as HTMLVideoElement | null;
      return v ? { w: v.videoWidth, h: v.videoHeight, muted: v.muted, paused: v.paused } : null;
    });
    assert.ok(videoSize && videoSize.w > 0 && videoSize.h > 0, `no remote video at bob: ${JSON.stringify(videoSize)}`);
    assert.equal(videoSize.muted, false, 'the remote media element must not be muted');
    assert.equal(videoSize.paused, false, 'the remote media element must be playing');

    await saveScreenshot(alice.page, 'p2p-seed002-alice');
    await saveScreenshot(bob.page, 'p2p-seed002-bob');
  });

  test('mute is announced with video:toggle-audio and silences the sender', async (t) => {
    assert.ok(alice && bob, 'the call test must have run');
    const before1 = await energyOf(bob);
    await sleep(1500);
    const before2 = await energyOf(bob);
    const unmutedRate = (before2.energy - before1.energy) / 1.5;
    assert.ok(unmutedRate > 0, `bob hears nothing before the mute: ${JSON.stringify({ before1, before2 })}`);

    await alice.page.click('#muteBtn');
    const changed = (await waitForPageEvent(bob.page, 'video:peer-audio-changed', 5000)) as { socketId: string; userId: string; isMuted: boolean };
    assert.deepEqual(changed, { socketId: aliceId, userId: 'alice', isMuted: true });
    assert.equal(await bob.page.getAttribute(`#peer-${aliceId}`, 'data-muted'), 'true');
    assert.match((await bob.page.textContent(`#peer-${aliceId} .flags`)) ?? '', /muted/);

    await sleep(1000); // let audio already in flight drain
    const muted1 = await energyOf(bob);
    await sleep(1500);
    const muted2 = await energyOf(bob);
    const mutedRate = (muted2.energy - muted1.energy) / 1.5;
    assert.ok(muted2.packets > muted1.packets, 'packets keep flowing while muted (the track is disabled, not removed)');
    t.diagnostic(`energy per second at bob: ${unmutedRate.toFixed(4)} unmuted, ${mutedRate.toFixed(6)} muted`);
    assert.ok(mutedRate < unmutedRate / 20, `energy still rising while muted: ${mutedRate} vs ${unmutedRate} per second`);
    await saveScreenshot(bob.page, 'p2p-seed002-bob-sees-alice-muted');

    await alice.page.click('#muteBtn');
    await waitForPageEvent(bob.page, 'video:peer-audio-changed', 5000, (d) => (d as { isMuted: boolean }).isMuted === false);
    let again = await energyOf(bob);
    for (const deadline = Date.now() + 5000; again.energy <= muted2.energy && Date.now() < deadline; again = await energyOf(bob)) await sleep(200);
    assert.ok(again.energy > muted2.energy, `energy does not rise again after unmuting: ${JSON.stringify({ muted2, again })}`);
  });

  test('leaving sends video:user-left and the other side closes that peer', async () => {
    assert.ok(alice && bob, 'the call test must have run');
    await alice.page.click('#leaveBtn');
    const left = (await waitForPageEvent(bob.page, 'video:user-left', 5000)) as { socketId: string; userId: string };
    assert.deepEqual(left, { socketId: aliceId, userId: 'alice' });
    await bob.page.waitForFunction(() => (window as unknown as { parley: { peers: Map<string, unknown> } }).parley.peers.size === 0, undefined, { timeout: 5000 });
    assert.equal(await bob.page.locator('.tile.remote').count(), 0);
    assert.match((await bob.page.textContent('#status')) ?? '', /waiting for someone/);
  });

  test('without ?room= the page asks for a room and a name, then joins with them', async () => {
    const carol = await openPage(browser!, `${server!.url}/demo/p2p.html`, 'carol');
    try {
      assert.equal(await carol.page.isVisible('#joinForm'), true);
      await carol.page.fill('#joinForm input[name=room]', `${room}-form`);
      await carol.page.fill('#joinForm input[name=user]', 'carol');
      await carol.page.uncheck('#joinForm input[name=video]');
      await carol.page.click('#joinForm button[type=submit]');
      await waitForParleyState(carol.page, 'joined');
      const search = new URL(carol.page.url()).searchParams;
      assert.deepEqual([search.get('room'), search.get('user'), search.get('video')], [`${room}-form`, 'carol', '0']);
      assert.deepEqual(((await waitForPageEvent(carol.page, 'video:room-state')) as { participants: unknown[] }).participants, []);
      const tracks = await carol.page.evaluate(() =>
        (window as unknown as { parley: { localStream: MediaStream } }).parley.localStream.getTracks().map((t) => t.kind),
      );
      assert.deepEqual(tracks, ['audio'], 'video=0 asks for the microphone only');
    } finally {
      await carol.context.close();
    }
  });
});
