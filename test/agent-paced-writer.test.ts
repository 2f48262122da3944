/**
 * The bot's paced writer: PCM at a speech engine's rate → Opus → RTP, one packet per 20 ms on a fake clock;
 * barge-in's `clearQueue()` stops the packets at once; the RTP clock runs on through silence and the next talkspurt
 * is marked. The packets decode back to the audio (real Opus, real RTP parsing).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RtpPacket } from 'werift';
import { OpusDecoder } from '../src/media/audio/opusDecoder.js';
import { PacedWriter, type PacedWriterClock } from '../src/media/audio/pacedWriter.js';

class FakeClock implements PacedWriterClock {
  t = 0;
  #timers: Array<{ at: number; fn: () => void; id: number }> = [];
  #next = 1;
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.#next++;
    this.#timers.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimeout = (h: unknown) => {
    this.#timers = this.#timers.filter((x) => x.id !== h);
  };
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.#timers.sort((a, b) => a.at - b.at);
      const due = this.#timers[0];
      if (!due || due.at > end) break;
      this.#timers.shift();
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }
}

function tone(seconds: number, rate: number): Int16Array {
  const s = new Int16Array(Math.round(seconds * rate));
  for (let i = 0; i < s.length; i++) s[i] = Math.round(10_000 * Math.sin((2 * Math.PI * 300 * i) / rate));
  return s;
}

describe('PacedWriter', () => {
  test('one second of 22 kHz speech-rate PCM goes out as 50 Opus RTP packets, 20 ms apart, that decode to the tone', () => {
    const clock = new FakeClock();
    const sent: Array<{ at: number; p: RtpPacket }> = [];
    const w = new PacedWriter({ ssrc: 1234, clock, sink: (b) => sent.push({ at: clock.t, p: RtpPacket.deSerialize(Buffer.from(b)) }) });
    w.push(tone(1, 22_050), 22_050);
    w.flush();
    clock.advance(1500);
    assert.ok(sent.length >= 50 && sent.length <= 51, `${sent.length} packets`);
    for (let i = 1; i < sent.length; i++) {
      assert.equal(sent[i]!.at - sent[i - 1]!.at, 20);
      assert.equal((sent[i]!.p.header.sequenceNumber - sent[i - 1]!.p.header.sequenceNumber) & 0xffff, 1);
      assert.equal((sent[i]!.p.header.timestamp - sent[i - 1]!.p.header.timestamp) >>> 0, 960);
    }
    assert.equal(sent[0]!.p.header.marker, true);
    assert.equal(sent[0]!.p.header.ssrc, 1234);
    assert.equal(sent[0]!.p.header.payloadType, 111);
    const dec = new OpusDecoder(48_000, 1);
    const pcm = sent.slice(5, 40).flatMap((s) => [...dec.decode(s.p.payload)]);
    const rms = Math.sqrt(pcm.reduce((n, v) => n + v * v, 0) / pcm.length);
    assert.ok(rms > 4000, `decoded rms ${rms}`);
    dec.close();
    w.close();
  });

  test('clearQueue() (barge-in) stops the packets at once and reports what was dropped', () => {
    const clock = new FakeClock();
    let n = 0;
    const ends: boolean[] = [];
    const w = new PacedWriter({ ssrc: 1, clock, sink: () => n++ });
    w.on('playout-end', (e) => ends.push(e.cleared));
    w.push(tone(3, 24_000), 24_000);
    clock.advance(500);
    const before = n;
    assert.ok(before >= 25 && before <= 26);
    const dropped = w.clearQueue();
    assert.ok(dropped > 2000, `dropped ${dropped} ms`);
    clock.advance(1000);
    assert.equal(n, before, 'no packet after clearQueue');
    assert.deepEqual(ends, [true]);
    assert.equal(w.playing, false);
    w.close();
  });

  test('after a silence the RTP clock has moved on with the wall clock and the talkspurt is marked', () => {
    const clock = new FakeClock();
    const sent: RtpPacket[] = [];
    const w = new PacedWriter({ ssrc: 7, clock, sink: (b) => sent.push(RtpPacket.deSerialize(Buffer.from(b))) });
    w.push(tone(0.2, 48_000), 48_000);
    clock.advance(400);
    const last = sent.at(-1)!;
    const count = sent.length;
    clock.advance(1000);
    w.push(tone(0.2, 48_000), 48_000);
    clock.advance(400);
    const next = sent[count]!;
    assert.equal(next.header.marker, true);
    const gapMs = ((next.header.timestamp - last.header.timestamp) >>> 0) / 48;
    assert.ok(gapMs > 1000 && gapMs < 1400, `RTP gap ${gapMs} ms`);
    assert.equal((next.header.sequenceNumber - last.header.sequenceNumber) & 0xffff, 1, 'sequence numbers do not jump');
    w.close();
  });
});
