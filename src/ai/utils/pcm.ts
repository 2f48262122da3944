import type { AudioFrame } from '../../media/audio/audioFrame.js';
import { frameDurationMs } from '../../media/audio/audioFrame.js';

/** One contiguous stretch of mono PCM with the media time of its first sample. */
export interface Utterance {
  readonly samples: Int16Array;
  readonly sampleRate: number;
  /** Media time of `samples[0]`, ms since the stream (room) started. */
  readonly startMs: number;
}

export function utteranceEndMs(u: Utterance): number {
  return u.startMs + (u.samples.length / u.sampleRate) * 1000;
}

/** Joins frames that follow each other into one utterance (the caller guarantees they are contiguous and mono). */
export function concatFrames(frames: readonly AudioFrame[]): Utterance {
  if (frames.length === 0) throw new RangeError('no frames to join');
  const first = frames[0]!;
  const samples = new Int16Array(frames.reduce((n, f) => n + f.data.length, 0));
  let o = 0;
  for (const f of frames) {
    samples.set(f.data, o);
    o += f.data.length;
  }
  return { samples, sampleRate: first.sampleRate, startMs: first.timestampMs };
}

/** Whether `next` starts where `prev` ended (within half a millisecond). */
export function isContiguous(prev: AudioFrame, next: AudioFrame): boolean {
  return Math.abs(prev.timestampMs + frameDurationMs(prev) - next.timestampMs) < 0.5;
}

export function int16ToFloat32(samples: Int16Array): Float32Array {
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i]! / 32768;
  return out;
}

/** A RIFF/WAVE file (PCM 16-bit mono) holding `u`: what multipart transcription endpoints take. */
export function encodeWav(u: Utterance): Buffer {
  const dataBytes = u.samples.length * 2;
  const b = Buffer.alloc(44 + dataBytes);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + dataBytes, 4);
  b.write('WAVE', 8, 'ascii');
  b.write('fmt ', 12, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(u.sampleRate, 24);
  b.writeUInt32LE(u.sampleRate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(dataBytes, 40);
  Buffer.from(u.samples.buffer, u.samples.byteOffset, dataBytes).copy(b, 44);
  return b;
}

/** Reads a PCM 16-bit WAV file's samples (the first channel) and rate; throws on anything else. */
export function decodeWav(file: Buffer): { samples: Int16Array; sampleRate: number } {
  if (file.toString('ascii', 0, 4) !== 'RIFF' || file.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a RIFF/WAVE file');
  let o = 12;
  let sampleRate = 0;
  let channels = 0;
  let bits = 0;
  while (o + 8 <= file.length) {
    const id = file.toString('ascii', o, o + 4);
    const size = file.readUInt32LE(o + 4);
    if (id === 'fmt ') {
      if (file.readUInt16LE(o + 8) !== 1) throw new Error('WAV is not PCM');
      channels = file.readUInt16LE(o + 10);
      sampleRate = file.readUInt32LE(o + 12);
      bits = file.readUInt16LE(o + 22);
    } else if (id === 'data') {
      if (bits !== 16 || channels < 1) throw new Error(`WAV must be 16-bit PCM (got ${bits}-bit, ${channels} channels)`);
      const n = Math.floor(Math.min(size, file.length - o - 8) / 2 / channels);
      const samples = new Int16Array(n);
      for (let i = 0; i < n; i++) samples[i] = file.readInt16LE(o + 8 + i * 2 * channels);
      return { samples, sampleRate };
    }
    o += 8 + size + (size % 2);
  }
  throw new Error('WAV has no data chunk');
}
