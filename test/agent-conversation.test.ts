/**
 * Seed 001's `POST /api/v1/calls/conversation/process` on a real Parley: a WAV of real speech (LibriVox, Debian's
 * pocketsphinx-testdata) is recognised by pocketsphinx, answered by an OpenAI-compatible model (a local server
 * speaking the SSE wire format) with the call's history and the request's system prompt, spoken by espeak-ng; the
 * answer has the seed's exact shape and its `audioUrl` decodes to audible audio. A model that hangs becomes a
 * spoken apology and a transfer. Bad input is refused with a message.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { decodeWav, encodeWav } from '../src/ai/utils/pcm.js';
import { DEFAULT_APOLOGY } from '../src/domain/agents/conversationService.js';
import { librivoxClips, wordOverlap } from './ai-audio.js';
import { startOpenAIAgentServer, type OpenAIAgentServer } from './agent-openaiServer.js';
import { request, startParley, type RunningParley } from './support/parleyServer.js';

const clips = librivoxClips();
const rms = (s: Int16Array) => Math.sqrt(s.reduce((n, v) => n + v * v, 0) / Math.max(1, s.length));

async function process(url: string, fields: Record<string, string>, audio?: { bytes: Uint8Array<ArrayBuffer>; type: string; name: string }) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (audio) form.append('audio', new Blob([audio.bytes], { type: audio.type }), audio.name);
  const res = await fetch(`${url}/api/v1/calls/conversation/process`, { method: 'POST', body: form });
  return { status: res.status, body: (await res.json()) as any };
}

const wavOf = (path: string) => ({ bytes: new Uint8Array(readFileSync(path)), type: 'audio/wav', name: 'message.wav' });

async function newCall(url: string): Promise<string> {
  const c = await request(`${url}/api/v1/calls`, { body: { callerNumber: '01012345678' } });
  assert.equal(c.status, 201);
  assert.equal((await request(`${url}/api/v1/calls/${c.body.data.call.id}/connect`, { method: 'POST' })).status, 200);
  return c.body.data.call.id as string;
}

describe('conversation/process with real speech', () => {
  let llm: OpenAIAgentServer;
  let srv: RunningParley;
  before(async () => {
    llm = await startOpenAIAgentServer();
    srv = await startParley({
      STT_ENGINE: 'pocketsphinx',
      STT_POCKETSPHINX_DECODERS: '1',
      AGENT_LLM: 'openai',
      OPENAI_BASE_URL: llm.baseUrl,
      OPENAI_API_KEY: 'sk-test-agent',
      OPENAI_MODEL: 'gpt-4o-mini',
      AGENT_LLM_TIMEOUT_MS: '1500',
      AGENT_TTS: 'espeak',
    });
  });
  after(async () => {
    await srv?.close();
    await llm?.close();
  });

  test("the seed's exact envelope: what was said, the answer, sentiment, time, and a WAV data URL that plays", async () => {
    const callId = await newCall(srv.url);
    llm.chat({ kind: 'text', deltas: ['Thank you ', 'for calling. ', 'How can I help?'] });
    const clip = clips[0]!;
    const r = await process(srv.url, { callId, systemPrompt: '당신은 친절한 고객 서비스 담당자입니다.' }, wavOf(clip.path));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(Object.keys(r.body).sort(), ['data', 'success']);
    assert.equal(r.body.success, true);
    assert.deepEqual(Object.keys(r.body.data).sort(), ['audioUrl', 'conversation']);
    const c = r.body.data.conversation;
    assert.deepEqual(Object.keys(c).sort(), ['aiResponse', 'sentiment', 'timestamp', 'userMessage']);
    assert.ok(wordOverlap(clip.transcript, c.userMessage) >= 0.5, `heard "${c.userMessage}" for "${clip.transcript}"`);
    assert.equal(c.aiResponse, 'Thank you for calling. How can I help?');
    assert.deepEqual(Object.keys(c.sentiment).sort(), ['score', 'sentiment']);
    assert.ok(['positive', 'neutral', 'negative'].includes(c.sentiment.sentiment));
    assert.ok(c.sentiment.score >= 0 && c.sentiment.score <= 1);
    assert.ok(Math.abs(Date.parse(c.timestamp) - Date.now()) < 60_000);
    const m = /^data:audio\/wav;base64,(.+)$/.exec(r.body.data.audioUrl);
    assert.ok(m, 'audioUrl is a WAV data URL');
    const wav = decodeWav(Buffer.from(m[1]!, 'base64'));
    assert.ok(wav.samples.length / wav.sampleRate > 1, 'seconds of speech');
    assert.ok(rms(wav.samples) > 500, 'audible');
    // What the model was sent: the system prompt of the request, then what the caller said.
    const sent = llm.chats.at(-1)!;
    assert.equal(sent.authorization, 'Bearer sk-test-agent');
    assert.equal(sent.body.model, 'gpt-4o-mini');
    assert.deepEqual(sent.body.messages.map((x) => x.role), ['system', 'user']);
    assert.equal(sent.body.messages[0]!.content, '당신은 친절한 고객 서비스 담당자입니다.');
    assert.equal(sent.body.messages[1]!.content, c.userMessage);
  });

  test('the next message carries the history; an 8 kHz WAV is taken; GET lists the turns', async () => {
    const callId = await newCall(srv.url);
    llm.chat({ kind: 'text', deltas: ['First answer.'] }, { kind: 'text', deltas: ['Second answer.'] });
    const first = await process(srv.url, { callId }, wavOf(clips[1]!.path));
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const at16 = decodeWav(readFileSync(clips[2]!.path));
    const at8 = new Int16Array(Math.floor(at16.samples.length / 2));
    for (let i = 0; i < at8.length; i++) at8[i] = at16.samples[i * 2]!;
    const second = await process(srv.url, { callId }, { bytes: new Uint8Array(encodeWav({ samples: at8, sampleRate: 8000, startMs: 0 })), type: 'audio/wav', name: 'b.wav' });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.data.conversation.aiResponse, 'Second answer.');
    const sent = llm.chats.at(-1)!.body.messages;
    assert.deepEqual(sent.map((x) => x.role), ['system', 'user', 'assistant', 'user']);
    assert.equal(sent[2]!.content, 'First answer.');
    assert.equal(sent[1]!.content, first.body.data.conversation.userMessage);
    const h = await request(`${srv.url}/api/v1/calls/${callId}/conversation`);
    assert.equal(h.status, 200);
    assert.deepEqual(h.body.data.conversation.map((t: any) => [t.seq, t.aiResponse, t.outcome]), [[1, 'First answer.', 'answered'], [2, 'Second answer.', 'answered']]);
  });

  test('a model that gives no first token in time: the caller hears an apology and the turn is a transfer', async () => {
    const callId = await newCall(srv.url);
    llm.chat({ kind: 'hang' });
    const t0 = Date.now();
    const r = await process(srv.url, { callId }, wavOf(clips[0]!.path));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.data.conversation.aiResponse, DEFAULT_APOLOGY.en);
    assert.match(r.body.data.audioUrl, /^data:audio\/wav;base64,/);
    assert.ok(Date.now() - t0 < 20_000);
    const h = await request(`${srv.url}/api/v1/calls/${callId}/conversation`);
    assert.equal(h.body.data.conversation[0].outcome, 'transferred');
    // A failing one (503) too.
    llm.chat({ kind: 'error', status: 503, message: 'overloaded' });
    const r2 = await process(srv.url, { callId }, wavOf(clips[1]!.path));
    assert.equal(r2.body.data.conversation.aiResponse, DEFAULT_APOLOGY.en);
  });

  test('bad input is refused with a message; the server goes on serving', async () => {
    const callId = await newCall(srv.url);
    const json = await request(`${srv.url}/api/v1/calls/conversation/process`, { body: { callId } });
    assert.equal(json.status, 415);
    assert.match(json.body.error.message, /multipart/);
    const noAudio = await process(srv.url, { callId });
    assert.equal(noAudio.status, 400);
    assert.match(noAudio.body.error.message, /audio/);
    const notWav = await process(srv.url, { callId }, { bytes: new TextEncoder().encode('ID3 this is not a wav'), type: 'audio/mpeg', name: 'a.mp3' });
    assert.equal(notWav.status, 415);
    assert.match(notWav.body.error.message, /WAV/);
    const badId = await process(srv.url, { callId: 'nope' }, wavOf(clips[0]!.path));
    assert.equal(badId.status, 400);
    const unknown = await process(srv.url, { callId: '550e8400-e29b-41d4-a716-446655440000' }, wavOf(clips[0]!.path));
    assert.equal(unknown.status, 404);
    assert.equal((await request(`${srv.url}/api/v1/calls/${callId}/end`, { method: 'POST' })).status, 200);
    const ended = await process(srv.url, { callId }, wavOf(clips[0]!.path));
    assert.equal(ended.status, 409);
    assert.match(ended.body.error.message, /ENDED/);
    const silence = await process(srv.url, { callId: await newCall(srv.url) }, { bytes: new Uint8Array(encodeWav({ samples: new Int16Array(16_000), sampleRate: 16_000, startMs: 0 })), type: 'audio/wav', name: 's.wav' });
    assert.equal(silence.status, 422);
    assert.equal((await request(`${srv.url}/health`)).status, 200);
  });
});
