/**
 * The agent's thinking and speaking providers: OpenAI-compatible chat completions (SSE streaming, tool calls,
 * errors, a hang) and `/audio/speech` against a local server speaking those wire formats; espeak-ng in Korean and
 * English; the embedded knowledge base answering Korean in Korean; the embedded sentiment analyzer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TRANSFER_TOOL } from '../src/ai/llm.js';
import { ProviderError } from '../src/ai/providerError.js';
import { EmbeddedSentimentAnalyzer } from '../src/ai/providers/embeddedSentiment.js';
import { EspeakTTS } from '../src/ai/providers/espeakTts.js';
import { KnowledgeBaseLLM, loadKnowledgeBase } from '../src/ai/providers/knowledgeBaseLlm.js';
import { OpenAILLM } from '../src/ai/providers/openaiLlm.js';
import { OpenAITTS } from '../src/ai/providers/openaiTts.js';
import { SentenceSplitter, SentenceStream } from '../src/ai/tts.js';
import { startOpenAIAgentServer, type OpenAIAgentServer } from './agent-openaiServer.js';

const rms = (s: Int16Array) => Math.sqrt(s.reduce((n, v) => n + v * v, 0) / Math.max(1, s.length));

describe('OpenAI-compatible chat completions (SSE)', () => {
  let server: OpenAIAgentServer;
  before(async () => {
    server = await startOpenAIAgentServer();
  });
  after(() => server.close());

  test('text arrives delta by delta; the request carries model, key, history and the transfer tool', async () => {
    server.chat({ kind: 'text', deltas: ['Hello', '! How can ', 'I help?'] });
    const llm = new OpenAILLM({ baseUrl: server.baseUrl, apiKey: 'sk-test-1', model: 'gpt-4o' });
    const stream = llm.chat({ messages: [{ role: 'system', content: 'Be kind.' }, { role: 'user', content: 'hi' }] }, { tools: [TRANSFER_TOOL] });
    const deltas: string[] = [];
    for await (const c of stream) if (c.type === 'text') deltas.push(c.text);
    assert.deepEqual(deltas, ['Hello', '! How can ', 'I help?']);
    assert.ok(stream.ttftMs !== undefined && stream.ttftMs >= 0);
    const got = server.chats.at(-1)!;
    assert.equal(got.authorization, 'Bearer sk-test-1');
    assert.equal(got.body.model, 'gpt-4o');
    assert.equal(got.body.stream, true);
    assert.deepEqual(got.body.messages.map((m) => [m.role, m.content]), [['system', 'Be kind.'], ['user', 'hi']]);
    assert.equal(got.body.tools?.[0]?.function.name, 'transfer_to_human');
  });

  test('a tool call split over several events is assembled into one call', async () => {
    server.chat({ kind: 'tool', text: 'One moment.', name: 'transfer_to_human', argumentParts: ['{"rea', 'son":"wants a ', 'person"}'] });
    const r = await new OpenAILLM({ baseUrl: server.baseUrl }).chat({ messages: [{ role: 'user', content: 'a person please' }] }, { tools: [TRANSFER_TOOL] }).collect();
    assert.equal(r.text, 'One moment.');
    assert.equal(r.toolCalls.length, 1);
    assert.equal(r.toolCalls[0]!.name, 'transfer_to_human');
    assert.equal(r.toolCalls[0]!.id, 'call_abc123');
    assert.deepEqual(JSON.parse(r.toolCalls[0]!.arguments), { reason: 'wants a person' });
  });

  test("an error status carries OpenAI's message", async () => {
    server.chat({ kind: 'error', status: 503, message: 'The server is overloaded' });
    await assert.rejects(new OpenAILLM({ baseUrl: server.baseUrl }).chat({ messages: [{ role: 'user', content: 'x' }] }).collect(), (e: unknown) => {
      assert.ok(e instanceof ProviderError);
      assert.equal(e.code, 'http_error');
      assert.equal(e.status, 503);
      assert.match(e.message, /overloaded/);
      return true;
    });
  });

  test('a provider that never answers fails with a timeout; a slow one within the limit is waited for', async () => {
    server.chat({ kind: 'hang' });
    const t0 = performance.now();
    await assert.rejects(new OpenAILLM({ baseUrl: server.baseUrl, timeoutMs: 300 }).chat({ messages: [{ role: 'user', content: 'x' }] }).collect(), (e: unknown) => e instanceof ProviderError && e.code === 'timeout');
    assert.ok(performance.now() - t0 < 3000);
    server.chat({ kind: 'text', deltas: ['late but fine'], delayMs: 150 });
    const r = await new OpenAILLM({ baseUrl: server.baseUrl, timeoutMs: 2000 }).chat({ messages: [{ role: 'user', content: 'x' }] }).collect();
    assert.equal(r.text, 'late but fine');
  });

  test('an unreachable endpoint is reported as such', async () => {
    await assert.rejects(new OpenAILLM({ baseUrl: 'http://127.0.0.1:9/v1', timeoutMs: 2000 }).chat({ messages: [{ role: 'user', content: 'x' }] }).collect(), (e: unknown) => e instanceof ProviderError && e.code === 'unreachable');
  });
});

describe('OpenAI-compatible /audio/speech', () => {
  let server: OpenAIAgentServer;
  before(async () => {
    server = await startOpenAIAgentServer();
  });
  after(() => server.close());

  test('pcm streams in as 20 ms frames of 24 kHz audio; the voice is the chosen one', async () => {
    server.speech({ kind: 'tone', seconds: 0.5 });
    const tts = new OpenAITTS({ baseUrl: server.baseUrl, apiKey: 'sk-t', voice: 'nova' });
    const stream = tts.synthesize('Hello there.');
    const frames = [];
    for await (const f of stream) frames.push(f);
    assert.equal(server.speeches.at(-1)!.body.voice, 'nova');
    assert.equal(server.speeches.at(-1)!.body.response_format, 'pcm');
    assert.equal(server.speeches.at(-1)!.body.input, 'Hello there.');
    assert.equal(frames.reduce((n, f) => n + f.samplesPerChannel, 0), 12_000);
    assert.ok(frames.every((f) => f.sampleRate === 24_000 && f.samplesPerChannel <= 480));
    assert.ok(rms(frames[3]!.data) > 3000, 'the tone is audible');
    assert.ok(stream.ttfbMs !== undefined);
  });

  test('an error answer and a hang fail the stream with a ProviderError', async () => {
    server.speech({ kind: 'error', status: 400, message: "Invalid value for 'voice'" }, { kind: 'hang' });
    await assert.rejects(new OpenAITTS({ baseUrl: server.baseUrl }).synthesize('x').collect(), (e: unknown) => e instanceof ProviderError && e.code === 'http_error' && /voice/.test(e.message));
    await assert.rejects(new OpenAITTS({ baseUrl: server.baseUrl, timeoutMs: 300 }).synthesize('x').collect(), (e: unknown) => e instanceof ProviderError && e.code === 'timeout');
  });
});

describe('espeak-ng', () => {
  test('speaks Korean and English: seconds of audible 22 kHz audio', async () => {
    const tts = new EspeakTTS();
    for (const [text, language] of [['안녕하세요, 무엇을 도와드릴까요?', 'ko'], ['Hello, how can I help you?', 'en']] as const) {
      const pcm = await tts.synthesize(text, { language }).collect();
      const seconds = pcm.length / 22_050;
      assert.ok(seconds > 1 && seconds < 6, `${language}: ${seconds} s`);
      assert.ok(rms(pcm) > 500, `${language}: audible (rms ${rms(pcm)})`);
    }
  });

  test('text that looks like an option is spoken, not obeyed; abort stops the process', async () => {
    const tts = new EspeakTTS();
    const pcm = await tts.synthesize('--version -h').collect();
    assert.ok(pcm.length > 5000);
    const s = tts.synthesize('This is a long sentence that would take several seconds to say out loud in full.', { language: 'en' });
    s.abort();
    assert.equal((await s.collect()).length, 0);
  });

  test('SentenceStream: streamed text is spoken sentence by sentence, in order', async () => {
    const ss = new SentenceStream(new EspeakTTS(), { language: 'en' });
    const spoken: string[] = [];
    const feed = (async () => {
      for (const d of ['Our hours are nine ', 'to six. We are closed', ' on weekends. Thank', ' you']) ss.pushText(d);
      ss.endInput();
    })();
    for await (const s of ss) {
      spoken.push(s.text);
      assert.ok((await s.frames.collect()).length > 1000);
    }
    await feed;
    assert.deepEqual(spoken, ['Our hours are nine to six.', 'We are closed on weekends.', 'Thank you']);
    assert.deepEqual(new SentenceSplitter().push('네. 상담 시간은 평일 오전 9시부터입니다. 그리고'), ['네. 상담 시간은 평일 오전 9시부터입니다.']);
  });
});

describe('the embedded knowledge base', () => {
  const llm = new KnowledgeBaseLLM(loadKnowledgeBase('config/knowledge/default.json'));

  test('a Korean question is answered in Korean, an English one in English, and spoken by espeak-ng', async () => {
    const ko = await llm.chat({ messages: [{ role: 'user', content: '영업 시간은 어떻게 돼요?' }] }).collect();
    assert.equal(ko.text, llm.knowledgeBase.entries.find((e) => e.id === 'hours')!.answer.ko);
    const en = await llm.chat({ messages: [{ role: 'user', content: 'When do you open?' }] }).collect();
    assert.match(en.text, /weekdays from nine/);
    const pcm = await new EspeakTTS().synthesize(ko.text, { language: 'ko' }).collect();
    assert.ok(pcm.length / 22_050 > 2 && rms(pcm) > 500);
  });

  test('greets first, says it did not understand, and calls transfer_to_human when asked for a person', async () => {
    assert.equal((await llm.chat({ messages: [{ role: 'system', content: 'x' }] }).collect()).text, llm.knowledgeBase.greeting.ko);
    assert.equal((await llm.chat({ messages: [{ role: 'user', content: '오늘 날씨 어때요' }] }).collect()).text, llm.knowledgeBase.notUnderstood.ko);
    assert.equal((await llm.chat({ messages: [{ role: 'user', content: 'the weather is nice' }] }).collect()).text, llm.knowledgeBase.notUnderstood.en);
    const t = await llm.chat({ messages: [{ role: 'user', content: '상담원 연결 부탁드려요' }] }, { tools: [TRANSFER_TOOL] }).collect();
    assert.equal(t.text, llm.knowledgeBase.transfer.ko);
    assert.deepEqual(t.toolCalls.map((c) => c.name), ['transfer_to_human']);
    const noTool = await llm.chat({ messages: [{ role: 'user', content: 'Can I speak to a person' }] }).collect();
    assert.equal(noTool.toolCalls.length, 0, 'no tool is called that was not offered');
  });

  test('a knowledge base with a mistake is refused with the field named', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const f = join(mkdtempSync(join(tmpdir(), 'kb-')), 'bad.json');
    writeFileSync(f, JSON.stringify({ greeting: { ko: '안녕', en: 'hi' }, notUnderstood: { ko: 'a', en: 'b' }, transfer: { ko: 'c' }, transferPhrases: {}, entries: [] }));
    assert.throws(() => loadKnowledgeBase(f), (e: unknown) => e instanceof ProviderError && /transfer\.en/.test(e.message));
  });
});

describe('embedded sentiment (Korean and English)', () => {
  const a = new EmbeddedSentimentAnalyzer();
  for (const [text, want] of [
    ['정말 감사합니다, 친절하시네요', 'positive'],
    ['너무 화가 나요, 최악이에요', 'negative'],
    ['좋지 않아요', 'negative'],
    ['배송 조회하고 싶어요', 'neutral'],
    ['This is great, thank you so much', 'positive'],
    ['I am very angry, this is terrible', 'negative'],
    ['What are your opening hours?', 'neutral'],
  ] as const) {
    test(`"${text}" is ${want}`, async () => {
      const r = await a.analyze(text);
      assert.equal(r.sentiment, want);
      assert.ok(r.score >= 0 && r.score <= 1);
      if (want === 'neutral') assert.equal(r.score, 0.5);
    });
  }
});
