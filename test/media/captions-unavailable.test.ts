/**
 * When captions cannot work, the call still does (issue 10): a server with its speech engine
 * misconfigured three ways — pocketsphinx's model directory missing, sherpa-onnx's model
 * directory missing, the OpenAI-compatible endpoint unreachable — still connects a customer's phone page and an agent's console in real Chromium through the
 * SFU, with audio both ways (getStats); its log names what to install or set; both pages say in
 * a sentence (Korean or English) that captions are unavailable; and the server keeps serving.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, recordConsole, saveConsoleLog, waitForParleyState } from '../support/browser.js';
import { waitForCallAudio } from '../support/callAudio.js';
import { createAgent, createEntryPoint, firstAdmin, PASSWORD } from '../support/consultation.js';
import { request, startParley } from '../support/parleyServer.js';
import { shoot, type Lang } from '../support/uiPages.js';
import { waitFor } from '../support/polling.js';
import { en } from '../../web-src/ui/text/en.js';
import { ko } from '../../web-src/ui/text/ko.js';

const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox';

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

interface Case {
  name: string;
  env: () => Promise<Record<string, string>>;
  lang: Lang;
  /** What the page says. */
  reason: 'no_engine' | 'engine_failed';
  /** What the log must say: the thing to install or set. */
  log: RegExp;
}

const cases: Case[] = [
  {
    name: 'pocketsphinx without its model directory',
    env: async () => ({ STT_ENGINE: 'pocketsphinx', STT_POCKETSPHINX_MODEL_DIR: '/nonexistent/pocketsphinx/en-us', STT_POCKETSPHINX_DECODERS: '1' }),
    lang: 'en',
    reason: 'no_engine',
    log: /speech engine not started: pocketsphinx's \w+ model \/nonexistent\/pocketsphinx\/en-us\S* is missing: apt-get install pocketsphinx-en-us, or set STT_POCKETSPHINX_MODEL_DIR/,
  },
  {
    name: 'sherpa-onnx without its model directory',
    env: async () => ({ STT_ENGINE: 'sherpa-onnx', STT_SHERPA_MODEL_DIR: '/nonexistent/sherpa-model' }),
    lang: 'ko',
    reason: 'no_engine',
    log: /speech engine not started: .*\/nonexistent\/sherpa-model.*STT_SHERPA_MODEL_DIR/,
  },
  {
    name: 'an OpenAI-compatible endpoint nobody answers',
    env: async () => ({ STT_ENGINE: 'openai', STT_OPENAI_BASE_URL: `http://127.0.0.1:${await closedPort()}/v1`, OPENAI_API_KEY: 'sk-test', STT_OPENAI_MAX_RETRIES: '0' }),
    lang: 'en',
    reason: 'engine_failed',
    log: /an utterance could not be recognised: cannot reach http:\/\/127\.0\.0\.1:\d+\/v1\/audio\/transcriptions: ECONNREFUSED; check STT_OPENAI_BASE_URL/,
  },
];

