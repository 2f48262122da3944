/**
 * Words said just before a recording stops are bleeped even when the captions lag behind the recorder. On a loaded
 * machine the captions' audio pipeline runs behind: at the stop, the speech of the last second had reached the
 * recorder's file but not yet the speech engine, so no utterance was owed, `settle` answered at once, the bleeps were
 * read, and the masked word was stored in the transcript a moment later: a recording without its bleep. Now the
 * recording tells captions how far each speaker's recorded audio went, and waits until captions have heard it and
 * stored what it began.
 *
 * The real CaptionService and RecordingService; the speaker's audio is fed by the test frame by frame (the lag is the
 * test holding frames back until the stop has begun), the speech engine is scripted on the frames' media times (it
 * starts an utterance at 2.6 s and finalises it, with its masked word at 2.7-2.9 s, once it heard 3.1 s), and the
 * room, ffmpeg and storage are stand-ins. Every wait is on an event.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { SpeechEvent, SpeechStream, STT } from '../src/ai/stt.js';
import { CaptionService, type CaptionServiceDeps } from '../src/captions/captionService.js';
import type { NewUtterance } from '../src/domain/transcripts/transcript.js';
import { RecordingService } from '../src/domain/recordings/recordingService.js';
import { createFrame, type AudioFrame } from '../src/media/audio/audioFrame.js';
import type { AudioItem } from '../src/media/audio/audioTrack.js';
import { createLogger } from '../src/log/logger.js';
import { memoryStore, nullObjects } from './support/recordingFakes.js';
import type { RoomMedia } from '../src/sfu/roomMedia.js';

const ROOM = 'settle-room';
const ROOM_START = 1_700_000_000_000;
/** The recorder wrote Ann's audio from media time 1 s to 3.2 s. */
const TRACK = { fromMs: 1000, toMs: 3200 };
const WORD = { startMs: 2700, endMs: 2900 };

/** Items handed over one at a time to whoever iterates (the captions' reader, the captions' event loop). */
class Feed<T> implements AsyncIterable<T> {
  private readonly queue: T[] = [];
  private wake?: () => void;
  private ended = false;
  push(item: T): void {
    this.queue.push(item);
    this.wake?.();
  }
  close(): void {
    this.ended = true;
    this.wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      const item = this.queue.shift();
      if (item) {
        yield item;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((r) => (this.wake = r));
    }
  }
}

/**
 * A speech engine scripted on media time: speech from 2.6 s, its final (with the masked word) once 3.1 s is heard, or
 * (`finalAtEnd`) only when the input ends, a moment later, as a VAD flush and a recognition would. Its events end after
 * the input does, as the stream adapter's.
 */
class ScriptedSpeech {
  inputEnded = false;
  private readonly events = new Feed<SpeechEvent>();
  private begun = false;
  private finished = false;
  constructor(private readonly finalAtEnd: boolean) {}
  private final(): void {
    this.finished = true;
    this.events.push({ type: 'final_transcript', utteranceId: 'u1', engine: 'scripted', alternatives: [{ text: 'fuck this', language: 'en', startMs: 2600, endMs: 3100, confidence: 0.9, words: [{ word: 'fuck', ...WORD }, { word: 'this', startMs: 2900, endMs: 3100 }] }] } as SpeechEvent);
  }
  pushFrame(frame: AudioFrame): void {
    if (!this.begun && frame.timestampMs >= 2600) {
      this.begun = true;
      this.events.push({ type: 'start_of_speech', utteranceId: 'u1', timestampMs: frame.timestampMs });
    }
    if (!this.finalAtEnd && this.begun && !this.finished && frame.timestampMs >= 3100) this.final();
  }
  endInput(): void {
    this.inputEnded = true;
    setImmediate(() => {
      if (this.begun && !this.finished) this.final();
      this.events.close();
    });
  }
  close(): void {
    this.events.close();
  }
  [Symbol.asyncIterator](): AsyncIterator<SpeechEvent> {
    return this.events[Symbol.asyncIterator]();
  }
}

