/**
 * What recording costs, without browsers (run: npx tsx bench/recording.ts):
 *  1. the track writer (RTP → WebM/Opus, no transcode, as the recorder thread runs it): CPU µs
 *     per packet and share of a core per recorded participant, RSS growth — against decoding
 *     the same packets with opusscript (what live captions already spend per speaker), same run;
 *  2. finalizing: ffmpeg mixing N one-minute tracks into the MP4 (and bleeping one track),
 *     seconds of work per minute of call.
 * The packets are real Opus (libopus via opusscript) of a 500 Hz tone, 20 ms each.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RtpHeader, RtpPacket } from 'werift';
import { bleepTrack, mixTracks } from '../src/recording/mixer.js';
import { TrackWriter } from '../src/recording/trackWriter.js';

type Codec = { encode(pcm: Buffer, frameSize: number): Buffer; decode(b: Buffer): Buffer; delete(): void };
const OpusScript = createRequire(import.meta.url)('opusscript') as { new (rate: number, channels: number, app: number): Codec; Application: { AUDIO: number } };

function opusTone(freq: number, frames: number): Buffer[] {
  const enc = new OpusScript(48_000, 1, OpusScript.Application.AUDIO);
  const out: Buffer[] = [];
  for (let f = 0; f < frames; f++) {
    const pcm = Buffer.alloc(1920);
    for (let i = 0; i < 960; i++) pcm.writeInt16LE(Math.round(9000 * Math.sin((2 * Math.PI * freq * (f * 960 + i)) / 48_000)), i * 2);
    out.push(Buffer.from(enc.encode(pcm, 960)));
  }
  enc.delete();
  return out;
}

function rtp(payload: Buffer, seq: number, ssrc: number): Uint8Array {
  return new Uint8Array(new RtpPacket(new RtpHeader({ payloadType: 111, sequenceNumber: seq & 0xffff, timestamp: (1000 + seq * 960) >>> 0, ssrc }), payload).serialize());
}

const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function writerCost(participants: number, seconds: number, payloads: Buffer[], dir: string): Promise<{ usPerPacket: number; corePerParticipant: number; rssMiB: number; bytes: number }> {
  const writers = Array.from({ length: participants }, (_, i) => new TrackWriter(join(dir, `w${participants}-${i}.webm`)));
  for (const w of writers) await w.open();
  for (const [i, w] of writers.entries()) w.handle({ type: 'start', consumerId: 'c', producerId: `p${i}`, peerId: `peer${i}`, kind: 'audio', mimeType: 'audio/opus', payloadType: 111, clockRate: 48_000, channels: 2, ssrc: 1000 + i, roomStartedAtMs: Date.now(), producerAppData: {} });
  const rss0 = process.memoryUsage().rss;
  const packets = seconds * 50;
  const c0 = cpuUs();
  const t0 = Date.now();
  // Real time: 20 ms ticks, every participant's packet each tick.
  for (let n = 0; n < packets; n++) {
    for (const [i, w] of writers.entries()) w.handle({ type: 'rtp', packet: rtp(payloads[n % payloads.length]!, n, 1000 + i), receivedAtMs: Date.now() });
    const due = t0 + (n + 1) * 20;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const summaries = await Promise.all(writers.map((w) => w.finish()));
  const used = cpuUs() - c0;
  const rssMiB = (process.memoryUsage().rss - rss0) / 1024 / 1024;
  const total = packets * participants;
  return { usPerPacket: used / total, corePerParticipant: used / participants / (seconds * 1e6), rssMiB, bytes: summaries.reduce((a, s) => a + s.bytes, 0) };
}

function decodeCost(payloads: Buffer[], packets: number): number {
  const dec = new OpusScript(48_000, 1, OpusScript.Application.AUDIO);
  const c0 = cpuUs();
  for (let n = 0; n < packets; n++) dec.decode(payloads[n % payloads.length]!);
  const used = cpuUs() - c0;
  dec.delete();
  return used / packets;
}

async function minuteTrack(path: string, payloads: Buffer[], ssrc: number): Promise<void> {
  const w = new TrackWriter(path);
  await w.open();
  w.handle({ type: 'start', consumerId: 'c', producerId: 'p', peerId: 'peer', kind: 'audio', mimeType: 'audio/opus', payloadType: 111, clockRate: 48_000, channels: 2, ssrc, roomStartedAtMs: Date.now(), producerAppData: {} });
  for (let n = 0; n < 3000; n++) w.handle({ type: 'rtp', packet: rtp(payloads[n % payloads.length]!, n, ssrc), receivedAtMs: Date.now() });
  await w.finish();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-rec-'));
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  console.log(`recording bench — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; the machine is shared with other work, so compare the same-run ratios`);
  const payloads = opusTone(500, 250);
  console.log(`\n1. track writer (RTP → WebM/Opus), ${seconds} s of real-time packets per run`);
  for (const n of [1, 4, 8]) {
    const dec = decodeCost(payloads, 2000);
    const w = await writerCost(n, seconds, payloads, dir);
    console.log(
      `  ${String(n).padStart(2)} participants: ${w.usPerPacket.toFixed(1).padStart(6)} µs/packet, ${(w.corePerParticipant * 100).toFixed(3)} % of a core per participant, RSS +${w.rssMiB.toFixed(1)} MiB, ${(w.bytes / n / seconds / 1024).toFixed(1)} KiB/s per track | Opus decode (captions' cost) ${dec.toFixed(1)} µs/packet → writer ÷ decode ${(w.usPerPacket / dec).toFixed(3)}`,
    );
  }
  console.log('\n2. finalize: ffmpeg mix of N one-minute tracks into MP4/AAC (+ one track bleeped 10 × 0.4 s)');
  for (const n of [1, 2, 4]) {
    const inputs = [];
    for (let i = 0; i < n; i++) {
      const path = join(dir, `m${n}-${i}.webm`);
      await minuteTrack(path, payloads, 5000 + i);
      inputs.push({ path, offsetMs: i * 500, bleeps: i === 0 ? Array.from({ length: 10 }, (_, k) => ({ startMs: 3000 + k * 5000, endMs: 3400 + k * 5000 })) : [] });
    }
    const out = join(dir, `mix${n}.mp4`);
    const t0 = performance.now();
    await mixTracks(inputs, 60_000 + (n - 1) * 500, out);
    const mixS = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    await bleepTrack(inputs[0]!.path, inputs[0]!.bleeps, join(dir, `b${n}.webm`));
    const bleepS = (performance.now() - t1) / 1000;
    console.log(`  ${n} track(s): mix ${mixS.toFixed(2)} s per minute of call (${((mixS / 60) * 100).toFixed(2)} % of real time), MP4 ${(statSync(out).size / 1024).toFixed(0)} KiB; re-encoding one bleeped track ${bleepS.toFixed(2)} s`);
  }
  rmSync(dir, { recursive: true, force: true });
}

void main();
