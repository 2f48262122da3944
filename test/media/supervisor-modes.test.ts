/**
 * Supervisor listen / whisper / barge in real Chromium: three voice room pages (stock
 * mediasoup-client, fake speech microphones) — the customer with the customer token of a
 * consultation, its agent, and an admin supervising with `supervisor:join` — measured by
 * packets and audio energy per consumer:
 *   listen  — the supervisor hears both; its page is refused a microphone; neither hears it
 *   whisper — the agent hears the supervisor; the customer has no stream of it at all, and
 *             consuming its producer id straight from the customer's page is refused
 *   barge   — all three hear each other
 *   back to listen — the customer's and the agent's consumers of the supervisor close, the
 *             supervisor still hears both.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage, saveConsoleLog, saveScreenshot, type OpenedPage } from '../support/browser.js';
import { callFrom, createAgent, createEntryPoint, firstAdmin, RecordingSocket, type Staff } from '../support/consultation.js';
import { startParley, type RunningParley } from '../support/parleyServer.js';
import { consumerStats, peerIdOf, waitForJoined, waitUntilHearing } from '../support/voicePage.js';

interface VoiceHandle {
  voice: {
    errors: string[];
    roomId: string;
    producers: Map<string, { id: string }>;
    recvTransport?: { id: string; getStats(): Promise<RTCStatsReport> };
    device?: { rtpCapabilities: unknown };
    request(event: string, data: unknown): Promise<unknown>;
  };
}

const voiceUrl = (base: string, room: string, user: string, token: string) => `${base}/voice/?room=${encodeURIComponent(room)}&user=${encodeURIComponent(user)}&token=${encodeURIComponent(token)}`;

/** Audio streams arriving on the page's receive transport (any SSRC, consumer or not), with packets. */
function inboundAudioStreams(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const stats = await (window as unknown as VoiceHandle).voice.recvTransport?.getStats();
    let n = 0;
    stats?.forEach((s: { type: string; kind?: string; packetsReceived?: number }) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio' && (s.packetsReceived ?? 0) > 0) n += 1;
    });
    return n;
  });
}

