/**
 * Decode + resample cost per audio stream: 20 ms Opus packets (a speech-like signal encoded
 * here with libopus) through the reader's path — RTP parse, reorder buffer, opusscript decode
 * at 48 kHz, polyphase resample to 16 kHz — measured against the Opus decode alone (baseline,
 * same run) and against decoding straight to 16 kHz with libopus's own resampler.
 *
 *   npx tsx bench/audio-decode.ts [--frames=3000]
 *
 * Prints µs of CPU per 20 ms frame and the share of one core per stream (µs / 20 000).
 */
import { cpus } from 'node:os';
import { RtpHeader, RtpPacket } from 'werift';
import { OpusDecoder, OpusEncoder } from '../src/media/audio/opusDecoder.js';
import { Resampler } from '../src/media/audio/resampler.js';
import { RtpAudioDecoder } from '../src/media/audio/rtpAudioDecoder.js';
import type { DirectConsumerMessage } from '../src/sfu/directPort.js';

const frames = Number(process.argv.find((a) => a.startsWith('--frames='))?.split('=')[1] ?? 3000);

// A speech-like test signal: two formant-ish tones, amplitude-modulated at 4 Hz, plus noise.
function signal(i: number): number {
  const t = i / 48000;
  const env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t);
  return Math.round(env * (6000 * Math.sin(2 * Math.PI * 220 * t) + 3000 * Math.sin(2 * Math.PI * 1800 * t) + 800 * (Math.random() - 0.5)));
}

const enc = new OpusEncoder(48000, 1);
const packets: Uint8Array[] = [];
for (let k = 0; k < frames; k++) {
  const pcm = new Int16Array(960);
  for (let i = 0; i < 960; i++) pcm[i] = signal(k * 960 + i);
  const payload = Buffer.from(enc.encode(pcm));
  packets.push(new Uint8Array(new RtpPacket(new RtpHeader({ payloadType: 111, sequenceNumber: k & 0xffff, timestamp: (k * 960) >>> 0, ssrc: 1 }), payload).serialize()));
}
enc.close();
const payloads = packets.map((p) => RtpPacket.deSerialize(Buffer.from(p)).payload);

function cpuUs(fn: () => void): number {
  const a = process.cpuUsage();
  fn();
  const d = process.cpuUsage(a);
  return d.user + d.system;
}

function run(label: string, fn: () => void): number {
  fn(); // warm-up pass (JIT, WASM)
  const us = cpuUs(fn) / frames;
  console.log(`${label.padEnd(48)} ${us.toFixed(1).padStart(7)} µs per 20 ms frame  ${((us / 20_000) * 100).toFixed(2).padStart(5)} % of a core per stream`);
  return us;
}

console.log(`audio decode benchmark — ${cpus()[0]?.model ?? 'cpu'}, ${cpus().length} cores, Node ${process.version}, ${frames} frames (${frames / 50} s of audio)`);
const base = run('baseline: opusscript decode 48 kHz mono', () => {
  const d = new OpusDecoder(48000, 1);
  for (const p of payloads) d.decode(p);
  d.close();
});
const rs = run('polyphase resample 48 → 16 kHz (96 taps)', () => {
  const r = new Resampler(48000, 16000);
  const pcm = new Int16Array(960);
  for (let i = 0; i < 960; i++) pcm[i] = signal(i);
  for (let k = 0; k < frames; k++) r.process(pcm);
});
const d16 = run('opusscript decode straight to 16 kHz (libopus)', () => {
  const d = new OpusDecoder(16000, 1);
  for (const p of payloads) d.decode(p);
  d.close();
});
const full = run('reader: RTP + reorder + decode 48k + resample 16k', () => {
  const r = new RtpAudioDecoder({ sampleRate: 16000 });
  r.push({ type: 'start', consumerId: 'c', producerId: 'p', peerId: 'x', kind: 'audio', mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, ssrc: 1, roomStartedAtMs: 0, producerAppData: {} });
  for (const packet of packets) r.push({ type: 'rtp', packet, receivedAtMs: 0 } satisfies DirectConsumerMessage);
  r.push({ type: 'close', reason: 'closed' });
});
console.log(`ratio reader / decode-only baseline: ${(full / base).toFixed(2)}×; resample share ${((rs / full) * 100).toFixed(0)} %; libopus-16k / decode-48k ${(d16 / base).toFixed(2)}×`);
console.log(`streams one core holds (reader only, no STT/VAD): ${Math.floor(20_000 / full)}`);
