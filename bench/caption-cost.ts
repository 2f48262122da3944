/**
 * What captioning costs the SFU (issue 10 "Benchmarks"): one werift publisher sends real read
 * speech (Debian's LibriVox clips, Opus-encoded at 20 ms) into a Parley /voice room with N werift
 * subscribers (bench/sfu/subscriberHost.ts); the same room is measured in alternating windows
 * without and with live captions (direct consumer → audio pipeline worker → Silero VAD →
 * pocketsphinx → masking → caption events, the path src/app.ts builds; bench/caption/server.ts).
 *
 * Prints, per N, the server's CPU µs per forwarded packet (packets counted where the subscribers received them) — the media worker thread (the SFU's
 * forwarding loop) and the whole process — without / with captions and their ratio (same run,
 * same subscribers), the extra CPU one captioned speaker costs (and so speakers per core), and
 * the caption latency through the real pipeline: from the send of the last voiced packet of a
 * clip to the final caption event (p50 / p95; includes the VAD's silence wait).
 *
 *   npx tsx bench/caption-cost.ts [--n=50,100] [--window=10] [--rounds=2]
 */
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RtpHeader, RtpPacket } from 'werift';
import { OpusEncoder } from '../src/media/audio/opusDecoder.js';
import { librivoxClips } from '../test/ai-audio.js';
import type { FromCaptionServer, ToCaptionServer } from './caption/server.js';
import { Child, killAll } from './lib/child.js';
import { benchOptions, intList, num } from './lib/options.js';
import { fmt, percentile, sortedOf, table } from './lib/stats.js';
import { procDelta, sampleProc, type ProcSample } from './sfu/procStat.js';
import { monoMs, TICKS_PER_PACKET, type FromHost, type ToHost } from './sfu/protocol.js';
import { openPublisher } from './sfu/weriftClient.js';

const here = dirname(fileURLToPath(import.meta.url));
const o = benchOptions();
const ns = intList(o.opt('n', 'BENCH_N', '50,100'), '--n', 1, 400);
const windowS = num(o.opt('window', 'BENCH_WINDOW', '10'), '--window', 2, 120);
const rounds = num(o.opt('rounds', 'BENCH_ROUNDS', '2'), '--rounds', 1, 10);
const maxMinutes = num(o.opt('max-minutes', 'BENCH_MAX_MINUTES', '15'), '--max-minutes', 1, 120);
const deadline = Date.now() + maxMinutes * 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => console.log(s);

// --- The publisher's audio: every clip, 48 kHz Opus at 20 ms, each followed by 1.5 s of silence.
interface Talk {
  payloads: Buffer[];
  /** Index (in payloads) of each clip's last voiced packet. */
  clipEnds: number[];
}
function talk(): Talk {
  const enc = new OpusEncoder(48000, 1);
  const payloads: Buffer[] = [];
  const clipEnds: number[] = [];
  const frame = (pcm: Int16Array) => payloads.push(Buffer.from(enc.encode(pcm)));
  for (const clip of librivoxClips()) {
    const s = clip.samples;
    // 16 → 48 kHz by linear interpolation (the pipeline resamples it back to 16 kHz for the engine).
    const up = new Int16Array(s.length * 3);
    for (let i = 0; i < s.length; i++) {
      const a = s[i]!;
      const b = s[Math.min(i + 1, s.length - 1)]!;
      up[3 * i] = a;
      up[3 * i + 1] = Math.round(a + (b - a) / 3);
      up[3 * i + 2] = Math.round(a + (2 * (b - a)) / 3);
    }
    for (let at = 0; at + 960 <= up.length; at += 960) frame(up.subarray(at, at + 960));
    clipEnds.push(payloads.length - 1);
    for (let k = 0; k < 75; k++) frame(new Int16Array(960));
  }
  enc.close();
  return { payloads, clipEnds };
}

type Server = Child<ToCaptionServer, FromCaptionServer>;
type Host = Child<ToHost, FromHost>;