const frameAt = (ms: number): AudioFrame => createFrame(new Int16Array(320), 16_000, 1, ms);


function setUp(finalAtEnd = false) {
  const audio = new Feed<AudioItem>();
  const speech = new ScriptedSpeech(finalAtEnd);
  const transcript: NewUtterance[] = [];
  const room = {
    observer: new EventEmitter(),
    producers: async () => [{ producerId: 'mic-ann', peerId: 'ann', kind: 'audio', paused: false, direct: false, appData: {} }],
    // Closing the consumer ends the reader after what it queued, as the audio pipeline's does.
    createDirectConsumer: async () => ({ id: 'dc-1', producerId: 'mic-ann', observer: new EventEmitter(), close: async () => audio.close() }),
  } as unknown as RoomMedia;
  const captions = new CaptionService({
    rooms: { room: async () => room },
    tracks: { read: () => audio },
    stt: { label: 'scripted', capabilities: { sampleRate: 16_000 }, stream: () => speech as unknown as SpeechStream } as unknown as STT,
    masker: {
      mask: (text: string) => ({ masked: text, flagged: false, spans: [] }),
      maskTimedWords: (words: Array<{ text: string; startMs: number; endMs: number }>) => ({
        masked: words.map((w) => (w.text === 'fuck' ? '****' : w.text)).join(' '),
        flagged: true,
        spans: [{ start: 0, end: 4, category: 'profanity' }],
        words: [],
        mediaSpans: words.filter((w) => w.text === 'fuck').map((w) => ({ startMs: w.startMs, endMs: w.endMs, category: 'profanity' })),
      }),
    },
    speakerOf: () => ({ userId: 'ann', role: 'participant', name: 'Ann' }),
    publish: () => undefined,
    announce: () => undefined,
    record: async (u: NewUtterance) => void transcript.push(u),
    logger: createLogger('silent'),
  } as unknown as CaptionServiceDeps);

  let clock = ROOM_START + 500;
  let roomClosedForRecording: () => void = () => undefined;
  let mixedNow!: () => void;
  const mixed = new Promise<void>((resolve) => (mixedNow = resolve));
  let settleAsked!: () => void;
  const settling = new Promise<void>((resolve) => (settleAsked = resolve));
  const seen: { bleeps: Array<{ startMs: number; endMs: number }> | undefined; settled?: boolean; storedWhenRead?: number } = { bleeps: undefined };
  const workDir = mkdtempSync(join(tmpdir(), 'parley-rec-settle-'));
  const recordings = new RecordingService({
    store: memoryStore(),
    objects: nullObjects,
    capture: async (_roomName, _dir, _onFailed, onRoomClosed) => {
      roomClosedForRecording = onRoomClosed;
      return {
        roomId: 'RM_settle',
        peerIds: ['ann'],
        stop: async () => [{ id: 't-ann', peerId: 'ann', kind: 'audio' as const, path: join(workDir, 'ann.webm'), startedAtMs: ROOM_START + TRACK.fromMs, durationMs: TRACK.toMs - TRACK.fromMs, roomStartedAtMs: ROOM_START }],
      };
    },
    bleepTrack: async () => undefined,
    keepUnbleeped: false,
    settle: async (roomName, heardUntil) => {
      settleAsked();
      seen.settled = (await captions.settle(roomName, 10_000, heardUntil)).settled;
    },
    maskedSpansOf: async () => {
      seen.storedWhenRead = transcript.length;
      return transcript.flatMap((u) => (u.mediaSpans ?? []).map((m) => ({ peerId: u.peerId, ...m })));
    },
    mix: async (tracks) => {
      seen.bleeps = tracks[0]!.bleeps;
      mixedNow();
    },
    speakerOf: () => ({ userId: 'ann', name: 'Ann', role: 'participant' }),
    consultationAgent: async () => undefined,
    consultationsOf: async () => [],
    allowAnonymous: true,
    workDir,
    retentionDays: 0,
    logger: createLogger('silent'),
    now: () => clock,
  });
  return {
    captions,
    recordings,
    audio,
    transcript,
    seen,
    settling,
    mixed,
    advance: (ms: number) => (clock += ms),
    /** The last peer hung up: the room's media closes, for captions and for the recording. */
    hangUp: () => {
      (room.observer as EventEmitter).emit('close');
      roomClosedForRecording();
    },
  };
}

