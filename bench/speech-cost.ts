/**
 * Speech cost benchmark: Silero VAD CPU per stream, pocketsphinx's real-time factor and the latency from the end
 * of speech to the final transcript, on the LibriVox clips of Debian's pocketsphinx-testdata (16 kHz, 24.7 s of
 * real read speech), fed as 20 ms frames. The pipeline pass paces frames in real time (as a call delivers them),
 * followed by 1 s of silence, so latency is what a caption reader waits: from the VAD's speech end (the last
 * voiced sample) to the final, which includes the VAD_MIN_SILENCE_MS wait. Baselines measured in the same run: real time (the audio's own
 * duration) and `pocketsphinx_continuous -infile` on the same files (a fresh process per clip, model load included,
 * as an offline caller would pay it).
 *
 *   npx tsx bench/speech-cost.ts [--passes=3]
 */
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { PocketsphinxSTT } from '../src/ai/providers/pocketsphinx.js';
import { SileroVAD } from '../src/ai/providers/sileroVad.js';
import { StreamAdapter } from '../src/ai/streamAdapter.js';
import { framesOf, librivoxClips } from '../test/ai-audio.js';
import { fmt, percentile, sortedOf, table } from './lib/stats.js';

const passes = Math.max(1, Math.min(20, Number(/^--passes=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--passes=')) ?? '')?.[1] ?? 3)));
const clips = librivoxClips();
const audioSeconds = clips.reduce((n, c) => n + c.samples.length / 16_000, 0);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

// 1. VAD alone: one stream per clip, every pass.
const vad = SileroVAD.load();
let vadCpu = 0;
for (let p = 0; p < passes; p++)
  for (const clip of clips) {
    const frames = framesOf(clip.samples);
    const c0 = cpuMs();
    const s = vad.stream();
    for (const f of frames) s.pushFrame(f);
    s.endInput();
    for await (const _ of s) void _;
    vadCpu += cpuMs() - c0;
  }
const vadMsPerAudioS = vadCpu / (audioSeconds * passes);

// 2. VAD + warm pocketsphinx (one decoder: the cost of one captioned speaker).
const engine = await PocketsphinxSTT.create({ poolSize: 1 });
const stt = new StreamAdapter(engine, vad);
let pipelineCpu = 0;
const latencies: number[] = [];
const interims: number[] = [];
let interimCount = 0;
for (let p = 0; p < passes; p++)
  for (const clip of clips) {
    const frames = framesOf(clip.samples);
    const c0 = cpuMs();
    const s = stt.stream();
    // Wall time at which each frame was pushed, to place the VAD's speech end (a media time) on the wall clock.
    const speechEndWall = new Map<number, number>();
    const done = (async () => {
      for await (const e of s) {
        if (e.type === 'final_transcript') {
          const endMs = e.alternatives[0]!.endMs;
          let wall: number | undefined;
          for (const [ts, at] of speechEndWall) if (ts <= endMs) wall = at;
          if (wall !== undefined) latencies.push(performance.now() - wall);
          interims.push(0);
        }
        if (e.type === 'interim_transcript') interimCount++;
      }
    })();
    const silence = framesOf(new Int16Array(16_000), (clip.samples.length / 16_000) * 1000);
    const all = [...frames, ...silence];
    const t0 = performance.now();
    for (let i = 0; i < all.length; i++) {
      const due = t0 + i * 20;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      s.pushFrame(all[i]!);
      speechEndWall.set(all[i]!.timestampMs, performance.now());
    }
    s.endInput();
    await done;
    pipelineCpu += cpuMs() - c0;
  }
await engine.close();
const rtf = pipelineCpu / 1000 / (audioSeconds * passes + passes * clips.length); // audio fed includes 1 s of silence per clip

// 3. Baseline: pocketsphinx_continuous offline, child CPU time from bash's `times`.
let offlineCpu = 0;
for (const clip of clips) {
  const r = spawnSync('bash', ['-c', `pocketsphinx_continuous -infile '${clip.path}' -logfn /dev/null >/dev/null; times`], { encoding: 'utf8', timeout: 120_000 });
  const lines = r.stdout.trim().split('\n');
  const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s/.exec(lines.at(-1) ?? '');
  if (!m) throw new Error(`cannot read child times: ${r.stdout} ${r.stderr}`);
  offlineCpu += (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000;
}
const offlineRtf = offlineCpu / 1000 / audioSeconds;

const lat = sortedOf(latencies);
console.log(`speech-cost: ${clips.length} LibriVox clips, ${fmt(audioSeconds, 1)} s of audio, ${passes} passes; ${cpus()[0]?.model ?? '?'} × ${cpus().length}`);
console.log(
  table(
    ['measure', 'value', 'vs real time'],
    [
      ['Silero VAD CPU, ms per audio second (one stream)', fmt(vadMsPerAudioS, 2), `${fmt(1000 / vadMsPerAudioS, 0)}× faster`],
      ['VAD + warm pocketsphinx CPU, real-time factor', fmt(rtf, 3), `${fmt(1 / rtf, 2)}× faster`],
      ['pocketsphinx_continuous offline (baseline), real-time factor', fmt(offlineRtf, 3), `${fmt(1 / offlineRtf, 2)}× faster`],
      ['captioned speakers one core holds (1 / RTF)', fmt(1 / rtf, 1), ''],
      ['end of speech → final, p50 ms', fmt(percentile(lat, 50), 0), ''],
      ['end of speech → final, p95 ms', fmt(percentile(lat, 95), 0), ''],
    ],
  ),
);
console.log(`pipeline RTF / offline RTF = ${fmt(rtf / offlineRtf, 2)} (below 1: warm decoders save the model load); latency samples: ${latencies.length}; interim transcripts: ${interimCount} for ${interims.length} finals`);