/** Polls until each listed peer's consumer on the page received `more` packets beyond now (bounded: 15 s). */
async function waitForMorePackets(page: Page, peerIds: string[], more: number): Promise<void> {
  const count = async (peer: string) => (await consumerStats(page)).filter((c) => c.peerId === peer).reduce((n, c) => n + c.packetsReceived, 0);
  const start = new Map<string, number>();
  for (const p of peerIds) start.set(p, await count(p));
  const deadline = Date.now() + 15_000;
  for (;;) {
    const now = new Map<string, number>();
    for (const p of peerIds) now.set(p, await count(p));
    if (peerIds.every((p) => now.get(p)! >= start.get(p)! + more)) return;
    if (Date.now() > deadline) throw new Error(`packets did not keep arriving: from ${JSON.stringify([...start])} to ${JSON.stringify([...now])}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const heardFrom = async (page: Page, peerId: string) => (await consumerStats(page)).filter((c) => c.peerId === peerId && c.kind === 'audio');

describe('supervisor listen, whisper and barge in real Chromium', { timeout: 180_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  const pages: Array<{ name: string; opened: OpenedPage }> = [];
  let admin: Staff;
  let supervisorConsult: RecordingSocket;
  let agentConsole: RecordingSocket;
  let consultationId: string;
  let roomId: string;
  let customer: Page;
  let agent: Page;
  let customerPeer: string;
  let agentPeer: string;

  const open = async (name: string, user: string, token: string, join = true): Promise<Page> => {
    const opened = await openPage(browser, voiceUrl(server.url, roomId, user, token), name);
    pages.push({ name, opened });
    if (join) await waitForJoined(opened.page);
    return opened.page;
  };

  before(async () => {
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', CONSULT_OFFER_TIMEOUT_MS: '60000' });
    browser = await launchChromium();
    admin = await firstAdmin(server.url);
    const agentAccount = await createAgent(server.url, admin, 'Dana Agent');
    const ep = await createEntryPoint(server.url, admin, 'Counter 4');
    agentConsole = await RecordingSocket.open(server.url, '/consult', agentAccount.token);
    await agentConsole.request('agent:set-state', { state: 'available' });
    const started = await callFrom(server.url, ep.entryToken, 'Kim Customer');
    consultationId = started.consultation.id;
    roomId = started.roomId;
    await agentConsole.waitFor('consultation:offer', (o) => o.consultationId === consultationId);
    await agentConsole.request('consultation:accept', { consultationId });
    customer = await open('customer', 'Kim Customer', started.customerToken);
    agent = await open('agent', 'Dana Agent', agentAccount.token);
    customerPeer = await peerIdOf(customer);
    agentPeer = await peerIdOf(agent);
    await waitUntilHearing(customer, [agentPeer]);
    await waitUntilHearing(agent, [customerPeer]);
    supervisorConsult = await RecordingSocket.open(server.url, '/consult', admin.token);
  });
  after(async () => {
    for (const p of pages) saveConsoleLog(`supervisor-modes-${p.name}`, p.opened.console);
    agentConsole?.close();
    supervisorConsult?.close();
    await browser?.close();
    await server?.close();
  });

  test('listen: the supervisor hears both sides; its microphone is refused; neither side hears it', async () => {
    assert.deepEqual(await supervisorConsult.request('supervisor:join', { consultationId, mode: 'listen' }), { roomId, mode: 'listen' });
    await agentConsole.waitFor('supervisor:state', (s) => s?.mode === 'listen' && s.supervisor.id === admin.id);
    const listener = await open('supervisor-listen', 'Ada Admin', admin.token, false);
    await listener.waitForFunction(() => (window as unknown as VoiceHandle).voice.errors.length > 0, undefined, { timeout: 20_000, polling: 100 });
    const errors = await listener.evaluate(() => (window as unknown as VoiceHandle).voice.errors);
    assert.match(errors.join(' '), /You are listening in, so you cannot be heard/, 'the page shows the sentence');
    const listenerPeer = await peerIdOf(listener);
    const heard = await waitUntilHearing(listener, [customerPeer, agentPeer]);
    assert.ok(heard.every((c) => c.totalAudioEnergy > 0));
    assert.equal((await heardFrom(customer, listenerPeer)).length, 0);
    assert.equal((await heardFrom(agent, listenerPeer)).length, 0);
    assert.equal(await inboundAudioStreams(customer), 1, 'the customer receives the agent only');
    await saveScreenshot(listener, 'supervisor-listen');
    await listener.context().close();
  });

  let supervisor: Page;
  let supervisorPeer: string;
  let supervisorProducer: string;

  test('whisper: the agent hears the supervisor, the customer receives nothing of it and is refused asking by id', async () => {
    await supervisorConsult.request('supervisor:mode', { consultationId, mode: 'whisper' });
    await agentConsole.waitFor('supervisor:state', (s) => s?.mode === 'whisper');
    supervisor = await open('supervisor', 'Ada Admin', admin.token);
    supervisorPeer = await peerIdOf(supervisor);
    supervisorProducer = await supervisor.evaluate(() => (window as unknown as VoiceHandle).voice.producers.get('audio')!.id);
    const agentHears = await waitUntilHearing(agent, [customerPeer, supervisorPeer]);
    assert.ok(agentHears.find((c) => c.peerId === supervisorPeer)!.packetsReceived > 20);
    await waitUntilHearing(supervisor, [customerPeer, agentPeer]);

    assert.equal((await heardFrom(customer, supervisorPeer)).length, 0, 'no consumer of the supervisor on the customer page');
    assert.equal(await inboundAudioStreams(customer), 1, 'one audio stream reaches the customer: the agent');
    const announced = await customer.evaluate((id) => (window as unknown as { voice: { events: Array<{ event: string; data: { producerId?: string } }> } }).voice.events.some((e) => e.data?.producerId === id), supervisorProducer);
    assert.equal(announced, false, 'the customer page never learnt the producer id');
    const direct = await customer.evaluate(async (producerId) => {
      const v = (window as unknown as VoiceHandle).voice;
      try {
        await v.request('consume', { roomId: v.roomId, transportId: v.recvTransport!.id, producerId, rtpCapabilities: v.device!.rtpCapabilities });
        return 'consumed';
      } catch (err) {
        return err instanceof Error ? err.message : String(err);
      }
    }, supervisorProducer);
    assert.match(direct, /may not receive that producer/);
    assert.equal(await inboundAudioStreams(customer), 1);
  });

  test('barge: all three hear each other', async () => {
    await supervisorConsult.request('supervisor:mode', { consultationId, mode: 'barge' });
    await agentConsole.waitFor('supervisor:state', (s) => s?.mode === 'barge');
    const c = await waitUntilHearing(customer, [agentPeer, supervisorPeer]);
    const a = await waitUntilHearing(agent, [customerPeer, supervisorPeer]);
    const s = await waitUntilHearing(supervisor, [customerPeer, agentPeer]);
    for (const stats of [c, a, s]) assert.ok(stats.filter((x) => x.kind === 'audio').every((x) => x.totalAudioEnergy > 0));
    await saveScreenshot(customer, 'supervisor-barge-customer');
  });

  test('back to listen: the consumers of the supervisor close on both sides; the supervisor still hears both', async () => {
    await supervisorConsult.request('supervisor:mode', { consultationId, mode: 'listen' });
    for (const page of [customer, agent]) {
      await page.waitForFunction(
        (peer) => ![...(window as unknown as { voice: { consumers: Map<string, { closed: boolean; appData: { peerId: string } }> } }).voice.consumers.values()].some((c) => !c.closed && c.appData.peerId === peer),
        supervisorPeer,
        { timeout: 10_000, polling: 100 },
      );
    }
    await waitForMorePackets(supervisor, [customerPeer, agentPeer], 25);
    assert.equal((await heardFrom(customer, supervisorPeer)).length, 0);
    assert.equal((await heardFrom(agent, supervisorPeer)).length, 0);
  });
});
