/**
 * The audio pipeline without a browser: crafted Opus RTP (encoded here with libopus) through
 * the reader's jitter buffer, decoder and resampler; and the resampler's quality.
 */
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { describe, test } from 'node:test';
import { RtpHeader, RtpPacket } from 'werift';
import { frameDurationMs, type AudioFrame, type AudioGap } from '../src/media/audio/audioFrame.js';
import { AudioPipeline } from '../src/media/audio/audioPipeline.js';
import { isGap, type AudioItem } from '../src/media/audio/audioTrack.js';
import { OpusEncoder } from '../src/media/audio/opusDecoder.js';
import { Resampler } from '../src/media/audio/resampler.js';
import { RtpAudioDecoder } from '../src/media/audio/rtpAudioDecoder.js';
import type { DirectConsumerMessage, DirectConsumerStart } from '../src/sfu/directPort.js';

const ROOM_START = 1_700_000_000_000;

function tone(freq: number, samples: number, rate: number, offset = 0, amplitude = 10000): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * (i + offset)) / rate));
  return out;
}

function rms(x: ArrayLike<number>, from = 0): number {
  let s = 0;
  for (let i = from; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / (x.length - from));
}

/** Power of one frequency (Goertzel), normalised to a sine's RMS. */
function toneLevel(x: ArrayLike<number>, freq: number, rate: number): number {
  const w = (2 * Math.PI * freq) / rate;
  const c = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < x.length; i++) {
    const s = x[i]! + c * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  const power = s1 * s1 + s2 * s2 - c * s1 * s2;
  return Math.sqrt((2 * power) / x.length) / Math.SQRT2;
}

const start: DirectConsumerStart = {
  type: 'start',
  consumerId: 'c1',
  producerId: 'p1',
  peerId: 'peer-1',
  kind: 'audio',
  mimeType: 'audio/opus',
  payloadType: 111,
  clockRate: 48000,
  channels: 2,
  ssrc: 1234,
  roomStartedAtMs: ROOM_START,
  producerAppData: { peerId: 'peer-1', source: 'mic' },
};

/** 20 ms Opus packets of a 440 Hz tone: packet i has seq 1000+i, RTP ts 5000+960·i. */
function packets(count: number): Array<{ seq: number; ts: number; bytes: Uint8Array }> {
  const enc = new OpusEncoder(48000, 1);
  const out = [];
  for (let i = 0; i < count; i++) {
    const payload = Buffer.from(enc.encode(tone(440, 960, 48000, i * 960)));
    const header = new RtpHeader({ payloadType: 111, sequenceNumber: (1000 + i) & 0xffff, timestamp: 5000 + 960 * i, ssrc: 1234, marker: false });
    out.push({ seq: 1000 + i, ts: 5000 + 960 * i, bytes: new Uint8Array(new RtpPacket(header, payload).serialize()) });
  }
  enc.close();
  return out;
}

function run(order: number[], all: ReturnType<typeof packets>, closeReason: 'producer-closed' | 'closed' = 'producer-closed'): { items: AudioItem[]; decoder: RtpAudioDecoder } {
  const decoder = new RtpAudioDecoder({ sampleRate: 16000, jitterLatencyMs: 100 });
  const items: AudioItem[] = [];
  const feed = (m: DirectConsumerMessage) => items.push(...decoder.push(m));
  feed(start);
  // Arrival: 20 ms apart starting 500 ms after the room started.
  order.forEach((i, n) => feed({ type: 'rtp', packet: all[i]!.bytes, receivedAtMs: ROOM_START + 500 + n * 20 }));
  feed({ type: 'close', reason: closeReason });
  return { items, decoder };
}

const frames = (items: AudioItem[]) => items.filter((i): i is AudioFrame => !isGap(i));
const gaps = (items: AudioItem[]) => items.filter(isGap);

