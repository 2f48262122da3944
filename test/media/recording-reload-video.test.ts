/**
 * A customer alone in the consultation's room (the agent on the /consult socket only, not in the
 * media room) sends a camera and a microphone from Chromium and reloads the page mid-call. The
 * room empties for a moment; the recording must stay open across it (the call is live, within
 * the customer's grace) and take the customer's new producers as new tracks of the same
 * recording, so the rest of the call is recorded. Nobody hears "finalizing" before the agent
 * ends the call. Then the admin's call detail plays that recording as video (the mixed MP4 has
 * the camera grid), lists the camera tracks apart from the voices, and a click on its timeline
 * moves the player; in English and Korean.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { artifactsDir, launchChromium, openPage, saveScreenshot, waitForParleyState, type OpenedPage } from '../support/browser.js';
import { callFrom, createAgent, createEntryPoint, firstAdmin, PASSWORD, RecordingSocket, type Staff } from '../support/consultation.js';
import { request, startParley, type RunningParley } from '../support/parleyServer.js';
import { waitFor } from '../support/polling.js';
import { assertNotBlank } from '../support/uiPages.js';
import { waitForJoined } from '../support/voicePage.js';
import { probeDuration } from '../recording-audio.js';

const run = promisify(execFile);

/** Spread of the luma (0…255) of the picture at `atS` seconds: 0 for a plain black frame. */
async function lumaSpread(path: string, atS: number): Promise<number> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-ss', String(atS), '-i', path, '-frames:v', '1', '-vf', 'scale=64:48', '-pix_fmt', 'gray', '-f', 'rawvideo', '-'], { encoding: 'buffer', maxBuffer: 1024 * 1024 });
  assert.ok(stdout.length > 0, `a picture at ${atS} s`);
  let sum = 0;
  let sq = 0;
  for (const v of stdout) {
    sum += v;
    sq += v * v;
  }
  const mean = sum / stdout.length;
  return Math.sqrt(Math.max(0, sq / stdout.length - mean * mean));
}

interface Track { id: string; peerId: string; kind: 'audio' | 'video'; offsetMs: number; durationMs: number; name: string }
interface Row { name: string; status: string; startedAt: number; durationMs: number | null; tracks: Track[] }

