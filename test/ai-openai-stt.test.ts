/**
 * The OpenAI-compatible engine against a local server speaking the real wire format, alone, behind the VAD
 * (StreamAdapter), and in a FallbackAdapter chain with pocketsphinx.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FallbackAdapter } from '../src/ai/fallbackAdapter.js';
import { ProviderError } from '../src/ai/providerError.js';
import { OpenAISTT } from '../src/ai/providers/openaiStt.js';
import { PocketsphinxSTT } from '../src/ai/providers/pocketsphinx.js';
import { SileroVAD } from '../src/ai/providers/sileroVad.js';
import { StreamAdapter } from '../src/ai/streamAdapter.js';
import type { SpeechEvent } from '../src/ai/stt.js';
import { framesOf, librivoxClips } from './ai-audio.js';
import { closedPort, startOpenAIServer, type OpenAITestServer } from './ai-openaiServer.js';

const clip = librivoxClips().find((c) => c.id.endsWith('0880'))!;
const utterance = { samples: clip.samples, sampleRate: 16_000, startMs: 5000 };
const KOREAN = '안녕하세요 상담 예약을 변경하고 싶어요';
const koWords = [
  { word: '안녕하세요', start: 0.1, end: 0.8 },
  { word: '상담', start: 0.9, end: 1.2 },
];

describe('OpenAI-compatible /audio/transcriptions', () => {
  let server: OpenAITestServer;
  before(async () => {
    server = await startOpenAIServer();
  });
  after(() => server.close());

  test('Korean: a WAV in multipart with model, language and verbose_json; text, language and word times back', async () => {
    server.behave({ kind: 'ok', text: ` ${KOREAN}`, language: 'korean', words: koWords });
    const stt = new OpenAISTT({ baseUrl: server.baseUrl, apiKey: 'sk-test-123', model: 'whisper-1', language: 'ko' });
    const r = await stt.recognize(utterance);
    assert.equal(r.text, KOREAN);
    assert.equal(r.language, 'ko');
    assert.deepEqual(r.words?.map((w) => [w.word, w.startMs, w.endMs]), [['안녕하세요', 5100, 5800], ['상담', 5900, 6200]]);
    assert.equal(r.startMs, 5000);
    assert.ok(Math.abs(r.endMs - (5000 + 2990)) < 1);
    const got = server.received.at(-1)!;
    assert.equal(got.model, 'whisper-1');
    assert.equal(got.language, 'ko');
    assert.equal(got.responseFormat, 'verbose_json');
    assert.deepEqual(got.granularities, ['word', 'segment']);
    assert.equal(got.authorization, 'Bearer sk-test-123');
    assert.equal(got.sampleRate, 16_000);
    assert.ok(Math.abs(got.seconds - 2.99) < 0.01);
  });

  test('language auto sends no language field and reports the detected one', async () => {
    server.behave({ kind: 'ok', text: 'he was not an ill disposed young man', language: 'english' });
    const r = await new OpenAISTT({ baseUrl: server.baseUrl }).recognize(utterance);
    assert.equal(server.received.at(-1)!.language, null);
    assert.equal(server.received.at(-1)!.authorization, undefined);
    assert.equal(r.language, 'en');
  });

  test('an OpenAI error body is carried; 401 is not retried, 500 is', async () => {
    server.behave({ kind: 'error', status: 401, message: 'Incorrect API key provided: sk-bad.', type: 'invalid_request_error', code: 'invalid_api_key' });
    const before401 = server.received.length;
    await assert.rejects(new OpenAISTT({ baseUrl: server.baseUrl, apiKey: 'sk-bad', retryBaseMs: 1 }).recognize(utterance), (e: unknown) => e instanceof ProviderError && e.code === 'http_error' && e.status === 401 && !e.retryable && /Incorrect API key provided.*invalid_api_key/.test(e.message));
    assert.equal(server.received.length - before401, 1, 'no retry on 401');

    server.behave({ kind: 'error', status: 500, message: 'The server had an error', type: 'server_error', code: null }, { kind: 'ok', text: KOREAN, language: 'korean' });
    const before500 = server.received.length;
    const r = await new OpenAISTT({ baseUrl: server.baseUrl, retryBaseMs: 1, maxRetries: 2 }).recognize(utterance);
    assert.equal(r.text, KOREAN);
    assert.equal(server.received.length - before500, 2, 'one retry after the 500');
  });

  test('a server that does not answer times out; a closed port is unreachable', async () => {
    server.behave({ kind: 'hang' });
    await assert.rejects(new OpenAISTT({ baseUrl: server.baseUrl, timeoutMs: 300, maxRetries: 0 }).recognize(utterance), (e: unknown) => e instanceof ProviderError && e.code === 'timeout' && e.retryable);
    const port = await closedPort();
    await assert.rejects(new OpenAISTT({ baseUrl: `http://127.0.0.1:${port}/v1`, maxRetries: 0 }).recognize(utterance), (e: unknown) => e instanceof ProviderError && e.code === 'unreachable' && /ECONNREFUSED/.test(e.message) && e.message.includes(`127.0.0.1:${port}`));
  });

  test('behind the VAD: one request per utterance, a final Korean transcript with the engine label', async () => {
    server.behave({ kind: 'ok', text: KOREAN, language: 'korean', words: koWords });
    const n = server.received.length;
    const stt = new StreamAdapter(new OpenAISTT({ baseUrl: server.baseUrl, language: 'ko' }), SileroVAD.load());
    const s = stt.stream();
    for (const f of framesOf(clip.samples, 1000)) s.pushFrame(f);
    s.endInput();
    const events: SpeechEvent[] = [];
    for await (const e of s) events.push(e);
    assert.deepEqual(events.map((e) => e.type), ['start_of_speech', 'end_of_speech', 'final_transcript']);
    const fin = events[2]!;
    assert.ok(fin.type === 'final_transcript');
    assert.equal(fin.engine, 'openai:whisper-1');
    assert.equal(fin.alternatives[0]!.text, KOREAN);
    assert.equal(fin.alternatives[0]!.language, 'ko');
    assert.equal(server.received.length - n, 1);
    assert.ok(server.received.at(-1)!.seconds > 2 && server.received.at(-1)!.seconds < 3, 'the VAD-cut utterance, not the whole stream');
  });
});

describe('FallbackAdapter', () => {
  let server: OpenAITestServer;
  let pocketsphinx: PocketsphinxSTT;
  before(async () => {
    server = await startOpenAIServer();
    pocketsphinx = await PocketsphinxSTT.create({ poolSize: 1 });
  });
  after(async () => {
    await server.close();
    await pocketsphinx.close();
  });

  test('moves to the next engine when one fails or times out, and back when it recovers', async () => {
    let now = 1_000_000;
    const openai = new OpenAISTT({ baseUrl: server.baseUrl, maxRetries: 0, language: 'en' });
    const chain = new FallbackAdapter([openai, pocketsphinx], { attemptTimeoutMs: 60_000, recoveryMs: 60_000, now: () => now });
    const changes: Array<[string, boolean]> = [];
    chain.observer.on('availability_changed', (c) => changes.push([c.engine, c.available]));

    server.behave({ kind: 'error', status: 503, message: 'Service Unavailable', type: 'server_error', code: null });
    const first = await chain.recognize(utterance);
    assert.equal(first.engine, 'pocketsphinx');
    assert.ok(first.text.split(' ').includes('young'), `pocketsphinx heard "${first.text}"`);
    assert.deepEqual(changes, [['openai:whisper-1', false]]);

    // While set aside, openai is not asked at all.
    server.behave({ kind: 'ok', text: 'he was not an ill disposed young man', language: 'english' });
    const asked = server.received.length;
    assert.equal((await chain.recognize(utterance)).engine, 'pocketsphinx');
    assert.equal(server.received.length, asked);

    // After the recovery time it is tried first again, and it is back.
    now += 60_001;
    const back = await chain.recognize(utterance);
    assert.equal(back.engine, 'openai:whisper-1');
    assert.equal(back.text, 'he was not an ill disposed young man');
    assert.deepEqual(changes.at(-1), ['openai:whisper-1', true]);

    // A hung endpoint: the request times out and pocketsphinx answers.
    server.behave({ kind: 'hang' });
    const slow = new FallbackAdapter([new OpenAISTT({ baseUrl: server.baseUrl, maxRetries: 0, timeoutMs: 300 }), pocketsphinx], { attemptTimeoutMs: 60_000 });
    const answered = await slow.recognize(utterance);
    assert.equal(answered.engine, 'pocketsphinx');
    assert.equal(slow.status[0]!.available, false);
  });

  test('when every engine fails the error says what each one said', async () => {
    const port = await closedPort();
    const chain = new FallbackAdapter([new OpenAISTT({ baseUrl: `http://127.0.0.1:${port}/v1`, maxRetries: 0 }), new OpenAISTT({ baseUrl: server.baseUrl, model: 'whisper-large-v3', maxRetries: 0 })]);
    server.behave({ kind: 'error', status: 400, message: 'Invalid file format.', type: 'invalid_request_error', code: null });
    await assert.rejects(chain.recognize(utterance), (e: unknown) => e instanceof ProviderError && e.code === 'all_failed' && /ECONNREFUSED/.test(e.message) && /Invalid file format/.test(e.message));
  });
});
