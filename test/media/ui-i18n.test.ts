/**
 * The Korean and English tables have the same keys, all the way down (issue 15): the compiler
 * checks the shape of fixed objects, this test also checks the open records (causes, errors,
 * the HTML pages' `data-i18n` texts) and that every `data-i18n` key used in web/**.html exists.
 * The tables are plain modules (the `ui/i18n.ts` signals are not imported). The last test opens the
 * admin's call detail of a finished call (with a recording and a transcript) in real Chromium in
 * Korean at desktop and 390 px: no English is left; the header switch turns it all to English.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { waitForParleyState } from '../support/browser.js';
import { callFrom, createEntryPoint, PASSWORD, RecordingSocket, signIn } from '../support/consultation.js';
import { request } from '../support/parleyServer.js';
import { contextIn, DESKTOP, englishWordsIn, PHONE, shoot, signInOnPage, uiFixture } from '../support/uiPages.js';
import { en } from '../../web-src/ui/text/en.js';
import { ko } from '../../web-src/ui/text/ko.js';

function keys(v: unknown, prefix = ''): string[] {
  if (typeof v === 'function') return [`${prefix}()`];
  if (v === null || typeof v !== 'object') return [prefix];
  return Object.keys(v as object)
    .sort()
    .flatMap((k) => keys((v as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k));
}

test('the English and Korean tables have exactly the same keys', () => {
  const a = new Set(keys(en));
  const b = new Set(keys(ko));
  assert.deepEqual([...a].filter((k) => !b.has(k)), [], 'keys only in English');
  assert.deepEqual([...b].filter((k) => !a.has(k)), [], 'keys only in Korean');
  assert.ok(a.size > 300, `the tables cover the pages (${a.size} keys)`);
});

test('no Korean sentence is left in English, and no English one in Korean', () => {
  const strings = (v: unknown): string[] => (typeof v === 'string' ? [v] : v && typeof v === 'object' ? Object.values(v).flatMap(strings) : []);
  const hangul = /[\uac00-\ud7a3]/;
  const inEnglish = strings(en).filter((s) => hangul.test(s) && s !== '한국어');
  assert.deepEqual(inEnglish, []);
  // Korean strings with no Hangul are names, codes or punctuation only.
  const latinOnly = strings(ko).filter((s) => /[a-z]{4,}/.test(s) && !hangul.test(s));
  assert.deepEqual(latinOnly.filter((s) => !['English', 'Parley', 'URL'].includes(s)), []);
});

test('functions give sentences in both languages', () => {
  assert.equal(en.transfer.done('Kim'), 'The call was transferred to Kim.');
  assert.match(ko.transfer.done('김민지'), /김민지/);
  assert.equal(en.codes.agentsAvailable(2), '2 agents are free to take a call.');
  assert.equal(ko.codes.agentsAvailable(2), '2명의 상담원이 전화를 받을 수 있습니다.');
  assert.notEqual(en.codes.transition('ENDED', 'customer-hung-up'), ko.codes.transition('ENDED', 'customer-hung-up'));
});

test('every fixed-text key the pages use (data-i18n in the HTML, static[…] in the views) has a text in both languages', () => {
  const files = (dir: string, ends: string[]): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name), ends) : ends.some((x) => e.name.endsWith(x)) ? [join(dir, e.name)] : []));
  const used = new Set<string>();
  for (const f of files('web', ['.html'])) for (const m of readFileSync(f, 'utf8').matchAll(/data-i18n(?:-placeholder|-title|-aria-label|-alt)?="([^"]+)"/g)) used.add(m[1]!);
  const inHtml = used.size;
  // Views that render a page's fixed texts themselves read them as `static['key']` (or `S['key']`, S = the static table).
  for (const f of files('web-src', ['.ts', '.tsx'])) for (const m of readFileSync(f, 'utf8').matchAll(/\b(?:static|S)\['([a-z0-9-]+)'\]/g)) used.add(m[1]!);
  assert.ok(inHtml > 80 && used.size > 100, `${inHtml} keys in the HTML, ${used.size} in all`);
  assert.deepEqual([...used].filter((k) => en.static[k] === undefined), [], 'missing in English');
  assert.deepEqual([...used].filter((k) => ko.static[k] === undefined), [], 'missing in Korean');
});

// ---------------------------------------------------------------------------------------------
// The admin's call detail in Korean, with everything a finished call shows: summary, timeline,
// participants, a note, the transcript (a masked word among them) and the recording player.

/** A second of silence as a 16-bit mono WAV (what the player loads; the labels are what is checked). */
function silentWav(ms = 1000, rate = 8000): Buffer {
  const samples = Math.round((rate * ms) / 1000);
  const b = Buffer.alloc(44 + samples * 2);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + samples * 2, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(samples * 2, 40);
  return b;
}

