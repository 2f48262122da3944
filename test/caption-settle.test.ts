/**
 * What recording waits for at stop: `CaptionService.settle` resolves as soon as every utterance
 * the room's captions began has its final stored, not after a fixed grace, and never later than
 * its bound. The speech engine here is a scripted stream (start of speech, then the final when
 * the test says), the room a stand-in with one microphone; time is the real clock, but every
 * assertion waits on an event, with a bound.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import type { SpeechEvent, SpeechStream, STT } from '../src/ai/stt.js';
import { CaptionService, type CaptionServiceDeps } from '../src/captions/captionService.js';
import { createLogger } from '../src/log/logger.js';
import type { RoomMedia } from '../src/sfu/roomMedia.js';

/** A speech stream whose events the test pushes. */
class ScriptedStream {
  inputEnded = false;
  private readonly queue: SpeechEvent[] = [];
  private wake?: () => void;
  private closed = false;
  push(ev: SpeechEvent): void {
    this.queue.push(ev);
    this.wake?.();
  }
  pushFrame(): void {}
  endInput(): void {
    this.inputEnded = true;
  }
  close(): void {
    this.closed = true;
    this.wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<SpeechEvent> {
    for (;;) {
      const ev = this.queue.shift();
      if (ev) {
        yield ev;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((r) => (this.wake = r));
    }
  }
}

function setUp(storeDelayMs: number) {
  const stream = new ScriptedStream();
  const observer = new EventEmitter();
  const consumerObserver = new EventEmitter();
  const room = {
    observer,
    producers: async () => [{ producerId: 'mic-1', peerId: 'ann', kind: 'audio', paused: false, direct: false, appData: {} }],
    createDirectConsumer: async () => ({ id: 'dc-1', producerId: 'mic-1', observer: consumerObserver, close: async () => undefined }),
  } as unknown as RoomMedia;
  const stored: string[] = [];
  const deps = {
    rooms: { room: async () => room },
    tracks: { read: () => Object.assign((async function* () {})(), { close: () => undefined }) },
    stt: { label: 'scripted', capabilities: { sampleRate: 16_000 }, stream: () => stream as unknown as SpeechStream } as unknown as STT,
    masker: { mask: (text: string) => ({ masked: text, spans: [] }), maskTimedWords: (words: Array<{ text: string }>) => ({ masked: words.map((w) => w.text).join(' '), spans: [], mediaSpans: [] }) },
    speakerOf: () => ({ userId: 'ann', role: 'participant', name: 'Ann' }),
    publish: () => undefined,
    announce: () => undefined,
    record: async (u: { text: string }) => {
      await new Promise((r) => setTimeout(r, storeDelayMs));
      stored.push(u.text);
    },
    logger: createLogger('silent'),
  } as unknown as CaptionServiceDeps;
  return { service: new CaptionService(deps), stream, stored };
}

const final = (text: string): SpeechEvent => ({ type: 'final_transcript', utteranceId: 'u1', engine: 'scripted', alternatives: [{ text, language: 'en', startMs: 0, endMs: 800, confidence: 0.9 }] }) as SpeechEvent;

describe('captions settle: recording waits for what is owed, no longer', () => {
  test('nothing owed: at once', async () => {
    const { service } = setUp(0);
    await service.enable('room-a', null);
    const s = await service.settle('room-a', 5000);
    assert.deepEqual({ settled: s.settled, waitedMs: s.waitedMs }, { settled: true, waitedMs: 0 });
    service.close();
  });

  test('an utterance begun: resolves when its final is stored, well before the bound', async () => {
    const { service, stream, stored } = setUp(150);
    await service.enable('room-b', null);
    stream.push({ type: 'start_of_speech', utteranceId: 'u1', timestampMs: 0 });
    // The service has taken the event once the next one is taken: wait for the stream to drain.
    for (let i = 0; i < 100 && (await service.settle('room-b', 1)).settled; i++) await new Promise((r) => setTimeout(r, 10));
    const waiting = service.settle('room-b', 10_000);
    setTimeout(() => stream.push(final('the last words')), 300);
    const s = await waiting;
    assert.equal(s.settled, true);
    assert.deepEqual(stored, ['the last words'], 'the final was stored before settle resolved');
    assert.ok(s.waitedMs >= 300 && s.waitedMs < 5000, `waited ${s.waitedMs} ms: for the final and its write, not a fixed grace`);
    service.close();
  });

  test('an engine that never answers: bounded', async () => {
    const { service, stream } = setUp(0);
    await service.enable('room-c', null);
    stream.push({ type: 'start_of_speech', utteranceId: 'u1', timestampMs: 0 });
    for (let i = 0; i < 100 && (await service.settle('room-c', 1)).settled; i++) await new Promise((r) => setTimeout(r, 10));
    const s = await service.settle('room-c', 400);
    assert.equal(s.settled, false);
    assert.equal(s.open, 1);
    assert.ok(s.waitedMs >= 390 && s.waitedMs < 3000, `gave up after ${s.waitedMs} ms`);
    service.close();
  });
});
