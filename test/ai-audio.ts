/** Test helpers for the speech tests: LibriVox clips from Debian's pocketsphinx-testdata as 20 ms frames. */
import { readFileSync } from 'node:fs';
import { createFrame, type AudioFrame, type AudioGap } from '../src/media/audio/audioFrame.js';
import { decodeWav } from '../src/ai/utils/pcm.js';

export const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox';

export interface Clip {
  readonly id: string;
  readonly path: string;
  readonly transcript: string;
  readonly samples: Int16Array;
}

export function librivoxClips(): Clip[] {
  const lines = readFileSync(`${LIBRIVOX}/transcription`, 'utf8').trim().split('\n');
  return lines.map((line) => {
    const m = /^<s> (.*) <\/s> \((.*)\)$/.exec(line.trim());
    if (!m) throw new Error(`unexpected transcription line: ${line}`);
    const path = `${LIBRIVOX}/${m[2]}.wav`;
    const wav = decodeWav(readFileSync(path));
    if (wav.sampleRate !== 16_000) throw new Error(`${path} is ${wav.sampleRate} Hz`);
    return { id: m[2]!, path, transcript: m[1]!, samples: wav.samples };
  });
}

/** `samples` as 20 ms frames of 16 kHz mono starting at `startMs`. */
export function framesOf(samples: Int16Array, startMs = 0): AudioFrame[] {
  const out: AudioFrame[] = [];
  for (let i = 0; i < samples.length; i += 320) out.push(createFrame(samples.slice(i, Math.min(samples.length, i + 320)), 16_000, 1, startMs + i / 16));
  return out;
}

export function gap(timestampMs: number, durationMs: number): AudioGap {
  return { kind: 'gap', timestampMs, durationMs };
}

/** Words of `reference` found in `hypothesis`, each reference word matched at most once (bag of words). */
export function wordOverlap(reference: string, hypothesis: string): number {
  const pool = new Map<string, number>();
  for (const w of hypothesis.toLowerCase().split(/\s+/).filter(Boolean)) pool.set(w, (pool.get(w) ?? 0) + 1);
  let n = 0;
  for (const w of reference.toLowerCase().split(/\s+/).filter(Boolean)) {
    const c = pool.get(w) ?? 0;
    if (c > 0) {
      n++;
      pool.set(w, c - 1);
    }
  }
  return n;
}