describe('audio reader: jitter buffer, Opus decode, resample, gaps', () => {
  test('an unbroken stream is 16 kHz mono frames as long as what was sent, the tone intact, media time from arrival', () => {
    const all = packets(50);
    const { items, decoder } = run(all.map((_, i) => i), all);
    assert.equal(gaps(items).length, 0);
    const fs = frames(items);
    assert.ok(fs.every((f) => f.sampleRate === 16000 && f.channels === 1));
    const totalMs = fs.reduce((s, f) => s + frameDurationMs(f), 0);
    assert.ok(Math.abs(totalMs - 1000) <= 2, `${totalMs} ms of audio for 1000 ms sent`);
    assert.ok(Math.abs(fs[0]!.timestampMs - 500) <= 2, `first frame at ${fs[0]!.timestampMs} ms (arrived 500 ms after the room started)`);
    for (let i = 1; i < fs.length; i++) assert.ok(Math.abs(fs[i]!.timestampMs - (fs[i - 1]!.timestampMs + frameDurationMs(fs[i - 1]!))) < 0.01, 'frames are contiguous');
    const pcm = Int16Array.from(fs.flatMap((f) => [...f.data]));
    const body = pcm.subarray(1600, pcm.length - 1600);
    assert.ok(toneLevel(body, 440, 16000) > 0.7 * rms(body), 'the 440 Hz tone dominates after decode + resample');
    assert.equal(decoder.endReason, 'producer-closed');
    assert.equal(decoder.clock?.source, 'arrival');
  });

  test('two lost packets are one 40 ms gap at the right media time, between the frames around it', () => {
    const all = packets(50);
    const order = all.map((_, i) => i).filter((i) => i !== 10 && i !== 11);
    const { items } = run(order, all);
    const g = gaps(items);
    assert.equal(g.length, 1, JSON.stringify(g));
    assert.ok(Math.abs(g[0]!.durationMs - 40) < 0.01, `gap of ${g[0]!.durationMs} ms`);
    assert.ok(Math.abs(g[0]!.timestampMs - (500 + 10 * 20)) <= 1, `gap at ${g[0]!.timestampMs} ms`);
    const gi = items.indexOf(g[0]!);
    const before = frames(items.slice(0, gi));
    const after = frames(items.slice(gi + 1));
    const beforeEnd = before.at(-1)!.timestampMs + frameDurationMs(before.at(-1)!);
    assert.ok(beforeEnd <= g[0]!.timestampMs + 2, 'audio before the gap ends where the gap starts');
    assert.ok(after[0]!.timestampMs >= g[0]!.timestampMs + g[0]!.durationMs - 2, 'audio after the gap starts where it ends');
    const total = frames(items).reduce((s, f) => s + frameDurationMs(f), 0);
    assert.ok(Math.abs(total - 960) <= 4, `${total} ms decoded for 960 ms received`);
    const nothingSilent = frames(items).every((f) => f.samplesPerChannel < 40 || rms(f.data) > 100);
    assert.ok(nothingSilent, 'the loss is not filled with silence');
  });

  test('reordered packets come out in order, with no gap', () => {
    const all = packets(30);
    const order = all.map((_, i) => i);
    [order[5], order[6]] = [order[6]!, order[5]!];
    [order[12], order[14]] = [order[14]!, order[12]!];
    const { items, decoder } = run(order, all);
    assert.equal(gaps(items).length, 0, JSON.stringify(gaps(items)));
    assert.equal(decoder.stats.packets, 30);
    const fs = frames(items);
    for (let i = 1; i < fs.length; i++) assert.ok(fs[i]!.timestampMs > fs[i - 1]!.timestampMs);
  });

  test('a packet later than the jitter buffer waits for is a gap, and the late copy is dropped', () => {
    const all = packets(40);
    const order = all.map((_, i) => i).filter((i) => i !== 8);
    order.splice(20, 0, 8); // arrives 12 packets (240 ms) late, past the 100 ms latency
    const { items, decoder } = run(order, all);
    const g = gaps(items);
    assert.equal(g.length, 1, JSON.stringify(g));
    assert.ok(Math.abs(g[0]!.durationMs - 20) < 0.01);
    assert.ok(Math.abs(g[0]!.timestampMs - (500 + 8 * 20)) <= 1);
    assert.equal(decoder.stats.packets, 39);
  });

  test('a sender report places media time on the sender\'s NTP clock', () => {
    const all = packets(20);
    const decoder = new RtpAudioDecoder();
    const items: AudioItem[] = [];
    items.push(...decoder.push(start));
    for (let i = 0; i < 10; i++) items.push(...decoder.push({ type: 'rtp', packet: all[i]!.bytes, receivedAtMs: ROOM_START + 500 + i * 20 }));
    // RTP ts 5000 + 960·10 was sampled at room time 1200 ms by the sender's clock.
    items.push(...decoder.push({ type: 'sender-report', ntpMs: ROOM_START + 1200, rtpTimestamp: 5000 + 960 * 10, receivedAtMs: ROOM_START + 1210 }));
    const after: AudioItem[] = [];
    for (let i = 10; i < 20; i++) after.push(...decoder.push({ type: 'rtp', packet: all[i]!.bytes, receivedAtMs: ROOM_START + 700 + i * 20 }));
    assert.equal(decoder.clock?.source, 'sender-report');
    const first = frames(after)[0]!;
    assert.ok(Math.abs(first.timestampMs + 1 - 1200) <= 2.5, `first frame after the report at ${first.timestampMs} ms`);
  });

  test('the pipeline worker reads a direct consumer port and ends with the producer', { timeout: 20_000 }, async () => {
    const pipeline = new AudioPipeline();
    try {
      const { port1, port2 } = new MessageChannel();
      const track = pipeline.read(port2, { sampleRate: 16000 });
      const all = packets(25);
      port1.postMessage(start);
      all.forEach((p, i) => port1.postMessage({ type: 'rtp', packet: p.bytes, receivedAtMs: ROOM_START + 100 + i * 20 } satisfies DirectConsumerMessage));
      port1.postMessage({ type: 'close', reason: 'producer-closed' } satisfies DirectConsumerMessage);
      const items: AudioItem[] = [];
      for await (const item of track) items.push(item);
      assert.equal(track.endReason, 'producer-closed');
      assert.equal(track.info?.producerAppData.source, 'mic');
      const ms = frames(items).reduce((s, f) => s + frameDurationMs(f), 0);
      assert.ok(Math.abs(ms - 500) <= 2, `${ms} ms`);
      assert.ok(frames(items).every((f) => f.data instanceof Int16Array && f.sampleRate === 16000));
    } finally {
      await pipeline.close();
    }
  });
});

