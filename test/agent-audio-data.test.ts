/**
 * Seed 001's `/signaling` `audio-data` stream drives the AI agent (issue 11): a seed client that created a call
 * (`POST /api/v1/calls`), joined its session and sends what its caller says gets the agent's answer back on the same
 * socket as `ai-response`, in the envelope `conversation/process` answers with, and the turn is in the call's
 * history. Real speech (LibriVox, recognised by pocketsphinx), the OpenAI-compatible stand-in model over SSE, and
 * espeak-ng. Two formats: a whole WAV per message, and raw 16 kHz PCM streamed in chunks, ended by the VAD.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Socket } from 'socket.io-client';
import { decodeWav } from '../src/ai/utils/pcm.js';
import { librivoxClips, wordOverlap } from './ai-audio.js';
import { startOpenAIAgentServer, type OpenAIAgentServer } from './agent-openaiServer.js';
import { request, startParley, type RunningParley } from './support/parleyServer.js';
import { connect, once } from './support/sockets.js';

const clips = librivoxClips();

async function newCall(url: string): Promise<{ callId: string; sessionId: string }> {
  const c = await request(`${url}/api/v1/calls`, { body: { callerNumber: '01012345678' } });
  assert.equal(c.status, 201);
  assert.equal((await request(`${url}/api/v1/calls/${c.body.data.call.id}/connect`, { method: 'POST' })).status, 200);
  return { callId: c.body.data.call.id as string, sessionId: c.body.data.call.sessionId as string };
}

function assertSeedEnvelope(r: any): void {
  assert.deepEqual(Object.keys(r).sort(), ['data', 'success']);
  assert.equal(r.success, true);
  assert.deepEqual(Object.keys(r.data).sort(), ['audioUrl', 'conversation']);
  assert.deepEqual(Object.keys(r.data.conversation).sort(), ['aiResponse', 'sentiment', 'timestamp', 'userMessage']);
  const m = /^data:audio\/wav;base64,(.+)$/.exec(r.data.audioUrl as string);
  assert.ok(m, 'audioUrl is a WAV data URL');
  const wav = decodeWav(Buffer.from(m[1]!, 'base64'));
  assert.ok(wav.samples.length / wav.sampleRate > 0.5, 'the answer is spoken');
}

describe('seed 001 audio-data answered by the AI agent', { timeout: 120_000 }, () => {
  let llm: OpenAIAgentServer;
  let srv: RunningParley;
  let socket: Socket;
  before(async () => {
    llm = await startOpenAIAgentServer();
    srv = await startParley({
      STT_ENGINE: 'pocketsphinx',
      STT_POCKETSPHINX_DECODERS: '1',
      AGENT_LLM: 'openai',
      OPENAI_BASE_URL: llm.baseUrl,
      OPENAI_API_KEY: 'sk-test-agent',
      OPENAI_MODEL: 'gpt-4o-mini',
      AGENT_TTS: 'espeak',
    });
    socket = await connect(`${srv.url}/signaling`);
  });
  after(async () => {
    socket?.close();
    await srv?.close();
    await llm?.close();
  });

  test('a whole WAV message (base64, as the seed sends text): the answer comes back and is in the history', async () => {
    const { callId, sessionId } = await newCall(srv.url);
    const joined = once(socket, 'joined-session');
    socket.emit('join-session', { sessionId, peerId: 'client-peer' });
    await joined;
    llm.chat({ kind: 'text', deltas: ['Your parcel ', 'left the depot today.'] });
    const clip = clips[0]!;
    const answered = once(socket, 'ai-response', 60_000);
    const ack = await socket.emitWithAck('audio-data', { sessionId, peerId: 'client-peer', audioData: readFileSync(clip.path).toString('base64'), timestamp: Date.now() });
    assert.equal(ack.ok, true);
    const r = await answered;
    assertSeedEnvelope(r);
    assert.ok(wordOverlap(clip.transcript, r.data.conversation.userMessage) >= 0.5, `heard "${r.data.conversation.userMessage}" for "${clip.transcript}"`);
    assert.equal(r.data.conversation.aiResponse, 'Your parcel left the depot today.');
    const history = await request(`${srv.url}/api/v1/calls/${callId}/conversation`);
    assert.equal(history.status, 200);
    assert.deepEqual(history.body.data.conversation.map((t: { aiResponse: string }) => t.aiResponse), ['Your parcel left the depot today.']);
  });

  test('raw 16 kHz PCM in 100 ms chunks: the VAD ends the message, and the answer comes back', async () => {
    const { callId, sessionId } = await newCall(srv.url);
    const joined = once(socket, 'joined-session');
    socket.emit('join-session', { sessionId, peerId: 'raw-peer' });
    await joined;
    llm.chat({ kind: 'text', deltas: ['I heard you.'] });
    const clip = clips[1]!;
    // The clip, then 1.5 s of silence, as a microphone would keep sending.
    const pcm = new Int16Array(clip.samples.length + 24_000);
    pcm.set(clip.samples);
    const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    const answered = once(socket, 'ai-response', 60_000);
    // 3201 bytes a chunk: odd sizes split samples across chunks, which the server must join.
    for (let o = 0; o < bytes.length; o += 3201) {
      const ack = await socket.emitWithAck('audio-data', { sessionId, peerId: 'raw-peer', audioData: bytes.subarray(o, Math.min(bytes.length, o + 3201)), timestamp: Date.now() });
      assert.equal(ack.ok, true);
    }
    const r = await answered;
    assertSeedEnvelope(r);
    assert.ok(wordOverlap(clip.transcript, r.data.conversation.userMessage) >= 0.5, `heard "${r.data.conversation.userMessage}" for "${clip.transcript}"`);
    assert.equal(r.data.conversation.aiResponse, 'I heard you.');
    const history = await request(`${srv.url}/api/v1/calls/${callId}/conversation`);
    assert.equal(history.body.data.conversation.length, 1);
  });

  test('a peer that floods messages gets BUSY beyond two waiting; those two are answered', async () => {
    const { sessionId } = await newCall(srv.url);
    socket.emit('join-session', { sessionId, peerId: 'flood-peer' });
    await once(socket, 'joined-session');
    // A slow model: the first message is still being answered while the others arrive.
    llm.chat({ kind: 'text', deltas: ['One ', 'moment.'], delayMs: 400 });
    const wav = readFileSync(clips[0]!.path).toString('base64');
    const answers: unknown[] = [];
    const errors: Array<{ error: { code: string } }> = [];
    const onAnswer = (r: unknown) => answers.push(r);
    const onError = (e: { error: { code: string } }) => errors.push(e);
    socket.on('ai-response', onAnswer);
    socket.on('ai-error', onError);
    try {
      for (let i = 0; i < 5; i++) socket.emit('audio-data', { sessionId, peerId: 'flood-peer', audioData: wav });
      const deadline = Date.now() + 60_000;
      while (answers.length + errors.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    } finally {
      socket.off('ai-response', onAnswer);
      socket.off('ai-error', onError);
    }
    assert.equal(answers.length, 2, `two answered: ${JSON.stringify(errors)}`);
    assert.deepEqual(errors.map((e) => e.error.code), ['BUSY', 'BUSY', 'BUSY']);
  });

  test('a WAV the agent cannot read is answered with ai-error, and the socket keeps working', async () => {
    const { sessionId } = await newCall(srv.url);
    socket.emit('join-session', { sessionId, peerId: 'bad-peer' });
    await once(socket, 'joined-session');
    const header = Buffer.alloc(44);
    header.write('RIFF', 0, 'ascii');
    header.write('WAVE', 8, 'ascii');
    header.write('junk', 12, 'ascii');
    const failed = once(socket, 'ai-error', 10_000);
    socket.emit('audio-data', { sessionId, peerId: 'bad-peer', audioData: header });
    const e = await failed;
    assert.equal(e.error.code, 'UNSUPPORTED_AUDIO');
    assert.match(e.error.message, /WAV/);
    const ack = await socket.emitWithAck('audio-data', { sessionId, peerId: 'bad-peer', audioData: 'AAAA' });
    assert.equal(ack.ok, true);
  });
});
