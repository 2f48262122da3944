/**
 * The mixed file: every participant's track placed at its offset on one timeline, summed,
 * encoded as AAC in MP4 (faststart, so browsers play it while it downloads). Debian's ffmpeg
 * does the decoding, placing and encoding; each masked span is a 1 kHz tone in place of the
 * speaker's audio (`bleeps`). When the room had video, the MP4 carries it too (H.264): every
 * camera in a grid cell of one 640×480 picture, each shown from its offset until it ended
 * (black where nobody's camera is), on the same wall clock as the audio.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface MixInput {
  path: string;
  /** Audio (Opus) or video (VP8); audio when unset. */
  kind?: 'audio' | 'video';
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

/** The mixed picture: its size and frame rate. */
const CANVAS = { w: 640, h: 480, fps: 15 };

const s = (ms: number): string => (Math.max(0, ms) / 1000).toFixed(3);

/** The ffmpeg filter for one track: on the timeline from its offset, masked spans muted and toned. */
function trackFilter(i: number, input: MixInput): string {
  const chain = [`[${i}:a]aresample=48000:async=1:first_pts=0`, `adelay=delays=${Math.max(0, Math.round(input.offsetMs))}:all=1`];
  const bleeps = input.bleeps ?? [];
  if (bleeps.length === 0) return `${chain.join(',')}[t${i}]`;
  const when = bleeps.map((b) => `between(t,${s(b.startMs)},${s(b.endMs)})`).join('+');
  return `${chain.join(',')},volume=0:enable='${when}'[v${i}];aevalsrc=0.3*sin(2*PI*1000*t):s=48000,volume=0:enable='not(${when})'[b${i}];[v${i}][b${i}]amix=inputs=2:duration=first:normalize=0[t${i}]`;
}

/** The grid's filters: each camera scaled into its cell from its offset on; `[vid]` out. */
function videoFilters(videos: Array<{ index: number; input: MixInput }>, dur: string): string[] {
  const cols = Math.ceil(Math.sqrt(videos.length));
  const rows = Math.ceil(videos.length / cols);
  const cw = Math.floor(CANVAS.w / cols / 2) * 2;
  const ch = Math.floor(CANVAS.h / rows / 2) * 2;
  const parts = [`color=c=black:s=${CANVAS.w}x${CANVAS.h}:r=${CANVAS.fps}:d=${dur}[g0]`];
  videos.forEach(({ index, input }, k) => {
    const offset = s(input.offsetMs);
    parts.push(`[${index}:v]setpts=PTS-STARTPTS+${offset}/TB,scale=${cw}:${ch}:force_original_aspect_ratio=decrease,pad=${cw}:${ch}:(ow-iw)/2:(oh-ih)/2[c${k}]`);
    const x = (k % cols) * cw;
    const y = Math.floor(k / cols) * ch;
    parts.push(`[g${k}][c${k}]overlay=x=${x}:y=${y}:eof_action=pass:enable='gte(t,${offset})'[g${k + 1}]`);
  });
  parts.push(`[g${videos.length}]trim=0:${dur},fps=${CANVAS.fps},format=yuv420p[vid]`);
  return parts;
}

export function mixArgs(inputs: MixInput[], durationMs: number, out: string, opts: MixOptions = {}): string[] {
  const dur = s(durationMs);
  const args = ['-hide_banner', '-loglevel', 'error', '-y'];
  for (const input of inputs) args.push('-i', input.path);
  const audio = inputs.flatMap((input, index) => ((input.kind ?? 'audio') === 'audio' ? [{ index, input }] : []));
  const video = inputs.flatMap((input, index) => (input.kind === 'video' ? [{ index, input }] : []));
  const parts: string[] = [];
  if (audio.length === 0) {
    parts.push(`anullsrc=r=48000:cl=mono,atrim=0:${dur}[m]`);
  } else {
    parts.push(...audio.map(({ index, input }) => trackFilter(index, input)));
    const labels = audio.map(({ index }) => `[t${index}]`).join('');
    parts.push(`${labels}amix=inputs=${audio.length}:duration=longest:normalize=0,apad,atrim=0:${dur},aformat=channel_layouts=mono[m]`);
  }
  if (video.length > 0) parts.push(...videoFilters(video, dur));
  args.push('-filter_complex', parts.join(';'), '-map', '[m]');
  if (video.length > 0) args.push('-map', '[vid]', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '28', '-r', String(CANVAS.fps));
  args.push('-c:a', 'aac', '-b:a', String(opts.bitRate ?? 64_000), '-movflags', '+faststart', '-f', 'mp4', out);
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
