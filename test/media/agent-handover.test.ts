/**
 * The AI assistant hands a caller to a person, end to end in real Chromium (issue 11): an entry point answered
 * AI-first; a customer on the phone-sized page calls, and the page says they talk with an AI assistant. The bot is
 * a participant of the consultation's own room (`call-<id>`): it greets, hears the caller's fake microphone (read
 * speech, recognised by pocketsphinx), asks the model — the local OpenAI-compatible stand-in, over SSE, which calls
 * `transfer_to_human` as a model asked for a person would — and hands over: the page says they are
 * being handed to a person, the agent's console rings with what the caller told the assistant, the agent accepts
 * and audio flows agent ↔ customer in the same call (getStats on both pages) without the customer dialling again;
 * the bot is gone from the room, and the consultation's outcome, timeline and transcript cover the whole call.
 * Then a failing model (HTTP 500): the bot speaks its apology and hands the next caller over the same way.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, recordConsole, saveConsoleLog, waitForParleyState } from '../support/browser.js';
import { callAudio, waitForCallAudio } from '../support/callAudio.js';
import { createAgent, firstAdmin, PASSWORD, signIn } from '../support/consultation.js';
import { waitFor } from '../support/polling.js';
import { request, startParley, type RunningParley } from '../support/parleyServer.js';
import { startOpenAIAgentServer, type OpenAIAgentServer } from '../agent-openaiServer.js';
import { shoot, signInOnPage } from '../support/uiPages.js';

const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox';
const CLIP = 'sense_and_sensibility_01_austen_64kb-0870';

describe('the AI assistant hands a caller to a person in Chromium', { timeout: 240_000 }, () => {
  let srv: RunningParley;
  let browser: Browser;
  let llm: OpenAIAgentServer;
  const logs: Array<{ name: string; lines: string[] }> = [];
  const serverLog: string[] = [];
  const pages: Array<{ name: string; page: Page }> = [];
  const open = async (name: string, path: string, viewport = { width: 1100, height: 800 }): Promise<Page> => {
    const page = await (await browser.newContext({ viewport })).newPage();
    logs.push({ name, lines: recordConsole(page, name) });
    pages.push({ name, page });
    await page.goto(`${srv.url}${path}`, { waitUntil: 'load', timeout: 15_000 });
    return page;
  };

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-handover-'));
    const mic = join(dir, 'caller.wav');
    // Real read speech (LibriVox, Debian's pocketsphinx-testdata), which pocketsphinx recognises; espeak-ng's voice
    // saying "I want to talk to a person" comes out of pocketsphinx as other words ("i want to adopt our suit"),
    // so the words do not matter here: the stand-in model decides to transfer, as a model asked for a person would.
    // The microphone starts with the call; ten seconds of silence first let the bot's greeting be heard out (a
    // caller who speaks at once interrupts it before its first word, and an unspoken line is not in the transcript),
    // and the silence after each utterance lets the bot finish its sentence before the clip loops.
    execFileSync('sox', [`${LIBRIVOX}/${CLIP}.wav`, '-r', '48000', '-c', '1', '-b', '16', mic, 'pad', '10', '4']);
    llm = await startOpenAIAgentServer();
    srv = await startParley({ AGENT_LLM: 'openai', OPENAI_BASE_URL: llm.baseUrl, OPENAI_API_KEY: 'sk-test', OPENAI_MODEL: 'gpt-test', STT_ENGINE: 'pocketsphinx', STT_POCKETSPHINX_DECODERS: '1', STT_LANGUAGE: 'en', AGENT_TTS: 'espeak', MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', CONSULT_OFFER_TIMEOUT_MS: '60000', LOG_LEVEL: 'info' }, {}, serverLog);
    browser = await launchChromium({ audioFile: mic });
  });
  after(async () => {
    for (const l of logs) saveConsoleLog(`agent-handover-${l.name}`, l.lines);
    saveConsoleLog('agent-handover-server', serverLog);
    // Each page's own log (window.parley.log), to see what it did when the test fails.
    for (const p of pages) {
      const log = await p.page.evaluate(() => JSON.stringify((window as unknown as { parley?: { log?: unknown[] } }).parley?.log ?? [])).catch(() => '[]');
      saveConsoleLog(`agent-handover-${p.name}-page`, [log]);
    }
    await browser?.close();
    await srv?.close();
    await llm?.close();
  });

  test('AI first → the caller asks for a person → the console rings with the transcript → accepted → audio both ways, bot gone', async () => {
    llm.chat({ kind: 'tool', text: 'I will connect you to a person now.', name: 'transfer_to_human', argumentParts: ['{"reason":', '"the caller asked for a person"}'] });
    const admin = await firstAdmin(srv.url);
    await createAgent(srv.url, admin, 'Dana Agent');
    const made = await request(`${srv.url}/api/v1/entry-points`, { token: admin.token, body: { name: 'AI desk', ttlHours: 24, routing: 'ai_first', captions: 'off' } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.entryPoint.routing, 'ai_first');
    const entryUrl = new URL(made.body.entryPoint.url as string);

    const agent = await open('agent', '/agent/');
    await agent.fill('#email', 'dana.agent@example.com');
    await agent.fill('#password', PASSWORD);
    await agent.click('#signin');
    await waitForParleyState(agent, 'ready');
    await agent.click('#state-available');
    await agent.waitForFunction(() => document.querySelector<HTMLElement>('#agent-state')?.dataset.state === 'available', undefined, { timeout: 10_000 });

    const customer = await open('customer', entryUrl.pathname + entryUrl.search, { width: 390, height: 844 });
    await waitForParleyState(customer, 'form');
    await customer.fill('#name', 'Kim Caller');
    await customer.fill('#phone', '010-2222-3333');
    await customer.fill('#inquiry', 'My parcel is late.');
    await customer.check('#consent');
    await customer.click('#call');

    // The bot answers: the customer is in the call's room with it, and the page says it is an AI assistant.
    await waitForParleyState(customer, 'in-call', 30_000);
    await customer.waitForFunction(() => document.querySelector<HTMLElement>('#status')?.dataset.assistant === 'talking', undefined, { timeout: 15_000 });
    assert.match((await customer.textContent('#status')) ?? '', /AI assistant, not a person/);
    await shoot(customer, 'agent-handover-1-customer-with-bot');
    const consultationId = await customer.evaluate(() => (window as unknown as { parley: { consultationId: string } }).parley.consultationId);
    const roomId = `call-${consultationId}`;
    const room = await srv.parley.media.room(roomId);
    assert.ok(room.peerIds().some((p) => p.startsWith('bot-')), `the bot is a peer of ${roomId}: ${room.peerIds().join(', ')}`);
    const heardBot = await waitForCallAudio(customer, 50, 45_000);
    assert.ok(heardBot.received >= 50 && heardBot.energy > 0, `the customer hears the bot: ${JSON.stringify(heardBot)}`);

    // The caller asks for a person: the bot hands over, the page says so, the console rings with the transcript.
    await customer.waitForFunction(() => document.querySelector<HTMLElement>('#status')?.dataset.assistant === 'handing-over', undefined, { timeout: 90_000 });
    assert.match((await customer.textContent('#status')) ?? '', /handing you to a person/);
    await waitForParleyState(agent, 'offered', 20_000);
    const offerText = (await agent.textContent('#offer-transcript')) ?? '';
    assert.match(offerText, /What the caller told the AI assistant/);
    assert.match(offerText, /Caller: .*\S/, `the caller's words: ${offerText}`);
    // The bot's lines as spoken (its greeting at least, which the caller's silence let it finish).
    assert.match(offerText, /AI assistant: \S/, `the bot's words: ${offerText}`);
    await shoot(agent, 'agent-handover-2-console-offer-with-transcript');
    await shoot(customer, 'agent-handover-3-customer-handing-over');

    await agent.click('#accept');
    await waitForParleyState(agent, 'in-call', 20_000);
    assert.match((await agent.textContent('#call-handover')) ?? '', /Caller: /);
    // The bot leaves the room; the customer never left the call.
    await waitFor('the bot to leave the room', async () => !room.peerIds().some((p) => p.startsWith('bot-')), 15_000);
    assert.equal(await customer.evaluate(() => (window as unknown as { parley: { state: string } }).parley.state), 'in-call');
    await customer.waitForFunction(() => /Talking with Dana Agent/.test(document.querySelector('#call-title')?.textContent ?? ''), undefined, { timeout: 15_000 });

    // Audio agent ↔ customer, counted from now (before, the customer heard the bot).
    const before = await callAudio(customer);
    const heardByAgent = await waitForCallAudio(agent, 100, 30_000);
    assert.ok(heardByAgent.received >= 100 && heardByAgent.energy > 0, `the agent hears the customer: ${JSON.stringify(heardByAgent)}`);
    const customerNow = await waitFor(
      'the customer to hear the agent',
      async () => {
        const s = await callAudio(customer);
        return s.received - before.received >= 100 && s.energy > before.energy ? s : undefined;
      },
      30_000,
    );
    assert.ok(customerNow.received > before.received);
    await shoot(agent, 'agent-handover-4-agent-in-call');
    await shoot(customer, 'agent-handover-5-customer-with-agent');

    // The consultation's record covers the whole call: bot then agent, the hand-over, the outcome, both transcripts.
    const detail = await request(`${srv.url}/api/v1/consultations/${consultationId}`, { token: admin.token });
    assert.equal(detail.status, 200);
    const d = detail.body.consultation ?? detail.body;
    assert.equal(d.aiOutcome, 'transferred');
    const roles = (d.participants as Array<{ role: string; leftAt: string | null }>).map((p) => `${p.role}:${p.leftAt ? 'left' : 'in'}`);
    assert.ok(roles.includes('bot:left') && roles.includes('agent:in') && roles.includes('customer:in'), roles.join(', '));
    const events = (d.events as Array<{ type: string }>).map((e) => e.type);
    assert.ok(events.includes('bot-answered') && events.includes('transferred') && events.includes('accepted'), events.join(', '));
    const transcript = await request(`${srv.url}/api/v1/consultations/${consultationId}/transcript`, { token: admin.token });
    const speakers = new Set((transcript.body.utterances as Array<{ speaker: { role: string } }>).map((u) => u.speaker.role));
    assert.ok(speakers.has('bot') && speakers.has('customer'), `transcript speakers: ${[...speakers].join(', ')}`);
  });

  test('a failing model: the bot apologises and hands the next caller over the same way', async () => {
    llm.chat({ kind: 'error', status: 500, message: 'The model is overloaded' });
    const agent = pages.find((p) => p.name === 'agent')!.page;
    // The first call ends; the agent is free again.
    await agent.click('#end');
    await waitForParleyState(agent, 'wrap-up', 15_000);
    await agent.fill('#note', 'Handed over by the assistant.');
    await agent.click('#save-available');
    await agent.waitForFunction(() => document.querySelector<HTMLElement>('#agent-state')?.dataset.state === 'available', undefined, { timeout: 15_000 });
    const entries = await request(`${srv.url}/api/v1/entry-points`, { token: (await signIn(srv.url, 'admin@example.com')).token });
    const entryUrl = new URL((entries.body.entryPoints as Array<{ name: string; url: string }>).find((e) => e.name === 'AI desk')!.url);

    // A supervisor watches the live board.
    const dashboard = await open('admin', '/admin/');
    await signInOnPage(dashboard, 'admin@example.com', PASSWORD);
    await waitForParleyState(dashboard, 'ready');
    await dashboard.click('#nav-live');

    const customer = await open('customer2', entryUrl.pathname + entryUrl.search, { width: 390, height: 844 });
    await waitForParleyState(customer, 'form');
    await customer.fill('#name', 'Seo Caller');
    await customer.fill('#phone', '010-4444-5555');
    await customer.fill('#inquiry', 'A refund.');
    await customer.check('#consent');
    await customer.click('#call');
    await waitForParleyState(customer, 'in-call', 30_000);
    await customer.waitForFunction(() => document.querySelector<HTMLElement>('#status')?.dataset.assistant === 'handing-over', undefined, { timeout: 90_000 });
    await waitForParleyState(agent, 'offered', 20_000);
    const offerText = (await agent.textContent('#offer-transcript')) ?? '';
    assert.match(offerText, /AI assistant: I am sorry, I cannot answer right now/, `the apology was spoken: ${offerText}`);
    assert.ok(llm.chats.length >= 2 && llm.chats.every((c) => c.body.stream === true), 'the model was asked, streaming');
    await shoot(agent, 'agent-handover-6-console-offer-after-failure');
    const consultation2 = await customer.evaluate(() => (window as unknown as { parley: { consultationId: string } }).parley.consultationId);
    // The caller's sentiment of the turn, live on the supervisor's board.
    await dashboard.locator(`#board-live [data-consultation-id="${consultation2}"] .live-sentiment`).waitFor({ timeout: 15_000 });
    assert.match((await dashboard.textContent(`#board-live [data-consultation-id="${consultation2}"] .live-sentiment`)) ?? '', /Caller (positive|neutral|negative) \(\d+%\)/);
    await shoot(dashboard, 'agent-handover-7-admin-live-sentiment');
    await agent.click('#accept');
    await waitForParleyState(agent, 'in-call', 20_000);
    const consultationId = await customer.evaluate(() => (window as unknown as { parley: { consultationId: string } }).parley.consultationId);
    const room = await srv.parley.media.room(`call-${consultationId}`);
    await waitFor('the bot to leave the room', async () => !room.peerIds().some((p) => p.startsWith('bot-')), 15_000);
    const d = (await request(`${srv.url}/api/v1/consultations/${consultationId}`, { token: (await signIn(srv.url, 'admin@example.com')).token })).body.consultation;
    assert.ok((d.events as Array<{ type: string; detail: { reason?: string } }>).some((e) => e.type === 'transferred' && /provider-failed/.test(e.detail.reason ?? '')));

    // The dashboard: each entry card says who answers; the history says how the first call's AI conversation ended.
    await dashboard.click('#nav-entry');
    const card = dashboard.locator('#entries [data-entry-id]', { hasText: 'AI desk' });
    await card.locator('.entry-routing-select').waitFor({ timeout: 10_000 });
    assert.equal(await card.locator('.entry-routing-select').inputValue(), 'ai_first');
    await shoot(dashboard, 'agent-handover-8-admin-entry-routing');
    await dashboard.click('#nav-history');
    await dashboard.click('#apply-filters');
    const row = dashboard.locator('#history [data-consultation-id]', { hasText: 'Kim Caller' });
    await row.waitFor({ timeout: 10_000 });
    assert.match((await row.locator('.ai-outcome').textContent()) ?? '', /AI assistant handed over to a person/);
    await shoot(dashboard, 'agent-handover-9-admin-history-outcome');
  });
});
