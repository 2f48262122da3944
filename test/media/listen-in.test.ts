/**
 * The listen-in attack of issue 9, end to end in real Chromium: while a customer (phone-sized
 * customer page) and an agent (console) talk through the SFU, an attacker page on the voice
 * room page tries the consultation's room with what an anonymous visitor can get — a seed 004
 * token from POST /token, or no token at all. It must join nothing and hear nothing, and the
 * call must not notice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, recordConsole, saveConsoleLog, waitForParleyState } from '../support/browser.js';
import { createAgent, createEntryPoint, firstAdmin, PASSWORD } from '../support/consultation.js';
import { request, startParley, type RunningParley } from '../support/parleyServer.js';

interface MediaStat {
  type: string;
  kind: string;
  packetsReceived?: number;
}

async function packetsReceivedByCallPage(page: Page): Promise<number> {
  const rows = await page.evaluate(async () => {
    const media = (window as unknown as { parley: { media?: { stats(): Promise<MediaStat[]> } } }).parley.media;
    return media ? media.stats() : [];
  });
  return rows.filter((r) => r.type === 'inbound-rtp' && r.kind === 'audio').reduce((n, r) => n + (r.packetsReceived ?? 0), 0);
}

async function waitForPackets(page: Page, min: number, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await packetsReceivedByCallPage(page);
    if (n >= min || Date.now() > deadline) return n;
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface VoiceView {
  joined: boolean;
  errors: string[];
  consumers: number;
  inboundPackets: number;
}

/** What the voice room page got: joined or not, its errors, consumers and any inbound RTP. */
async function voiceView(page: Page): Promise<VoiceView> {
  return page.evaluate(async () => {
    const v = (window as unknown as { voice: { joined: boolean; errors: string[]; consumers: Map<string, unknown>; recvTransport?: { getStats(): Promise<RTCStatsReport> } } }).voice;
    let inbound = 0;
    const stats = await v.recvTransport?.getStats();
    stats?.forEach((r: { type: string; packetsReceived?: number }) => {
      if (r.type === 'inbound-rtp') inbound += r.packetsReceived ?? 0;
    });
    return { joined: v.joined, errors: [...v.errors], consumers: v.consumers.size, inboundPackets: inbound };
  });
}

describe('an anonymous attacker cannot listen to a consultation', { timeout: 120_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  const logs: Array<{ name: string; lines: string[] }> = [];
  const open = async (name: string, path: string, viewport = { width: 900, height: 700 }): Promise<Page> => {
    const page = await (await browser.newContext({ viewport })).newPage();
    logs.push({ name, lines: recordConsole(page, name) });
    await page.goto(`${server.url}${path}`, { waitUntil: 'load', timeout: 15_000 });
    return page;
  };

  before(async () => {
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', CONSULT_OFFER_TIMEOUT_MS: '30000' });
    browser = await launchChromium();
  });
  after(async () => {
    for (const l of logs) saveConsoleLog(`listen-in-${l.name}`, l.lines);
    await browser?.close();
    await server?.close();
  });

  test('with a /token token or none, the attacker joins nothing and hears nothing', async () => {
    const admin = await firstAdmin(server.url);
    const agentAccount = await createAgent(server.url, admin, 'Dana Agent');
    const ep = await createEntryPoint(server.url, admin, 'Counter 3');

    const agent = await open('agent', '/agent/');
    await agent.fill('#email', 'dana.agent@example.com');
    await agent.fill('#password', PASSWORD);
    await agent.click('#signin');
    await waitForParleyState(agent, 'ready');
    await agent.click('#state-available');

    const customer = await open('customer', `/c/?e=${encodeURIComponent(ep.entryToken)}`, { width: 390, height: 844 });
    await waitForParleyState(customer, 'form');
    await customer.fill('#name', 'Kim Customer');
    await customer.fill('#phone', '010-1234-5678');
    await customer.fill('#inquiry', 'My card was charged twice.');
    await customer.check('#consent');
    await customer.click('#call');
    await waitForParleyState(agent, 'offered');
    await agent.click('#accept');
    await waitForParleyState(agent, 'in-call', 20_000);
    await waitForParleyState(customer, 'in-call', 20_000);
    assert.ok((await waitForPackets(agent, 50)) >= 50, 'the agent hears the customer');
    assert.ok((await waitForPackets(customer, 50)) >= 50, 'the customer hears the agent');

    // The room's name is no secret: the attacker has it (from a log, a screenshot, an old /metrics).
    const detail = (await request(`${server.url}/api/v1/consultations?limit=1`, { token: admin.token })).body.consultations[0];
    const roomId = `call-${detail.id}`;
    assert.equal((await request(`${server.url}/token`, { body: { roomName: roomId, participantName: 'eve' } })).status, 400, 'no token for the room itself');
    const lobby = (await request(`${server.url}/token`, { body: { roomName: 'lobby', participantName: 'eve' } })).body.token as string;

    for (const [label, query] of [
      ['with a /token token', `room=${encodeURIComponent(roomId)}&user=eve&token=${encodeURIComponent(lobby)}`],
      ['without a token', `room=${encodeURIComponent(roomId)}&user=${encodeURIComponent(`customer-${detail.id}`)}`],
    ] as const) {
      const attacker = await open(`attacker-${label.replace(/\W+/g, '-')}`, `/voice/?${query}`);
      await attacker.waitForFunction(() => (window as unknown as { voice: { errors: string[] } }).voice.errors.length > 0, undefined, { timeout: 10_000 });
      await new Promise((r) => setTimeout(r, 1500)); // long enough to receive audio if any were forwarded
      const seen = await voiceView(attacker);
      assert.equal(seen.joined, false, `${label}: ${JSON.stringify(seen)}`);
      assert.equal(seen.consumers, 0, label);
      assert.equal(seen.inboundPackets, 0, label);
      assert.match(seen.errors.join(' '), /this room token is for room "lobby"|belongs to a consultation/, `${label}: the refusal says why: ${seen.errors.join(' ')}`);
      await attacker.context().close();
    }

    // The call did not notice: both sides still hear each other, and the room has its two peers.
    const before = await packetsReceivedByCallPage(agent);
    assert.ok((await waitForPackets(agent, before + 25)) >= before + 25, 'the agent still hears the customer');
    const metrics = (await request(`${server.url}/metrics`, { token: admin.token })).body;
    const room = metrics.roomDetails.find((r: { name: string }) => r.name === `voice:${roomId}`);
    assert.equal(room?.participants, 2, JSON.stringify(metrics.roomDetails));
    assert.ok(agentAccount.id);
  });
});
