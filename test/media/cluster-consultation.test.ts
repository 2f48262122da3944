/**
 * A consultation across two nodes in real Chromium (issue 13): two Parley nodes share a
 * Redis of the test's own and one database (SQLite: PostgreSQL is outside the test's network
 * namespace) behind HAProxy (deploy/haproxy.cfg); the
 * customer's page is pinned to node parley-1 and the agent's console to parley-2 by
 * HAProxy's SERVERID cookie. The customer who reached parley-1 waits in the shared queue,
 * the console on parley-2 rings, the agent accepts, and the two hear each other (the room
 * is on one node; the page on the other follows WRONG_NODE with `?node=`). The admin's live
 * board, pinned to parley-3, follows it all live: the customer waiting, the agent ringing, the
 * call in progress, and the line empty again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, recordConsole, saveConsoleLog, saveScreenshot, waitForParleyState } from '../support/browser.js';
import { waitForCallAudio } from '../support/callAudio.js';
import { createAgent, createEntryPoint, firstAdmin, PASSWORD } from '../support/consultation.js';
import { startHaproxy, type RunningHaproxy } from '../support/haproxy.js';
import { request, startParley, type RunningParley } from '../support/parleyServer.js';
import { startOwnRedis, type OwnRedis } from '../support/redis.js';
import { assertNotBlank, signInOnPage } from '../support/uiPages.js';

describe('a customer on one node, the agent on another: one shared queue, one call', { timeout: 180_000 }, () => {
  let redis: OwnRedis;
  const nodes: RunningParley[] = [];
  let lb: RunningHaproxy;
  let browser: Browser;
  const logs: Array<{ name: string; lines: string[] }> = [];

  /** A page whose every request HAProxy sends to `node` (its sticky cookie), as a returning browser's would be. */
  const open = async (name: string, node: string, path: string, viewport = { width: 1100, height: 800 }): Promise<Page> => {
    const context = await browser.newContext({ viewport });
    await context.addCookies([{ name: 'SERVERID', value: node, url: lb.url }]);
    const page = await context.newPage();
    logs.push({ name, lines: recordConsole(page, name) });
    await page.goto(`${lb.url}${path}`, { waitUntil: 'load', timeout: 15_000 });
    return page;
  };

  before(async () => {
    redis = await startOwnRedis();
    const SQLITE_PATH = join(mkdtempSync(join(tmpdir(), 'parley-cluster-consult-')), 'parley.sqlite');
    const env = { SQLITE_PATH, REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'consult-test:', MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', NODE_HEARTBEAT_MS: '500', NODE_TTL_MS: '2000', CONSULT_OFFER_TIMEOUT_MS: '30000' };
    // deploy/haproxy.cfg names three servers; the cookies pin the customer to the first, the agent to the second
    // and the admin's dashboard to the third.
    for (const id of ['parley-1', 'parley-2', 'parley-3']) nodes.push(await startParley({ ...env, NODE_ID: id }));
    lb = await startHaproxy(nodes.map((n, i) => ({ name: `parley-${i + 1}`, port: n.port })));
    browser = await launchChromium();
  });
  after(async () => {
    for (const l of logs) saveConsoleLog(`cluster-consultation-${l.name}`, l.lines);
    await browser?.close();
    await lb?.close();
    for (const n of nodes) await n.close();
    await redis?.stop();
  });

  test('queued on parley-1, offered and accepted on parley-2, two-way audio', async () => {
    const [one, two] = nodes as [RunningParley, RunningParley];
    const admin = await firstAdmin(one.url);
    await createAgent(one.url, admin, 'Bora Agent');
    const ep = await createEntryPoint(one.url, admin, 'Gangnam counter');
    const entry = new URL(ep.url);

    const agent = await open('agent', 'parley-2', '/agent/');
    await agent.fill('#email', 'bora.agent@example.com');
    await agent.fill('#password', PASSWORD);
    await agent.click('#signin');
    await waitForParleyState(agent, 'ready');
    await agent.click('#state-available');
    await agent.waitForFunction(() => document.querySelector<HTMLElement>('#agent-state')?.dataset.state === 'available', undefined, { timeout: 10_000 });

    const board = await open('admin', 'parley-3', '/admin/');
    await signInOnPage(board, 'admin@example.com', PASSWORD);
    await waitForParleyState(board, 'ready');
    await board.click('#nav-live');
    const agentRow = () => board.locator('#board-agents [data-agent-id]', { hasText: 'Bora Agent' });
    await agentRow().and(board.locator('[data-state="available"]')).waitFor({ timeout: 15_000 });

    const customer = await open('customer', 'parley-1', `${entry.pathname}${entry.search}`, { width: 390, height: 844 });
    await waitForParleyState(customer, 'form');
    await customer.fill('#name', 'Kim Minji');
    await customer.fill('#phone', '010-1234-5678');
    await customer.fill('#inquiry', 'My order has not arrived.');
    await customer.check('#consent');
    await customer.click('#call');

    // Each page's requests reach the node its cookie names (/health says which node answers).
    const nodeOf = (page: Page) => page.evaluate(async () => ((await (await fetch('/health')).json()) as { node?: { id?: string } }).node?.id);
    assert.equal(await nodeOf(customer), 'parley-1');
    assert.equal(await nodeOf(agent), 'parley-2');

    await waitForParleyState(agent, 'offered', 15_000);
    assert.match((await agent.textContent('#offer')) ?? '', /Kim Minji/);
    // parley-3 hosts neither page, and its board shows the customer in line, once, and the agent ringing.
    await board.waitForFunction(() => document.querySelector('#queue-length')?.textContent?.trim() === '1', undefined, { timeout: 15_000 });
    await agentRow().and(board.locator('[data-state="ringing"]')).waitFor({ timeout: 15_000 });
    assert.equal(await nodeOf(board), 'parley-3');
    assertNotBlank(await saveScreenshot(board, 'cluster-consultation-0-board-on-parley-3'));
    assertNotBlank(await saveScreenshot(customer, 'cluster-consultation-1-customer-queued'));
    assertNotBlank(await saveScreenshot(agent, 'cluster-consultation-2-agent-offer'));
    const token = admin.token;
    const listed = (await request(`${two.url}/api/v1/consultations?limit=5`, { token })).body;
    const id = (listed.consultations as Array<{ id: string }>)[0]?.id;
    assert.ok(id, JSON.stringify(listed));

    await agent.click('#accept');
    await waitForParleyState(agent, 'in-call', 20_000);
    await waitForParleyState(customer, 'in-call', 20_000);
    const heardByAgent = await waitForCallAudio(agent);
    const heardByCustomer = await waitForCallAudio(customer);
    assert.ok(heardByAgent.received >= 100 && heardByAgent.energy > 0, `the agent on parley-2 hears the customer: ${JSON.stringify(heardByAgent)}`);
    assert.ok(heardByCustomer.received >= 100 && heardByCustomer.energy > 0, `the customer on parley-1 hears the agent: ${JSON.stringify(heardByCustomer)}`);
    assertNotBlank(await saveScreenshot(customer, 'cluster-consultation-3-customer-in-call'));
    assertNotBlank(await saveScreenshot(agent, 'cluster-consultation-4-agent-in-call'));
    await board.locator('#board-live [data-consultation-id][data-status="IN_PROGRESS"]', { hasText: 'Kim Minji' }).waitFor({ timeout: 15_000 });
    await board.waitForFunction(() => document.querySelector('#queue-length')?.textContent?.trim() === '0', undefined, { timeout: 15_000 });

    // The public metrics count a consultation's room without naming it; this test has no other room.
    const hosts = await Promise.all(nodes.map(async (n) => (await request(`${n.url}/metrics`)).body.rooms as number));
    assert.deepEqual([...hosts].sort(), [0, 0, 1], `the call's room is on one node (${hosts.join(',')})`);

    await agent.click('#end');
    await waitForParleyState(customer, 'ended', 15_000);
    await board.waitForFunction(() => document.querySelector('#live-count')?.textContent?.trim() === '0', undefined, { timeout: 15_000 });
    const detail = (await request(`${one.url}/api/v1/consultations/${id}`, { token })).body.consultation;
    assert.equal(detail.status, 'ENDED');
  });
});
