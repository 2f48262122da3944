/**
 * Measuring recordings as a listener would: ffprobe's duration, the PCM that ffmpeg decodes,
 * and how loud one frequency is over a stretch of time (Goertzel), so a test can tell which
 * participant is heard when.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** ffprobe's container duration, seconds. */
export async function probeDuration(path: string): Promise<number> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', path]);
  return Number(stdout.trim());
}

/** ffprobe's description of the first stream (codec, container). */
export async function probeStream(path: string): Promise<{ codec: string; format: string }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name:format=format_name', '-of', 'json', path]);
  const j = JSON.parse(stdout) as { streams: Array<{ codec_name: string }>; format: { format_name: string } };
  return { codec: j.streams[0]?.codec_name ?? '', format: j.format.format_name };
}

/** Mono PCM at `rate`, timestamp gaps filled with silence (so t = index / rate). */
export async function decodePcm(path: string, rate = 8000): Promise<Float32Array> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', path, '-af', `aresample=${rate}:async=1:first_pts=0`, '-ac', '1', '-f', 's16le', '-'], { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
  const ints = new Int16Array(stdout.buffer, stdout.byteOffset, Math.floor(stdout.byteLength / 2));
  return Float32Array.from(ints, (v) => v / 32768);
}

/** Amplitude of `freq` Hz in [fromS, toS) (Goertzel over 50 ms blocks, mean), 0…1. */
export function toneLevel(pcm: Float32Array, rate: number, freq: number, fromS: number, toS: number): number {
  const block = Math.round(rate * 0.05);
  const start = Math.max(0, Math.round(fromS * rate));
  const end = Math.min(pcm.length, Math.round(toS * rate));
  const k = (2 * Math.PI * freq) / rate;
  const coeff = 2 * Math.cos(k);
  let sum = 0;
  let n = 0;
  for (let b = start; b + block <= end; b += block) {
    let s1 = 0;
    let s2 = 0;
    for (let i = b; i < b + block; i++) {
      const s0 = pcm[i]! + coeff * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    sum += (2 * Math.sqrt(Math.max(0, power))) / block;
    n++;
  }
  return n === 0 ? 0 : sum / n;
}

/** RMS over [fromS, toS). */
export function rms(pcm: Float32Array, rate: number, fromS: number, toS: number): number {
  const start = Math.max(0, Math.round(fromS * rate));
  const end = Math.min(pcm.length, Math.round(toS * rate));
  let sum = 0;
  for (let i = start; i < end; i++) sum += pcm[i]! * pcm[i]!;
  return end > start ? Math.sqrt(sum / (end - start)) : 0;
}

/** A WAV of beeps at `freq` Hz (`onS` on, `offS` off) for a fake microphone, made with sox. */
export async function beepWav(path: string, freq: number, seconds = 60, onS = 0.4, offS = 0.2): Promise<string> {
  const cycles = Math.ceil(seconds / (onS + offS));
  await run('sox', ['-n', '-r', '48000', '-c', '1', '-b', '16', path, 'synth', String(onS), 'sine', String(freq), 'pad', '0', String(offS), 'vol', '0.5', 'repeat', String(cycles - 1)], { timeout: 30_000 });
  return path;
}

/** RMS of what is not the `freq` Hz tone in [fromS, toS): the speech left under a bleep. */
export function residualRms(pcm: Float32Array, rate: number, freq: number, fromS: number, toS: number): number {
  const total = rms(pcm, rate, fromS, toS);
  const tone = toneLevel(pcm, rate, freq, fromS, toS);
  return Math.sqrt(Math.max(0, total * total - (tone * tone) / 2));
}