async function main(): Promise<void> {
  log(`# Caption cost — node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  log(`options: N=${ns.join(',')} window=${windowS}s rounds=${rounds}`);
  const audio = talk();
  const env = { ...process.env, PORT: '0', HOST: '127.0.0.1', MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', LOG_LEVEL: 'warn', ALLOWED_ORIGINS: '*', STT_POCKETSPHINX_DECODERS: '1', MEDIA_MAX_ROOMS_PER_ADDRESS: '1000', MEDIA_MAX_TRANSPORTS_PER_ADDRESS: '1000', SOCKET_EVENTS_PER_SECOND: '1000', RATE_LIMIT_MAX: '100000' };
  const server: Server = new Child('parley', join(here, 'caption/server.ts'), [], { env });
  const ready = await server.next('ready', 90_000);
  const host: Host = new Child('subscriber host', join(here, 'sfu/subscriberHost.ts'), ['1000000']);
  await host.next('ready', 30_000);
  const finals: Array<{ atMono: number; text: string }> = [];
  server.proc.on('message', (m: FromCaptionServer) => {
    if (m.type === 'final') finals.push({ atMono: m.atMono, text: m.text });
  });

  const roomId = `captions-${process.pid}`;
  const publisher = await openPublisher(ready.url, roomId);
  const clipEndSent: number[] = [];
  let k = 0;
  const t0 = monoMs();
  let sent = 0;
  const tick = setInterval(() => {
    // Paced by the clock: catch up to where 20 ms packets should be.
    const due = Math.floor((monoMs() - t0) / 20);
    while (k <= due) {
      const i = k % audio.payloads.length;
      const header = new RtpHeader({ payloadType: 100, sequenceNumber: k & 0xffff, timestamp: (k * TICKS_PER_PACKET) >>> 0, ssrc: publisher.ssrc, marker: k === 0 });
      publisher.send(new RtpPacket(header, audio.payloads[i]!)).catch(() => undefined);
      if (audio.clipEnds.includes(i)) clipEndSent.push(monoMs());
      k++;
      sent++;
    }
  }, 5);

  const captions = async (on: boolean) => {
    server.send({ type: 'captions', roomId, on });
    const r = await server.next('captions-done', 30_000);
    if (r.error) throw new Error(`captions ${on ? 'on' : 'off'}: ${r.error}`);
  };
  const arrivals = async (): Promise<number> => {
    host.send({ type: 'status' });
    return (await host.next('status', 10_000)).arrivals;
  };
  /** A measuring window: server CPU before/after, and the packets that reached the subscribers in it (what was forwarded). */
  const windowOf = async (): Promise<{ before: ProcSample; after: ProcSample; forwarded: number }> => {
    const a0 = await arrivals();
    const before = sampleProc(ready.pid);
    await sleep(windowS * 1000);
    const after = sampleProc(ready.pid);
    return { before, after, forwarded: (await arrivals()) - a0 };
  };

  const rows: string[][] = [];
  const results: Array<{ n: number; workerOff: number; workerOn: number; procOff: number; procOn: number; extraCpuMsPerS: number }> = [];
  let have = 0;
  try {
    for (const n of ns) {
      if (Date.now() > deadline) {
        log(`stopped before N=${n}: --max-minutes reached`);
        break;
      }
      host.send({ type: 'add-webrtc', count: n - have, url: ready.url, roomId, producerId: publisher.producerId, concurrency: 8 });
      const added = await host.next('added-webrtc', 120_000 + n * 2000);
      if (added.failed > 0) log(`  ${added.failed} subscribers failed to connect: ${added.errors.slice(0, 3).join('; ')}`);
      have = added.total;
      await sleep(2000);
      let workerOff = 0, workerOn = 0, procOff = 0, procOn = 0, cpuOff = 0, cpuOn = 0, wallOff = 0, wallOn = 0;
      for (let r = 0; r < rounds; r++) {
        const off = await windowOf();
        await captions(true);
        await sleep(1500);
        const on = await windowOf();
        await captions(false);
        await sleep(500);
        const dOff = procDelta(off.before, off.after);
        const dOn = procDelta(on.before, on.after);
        // The forwarding thread is the busiest one while nothing is captioned (the media worker).
        const fwdTid = dOff.threads[0]![0];
        const fwdOn = dOn.threads.find(([t]) => t === fwdTid)?.[1] ?? 0;
        workerOff += (dOff.threads[0]![1] * 1000) / off.forwarded;
        workerOn += (fwdOn * 1000) / on.forwarded;
        procOff += (dOff.cpuMs * 1000) / off.forwarded;
        procOn += (dOn.cpuMs * 1000) / on.forwarded;
        cpuOff += dOff.cpuMs;
        cpuOn += dOn.cpuMs;
        wallOff += dOff.wallMs;
        wallOn += dOn.wallMs;
        log(`  N=${have} round ${r + 1}: media worker ${fmt((dOff.threads[0]![1] * 1000) / off.forwarded, 2)} → ${fmt((fwdOn * 1000) / on.forwarded, 2)} µs/packet; process ${fmt((dOff.cpuMs * 1000) / off.forwarded, 2)} → ${fmt((dOn.cpuMs * 1000) / on.forwarded, 2)}; load ${loadavg()[0]!.toFixed(1)}`);
      }
      const res = { n: have, workerOff: workerOff / rounds, workerOn: workerOn / rounds, procOff: procOff / rounds, procOn: procOn / rounds, extraCpuMsPerS: cpuOn / (wallOn / 1000) - cpuOff / (wallOff / 1000) };
      results.push(res);
      rows.push([String(res.n), `${fmt(res.workerOff, 2)} / ${fmt(res.workerOn, 2)}`, fmt(res.workerOn / res.workerOff, 3), `${fmt(res.procOff, 2)} / ${fmt(res.procOn, 2)}`, fmt(res.procOn / res.procOff, 3), fmt(res.extraCpuMsPerS, 1)]);
    }
  } finally {
    clearInterval(tick);
    await publisher.close().catch(() => undefined);
    host.send({ type: 'close' });
    server.send({ type: 'close' });
    await Promise.race([Promise.all([server.exited, host.exited]), sleep(12_000)]);
    killAll();
  }

  log('\n## SFU cost of captioning one speaker (same run, alternating windows)\n');
  log(table(['N subscribers', 'media worker µs / forwarded packet, without / with', 'ratio', 'process µs / forwarded packet, without / with', 'ratio', 'extra CPU with captions, ms per s'], rows));
  const extra = results.map((r) => r.extraCpuMsPerS);
  const meanExtra = extra.reduce((a, b) => a + b, 0) / Math.max(1, extra.length);
  log(`\nOne captioned speaker costs ${fmt(meanExtra, 1)} ms of CPU per second (${fmt(meanExtra / 10, 1)} % of a core): about ${fmt(1000 / meanExtra, 1)} captioned speakers per core.`);

  // Latency: each final against the last clip end sent before it.
  const lat: number[] = [];
  for (const f of finals) {
    const end = [...clipEndSent].reverse().find((t) => t < f.atMono);
    if (end !== undefined && f.atMono - end < 15_000) lat.push(f.atMono - end);
  }
  const s = sortedOf(lat);
  log(`Caption latency through the pipeline (last voiced packet sent → final caption), ${lat.length} finals: p50 ${fmt(percentile(s, 50), 0)} ms, p95 ${fmt(percentile(s, 95), 0)} ms.`);
  log(`Finals heard: ${finals.slice(0, 4).map((f) => `"${f.text}"`).join(', ')}${finals.length > 4 ? ', …' : ''}`);
}

main().catch((err: unknown) => {
  console.error(err);
  killAll();
  process.exit(1);
});
