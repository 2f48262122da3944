/**
 * The AI voice agent end to end: real Chromium on the /ai/ page, whose fake microphone plays real read speech
 * (a LibriVox clip from Debian's pocketsphinx-testdata, looped with silence between), calls the bot through
 * Parley's SFU. The bot is a peer with its own producer; it greets, hears the caller (pocketsphinx), answers from
 * the embedded knowledge base and speaks with espeak-ng: the page receives audible bot audio (getStats energy),
 * captions of both sides appear on the page, both sides' lines are in the transcript, the turn is stored with its
 * latencies. The looped clip speaks over the bot: barge-in stops the bot's RTP within 200 ms and the interrupted
 * reply is recorded as interrupted, and the next turn follows.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage, saveScreenshot } from '../support/browser.js';
import { firstAdmin, RecordingSocket } from '../support/consultation.js';
import { startParley, type RunningParley } from '../support/parleyServer.js';

const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox';
const CLIP = 'sense_and_sensibility_01_austen_64kb-0870';

interface AiWindow {
  aiCall: {
    state: string;
    roomId: string;
    botPeerId: string;
    errors: string[];
    captions: Array<{ role: string; text: string; isFinal: boolean; peerId: string }>;
    consumers?: Map<string, { kind: string; appData: { peerId: string }; getStats(): Promise<RTCStatsReport> }>;
  };
}

async function botAudio(page: Page): Promise<{ packets: number; energy: number }> {
  return page.evaluate(async () => {
    const a = (window as unknown as AiWindow).aiCall;
    let packets = 0;
    let energy = 0;
    for (const c of a.consumers?.values() ?? []) {
      if (c.kind !== 'audio' || c.appData.peerId !== a.botPeerId) continue;
      (await c.getStats()).forEach((s: Record<string, unknown>) => {
        if (s.type === 'inbound-rtp') {
          packets += Number(s.packetsReceived ?? 0);
          energy += Number(s.totalAudioEnergy ?? 0);
        }
      });
    }
    return { packets, energy };
  });
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (last !== undefined) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

/** A Prometheus sample's value from the registry's text. */
function sample(text: string, name: string): number {
  const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

describe('a caller talks with the AI agent in Chromium', () => {
  let srv: RunningParley;
  let browser: Browser;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-call-'));
    const mic = join(dir, 'caller.wav');
    execFileSync('sox', [`${LIBRIVOX}/${CLIP}.wav`, '-r', '48000', '-c', '1', '-b', '16', mic, 'pad', '0.5', '2.5']);
    srv = await startParley({ STT_ENGINE: 'pocketsphinx', STT_POCKETSPHINX_DECODERS: '1', AGENT_TTS: 'espeak' });
    browser = await launchChromium({ audioFile: mic });
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  test('the AI page says in Korean that the caller talks with an AI', async () => {
    const ctx = await browser.newContext({ locale: 'ko-KR' });
    try {
      const page = await ctx.newPage();
      await page.goto(`${srv.url}/ai/`);
      await page.waitForSelector('#ai-start');
      assert.match(await page.locator('#ai-notice').innerText(), /사람이 아닌 AI 상담 도우미/);
      assert.equal(await page.locator('#ai-start').innerText(), '통화 시작');
      await saveScreenshot(page, 'agent-call-ko');
    } finally {
      await ctx.close();
    }
  });

  test('the bot answers aloud, captions both sides, stores the transcript and turn; talking over it stops its audio within 200 ms', async () => {
    const admin = await firstAdmin(srv.url);
    const adminNs = await RecordingSocket.open(srv.url, '/admin', admin.token);
    const { page } = await openPage(browser, `${srv.url}/ai/`, 'caller');
    // The page says plainly that this is an AI, before the call starts.
    assert.match(await page.locator('#ai-notice').innerText(), /AI assistant|AI 상담 도우미/);
    await page.click('#ai-start');
    await page.waitForFunction(() => (window as unknown as AiWindow).aiCall.state === 'live', undefined, { timeout: 30_000 });
    const roomId = await page.evaluate(() => (window as unknown as AiWindow).aiCall.roomId);
    assert.match(roomId, /^ai-/);

    // The bot's voice reaches the page: packets with energy.
    const heard = await until('hearing the bot', 30_000, async () => {
      const a = await botAudio(page);
      return a.packets > 50 && a.energy > 0.01 ? a : undefined;
    });
    assert.ok(heard.energy > 0.01);

    // Captions of both sides on the page.
    const caps = await until('captions of the caller and the bot', 60_000, async () => {
      const c = await page.evaluate(() => (window as unknown as AiWindow).aiCall.captions);
      return c.some((x) => x.role === 'customer' && x.isFinal) && c.some((x) => x.role === 'bot') ? c : undefined;
    });
    const callerWords = caps.filter((c) => c.role === 'customer' && c.isFinal).map((c) => c.text).join(' ');
    assert.ok(callerWords.split(/\s+/).length >= 2, `caller caption: ${callerWords}`);
    await saveScreenshot(page, 'agent-call-captions');

    // A turn was taken and stored; talking over the bot (the clip loops) interrupted a reply.
    const prom = await until('an interrupted turn and a barge-in', 90_000, async () => {
      const text = await srv.parley.metrics.registry.metrics();
      return sample(text, 'parley_agent_turns_total{outcome="interrupted"}') >= 1 && sample(text, 'parley_agent_barge_in_stop_seconds_count') >= 1 ? text : undefined;
    });
    const bargeCount = sample(prom, 'parley_agent_barge_in_stop_seconds_count');
    const within200 = sample(prom, 'parley_agent_barge_in_stop_seconds_bucket{le="0.2"}');
    assert.equal(within200, bargeCount, `every barge-in stopped the bot within 200 ms (${within200} of ${bargeCount})`);

    // The next turn follows the interruption.
    const db = srv.parley.storage.db;
    // A reply interrupted before its first packet has no voice-to-voice; wait for one that was heard.
    const heardTurn = (r: { metrics: string }) => (JSON.parse(r.metrics) as Record<string, number>).voiceToVoiceMs !== undefined;
    const turns = await until('a turn after the interrupted one, and a reply that was heard (stored and in Prometheus)', 90_000, async () => {
      const rows = await db.selectFrom('agent_turns').selectAll().where('call_id', '=', roomId).orderBy('seq').execute();
      const i = rows.findIndex((r) => r.outcome === 'interrupted');
      const measured = sample(await srv.parley.metrics.registry.metrics(), 'parley_agent_voice_to_voice_seconds_count') >= 1;
      return i >= 0 && rows.length > i + 1 && rows.some(heardTurn) && measured ? rows : undefined;
    });
    // The looped clip talks over every reply, so turns end interrupted; each still has its latencies.
    const spoken = turns.find(heardTurn);
    assert.ok(spoken, `a turn with voice-to-voice: ${turns.map((t) => t.metrics).join(' | ')}`);
    const m = JSON.parse(spoken.metrics) as Record<string, number>;
    assert.ok(m.eouDelayMs !== undefined && m.llmMs !== undefined && m.ttsTtfbMs !== undefined, `metrics stored: ${spoken.metrics}`);
    assert.ok(m.voiceToVoiceMs! > 0 && m.voiceToVoiceMs! < 10_000);
    assert.ok(turns.every((t) => t.user_message.length > 0));

    // Both sides are in the transcript.
    const lines = await db.selectFrom('transcripts').selectAll().where('room_id', '=', roomId).execute();
    assert.ok(lines.some((l) => l.role === 'customer'), 'caller lines stored');
    assert.ok(lines.some((l) => l.role === 'bot'), 'bot lines stored');
    assert.deepEqual(await page.evaluate(() => (window as unknown as AiWindow).aiCall.errors), []);

    // A supervisor (admin's /admin socket) saw the turns live with the caller's sentiment.
    const live = adminNs.events.filter((e) => e.event === 'agent:turn' && e.data.roomId === roomId);
    assert.ok(live.length >= turns.length - 1, `${live.length} live turns for ${turns.length} stored`);
    assert.ok(['positive', 'neutral', 'negative'].includes(live[0]!.data.sentiment.sentiment));
    assert.ok(live[0]!.data.sentiment.score >= 0 && live[0]!.data.sentiment.score <= 1);
    adminNs.socket.close();

    // The page shows how the bot heard the caller's last words, and once the caller hangs up, how the call ended.
    await page.waitForSelector('#ai-mood', { timeout: 10_000 });
    const lastTurn = turns.at(-1)!;
    const mood = await page.locator('#ai-mood').getAttribute('data-sentiment');
    assert.ok(['positive', 'neutral', 'negative'].includes(mood ?? ''), `mood ${mood} (last stored: ${lastTurn.sentiment})`);
    assert.match(await page.locator('#ai-mood').innerText(), /^You sound (positive|neutral|unhappy) \(\d+%\)$/);
    await saveScreenshot(page, 'agent-call-mood');
    await page.click('#ai-hangup');
    await page.waitForSelector('#ai-outcome', { timeout: 20_000 });
    const outcome = await page.locator('#ai-outcome').getAttribute('data-outcome');
    const stored = await db.selectFrom('agent_turns').select('outcome').where('call_id', '=', roomId).execute();
    const expected = stored.some((t) => t.outcome === 'transferred') ? 'transferred' : stored.some((t) => t.outcome === 'answered') ? 'resolved_by_bot' : 'abandoned';
    assert.equal(outcome, expected, `outcome from ${stored.map((t) => t.outcome).join(', ')}`);
    assert.match(await page.locator('#ai-outcome').innerText(), /How the call ended[\s\S]*(Resolved by the AI assistant|AI assistant handed over to a person|Caller left the AI assistant) · \d+ questions? answered/);
    await saveScreenshot(page, 'agent-call-outcome-en');
    await page.selectOption('#lang', 'ko');
    assert.match(await page.locator('#ai-outcome').innerText(), /통화 결과[\s\S]*(AI 상담 도우미가 해결함|AI 상담 도우미가 상담원에게 넘김|고객이 AI 상담 도우미와 통화 중 끊음) · 질문 \d+개에 답변함/);
    await saveScreenshot(page, 'agent-call-outcome-ko');
  });
});
