/**
 * Live captions end to end (issue 10): real read speech (LibriVox clips from Debian's
 * pocketsphinx-testdata, resampled to 48 kHz) is the fake microphone of a customer's and an
 * agent's Chromium, sent through the stock mediasoup-client and Parley's SFU into the server's
 * caption pipeline (direct consumer → pipeline worker → VAD → pocketsphinx). Both consoles'
 * sockets receive captions labelled by speaker; the words are compared with what pocketsphinx
 * gets offline on the same clip; the transcript is stored, exported in four formats and
 * searchable. Then Korean through an OpenAI-compatible endpoint (a local server speaking that
 * API's wire format) with profanity: masked on both sides, in the transcript and the export.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startOpenAIServer, type OpenAITestServer } from '../ai-openaiServer.js';
import { launchChromium, saveScreenshot, waitForParleyState } from '../support/browser.js';
import { callFrom, createAgent, createEntryPoint, firstAdmin, PASSWORD, RecordingSocket, signIn, type Staff } from '../support/consultation.js';
import { request, startParley, type RunningParley } from '../support/parleyServer.js';
import { openPage } from '../support/browser.js';
import { waitForJoined } from '../support/voicePage.js';

const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox';
const CUSTOMER_CLIP = 'sense_and_sensibility_01_austen_64kb-0870';
const AGENT_CLIP = 'sense_and_sensibility_01_austen_64kb-0920';

function transcriptOf(clip: string): string[] {
  const lines = execFileSync('cat', [`${LIBRIVOX}/transcription`], { encoding: 'utf8' }).split('\n');
  const line = lines.find((l) => l.includes(`(${clip})`))!;
  return line.replace(/<\/?s>/g, '').replace(/\(.*\)/, '').trim().split(/\s+/);
}

/** Words of `heard` that are in `reference`, each reference word used once. */
function wordsRight(heard: string[], reference: string[]): number {
  const left = new Map<string, number>();
  for (const w of reference) left.set(w, (left.get(w) ?? 0) + 1);
  let n = 0;
  for (const w of heard) {
    const k = left.get(w) ?? 0;
    if (k > 0) {
      n += 1;
      left.set(w, k - 1);
    }
  }
  return n;
}

/** The clip as Chromium's microphone: 48 kHz mono with silence after it, so each loop is one utterance. */
function microphoneOf(clip: string, dir: string): string {
  const out = join(dir, `${clip}-48k.wav`);
  execFileSync('sox', [`${LIBRIVOX}/${clip}.wav`, '-r', '48000', '-c', '1', '-b', '16', out, 'pad', '0.5', '2']);
  return out;
}