describe('a lone customer reloads: the recording goes on; the call detail plays it as video', { timeout: 240_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  let admin: Staff;
  let agentConsult: RecordingSocket | undefined;
  let customerConsult: RecordingSocket | undefined;
  let page: OpenedPage | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'parley-rec-reload-'));
  const recordings = join(dir, 'recordings');
  const serverLog: string[] = [];

  before(async () => {
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', RECORDINGS_PATH: recordings, CONSULT_OFFER_TIMEOUT_MS: '30000' }, {}, serverLog);
    browser = await launchChromium();
  });
  after(async () => {
    writeFileSync(join(artifactsDir(), 'recording-reload-video-server.log'), serverLog.join('\n'));
    agentConsult?.socket.close();
    customerConsult?.socket.close();
    await browser?.close();
    await server?.close();
  });

  /** Scratch tracks (.webm) of the running recording that hold media. */
  function scratchTracks(): string[] {
    const work = join(recordings, '.work');
    return readdirSync(work, { recursive: true }).map(String).filter((f) => f.endsWith('.webm') && statSync(join(work, f)).size > 4000);
  }

  test('recorded across the reload, then played as video with its camera tracks listed', async (t) => {
    admin = await firstAdmin(server.url);
    const agent = await createAgent(server.url, admin, 'Reload Agent');
    const ep = await createEntryPoint(server.url, admin, 'Video Desk');
    agentConsult = await RecordingSocket.open(server.url, '/consult', agent.token);
    await agentConsult.socket.timeout(5000).emitWithAck('agent:set-state', { state: 'available' });
    const started = await callFrom(server.url, ep.entryToken, 'Yoon Camera');
    const consultationId = started.consultation.id;
    await agentConsult.waitFor('consultation:offer', (o) => o.consultationId === consultationId, 15_000);
    const ack = await agentConsult.socket.timeout(10_000).emitWithAck('consultation:accept', { consultationId });
    assert.ok(!ack.error, JSON.stringify(ack));
    customerConsult = await RecordingSocket.open(server.url, '/consult', started.customerToken);
    const url = `${server.url}/voice/?room=${started.roomId}&user=${encodeURIComponent('Yoon Camera')}&video=1&token=${encodeURIComponent(started.customerToken)}`;
    page = await openPage(browser, url, 'customer');
    await waitForJoined(page.page);
    const rec = await customerConsult.waitFor('recording', (r) => r.consultationId === consultationId && r.status === 'recording', 20_000);
    await waitFor('the camera and the microphone are written', async () => scratchTracks().length >= 2, 60_000);
    const firstSegment = new Set(scratchTracks());

    // The reload: the customer's only page leaves the room and joins it again.
    await page.page.reload({ waitUntil: 'load' });
    await waitForJoined(page.page, 30_000);
    await waitFor('the camera and microphone after the reload are written too', async () => scratchTracks().filter((f) => !firstSegment.has(f)).length >= 2, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}; scratch: ${JSON.stringify(scratchTracks())}; first: ${JSON.stringify([...firstSegment])}; recording events: ${JSON.stringify(customerConsult!.events.filter((e) => e.event === 'recording').map((e) => e.data.status))}`);
    });
    // A few seconds of the call after the reload (the fake microphone never pauses: ~4 KB of Opus a second).
    await waitFor('seconds of media after the reload', async () => {
      const work = join(recordings, '.work');
      const after = scratchTracks().filter((f) => !firstSegment.has(f)).map((f) => statSync(join(work, f)).size);
      return Math.min(...after) > 16_000;
    }, 60_000);
    const during = customerConsult.events.filter((e) => e.event === 'recording' && e.data.name === rec.name).map((e) => e.data.status as string);
    assert.deepEqual([...new Set(during)], ['recording'], `the recording stayed open across the reload (heard: ${during.join(', ')})`);

    // The agent ends the call; the one recording is finished.
    const ended = await agentConsult.socket.timeout(10_000).emitWithAck('consultation:end', { consultationId });
    assert.ok(!ended.error, JSON.stringify(ended));
    await page.page.close();
    await customerConsult.waitFor('recording', (r) => r.name === rec.name && r.status === 'ready', 60_000);
    const rows = (await request(`${server.url}/recordings?roomName=${started.roomId}`, { token: admin.token })).body.recordings as Row[];
    assert.equal(rows.length, 1, 'one recording for the whole call');
    const row = rows[0]!;
    const audio = row.tracks.filter((t) => t.kind === 'audio').sort((a, b) => a.offsetMs - b.offsetMs);
    const video = row.tracks.filter((t) => t.kind === 'video');
    assert.equal(audio.length, 2, `the customer's voice before and after the reload: ${JSON.stringify(row.tracks)}`);
    assert.equal(video.length, 2, `the camera before and after the reload: ${JSON.stringify(row.tracks)}`);
    assert.notEqual(audio[0]!.peerId, audio[1]!.peerId, 'the reloaded page is a new peer');
    assert.ok(audio[1]!.offsetMs >= audio[0]!.offsetMs + audio[0]!.durationMs - 500, `the second segment starts after the first ends: ${JSON.stringify(audio)}`);
    const durationS = await probeDuration(join(recordings, row.name));
    assert.ok(Math.abs(durationS - (row.durationMs ?? 0) / 1000) < 0.5, `the mixed file (${durationS} s) is as long as the call (${row.durationMs} ms)`);
    assert.ok(audio[1]!.offsetMs + audio[1]!.durationMs > (row.durationMs ?? 0) - 3000, 'the rest of the call, after the reload, is in the recording');
    const after = (audio[1]!.offsetMs + audio[1]!.durationMs / 2) / 1000;
    assert.ok((await lumaSpread(join(recordings, row.name), after)) > 5, `the camera after the reload is in the mixed picture at ${after} s`);

    // The admin's call detail: a <video> player, the camera tracks listed apart.
    const dash = await (await browser.newContext({ viewport: { width: 1100, height: 1000 }, locale: 'en-US' })).newPage();
    await dash.goto(`${server.url}/admin/`, { waitUntil: 'load' });
    await dash.fill('#email', 'admin@example.com');
    await dash.fill('#password', PASSWORD);
    await dash.click('#signin');
    await waitForParleyState(dash, 'ready');
    await dash.evaluate((id) => (location.hash = `#call/${id}`), consultationId);
    await dash.locator('#recording-video').waitFor({ timeout: 20_000 });
    assert.equal(await dash.locator('#recording-audio').count(), 0, 'no audio-only player when the recording has video');
    const size = (await (await dash.waitForFunction(() => {
      const v = document.querySelector<HTMLVideoElement>('#recording-video');
      return v && v.videoWidth > 0 && Number.isFinite(v.duration) ? { w: v.videoWidth, h: v.videoHeight, d: v.duration } : false;
    }, undefined, { timeout: 20_000, polling: 100 })).jsonValue()) as { w: number; h: number; d: number };
    assert.ok(size.w > 0 && size.h > 0, `the player shows a picture: ${JSON.stringify(size)}`);
    assert.ok(Math.abs(size.d - (row.durationMs ?? 0) / 1000) < 0.5, `the player's duration ${size.d} s matches the recording's`);
    assert.equal(await dash.locator('button.rec-track[data-kind="audio"]').count(), audio.length, 'a download per voice track');
    assert.equal(await dash.locator('button.rec-track[data-kind="video"]').count(), video.length, 'a download per camera track');
    assert.match(await dash.locator('button.rec-track[data-kind="video"]').first().innerText(), /camera/);

    // A click on the timeline's far end moves the video there (the seek the transcript uses too).
    await seekByTimeline(dash, 0.75, size.d);
    await dash.waitForFunction(() => (document.querySelector<HTMLVideoElement>('#recording-video')?.readyState ?? 0) >= 2, undefined, { timeout: 10_000 });
    // What the player shows there is a picture (drawn from the element, as the browser decoded it), not black.
    const shown = await dash.evaluate(() => {
      const v = document.querySelector<HTMLVideoElement>('#recording-video')!;
      const c = document.createElement('canvas');
      c.width = 64;
      c.height = 48;
      const g = c.getContext('2d')!;
      g.drawImage(v, 0, 0, 64, 48);
      const px = g.getImageData(0, 0, 64, 48).data;
      let sum = 0;
      let sq = 0;
      for (let i = 0; i < px.length; i += 4) {
        const y = 0.299 * px[i]! + 0.587 * px[i + 1]! + 0.114 * px[i + 2]!;
        sum += y;
        sq += y * y;
      }
      const n = px.length / 4;
      return Math.sqrt(Math.max(0, sq / n - (sum / n) ** 2));
    });
    t.diagnostic(`call ${row.durationMs} ms; tracks ${row.tracks.map((x) => `${x.kind}@${x.offsetMs}+${x.durationMs}`).join(', ')}; player ${size.w}x${size.h} ${size.d.toFixed(2)} s; picture luma spread ${shown.toFixed(1)}`);
    assert.ok(shown > 5, `the player shows the camera picture at ${0.75 * size.d} s (luma spread ${shown})`);
    await dash.locator('#call-recording').scrollIntoViewIfNeeded();
    assertNotBlank(await saveScreenshot(dash, 'recording-video-call-detail-en'));

    await dash.selectOption('#lang', 'ko');
    await dash.waitForFunction(() => document.querySelector('#call-recording h2')?.textContent?.trim() === '녹음', undefined, { timeout: 5000 });
    assert.match(await dash.locator('button.rec-track[data-kind="video"]').first().innerText(), /카메라 영상 내려받기/);
    await dash.locator('#call-recording').scrollIntoViewIfNeeded();
    assertNotBlank(await saveScreenshot(dash, 'recording-video-call-detail-ko'));

    const [download] = await Promise.all([dash.waitForEvent('download', { timeout: 15_000 }), dash.locator('button.rec-track[data-kind="video"]').first().click()]);
    assert.match(download.suggestedFilename(), /camera\.webm$/);
  });
});

async function seekByTimeline(dash: Page, fraction: number, durationS: number): Promise<void> {
  await dash.evaluate(() => document.querySelector<HTMLVideoElement>('#recording-video')!.pause());
  await dash.locator('.rec-timeline').scrollIntoViewIfNeeded();
  const box = (await dash.locator('.rec-timeline').boundingBox())!;
  await dash.mouse.click(box.x + box.width * fraction, box.y + box.height / 2);
  const at = (await (await dash.waitForFunction((want) => {
    const v = document.querySelector<HTMLVideoElement>('#recording-video')!;
    return Math.abs(v.currentTime - want) < 1 ? v.currentTime : false;
  }, durationS * fraction, { timeout: 10_000, polling: 50 }).catch(async (err: Error) => {
    throw new Error(`${err.message}; currentTime ${await dash.evaluate(() => document.querySelector<HTMLVideoElement>('#recording-video')!.currentTime)} s, clicked at ${JSON.stringify(box)}`);
  })).jsonValue()) as number;
  assert.ok(Math.abs(at - durationS * fraction) < 1, `currentTime ${at} s ≈ ${durationS * fraction} s`);
}