describe('captions unavailable: the call goes on, the pages say so, the log says what to fix', { timeout: 400_000 }, () => {
  let browser: Browser;
  const logs: Array<{ name: string; lines: string[] }> = [];

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-nocaptions-'));
    const mic = join(dir, 'speech-48k.wav');
    // Read speech (so a VAD hears utterances and the unreachable engine is really asked), then silence.
    execFileSync('sox', [`${LIBRIVOX}/sense_and_sensibility_01_austen_64kb-0870.wav`, '-r', '48000', '-c', '1', '-b', '16', mic, 'pad', '0.5', '1.5']);
    browser = await launchChromium({ audioFile: mic });
  });
  after(async () => {
    for (const l of logs) saveConsoleLog(`captions-unavailable-${l.name}`, l.lines);
    await browser?.close();
  });

  for (const c of cases) {
    test(c.name, async () => {
      const log: string[] = [];
      const server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', CONSULT_OFFER_TIMEOUT_MS: '30000', ...(await c.env()) }, {}, log);
      const output = () => log.join('');
      try {
        const url = server.url;
        const admin = await firstAdmin(url);
        const agentName = `Agent ${c.reason} ${c.lang}`;
        await createAgent(url, admin, agentName);
        const ep = await createEntryPoint(url, admin, 'Counter 3');

        const open = async (name: string, path: string, viewport?: { width: number; height: number }): Promise<Page> => {
          const page = await (await browser.newContext({ viewport: viewport ?? { width: 1100, height: 800 }, locale: c.lang === 'ko' ? 'ko-KR' : 'en-US' })).newPage();
          logs.push({ name: `${c.reason}-${c.lang}-${name}`, lines: recordConsole(page, name) });
          await page.goto(`${url}${path}`, { waitUntil: 'load' });
          return page;
        };
        const agent = await open('agent', '/agent/');
        await agent.fill('#email', `${agentName.toLowerCase().replace(/\W+/g, '.')}@example.com`);
        await agent.fill('#password', PASSWORD);
        await agent.click('#signin');
        await waitForParleyState(agent, 'ready');
        await agent.click('#state-available');
        // An admin's dashboard is open before the call starts, so it hears the call's caption-status.
        const dash = await open('admin', '/admin/');
        await dash.fill('#email', 'admin@example.com');
        await dash.fill('#password', PASSWORD);
        await dash.click('#signin');
        await waitForParleyState(dash, 'ready');
        const customer = await open('customer', `/c/?e=${encodeURIComponent(ep.entryToken)}`, { width: 390, height: 844 });
        await waitForParleyState(customer, 'form');
        await customer.fill('#name', 'Kim Customer');
        await customer.fill('#phone', '010-1234-5678');
        await customer.check('#consent');
        await customer.click('#call');
        await waitForParleyState(agent, 'offered', 20_000);
        await agent.click('#accept');
        await waitForParleyState(agent, 'in-call', 30_000);
        await waitForParleyState(customer, 'in-call', 30_000);

        // Audio flows both ways through the SFU although nothing can caption it (each side hears the other).
        const [atAgent, atCustomer] = await Promise.all([waitForCallAudio(agent), waitForCallAudio(customer)]);
        for (const [who, s] of [['agent', atAgent], ['customer', atCustomer]] as const) {
          const page = who === 'agent' ? agent : customer;
          const seen = await page.evaluate(() => {
            const p = (window as unknown as { parley: { state?: string; errors?: unknown[]; media?: unknown; events?: unknown[] } }).parley;
            return JSON.stringify({ state: p.state, errors: p.errors, media: p.media !== undefined, events: (p.events ?? []).slice(-15) });
          });
          assert.ok(s.received >= 100 && s.energy > 0, `${who} hears the other side: ${JSON.stringify(s)} ${seen.slice(0, 1500)}\n${output().split('\n').filter((l) => /"level":(40|50|60)/.test(l)).slice(0, 15).join('\n')}`);
        }

        // Both pages say so in a sentence of their language, not an empty panel.
        const sentence = (c.lang === 'ko' ? ko : en).captions[c.reason === 'no_engine' ? 'noEngine' : 'engineFailed'];
        // The admin's live call view says it too, without joining the call.
        await dash.locator('#board-live tr[data-consultation-id] td.customer a').first().click();
        const live = dash.locator(`#live-captions .caption-status[data-reason="${c.reason}"]`);
        await live.waitFor({ timeout: 45_000 });
        assert.equal((await live.innerText()).trim(), sentence, 'admin live call view');
        assert.equal(await dash.locator('#live-captions').getAttribute('data-status'), c.reason);
        await live.scrollIntoViewIfNeeded();
        await shoot(dash, `captions-unavailable-${c.reason}-${c.lang}-admin`);
        // A dashboard opened mid-call (after the status was announced) asks for it and says it too.
        const callHash = new URL(dash.url()).hash;
        const late = await open('admin-late', `/admin/${callHash}`);
        await late.fill('#email', 'admin@example.com');
        await late.fill('#password', PASSWORD);
        await late.click('#signin');
        await waitForParleyState(late, 'ready');
        const lateNotice = late.locator(`#live-captions .caption-status[data-reason="${c.reason}"]`);
        await lateNotice.waitFor({ timeout: 20_000 });
        assert.equal((await lateNotice.innerText()).trim(), sentence, 'a dashboard opened mid-call');
        await late.context().close();
        for (const [who, page] of [['customer', customer], ['agent', agent]] as const) {
          const notice = page.locator(`.caption-status[data-reason="${c.reason}"]`).first();
          await notice.waitFor({ timeout: 45_000 });
          assert.equal((await notice.innerText()).trim(), sentence, `${who} page`);
          await notice.scrollIntoViewIfNeeded();
          await shoot(page, `captions-unavailable-${c.reason}-${c.lang}-${who}`);
        }
        // The customer's call controls are in the page's language too.
        assert.equal((await customer.innerText('#mute')).trim(), c.lang === 'ko' ? '음소거' : 'Mute');
        // The log names what to install or set.
        await waitFor('the log line naming the fix', async () => c.log.test(output()), 20_000).catch(() => assert.fail(`log does not match ${c.log}:\n${output().split('\n').filter((l) => /speech|caption|STT/i.test(l)).join('\n')}`));
        if (c.reason === 'no_engine') assert.match(output(), /captions are off: no speech engine could start/);

        // The server keeps serving: health, and the call is still live for both.
        assert.equal((await request(`${url}/health`)).status, 200);
        const again = await waitForCallAudio(agent, atAgent.received + 50);
        assert.ok(again.received >= atAgent.received + 50, `audio keeps flowing to the agent: ${atAgent.received} → ${again.received}`);
        assert.equal(await customer.evaluate(() => (window as unknown as { parley: { state: string } }).parley.state), 'in-call');
        await agent.context().close();
        await customer.context().close();
        await dash.context().close();
      } finally {
        await server.close();
      }
    });
  }
});