function offlineWords(clip: string): string[] {
  const out = execFileSync('pocketsphinx_continuous', ['-infile', `${LIBRIVOX}/${clip}.wav`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split(/\s+/).filter((w) => /^[a-z']+$/.test(w));
}

interface CallSetup {
  admin: Staff;
  agent: Staff;
  consultationId: string;
  roomId: string;
  customerToken: string;
  customerConsult: RecordingSocket;
  agentConsult: RecordingSocket;
  adminNs: RecordingSocket;
}

/** A consultation the agent has accepted, with the customer's and the agent's /consult sockets and an admin's /admin socket. */
async function acceptedCall(url: string): Promise<CallSetup> {
  const admin = await firstAdmin(url);
  const agent = await createAgent(url, admin, 'Dana Agent');
  const ep = await createEntryPoint(url, admin);
  const agentConsult = await RecordingSocket.open(url, '/consult', agent.token);
  await agentConsult.socket.timeout(5000).emitWithAck('agent:set-state', { state: 'available' });
  const started = await callFrom(url, ep.entryToken, 'Kim Customer');
  const consultationId = started.consultation.id;
  await agentConsult.waitFor('consultation:offer', (o) => o.consultationId === consultationId, 10_000);
  const accepted = await agentConsult.socket.timeout(10_000).emitWithAck('consultation:accept', { consultationId });
  assert.ok(!accepted.error, JSON.stringify(accepted));
  const customerConsult = await RecordingSocket.open(url, '/consult', started.customerToken);
  const adminNs = await RecordingSocket.open(url, '/admin', admin.token);
  return { admin, agent, consultationId, roomId: started.roomId, customerToken: started.customerToken, customerConsult, agentConsult, adminNs };
}

function captionsOf(s: RecordingSocket, role: string, final = true): Array<{ text: string; role: string; name: string; isFinal: boolean; maskedSpans: Array<{ start: number; end: number; category: string }>; startMs: number; endMs: number }> {
  return s.events.filter((e) => e.event === 'caption' && e.data.role === role && (!final || e.data.isFinal)).map((e) => e.data);
}

async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('live captions with the embedded engine (pocketsphinx), in Chromium', { timeout: 240_000 }, () => {
  let server: RunningParley;
  const browsers: Browser[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'parley-captions-'));

  before(async () => {
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', STT_ENGINE: 'pocketsphinx', STT_POCKETSPHINX_DECODERS: '2', CONSULT_OFFER_TIMEOUT_MS: '30000' });
  });
  after(async () => {
    for (const b of browsers) await b.close();
    await server?.close();
  });

  test('customer and agent are captioned by speaker; the words are what the engine gets offline; the transcript is kept, exported and searchable', async () => {
    const call = await acceptedCall(server.url);
    const customerBrowser = await launchChromium({ audioFile: microphoneOf(CUSTOMER_CLIP, dir) });
    const agentBrowser = await launchChromium({ audioFile: microphoneOf(AGENT_CLIP, dir) });
    browsers.push(customerBrowser, agentBrowser);
    const customerPage = await openPage(customerBrowser, `${server.url}/voice/?room=${call.roomId}&user=kim&token=${encodeURIComponent(call.customerToken)}`, 'customer');
    const agentPage = await openPage(agentBrowser, `${server.url}/voice/?room=${call.roomId}&user=dana&token=${encodeURIComponent(call.agent.token)}`, 'agent');
    await waitForJoined(customerPage.page);
    await waitForJoined(agentPage.page);

    // Each side hears the other's captions, labelled from the credential.
    await until('final captions of both speakers on both consoles', () =>
      captionsOf(call.agentConsult, 'customer').length >= 1 && captionsOf(call.customerConsult, 'agent').length >= 1 && captionsOf(call.customerConsult, 'customer').length >= 1, 90_000);
    const fromCustomer = captionsOf(call.agentConsult, 'customer');
    assert.equal(fromCustomer[0]!.name, 'Kim Customer');
    assert.equal(captionsOf(call.customerConsult, 'agent')[0]!.name, 'Dana Agent');
    assert.ok(call.agentConsult.events.some((e) => e.event === 'caption' && !e.data.isFinal), 'interim captions arrive while the customer speaks');
    assert.ok(call.adminNs.events.some((e) => e.event === 'caption' && e.data.consultationId === call.consultationId), "an admin's live view gets them too");

    // The pipeline keeps the words the engine gets offline on the same clip. The microphone loops
    // the clip and the first loop may have started before the page produced, so the best of the
    // first three finals (at least two whole loops) is compared.
    await until('three final captions of the customer', () => captionsOf(call.agentConsult, 'customer').length >= 3, 60_000);
    const reference = transcriptOf(CUSTOMER_CLIP);
    const offline = offlineWords(CUSTOMER_CLIP);
    const offlineRight = wordsRight(offline, reference);
    const finals = captionsOf(call.agentConsult, 'customer').slice(0, 3);
    const best = finals.map((c) => ({ text: c.text, right: wordsRight(c.text.toLowerCase().split(/\s+/), reference) })).sort((a, b) => b.right - a.right)[0]!;
    console.log(`captions: ${best.right}/${reference.length} words right through WebRTC (offline pocketsphinx on the same clip: ${offlineRight}) — "${best.text}"`);
    assert.ok(best.right >= Math.floor(offlineRight * 0.75), `through the call ${best.right} words right, offline ${offlineRight}: "${best.text}" vs "${offline.join(' ')}"`);
    const first = fromCustomer[0]!;
    assert.ok(first.startMs >= 0 && first.endMs > first.startMs, JSON.stringify(first));

    // The transcript: both speakers, masked text only, four formats, searchable.
    let utterances: Array<{ speaker: { role: string; name: string }; text: string }> = [];
    await until('stored utterances of both speakers', () => {
      void request(`${server.url}/api/v1/consultations/${call.consultationId}/transcript`, { token: call.admin.token }).then((r) => (utterances = r.body.utterances ?? []));
      return utterances.some((u) => u.speaker.role === 'customer') && utterances.some((u) => u.speaker.role === 'agent');
    }, 20_000);
    const asAgent = await request(`${server.url}/api/v1/consultations/${call.consultationId}/transcript`, { token: call.agent.token });
    assert.equal(asAgent.status, 200, 'the agent reads their call');
    for (const format of ['json', 'txt', 'vtt', 'srt']) {
      const r = await fetch(`${server.url}/api/v1/consultations/${call.consultationId}/transcript/export?format=${format}`, { headers: { authorization: `Bearer ${call.admin.token}` } });
      assert.equal(r.status, 200, format);
      const body = await r.text();
      assert.ok(body.includes(utterances[0]!.text), `${format} holds the words`);
      if (format === 'vtt') assert.match(body, /^WEBVTT\n\n\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}\n<v /);
      if (format === 'srt') assert.match(body, /^1\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}\n/);
      if (format === 'txt') assert.match(body, /\[\d\d:\d\d:\d\d\] Kim Customer \(Customer\): |\[\d\d:\d\d:\d\d\] Dana Agent \(Agent\): /);
    }
    const phrase = utterances[0]!.text.split(/\s+/).slice(0, 2).join(' ');
    const found = await request(`${server.url}/api/v1/transcripts/search?q=${encodeURIComponent(phrase)}`, { token: call.admin.token });
    assert.ok(found.body.total >= 1, `search for "${phrase}" finds it: ${JSON.stringify(found.body)}`);
    const other = await createAgent(server.url, call.admin, 'Other Agent');
    assert.equal((await request(`${server.url}/api/v1/transcripts/search?q=${encodeURIComponent(phrase)}`, { token: other.token })).body.total, 0, "another agent does not find someone else's call");
    assert.equal((await request(`${server.url}/api/v1/consultations/${call.consultationId}/transcript`, { token: other.token })).status, 403);
    for (const s of [call.agentConsult, call.customerConsult, call.adminNs]) s.socket.close();
  });
});

describe('Korean captions through an OpenAI-compatible endpoint, masked', { timeout: 180_000 }, () => {
  let server: RunningParley;
  let openai: OpenAITestServer;
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), 'parley-captions-ko-'));

  before(async () => {
    openai = await startOpenAIServer();
    openai.behave({ kind: 'ok', text: '시발 환불은 언제 되나요', language: 'korean' });
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', STT_ENGINE: 'openai', STT_OPENAI_BASE_URL: openai.baseUrl, OPENAI_API_KEY: 'sk-test', STT_LANGUAGE: 'ko', CONSULT_OFFER_TIMEOUT_MS: '30000' });
    browser = await launchChromium({ audioFile: microphoneOf(CUSTOMER_CLIP, dir) });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await openai?.close();
  });

  test('the curse is masked on both consoles, in the transcript and the export, with its span kept', async () => {
    const call = await acceptedCall(server.url);
    const page = await openPage(browser, `${server.url}/voice/?room=${call.roomId}&user=kim&token=${encodeURIComponent(call.customerToken)}`, 'customer-ko');
    await waitForJoined(page.page);
    await until('a final Korean caption on both consoles', () => captionsOf(call.agentConsult, 'customer').length >= 1 && captionsOf(call.customerConsult, 'customer').length >= 1, 60_000);
    for (const s of [call.agentConsult, call.customerConsult]) {
      const c = captionsOf(s, 'customer')[0]!;
      assert.equal(c.text, '** 환불은 언제 되나요');
      assert.deepEqual(c.maskedSpans.map((m) => [m.start, m.end]), [[0, 2]]);
    }
    assert.ok(openai.received.length >= 1 && openai.received[0]!.language === 'ko', 'the endpoint was asked for Korean');
    let utterances: Array<{ text: string; maskedSpans: Array<{ start: number; end: number }> }> = [];
    await until('the stored utterance', () => {
      void request(`${server.url}/api/v1/consultations/${call.consultationId}/transcript`, { token: call.admin.token }).then((r) => (utterances = r.body.utterances ?? []));
      return utterances.length > 0;
    }, 15_000);
    assert.equal(utterances[0]!.text, '** 환불은 언제 되나요');
    assert.deepEqual(utterances[0]!.maskedSpans.map((m) => [m.start, m.end]), [[0, 2]]);
    for (const format of ['json', 'txt', 'vtt', 'srt']) {
      const body = await (await fetch(`${server.url}/api/v1/consultations/${call.consultationId}/transcript/export?format=${format}`, { headers: { authorization: `Bearer ${call.admin.token}` } })).text();
      assert.ok(body.includes('** 환불은 언제 되나요') && !body.includes('시발'), `${format}: ${body.slice(0, 200)}`);
    }
    // Search in Korean (two syllables: shorter than a trigram) and longer.
    assert.ok((await request(`${server.url}/api/v1/transcripts/search?q=${encodeURIComponent('환불')}`, { token: call.admin.token })).body.total >= 1);
    assert.ok((await request(`${server.url}/api/v1/transcripts/search?q=${encodeURIComponent('언제 되나요')}`, { token: call.admin.token })).body.total >= 1);
    for (const s of [call.agentConsult, call.customerConsult, call.adminNs]) s.socket.close();
  });

  test('the customer page and the agent console show the captions by speaker, the masked word blurred', async () => {
    const admin = await signIn(server.url, 'admin@example.com');
    await createAgent(server.url, admin, 'Page Agent');
    const ep = await createEntryPoint(server.url, admin, 'Counter 9');
    const agentBrowser = await launchChromium();
    try {
      const agent = await (await agentBrowser.newContext({ viewport: { width: 900, height: 800 } })).newPage();
      await agent.goto(`${server.url}/agent/`, { waitUntil: 'load' });
      await agent.fill('#email', 'page.agent@example.com');
      await agent.fill('#password', PASSWORD);
      await agent.click('#signin');
      await waitForParleyState(agent, 'ready');
      await agent.click('#state-available');
      // An admin's dashboard (Korean) is open before the call: its live call view gets the captions over /admin.
      const dash = await (await agentBrowser.newContext({ viewport: { width: 1100, height: 900 }, locale: 'ko-KR' })).newPage();
      await dash.goto(`${server.url}/admin/`, { waitUntil: 'load' });
      await dash.fill('#email', 'admin@example.com');
      await dash.fill('#password', PASSWORD);
      await dash.click('#signin');
      await waitForParleyState(dash, 'ready');
      const customer = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
      await customer.goto(`${server.url}/c/?e=${encodeURIComponent(ep.entryToken)}`, { waitUntil: 'load' });
      await waitForParleyState(customer, 'form');
      await customer.fill('#name', 'Lee Customer');
      await customer.fill('#phone', '010-2222-3333');
      await customer.check('#consent');
      await customer.click('#call');
      await waitForParleyState(agent, 'offered', 15_000);
      await agent.click('#accept');
      await waitForParleyState(customer, 'in-call', 20_000);
      for (const [label, page] of [['customer', customer], ['agent', agent]] as const) {
        const line = page.locator('ol.captions li.final', { hasText: '환불은 언제 되나요' }).first();
        await line.waitFor({ timeout: 45_000 });
        const masked = line.locator('.masked');
        assert.equal(await masked.count(), 1, `${label}: one masked word`);
        assert.equal(await masked.innerText(), '**');
        assert.match(await masked.evaluate((el) => getComputedStyle(el).filter), /blur/, `${label}: the masked word is blurred`);
        assert.ok(await masked.getAttribute('title'), `${label}: the masked word is labelled as such`);
        assert.doesNotMatch(await page.locator('ol.captions').innerText(), /시발/);
        await saveScreenshot(page, `captions-${label}-ko`);
      }
      // The admin's live call view: the line labelled by speaker and role, the masked word blurred and tagged, never its text.
      await dash.locator('#board-live tr[data-consultation-id] td.customer a', { hasText: 'Lee Customer' }).click();
      // Both sides' audio is transcribed to the same Korean sentence by the test server: pick the customer's line.
      const liveLine = dash.locator('#live-captions ol.captions li.final', { hasText: '환불은 언제 되나요' }).filter({ hasText: 'Lee Customer' }).first();
      await liveLine.waitFor({ timeout: 45_000 });
      assert.match((await liveLine.locator('strong').innerText()).trim(), /\(고객\)$/, 'labelled with the speaker and their role');
      assert.equal(await liveLine.locator('.masked').innerText(), '**');
      assert.match(await liveLine.locator('.masked').evaluate((el) => getComputedStyle(el).filter), /blur/);
      assert.equal((await liveLine.locator('.masked-tag').innerText()).trim(), '가려짐', 'the admin is told a word was masked');
      assert.doesNotMatch(await dash.locator('#live-captions').innerText(), /시발/);
      assert.equal(await dash.locator('#live-captions').getAttribute('data-status'), 'on');
      await saveScreenshot(dash, 'captions-admin-live-ko');
      // The admin's call detail shows the stored transcript the same way.
      await dash.click('#nav-history');
      await dash.click('#apply-filters');
      const row = dash.locator('#history [data-consultation-id]', { hasText: 'Lee Customer' });
      await row.waitFor({ timeout: 10_000 });
      await row.click();
      const said = dash.locator('#call-transcript li.final', { hasText: '환불은 언제 되나요' }).first();
      await said.waitFor({ timeout: 10_000 });
      assert.equal(await said.locator('.masked').innerText(), '**');
      assert.doesNotMatch(await dash.locator('#call-transcript').innerText(), /시발/);
      await saveScreenshot(dash, 'captions-admin-transcript');
    } finally {
      await agentBrowser.close();
    }
  });
});
