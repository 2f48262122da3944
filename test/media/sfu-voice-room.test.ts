/**
 * Seed 000 through Parley's SFU with the stock mediasoup-client in real Chromium: four
 * pages in one room each hear the other three; a fifth joins late and hears all four; one
 * leaves and the others get consumer-closed for each consumer of it, then peer-left.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium, saveConsoleLog, saveScreenshot, type OpenedPage } from '../support/browser.js';
import { request, startParley, type RunningParley } from '../support/parleyServer.js';
import { collect, connect } from '../support/sockets.js';
import { voiceBadInputs } from '../support/voiceBadInputs.js';
import { consumerStats, openVoicePage, peerIdOf, voiceEvents, waitUntilHearing } from '../support/voicePage.js';

describe('SFU voice room with stock mediasoup-client (/voice)', { timeout: 120_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  const pages: OpenedPage[] = [];
  const ids: string[] = [];
  const room = `voice-${process.pid}`;

  before(async () => {
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '2' });
    browser = await launchChromium();
  });
  after(async () => {
    for (const p of pages) saveConsoleLog(`sfu-voice-${pages.indexOf(p)}`, p.console);
    await browser?.close();
    await server?.close();
  });

  test('four participants: each hears the other three', async () => {
    for (const name of ['ann', 'ben', 'cho', 'dan']) {
      const p = await openVoicePage(browser, server.url, room, name);
      pages.push(p);
      ids.push(await peerIdOf(p.page));
    }
    for (const [i, p] of pages.entries()) {
      const others = ids.filter((_, j) => j !== i);
      const stats = await waitUntilHearing(p.page, others);
      assert.equal(stats.filter((s) => s.kind === 'audio').length, 3, `page ${i} has one audio consumer per other peer`);
    }
    await saveScreenshot(pages[0]!.page, 'sfu-voice-ann');
    const metrics = await request(`${server.url}/metrics`);
    assert.ok(metrics.body.roomDetails.some((r: { name: string; participants: number }) => r.name === `voice:${room}` && r.participants === 4));
    const prom = (await request(`${server.url}/metrics/prometheus`)).body as string;
    const sum = (name: string) => [...prom.matchAll(new RegExp(`^parley_sfu_${name}\\{worker="\\d+"\\} (\\d+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
    assert.equal(sum('rooms'), 1);
    assert.equal(sum('producers'), 4);
    assert.equal(sum('consumers'), 12);
    assert.equal(sum('transports'), 8);
  });

  test('audio levels and the active speaker reach the clients at a bounded rate', async () => {
    const page = pages[0]!.page;
    const count = async () => (await voiceEvents(page, 'audio-levels')).length;
    const start = await count();
    await new Promise((r) => setTimeout(r, 2000));
    const perSecond = ((await count()) - start) / 2;
    assert.ok(perSecond >= 2 && perSecond <= 5, `audio-levels per second: ${perSecond}`);
    const last = (await voiceEvents(page, 'audio-levels')).at(-1) as { levels: Array<{ peerId: string; volume: number }> };
    assert.ok(last.levels.length >= 3, JSON.stringify(last));
    for (const l of last.levels) {
      assert.ok(ids.includes(l.peerId));
      assert.ok(l.volume <= 0 && l.volume >= -127);
    }
    const speakers = (await voiceEvents(page, 'active-speaker')) as Array<{ peerId: string }>;
    assert.ok(speakers.length >= 1 && ids.includes(speakers[0]!.peerId));
  });

  test('a client that joins with audioLevels: false gets no audio-levels, and its neighbours still do', async () => {
    const quiet = await connect(`${server.url}/voice`);
    const meters = await connect(`${server.url}/voice`);
    try {
      assert.equal((await quiet.emitWithAck('join-room', { roomId: room, audioLevels: false })).error, undefined);
      assert.equal((await meters.emitWithAck('join-room', { roomId: room })).error, undefined);
      const [quietLevels, meterLevels] = await Promise.all([collect(quiet, 'audio-levels', 2000), collect(meters, 'audio-levels', 2000)]);
      assert.equal(quietLevels.length, 0, 'the opted-out client received no audio-levels');
      assert.ok(meterLevels.length >= 4, `the default client received audio-levels (${meterLevels.length} in 2 s)`);
      // Joining again with the default asks for them after all.
      assert.equal((await quiet.emitWithAck('join-room', { roomId: room })).error, undefined);
      assert.ok((await collect(quiet, 'audio-levels', 1500)).length >= 2, 'levels after joining again without the opt-out');
      const bad = await quiet.emitWithAck('join-room', { roomId: room, audioLevels: 'no' });
      assert.equal(bad.error?.code, 'INVALID_PAYLOAD', JSON.stringify(bad));
    } finally {
      quiet.close();
      meters.close();
    }
  });

  test('pause and resume: a muted producer stops reaching the others, and comes back', async () => {
    const [ann, ben] = [pages[0]!.page, pages[1]!.page];
    const fromAnn = async () => (await consumerStats(ben)).find((c) => c.peerId === ids[0])!.packetsReceived;
    await ann.click('#mute');
    await ben.waitForFunction(
      (id) => (window as unknown as { voice: { events: Array<{ event: string; data: { peerId: string } }> } }).voice.events.some((e) => e.event === 'producer-paused' && e.data.peerId === id),
      ids[0],
      { timeout: 5000 },
    );
    await new Promise((r) => setTimeout(r, 300));
    const paused1 = await fromAnn();
    await new Promise((r) => setTimeout(r, 1000));
    const paused2 = await fromAnn();
    assert.ok(paused2 - paused1 <= 2, `no packets while paused (${paused1} → ${paused2})`);
    await ann.click('#mute');
    await new Promise((r) => setTimeout(r, 1000));
    const resumed = await fromAnn();
    assert.ok(resumed - paused2 > 20, `packets flow again after resume (${paused2} → ${resumed})`);

    // A consumer paused by its own client receives nothing until resumed.
    const consumerId = (await consumerStats(ben)).find((c) => c.peerId === ids[2])!.consumerId;
    const fromCho = async () => (await consumerStats(ben)).find((c) => c.consumerId === consumerId)!.packetsReceived;
    const send = (event: string) =>
      ben.evaluate(
        ([e, cid]) => {
          const v = (window as unknown as { voice: { roomId: string; request(ev: string, d: unknown): Promise<unknown> } }).voice;
          return v.request(e!, { roomId: v.roomId, consumerId: cid });
        },
        [event, consumerId] as const,
      );
    assert.deepEqual(await send('pause-consumer'), { paused: true });
    await new Promise((r) => setTimeout(r, 300));
    const c1 = await fromCho();
    await new Promise((r) => setTimeout(r, 1000));
    const c2 = await fromCho();
    assert.ok(c2 - c1 <= 2, `no packets to a paused consumer (${c1} → ${c2})`);
    assert.deepEqual(await send('resume-consumer'), { paused: false });
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok((await fromCho()) - c2 > 20, 'packets flow again after resume-consumer');
  });

  test('a client sending bad input gets clear errors and the room keeps working for everyone', async () => {
    const bad = await connect(`${server.url}/voice`);
    try {
      const joined = await bad.emitWithAck('join-room', { roomId: room, userId: 'mallory' });
      const transport = await bad.emitWithAck('create-transport', { roomId: room });
      const producerId = joined.producers[0].producerId as string;
      for (const row of voiceBadInputs(room, transport.id, producerId)) {
        const ack = await bad.timeout(5000).emitWithAck(row.event, row.payload);
        const label = `${row.event} ${JSON.stringify(row.payload).slice(0, 100)}`;
        assert.equal(ack.error?.code, row.code, `${label}: ${JSON.stringify(ack)}`);
        if (row.says) assert.match(ack.error.message, row.says, label);
      }
      const before = (await consumerStats(pages[2]!.page)).reduce((a, c) => a + c.packetsReceived, 0);
      await new Promise((r) => setTimeout(r, 1000));
      const after = (await consumerStats(pages[2]!.page)).reduce((a, c) => a + c.packetsReceived, 0);
      assert.ok(after - before > 100, `the room still flows (${before} → ${after})`);
    } finally {
      bad.close();
    }
    assert.equal((await request(`${server.url}/health`)).body.status, 'ok');
  });

  test('a late joiner hears all four', async () => {
    const late = await openVoicePage(browser, server.url, room, 'eve');
    pages.push(late);
    ids.push(await peerIdOf(late.page));
    await waitUntilHearing(late.page, ids.slice(0, 4));
    // …and the four hear the newcomer.
    for (const p of pages.slice(0, 4)) await waitUntilHearing(p.page, [ids[4]!]);
    await saveScreenshot(late.page, 'sfu-voice-eve-late');
  });

  test('one leaves: each other page gets consumer-closed for every consumer of the leaver, before peer-left', async () => {
    const leaving = pages[1]!;
    const leavingId = ids[1]!;
    // The server promises (docs/sfu.md): the leaver's media is closed and every consumer-closed
    // sent before peer-left. So once a page has peer-left, it must already have them all.
    const ofLeaver = new Map<number, string[]>();
    for (const [i, p] of pages.entries()) {
      if (i === 1) continue;
      const mine = (await consumerStats(p.page)).filter((c) => c.peerId === leavingId).map((c) => c.consumerId);
      assert.ok(mine.length >= 1, `page ${i} consumes the peer about to leave`);
      ofLeaver.set(i, mine);
    }
    await leaving.page.close();
    for (const [i, p] of pages.entries()) {
      if (i === 1) continue;
      await p.page.waitForFunction(
        (id) => (window as unknown as { voice: { events: Array<{ event: string; data: { peerId: string } }> } }).voice.events.some((e) => e.event === 'peer-left' && e.data.peerId === id),
        leavingId,
        { timeout: 10_000 },
      );
      const events = await p.page.evaluate(() =>
        (window as unknown as { voice: { events: Array<{ event: string; data: { peerId?: string; consumerId?: string } }> } }).voice.events.map((e) => ({ event: e.event, data: e.data })),
      );
      const leftAt = events.findIndex((e) => e.event === 'peer-left' && e.data.peerId === leavingId);
      const closedBefore = events.slice(0, leftAt).filter((e) => e.event === 'consumer-closed').map((e) => e.data.consumerId);
      for (const consumerId of ofLeaver.get(i)!) assert.ok(closedBefore.includes(consumerId), `page ${i}: consumer-closed ${consumerId} before peer-left (saw ${JSON.stringify(closedBefore)})`);
      const open = await consumerStats(p.page);
      assert.equal(open.filter((c) => c.peerId === leavingId).length, 0, `page ${i} still consumes the peer who left`);
      assert.equal(open.length, 3);
    }
  });
});
