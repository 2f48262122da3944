/**
 * A transfer in real Chromium: a customer (voice room page, customer token) talks to agent A
 * (voice room page, A's access token); A transfers the call to agent B on `/consult`; B's
 * console rings with the context (customer, inquiry, notes, who transfers) and accepts; B's
 * page joins and B ↔ customer audio flows (packets and energy per consumer), A's consumers
 * of the customer and the customer's of A close, A's console says after-call work, and the
 * call never left IN_PROGRESS.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage, saveConsoleLog, saveScreenshot, type OpenedPage } from '../support/browser.js';
import { callFrom, createAgent, createEntryPoint, firstAdmin, RecordingSocket } from '../support/consultation.js';
import { request, startParley, type RunningParley } from '../support/parleyServer.js';
import { consumerStats, peerIdOf, waitForJoined, waitUntilHearing } from '../support/voicePage.js';

const voiceUrl = (base: string, room: string, user: string, token: string) => `${base}/voice/?room=${encodeURIComponent(room)}&user=${encodeURIComponent(user)}&token=${encodeURIComponent(token)}`;

/** Polls until the page has no open consumer of `peerId` (bounded: 10 s). */
async function waitUntilNotReceiving(page: Page, peerId: string): Promise<void> {
  await page.waitForFunction(
    (peer) => ![...(window as unknown as { voice: { consumers: Map<string, { closed: boolean; appData: { peerId: string } }> } }).voice.consumers.values()].some((c) => !c.closed && c.appData.peerId === peer),
    peerId,
    { timeout: 10_000, polling: 100 },
  );
}

describe('transfer from agent A to agent B in real Chromium', { timeout: 180_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  const pages: Array<{ name: string; opened: OpenedPage }> = [];
  const sockets: RecordingSocket[] = [];

  before(async () => {
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', CONSULT_OFFER_TIMEOUT_MS: '60000' });
    browser = await launchChromium();
  });
  after(async () => {
    for (const p of pages) saveConsoleLog(`transfer-agents-${p.name}`, p.opened.console);
    for (const s of sockets) s.close();
    await browser?.close();
    await server?.close();
  });

  test('B is offered the call with its context, accepts; B and the customer hear each other; A is free', async () => {
    const admin = await firstAdmin(server.url);
    const a = await createAgent(server.url, admin, 'Agent Ahn');
    const b = await createAgent(server.url, admin, 'Agent Baek');
    const ep = await createEntryPoint(server.url, admin, 'Counter 5');
    const consoleA = await RecordingSocket.open(server.url, '/consult', a.token);
    const consoleB = await RecordingSocket.open(server.url, '/consult', b.token);
    sockets.push(consoleA, consoleB);
    await consoleA.request('agent:set-state', { state: 'available' });
    const started = await callFrom(server.url, ep.entryToken, 'Kim Customer', '01012345678', 'My card was charged twice');
    const id = started.consultation.id;
    await consoleA.waitFor('consultation:offer', (o) => o.consultationId === id);
    await consoleA.request('consultation:accept', { consultationId: id });

    const open = async (name: string, user: string, token: string): Promise<Page> => {
      const opened = await openPage(browser, voiceUrl(server.url, started.roomId, user, token), name);
      pages.push({ name, opened });
      await waitForJoined(opened.page);
      return opened.page;
    };
    const customer = await open('customer', 'Kim Customer', started.customerToken);
    const pageA = await open('agent-a', 'Agent Ahn', a.token);
    const customerPeer = await peerIdOf(customer);
    const peerA = await peerIdOf(pageA);
    await waitUntilHearing(customer, [peerA]);
    await waitUntilHearing(pageA, [customerPeer]);
    assert.equal((await request(`${server.url}/api/v1/consultations/${id}`, { token: a.token })).body.consultation.status, 'IN_PROGRESS');
    await request(`${server.url}/api/v1/consultations/${id}/notes`, { token: a.token, body: { body: 'Refund asked for the second charge.' } });

    await consoleB.request('agent:set-state', { state: 'available' });
    assert.deepEqual(await consoleA.request('consultation:transfer', { consultationId: id, to: { agentId: b.id } }), { ok: true });
    const offer = await consoleB.waitFor('consultation:offer', (o) => o.consultationId === id);
    assert.deepEqual(offer.transferredFrom, { agentId: a.id, name: 'Agent Ahn' });
    assert.equal(offer.customer.name, 'Kim Customer');
    assert.equal(offer.inquiry, 'My card was charged twice');
    assert.deepEqual(offer.notes.map((n: { body: string }) => n.body), ['Refund asked for the second charge.']);
    // While B rings, the customer still talks to A.
    await waitUntilHearing(customer, [peerA]);

    const taken = await consoleB.request('consultation:accept', { consultationId: id });
    assert.equal(taken.roomId, started.roomId, JSON.stringify(taken));
    const pageB = await open('agent-b', 'Agent Baek', b.token);
    const peerB = await peerIdOf(pageB);
    const customerHears = await waitUntilHearing(customer, [peerB]);
    const bHears = await waitUntilHearing(pageB, [customerPeer]);
    assert.ok(customerHears.find((c) => c.peerId === peerB)!.totalAudioEnergy > 0);
    assert.ok(bHears.find((c) => c.peerId === customerPeer)!.totalAudioEnergy > 0);

    // A is out of the media and free.
    await waitUntilNotReceiving(pageA, customerPeer);
    await waitUntilNotReceiving(customer, peerA);
    assert.equal((await consumerStats(pageB)).some((c) => c.peerId === peerA), false, 'B does not receive A');
    await consoleA.waitFor('consultation:transferred', (t) => t.consultationId === id && t.to.agentId === b.id);
    await consoleA.waitFor('agent:state', (s) => s.state === 'after-call-work');
    assert.equal(server.parley.consultations.agentState(a.id).state, 'after-call-work');
    assert.equal(server.parley.consultations.agentState(b.id).state, 'busy');
    await saveScreenshot(customer, 'transfer-customer-with-b');

    // A's page leaving does not end the call.
    await pageA.context().close();
    await waitUntilHearing(customer, [peerB]);
    const detail = (await request(`${server.url}/api/v1/consultations/${id}`, { token: admin.token })).body.consultation;
    assert.equal(detail.status, 'IN_PROGRESS');
    assert.equal(detail.agent.id, b.id);
    assert.ok(detail.events.some((e: { type: string }) => e.type === 'transferred'));
  });
});