describe('the last words before a stop are bleeped though the captions lag', () => {
  test('the stop waits until captions heard the recorded audio and stored the utterance it began', async () => {
    const s = setUp();
    await s.captions.enable(ROOM, null);
    await s.recordings.start({ kind: 'api-key' }, ROOM);
    // Captions are behind: they heard Ann up to 2 s when the stop comes; the recorder has her up to 3.2 s.
    for (let ms = TRACK.fromMs; ms < 2000; ms += 20) s.audio.push(frameAt(ms));
    s.advance(3000);
    const stopping = s.recordings.stop({ kind: 'api-key' }, ROOM);
    await s.settling;
    // The backlog reaches the speech engine only now, after the recording asked captions to settle.
    for (let ms = 2000; ms < 3400; ms += 20) s.audio.push(frameAt(ms));
    const done = await stopping;
    assert.equal(done.status, 'ready', done.failure ?? '');
    assert.equal(s.seen.settled, true, 'settled, not timed out');
    assert.equal(s.seen.storedWhenRead, 1, 'the utterance was stored before the bleeps were read');
    const inRecording = { startMs: WORD.startMs - 500, endMs: WORD.endMs - 500 };
    assert.deepEqual(s.seen.bleeps, [inRecording], `the masked word is bleeped (ms after the recording's start): ${JSON.stringify(s.seen.bleeps)}`);
    s.captions.close();
  });

  test('a call that ends by hang-up while its last words are being recognised: they are stored and bleeped', async () => {
    const s = setUp(true);
    await s.captions.enable(ROOM, null);
    await s.recordings.start({ kind: 'api-key' }, ROOM);
    for (let ms = TRACK.fromMs; ms < 3400; ms += 20) s.audio.push(frameAt(ms));
    // The utterance is begun (owed) before the hang-up; its final comes only once the input has ended.
    for (let i = 0; i < 1000 && (await s.captions.settle(ROOM, 0)).settled; i++) await new Promise((r) => setImmediate(r));
    s.advance(3000);
    s.hangUp();
    await s.mixed;
    assert.equal(s.seen.storedWhenRead, 1, 'the last utterance was stored, and before the bleeps were read');
    assert.deepEqual(s.seen.bleeps, [{ startMs: WORD.startMs - 500, endMs: WORD.endMs - 500 }], `the masked word is bleeped: ${JSON.stringify(s.seen.bleeps)}`);
  });

  test('captions that heard everything already: no wait for more audio', async () => {
    const s = setUp();
    await s.captions.enable(ROOM, null);
    await s.recordings.start({ kind: 'api-key' }, ROOM);
    for (let ms = TRACK.fromMs; ms < 3400; ms += 20) s.audio.push(frameAt(ms));
    // The final is stored once the frames are through; then the stop has nothing to wait for.
    for (let i = 0; i < 1000 && s.transcript.length === 0; i++) await new Promise((r) => setImmediate(r));
    assert.equal(s.transcript.length, 1);
    s.advance(3000);
    const done = await s.recordings.stop({ kind: 'api-key' }, ROOM);
    assert.equal(done.status, 'ready');
    assert.equal(s.seen.settled, true);
    assert.equal(s.seen.bleeps?.length, 1);
    s.captions.close();
  });
});