describe('the call detail in Korean, with a recording and a transcript', { timeout: 120_000 }, () => {
  const f = uiFixture();

  test('no English is left in the call detail; switching to English changes every label', async () => {
    const { server, admin } = f;
    // A Korean-named agent (createAgent derives the email from the name).
    const made = await request(`${server.url}/api/v1/users`, { token: admin.token, body: { email: 'kim.sangdam@example.com', password: PASSWORD, name: '김상담', role: 'agent' } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const agent = await signIn(server.url, 'kim.sangdam@example.com');
    const ep = await createEntryPoint(server.url, admin, '강남점 창구');
    const agentSocket = await RecordingSocket.open(server.url, '/consult', agent.token);
    await agentSocket.request('agent:set-state', { state: 'available' });
    const started = await callFrom(server.url, ep.entryToken, '박고객', '01055556666', '배송 문의');
    const id = started.consultation.id as string;
    await agentSocket.waitFor('consultation:offer', (o) => o.consultationId === id, 10_000);
    assert.ok(!(await agentSocket.request('consultation:accept', { consultationId: id })).error);
    assert.ok(!(await agentSocket.request('consultation:end', { consultationId: id })).error);
    agentSocket.close();
    const note = await request(`${server.url}/api/v1/consultations/${id}/notes`, { token: agent.token, body: { body: '내일 다시 연락드리기로 함', disposition: 'follow-up' } });
    assert.equal(note.status, 201, JSON.stringify(note.body));
    const line = { roomId: started.roomId, consultationId: id, peerId: 'p', language: 'ko', engine: 'openai', confidence: 0.9 };
    await server.parley.transcripts.record({ ...line, utteranceId: 'u1', userId: 'cust', role: 'customer', name: '박고객', startMs: 1200, endMs: 3400, text: '** 택배가 아직 안 왔어요', spans: [{ start: 0, end: 2, category: 'profanity' }] });
    await server.parley.transcripts.record({ ...line, utteranceId: 'u2', userId: agent.id, role: 'agent', name: '김상담', startMs: 5000, endMs: 7000, text: '확인해 보겠습니다', spans: [] });
    const detail = (await request(`${server.url}/api/v1/consultations/${id}`, { token: admin.token })).body.consultation;

    // The recording list and file as the server gives them for a finished consultation recording
    // (making a real one needs a whole media call: recording-ui.test.ts does that).
    const startedAt = Date.parse(detail.connectedAt ?? detail.createdAt);
    const rec = {
      id: 'rec-1', name: `${detail.roomId}-20261202T000000Z-abcdef.mp4`, roomName: detail.roomId, roomId: detail.roomId, startedAt, size: 16044, status: 'ready', failure: null, durationMs: 1000, consultationId: id,
      tracks: [
        { id: 't1', peerId: 'p1', userId: 'cust', name: '박고객', role: 'customer', kind: 'audio', offsetMs: 0, durationMs: 1000, size: 8000, bleeps: [{ startMs: 200, endMs: 500 }], roomStartedAt: startedAt },
        { id: 't2', peerId: 'p2', userId: agent.id, name: '김상담', role: 'agent', kind: 'audio', offsetMs: 0, durationMs: 1000, size: 8000, bleeps: [], roomStartedAt: startedAt },
      ],
    };

    // At desktop width the page opens in English and is switched to Korean (the sentences built
    // before the switch must follow it); at 390 px it opens in Korean.
    for (const [viewport, opensIn] of [[DESKTOP, 'en'], [PHONE, 'ko']] as const) {
      const context = await contextIn(f.browser, opensIn, viewport);
      const page = await context.newPage();
      await page.route(/\/recordings\?roomName=/, (r) => r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ recordings: [rec] }) }));
      await page.route(/\/recordings\/[^/?]+\.mp4$/, (r) => r.fulfill({ status: 200, contentType: 'audio/wav', body: silentWav() }));
      await page.goto(`${server.url}/admin/`, { waitUntil: 'load' });
      await signInOnPage(page, 'admin@example.com', PASSWORD);
      await waitForParleyState(page, 'ready');
      await page.evaluate((h) => (location.hash = h), `#call/${id}`);
      for (const ready of ['#call-summary dd.customer', '#recording-audio', '#call-transcript li.seekable', '#call-timeline li[data-kind]', '#call-notes li[data-note-id]', '#call-participants tr[data-role]', '.rec-bleep'])
        await page.locator(ready).first().waitFor({ timeout: 10_000 });
      assert.equal(await page.locator('#call-transcript li.seekable').count(), 2);
      if (opensIn === 'en') {
        await page.selectOption('#lang', 'ko');
        await page.waitForFunction((label) => document.querySelector('#call-summary dt')?.textContent === label, ko.dash.field.customer, { timeout: 5000 });
      }
      assert.equal(await page.locator('#call-summary dd.status').innerText(), ko.codes.status[detail.status as 'ENDED']);
      assert.deepEqual(await englishWordsIn(page, '#view-call'), [], 'English left in the Korean call detail');
      // Durations are spoken in Korean ("3초"), not a clock.
      assert.match(await page.locator('#call-summary dd.duration').innerText(), /초|—/);
      const wide = viewport === PHONE ? '390' : 'desktop';
      await shoot(page, `ui-admin-call-detail-ko-${wide}`);
      await page.locator('#call-recording').scrollIntoViewIfNeeded();
      await shoot(page, `ui-admin-call-detail-recording-ko-${wide}`);

      // The header switch re-renders the whole detail in English.
      await page.selectOption('#lang', 'en');
      await page.waitForFunction((label) => document.querySelector('#call-summary dt')?.textContent === label, en.dash.field.customer, { timeout: 5000 });
      assert.equal(await page.locator('#call-summary dd.status').innerText(), en.codes.status[detail.status as 'ENDED']);
      assert.equal((await page.locator('#call-recording h2').innerText()).trim(), en.recording.title);
      const hangul = (await page.innerText('#view-call')).replace(/박고객|김상담|강남점 창구|배송 문의|내일 다시 연락드리기로 함|택배가 아직 안 왔어요|확인해 보겠습니다|한국어/g, '');
      assert.doesNotMatch(hangul, /[\uac00-\ud7a3]/, 'no Korean label left in English');
      await page.locator('#view-call').scrollIntoViewIfNeeded();
      await page.evaluate(() => window.scrollTo(0, 0));
      await shoot(page, `ui-admin-call-detail-en-${wide}`);
      await context.close();
    }
  });
});
