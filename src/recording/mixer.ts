/**
 * The mixed file: every participant's track placed at its offset on one timeline, summed,
 * encoded as AAC in MP4 (faststart, so browsers play it while it downloads). Debian's ffmpeg
 * does the decoding, placing and encoding; each masked span is a 1 kHz tone in place of the
 * speaker's audio (`bleeps`).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface MixInput {
  path: string;
  /** ms after the recording's start. */
  offsetMs: number;
  /** Spans of this track (ms after the recording's start) to replace with a tone. */
  bleeps?: Array<{ startMs: number; endMs: number }>;
}

export interface MixOptions {
  ffmpeg?: string;
  /** Encoder bit rate, bits per second. */
  bitRate?: number;
  timeoutMs?: number;
}

const s = (ms: number): string => (Math.max(0, ms) / 1000).toFixed(3);

/** The ffmpeg filter for one track: on the timeline from its offset, masked spans muted and toned. */
function trackFilter(i: number, input: MixInput): string {
  const chain = [`[${i}:a]aresample=48000:async=1:first_pts=0`, `adelay=delays=${Math.max(0, Math.round(input.offsetMs))}:all=1`];
  const bleeps = input.bleeps ?? [];
  if (bleeps.length === 0) return `${chain.join(',')}[t${i}]`;
  const when = bleeps.map((b) => `between(t,${s(b.startMs)},${s(b.endMs)})`).join('+');
  return `${chain.join(',')},volume=0:enable='${when}'[v${i}];aevalsrc=0.3*sin(2*PI*1000*t):s=48000,volume=0:enable='not(${when})'[b${i}];[v${i}][b${i}]amix=inputs=2:duration=first:normalize=0[t${i}]`;
}

export function mixArgs(inputs: MixInput[], durationMs: number, out: string, opts: MixOptions = {}): string[] {
  const dur = s(durationMs);
  const args = ['-hide_banner', '-loglevel', 'error', '-y'];
  for (const input of inputs) args.push('-i', input.path);
  let graph: string;
  if (inputs.length === 0) {
    graph = `anullsrc=r=48000:cl=mono,atrim=0:${dur}[m]`;
  } else {
    const parts = inputs.map((input, i) => trackFilter(i, input));
    const labels = inputs.map((_, i) => `[t${i}]`).join('');
    parts.push(`${labels}amix=inputs=${inputs.length}:duration=longest:normalize=0,apad,atrim=0:${dur},aformat=channel_layouts=mono[m]`);
    graph = parts.join(';');
  }
  args.push('-filter_complex', graph, '-map', '[m]', '-c:a', 'aac', '-b:a', String(opts.bitRate ?? 64_000), '-movflags', '+faststart', '-f', 'mp4', out);
  return args;
}

/** The ffmpeg arguments that rewrite one track (Opus/WebM) with `bleeps` (ms in the track) as a 1 kHz tone. */
export function bleepArgs(path: string, bleeps: Array<{ startMs: number; endMs: number }>, out: string): string[] {
  const when = bleeps.map((b) => `between(t,${s(b.startMs)},${s(b.endMs)})`).join('+');
  const graph = `[0:a]aresample=48000:async=1:first_pts=0,volume=0:enable='${when}'[v];aevalsrc=0.3*sin(2*PI*1000*t):s=48000,volume=0:enable='not(${when})'[b];[v][b]amix=inputs=2:duration=first:normalize=0,aformat=channel_layouts=mono[m]`;
  return ['-hide_banner', '-loglevel', 'error', '-y', '-i', path, '-filter_complex', graph, '-map', '[m]', '-c:a', 'libopus', '-b:a', '32k', '-f', 'webm', out];
}

/** Rewrites one participant's track with its masked spans toned (the one case a track is re-encoded). */
export async function bleepTrack(path: string, bleeps: Array<{ startMs: number; endMs: number }>, out: string, opts: MixOptions = {}): Promise<void> {
  await ffmpeg(bleepArgs(path, bleeps, out), opts);
}

async function ffmpeg(args: string[], opts: MixOptions): Promise<void> {
  try {
    await run(opts.ffmpeg ?? 'ffmpeg', args, { timeout: opts.timeoutMs ?? 10 * 60_000, maxBuffer: 4 * 1024 * 1024 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('ffmpeg is not installed: install it (apt-get install ffmpeg) or set FFMPEG_PATH');
    throw new Error(`ffmpeg could not write the recording: ${(e.stderr ?? e.message).trim().slice(0, 500)}`);
  }
}

/** Writes the mixed MP4 to `out`; rejects with ffmpeg's own words when it fails. */
export async function mixTracks(inputs: MixInput[], durationMs: number, out: string, opts: MixOptions = {}): Promise<void> {
  await ffmpeg(mixArgs(inputs, durationMs, out, opts), opts);
}
