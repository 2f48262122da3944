/**
 * A masked word lands on the speaker's own audio in the recording, whatever the clocks say. Captions give a word's
 * time on the speaker's clock (the sender report's NTP time, as rtpAudioDecoder.ts maps it); the recorder places the
 * track on the server's clock (the report's arrival). A speaker whose computer clock is a minute off put every bleep a
 * minute away from the words, outside the track, so the recording had no bleep at all although the transcript held
 * masked words; a sender report stamped late by a busy media worker moved the whole track by that delay and left the
 * bleeps on the wrong audio.
 *
 * The same RTP packets and sender reports go through the captions' real decoder (for the word's media time) and the
 * recorder's real TrackWriter (for the track's place), and the real RecordingService turns the word into a bleep. The
 * clocks are the messages' own times (no wall clock is read); only the room's capture, ffmpeg and storage are
 * stand-ins.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { RtpHeader, RtpPacket } from 'werift';
import { RecordingService, type CapturedTrackFile } from '../src/domain/recordings/recordingService.js';
import { isGap } from '../src/media/audio/audioTrack.js';
import { OpusEncoder } from '../src/media/audio/opusDecoder.js';
import { RtpAudioDecoder } from '../src/media/audio/rtpAudioDecoder.js';
import { createLogger } from '../src/log/logger.js';
import { memoryStore, nullObjects } from './support/recordingFakes.js';
import { TrackWriter } from '../src/recording/trackWriter.js';
import type { DirectConsumerMessage, DirectConsumerStart } from '../src/sfu/directPort.js';

const ROOM_START = 1_700_000_000_000;
/** The speaker's first packet arrives 10 s into the room; the recording started 1 s before that. */
const FIRST_ARRIVAL = ROOM_START + 10_000;
const RECORDING_START = ROOM_START + 9_000;
const PACKETS = 200;
const TS0 = 5000;
/** The masked word: packets 100…120 (2.0–2.4 s into the speaker's audio). */
const WORD = { from: 100, to: 120 };

const start: DirectConsumerStart = {
  type: 'start',
  consumerId: 'c1',
  producerId: 'p1',
  peerId: 'ann',
  kind: 'audio',
  mimeType: 'audio/opus',
  payloadType: 111,
  clockRate: 48_000,
  channels: 2,
  ssrc: 1234,
  roomStartedAtMs: ROOM_START,
  producerAppData: { peerId: 'ann', source: 'mic' },
};

const arrival = (i: number): number => FIRST_ARRIVAL + 20 * i;

/** 20 ms Opus packets of speech-like noise, packet i at RTP time TS0 + 960·i, arriving every 20 ms. */
function packets(): DirectConsumerMessage[] {
  const enc = new OpusEncoder(48_000, 1);
  const out: DirectConsumerMessage[] = [];
  for (let i = 0; i < PACKETS; i++) {
    const pcm = new Int16Array(960).map((_, k) => Math.round(6000 * Math.sin((2 * Math.PI * 300 * (i * 960 + k)) / 48_000)));
    const header = new RtpHeader({ payloadType: 111, sequenceNumber: 1000 + i, timestamp: TS0 + 960 * i, ssrc: 1234, marker: false });
    out.push({ type: 'rtp', packet: new Uint8Array(new RtpPacket(header, Buffer.from(enc.encode(pcm))).serialize()), receivedAtMs: arrival(i) });
  }
  enc.close();
  return out;
}

/**
 * A sender report sent with packet `i`: the sender sampled RTP time TS0 + 960·i 20 ms before the packet arrived, on
 * its own clock (`senderAheadMs` ahead of the server's); the server stamped it `stampDelayMs` after the packet.
 */
function report(i: number, senderAheadMs: number, stampDelayMs: number): DirectConsumerMessage {
  return { type: 'sender-report', ntpMs: arrival(i) - 20 + senderAheadMs, rtpTimestamp: TS0 + 960 * i, receivedAtMs: arrival(i) + stampDelayMs };
}

/** The messages of one direct consumer: start, the packets with the reports after the packets they name, close. */
function stream(reports: Array<{ after: number; msg: DirectConsumerMessage }>): DirectConsumerMessage[] {
  const rtp = packets();
  const out: DirectConsumerMessage[] = [start];
  rtp.forEach((p, i) => {
    out.push(p);
    for (const r of reports) if (r.after === i) out.push(r.msg);
  });
  out.push({ type: 'close', reason: 'producer-closed' });
  return out;
}

/** The word's media time as captions give it: the decoded frames of its packets, through the captions' decoder. */
function captionWord(messages: DirectConsumerMessage[]): { startMs: number; endMs: number } {
  const decoder = new RtpAudioDecoder({ sampleRate: 16_000, jitterLatencyMs: 100 });
  const frames = messages.flatMap((m) => decoder.push(m)).filter((x) => !isGap(x));
  // One frame per packet, and the resampler's tail at the close.
  assert.ok(frames.length >= PACKETS && frames.length <= PACKETS + 1, `one decoded frame per packet: ${frames.length}`);
  return { startMs: frames[WORD.from]!.timestampMs, endMs: frames[WORD.to]!.timestampMs };
}

/** The track as the recorder thread writes it. */
async function recordedTrack(messages: DirectConsumerMessage[], dir: string): Promise<CapturedTrackFile> {
  const path = join(dir, `ann-${Math.random().toString(16).slice(2)}.webm`);
  const writer = new TrackWriter(path);
  await writer.open();
  for (const m of messages) writer.handle(m);
  const s = await writer.finished;
  return { id: 't-ann', peerId: 'ann', kind: 'audio', path, startedAtMs: s.startedAtMs, durationMs: s.durationMs, roomStartedAtMs: s.roomStartedAtMs, ...(s.senderClockOffsetMs !== undefined ? { senderClockOffsetMs: s.senderClockOffsetMs } : {}) };
}