describe('resampler 48 kHz → 16 kHz', () => {
  const run48to16 = (freq: number): Int16Array => {
    const r = new Resampler(48000, 16000);
    const parts: Int16Array[] = [];
    for (let b = 0; b < 50; b++) parts.push(r.process(tone(freq, 960, 48000, b * 960)));
    return Int16Array.from(parts.flatMap((p) => [...p]));
  };

  test('a 1 kHz tone passes at unit gain (within 0.1 dB) and keeps its frequency', () => {
    const out = run48to16(1000);
    assert.equal(out.length, 16000);
    const body = out.subarray(100);
    const db = 20 * Math.log10(rms(body) / (10000 / Math.SQRT2));
    assert.ok(Math.abs(db) < 0.1, `${db.toFixed(3)} dB`);
    assert.ok(toneLevel(body, 1000, 16000) > 0.99 * rms(body));
  });

  test('a 12 kHz tone (would alias to 4 kHz) is suppressed by more than 70 dB; so is 8.5 kHz', () => {
    for (const f of [12000, 8500]) {
      const out = run48to16(f);
      const level = rms(out.subarray(100));
      const db = 20 * Math.log10(Math.max(level, 1e-3) / (10000 / Math.SQRT2));
      assert.ok(db < -70, `${f} Hz comes out at ${db.toFixed(1)} dB`);
    }
  });

  test('block sizes do not matter: streaming equals one pass', () => {
    const x = tone(700, 4800, 48000);
    const a = new Resampler(48000, 16000).process(x);
    const r = new Resampler(48000, 16000);
    const parts = [r.process(x.subarray(0, 7)), r.process(x.subarray(7, 1000)), r.process(x.subarray(1000))];
    assert.deepEqual(Int16Array.from(parts.flatMap((p) => [...p])), a);
  });

  test('other rates: 48 → 22.05 kHz and 16 → 48 kHz keep a 1 kHz tone', () => {
    for (const [a, b] of [[48000, 22050], [16000, 48000]] as const) {
      const r = new Resampler(a, b);
      const out = r.process(tone(1000, a, a));
      assert.ok(Math.abs(out.length - b) <= 3, `${out.length} samples`);
      const body = out.subarray(Math.floor(b / 10));
      const db = 20 * Math.log10(rms(body) / (10000 / Math.SQRT2));
      assert.ok(Math.abs(db) < 0.1, `${a}→${b}: ${db} dB`);
      assert.ok(toneLevel(body, 1000, b) > 0.95 * rms(body), `${a}→${b}`);
    }
  });
});
