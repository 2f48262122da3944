/**
 * What recording costs, without browsers (run: npx tsx bench/recording.ts):
 *  1. the track writer (RTP → WebM/Opus, no transcode, as the recorder thread runs it): CPU µs
 *     per packet and share of a core per recorded participant, RSS growth — against decoding
 *     the same packets with opusscript (what live captions already spend per speaker), same run;
 *  2. finalizing: ffmpeg mixing N one-minute tracks into the MP4 (and bleeping one track),
 *     seconds of work per minute of call; with a one-minute VP8 camera track, the MP4 with video;
 *  3. the SFU's cost per forwarded packet without and with a recording of the room, same run:
 *     bench/sfu-fanout.ts --record=1 (real werift subscribers, a real recording through seed 004's
 *     REST), reporting the media worker thread (the forwarding loop) and the whole process, plus
 *     the CPU and memory the recording added per recorded participant. BENCH_SFU_N (default 20)
 *     subscribers, BENCH_SFU_WINDOW seconds per window (default 8); BENCH_SFU=0 skips it,
 *     BENCH_SFU_ONLY=1 runs it alone. A first unmeasured recording starts the recorder thread.
 * The packets are real Opus (libopus via opusscript) of a 500 Hz tone, 20 ms each.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
  if (process.env.BENCH_SFU_ONLY === '1') return forwardingWithRecording();
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
  // With video: one minute of a VP8 camera (ffmpeg's test picture, 640×480 at 30 fps, as a WebM the recorder would write).
  const camera = join(dir, 'camera.webm');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=640x480:rate=30', '-t', '60', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '600k', camera], { timeout: 10 * 60_000 });
  const voice = join(dir, 'voice.webm');
  await minuteTrack(voice, payloads, 7000);
  const withVideo = join(dir, 'video.mp4');
  const v0 = performance.now();
  await mixTracks([{ path: voice, offsetMs: 0 }, { path: camera, kind: 'video', offsetMs: 0 }], 60_000, withVideo);
  const videoS = (performance.now() - v0) / 1000;
  console.log(`  1 voice + 1 camera (VP8 → H.264 640×480 15 fps): mix ${videoS.toFixed(2)} s per minute of call (${((videoS / 60) * 100).toFixed(2)} % of real time), MP4 ${(statSync(withVideo).size / 1024).toFixed(0)} KiB`);
  rmSync(dir, { recursive: true, force: true });

  if (process.env.BENCH_SFU !== '0') forwardingWithRecording();
}

interface FanoutRow {
  n: number;
  sent: number;
  wallMs: number;
  cpuMs: number;
  usPerPacket: number;
  workerUsPerPacket: number;
  rssMiB: number;
  lossMeanPct: number;
}

/** Section 3: bench/sfu-fanout.ts with --record=1, its figures read back from its JSON. */
function forwardingWithRecording(): void {
  const n = Number(process.env.BENCH_SFU_N ?? 20);
  const window = Number(process.env.BENCH_SFU_WINDOW ?? 8);
  const json = join(mkdtempSync(join(tmpdir(), 'parley-bench-rec-sfu-')), 'fanout.json');
  console.log(`
3. SFU forwarding without and with a recording of the room, same run (bench/sfu-fanout.ts --record=1, N=${n}, ${window} s windows; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')})`);
  const script = fileURLToPath(new URL('./sfu-fanout.ts', import.meta.url));
  const run = spawnSync(process.execPath, ['--import', 'tsx', script, `--n=${n}`, `--window=${window}`, '--warmup=2', '--baseline=0', '--profile=0', '--record=1', '--max-minutes=6', `--json=${json}`], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', timeout: 8 * 60_000 });
  if (run.status !== 0) {
    console.log(`  the fan-out run failed (exit ${run.status}): ${run.stdout.split('\n').slice(-8).join('\n')}`);
    return;
  }
  const result = JSON.parse(readFileSync(json, 'utf8')) as { parley?: { recordRows: Array<{ n: number; without: FanoutRow; with: FanoutRow; tracks: number; recordingBytes: number; finalizeMs: number }> } };
  const rows = result.parley?.recordRows ?? [];
  if (rows.length === 0) console.log(`  no window was measured with a recording: ${run.stdout.split('\n').slice(-8).join('\n')}`);
  for (const r of rows) {
    const extraCorePct = ((r.with.cpuMs / r.with.wallMs - r.without.cpuMs / r.without.wallMs) * 100) / Math.max(1, r.tracks);
    console.log(
      `  N=${r.n}: media worker (forwarding loop) ${r.without.workerUsPerPacket.toFixed(1)} → ${r.with.workerUsPerPacket.toFixed(1)} µs per forwarded packet (ratio ${(r.with.workerUsPerPacket / r.without.workerUsPerPacket).toFixed(3)}); whole process ${r.without.usPerPacket.toFixed(1)} → ${r.with.usPerPacket.toFixed(1)} (ratio ${(r.with.usPerPacket / r.without.usPerPacket).toFixed(3)}); loss ${r.without.lossMeanPct.toFixed(2)} → ${r.with.lossMeanPct.toFixed(2)} %`,
    );
    console.log(
      `        recording: ${r.tracks} track(s); +${extraCorePct.toFixed(2)} % of a core and ${(r.with.rssMiB - r.without.rssMiB).toFixed(1)} MiB RSS per recorded participant (process, same run); stop + finalize ${(r.finalizeMs / 1000).toFixed(2)} s for a ${window + 2} s call, MP4 ${(r.recordingBytes / 1024).toFixed(0)} KiB`,
    );
  }
}

void main();