/** Records the track with the word masked and returns what the mixer and the track's bleeper were asked to tone. */
async function bleepsOf(messages: DirectConsumerMessage[]): Promise<{ offsetMs: number; mix: Array<{ startMs: number; endMs: number }>; own: Array<{ startMs: number; endMs: number }>; roomStartedAtMs?: number }> {
  const workDir = mkdtempSync(join(tmpdir(), 'parley-rec-clock-'));
  const word = captionWord(messages);
  const track = await recordedTrack(messages, workDir);
  let clock = RECORDING_START;
  const seen: { mix: Array<{ startMs: number; endMs: number }>; own: Array<{ startMs: number; endMs: number }>; offsetMs: number } = { mix: [], own: [], offsetMs: NaN };
  const service = new RecordingService({
    store: memoryStore(),
    objects: nullObjects,
    capture: async () => ({ roomId: 'RM_clock', peerIds: ['ann'], stop: async () => [track] }),
    bleepTrack: async (_path, bleeps) => void (seen.own = bleeps),
    keepUnbleeped: false,
    mix: async (tracks) => {
      seen.mix = tracks[0]!.bleeps;
      seen.offsetMs = tracks[0]!.offsetMs;
    },
    speakerOf: () => ({ userId: 'ann', name: 'Ann', role: 'participant' }),
    maskedSpansOf: async () => [{ peerId: 'ann', ...word }],
    consultationAgent: async () => undefined,
    consultationsOf: async () => [],
    allowAnonymous: true,
    workDir,
    retentionDays: 0,
    logger: createLogger('silent'),
    now: () => clock,
  });
  await service.start({ kind: 'api-key' }, 'clock-room');
  clock = arrival(PACKETS) + 500;
  const done = await service.stop({ kind: 'api-key' }, 'clock-room');
  assert.equal(done.status, 'ready', done.failure ?? '');
  return { ...seen, roomStartedAtMs: done.tracks[0]!.roomStartedAtMs };
}

/** Where the word's audio is: in the mix (ms after the recording's start) and in the speaker's own file. */
const WORD_IN_TRACK = { startMs: (960 * WORD.from) / 48, endMs: (960 * WORD.to) / 48 };
/** The first packet arrived 20 ms after the sender sampled it; the track starts where its audio was sent. */
const TRACK_OFFSET = FIRST_ARRIVAL - RECORDING_START;
const NEAR_MS = 30;

function assertOnTheWord(b: { offsetMs: number; mix: Array<{ startMs: number; endMs: number }>; own: Array<{ startMs: number; endMs: number }> }, label: string): void {
  assert.ok(Math.abs(b.offsetMs - TRACK_OFFSET) <= NEAR_MS, `${label}: the track starts ${b.offsetMs} ms into the recording (its audio arrived at ${TRACK_OFFSET} ms)`);
  assert.equal(b.mix.length, 1, `${label}: one bleep in the mix: ${JSON.stringify(b.mix)}`);
  assert.equal(b.own.length, 1, `${label}: one bleep in the speaker's track: ${JSON.stringify(b.own)}`);
  const inMix = { startMs: b.mix[0]!.startMs - b.offsetMs, endMs: b.mix[0]!.endMs - b.offsetMs };
  for (const [where, got] of [['mix', inMix], ['track', b.own[0]!]] as const) {
    assert.ok(Math.abs(got.startMs - WORD_IN_TRACK.startMs) <= NEAR_MS && Math.abs(got.endMs - WORD_IN_TRACK.endMs) <= NEAR_MS, `${label}: the ${where}'s bleep ${JSON.stringify(got)} covers the word's audio ${JSON.stringify(WORD_IN_TRACK)} (ms into the track)`);
  }
}

describe("bleeps land on the masked word's audio, whatever the clocks say", () => {
  test("a speaker whose clock is a minute behind the server's: the bleep is on the word, not a minute away (and not lost)", async () => {
    const b = await bleepsOf(stream([{ after: 25, msg: report(25, -60_000, 5) }, { after: 150, msg: report(150, -60_000, 5) }]));
    assertOnTheWord(b, 'clock 60 s behind');
    // The call detail seeks a transcript line to roomStartedAtMs + its startMs: on the server's clock too.
    assert.ok(b.roomStartedAtMs !== undefined && Math.abs(b.roomStartedAtMs - (ROOM_START + 60_000)) <= NEAR_MS, `the track's media zero ${b.roomStartedAtMs} is on the server's clock`);
  });

  test("a speaker whose clock is ahead: same", async () => {
    assertOnTheWord(await bleepsOf(stream([{ after: 25, msg: report(25, 45_000, 5) }])), 'clock 45 s ahead');
  });

  test('the last sender report stamped 700 ms late (a busy media worker): the track does not move, the bleep stays on the word', async () => {
    // Captions map through the first report they saw; the recorder used the last one.
    assertOnTheWord(await bleepsOf(stream([{ after: 25, msg: report(25, 0, 5) }, { after: 150, msg: report(150, 0, 700) }])), 'late report');
  });

  test('no sender report at all: both sides place by arrival, and the bleep is on the word', async () => {
    assertOnTheWord(await bleepsOf(stream([])), 'no report');
  });
});
