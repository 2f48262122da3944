/**
 * CPU per concurrent AI bot call, by thread, against the same number of idle calls in the same run.
 *
 * Everything real but the browsers: one media worker (the SFU, as `MEDIA_WORKERS=1`), the audio pipeline worker,
 * the embedded engines (Silero VAD, pocketsphinx, the knowledge base, espeak-ng). Each call is a room with a caller
 * whose microphone is a direct producer fed (from this thread, one packet every 20 ms, as a browser's packets
 * arrive) with a LibriVox clip and 2 s of silence, looped, and one subscriber on it (a direct consumer: the person
 * or recorder who hears the caller). Phase 1, idle calls: nothing else. Phase 2, bot calls: the same, plus an
 * `AgentSession` in each room (it reads the caller, answers, and speaks through the media worker's paced writer)
 * and a subscriber on the bot's producer (the caller hearing it).
 *
 * CPU comes from /proc per thread (utime+stime): the main thread, the media worker's thread, the audio pipeline
 * worker's thread, the rest of the process (libuv's pool running pocketsphinx, V8 helpers), and espeak-ng children.
 *
 * Then the bot's mouth alone, same run: talking bots with the paced writer in the media worker vs on the main thread.
 *
 *   npx tsx bench/agent-cost.ts [--calls=4] [--seconds=20]      (npm run bench:agent)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { AgentSession } from '../src/agent/agentSession.js';
import { createAgentEngines } from '../src/agent/agentEngines.js';
import { createSpeech } from '../src/ai/createSpeech.js';
import { loadConfig } from '../src/config/config.js';
import type { AgentTurn, AgentTurnStore, NewAgentTurn } from '../src/domain/agents/agentTurn.js';
import { createLogger } from '../src/log/logger.js';
import { AudioPipeline } from '../src/media/audio/audioPipeline.js';
import { OpusEncoder } from '../src/media/audio/opusDecoder.js';
import { Resampler } from '../src/media/audio/resampler.js';
import { RtpPacketizer } from '../src/media/audio/rtpPacketizer.js';
import type { DirectConsumerMessage } from '../src/sfu/directPort.js';
import { MediaWorkerPool } from '../src/sfu/mediaWorkerPool.js';
import type { PacedWriterHandle } from '../src/sfu/pacedWriterHandle.js';
import type { DirectProducerHandle, RoomMedia } from '../src/sfu/roomMedia.js';
import { librivoxClips } from '../test/ai-audio.js';
import { localPacedWriter } from './lib/localPacedWriter.js';
import { fmt, table } from './lib/stats.js';

const arg = (name: string, d: number, max: number) => Math.max(1, Math.min(max, Number(new RegExp(`^--${name}=(\\d+)$`).exec(process.argv.find((a) => a.startsWith(`--${name}=`)) ?? '')?.[1] ?? d)));
const CALLS = arg('calls', 4, 16);
const SECONDS = arg('seconds', 20, 300);
const WARMUP_MS = 4000;
const log = createLogger(process.env.BENCH_LOG ?? 'silent');

// ---- per-thread CPU from /proc ----
const CLK_TCK = 100;
const statFields = (text: string) => text.slice(text.lastIndexOf(')') + 2).split(' ');
const threadCpuMs = (tid: number): number => {
  try {
    const f = statFields(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8'));
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return 0;
  }
};
const childrenCpuMs = (): number => {
  const f = statFields(readFileSync('/proc/self/stat', 'utf8'));
  return ((Number(f[13]) + Number(f[14])) * 1000) / CLK_TCK;
};
const tids = (): Set<number> => new Set(readdirSync('/proc/self/task').map(Number));

interface Groups {
  main: number;
  media: number;
  pipeline: number;
  rest: number;
  espeak: number;
}
const GROUPS: Array<keyof Groups> = ['main', 'media', 'pipeline', 'rest', 'espeak'];

function sample(mediaTids: Set<number>, pipelineTids: Set<number>): Groups & { at: number } {
  const g: Groups & { at: number } = { main: 0, media: 0, pipeline: 0, rest: 0, espeak: childrenCpuMs(), at: performance.now() };
  for (const tid of tids()) {
    const ms = threadCpuMs(tid);
    if (tid === process.pid) g.main += ms;
    else if (mediaTids.has(tid)) g.media += ms;
    else if (pipelineTids.has(tid)) g.pipeline += ms;
    else g.rest += ms;
  }
  return g;
}

// ---- the caller's microphone: the clip as Opus payloads, once ----
const clip = librivoxClips().find((c) => c.id.endsWith('0880'))!;
function callerPayloads(): Uint8Array[] {
  const up = new Resampler(16_000, 48_000);
  const pcm48 = up.process(clip.samples);
  const all = new Int16Array(pcm48.length + 2 * 48_000);
  all.set(pcm48);
  const enc = new OpusEncoder(48_000, 1);
  const out: Uint8Array[] = [];
  for (let o = 0; o + 960 <= all.length; o += 960) out.push(enc.encode(all.subarray(o, o + 960)));
  enc.close();
  return out;
}
const PAYLOADS = callerPayloads();

class MemoryTurns implements AgentTurnStore {
  readonly turns: AgentTurn[] = [];
  async add(t: NewAgentTurn): Promise<AgentTurn> {
    const turn = { ...t, id: String(this.turns.length), seq: this.turns.length + 1, createdAt: new Date() };
    this.turns.push(turn);
    return turn;
  }
  async forCall(callId: string): Promise<AgentTurn[]> {
    return this.turns.filter((t) => t.callId === callId).slice(-20);
  }
}

const opus = (ssrc: number) => ({ codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48_000, channels: 2 }], encodings: [{ ssrc }] });

interface Call {
  room: RoomMedia;
  caller: DirectProducerHandle;
  packetizer: RtpPacketizer;
  heardCaller: number;
  heardBot: number;
  session?: AgentSession;
  close(): Promise<void>;
}

/** Counts the RTP a direct consumer receives (a subscriber). */
async function subscribe(room: RoomMedia, producerId: string, onPacket: () => void) {
  const c = await room.createDirectConsumer(producerId, { appData: { purpose: 'bench-subscriber' } });
  c.port.on('message', (m: DirectConsumerMessage) => {
    if (m.type === 'rtp') onPacket();
  });
  return c;
}

async function openCall(pool: MediaWorkerPool, roomId: string, i: number, bot?: (room: RoomMedia, callId: string) => AgentSession): Promise<Call> {
  const room = await pool.room(roomId);
  room.peerJoined(`caller-${i}`, { role: 'customer' });
  const caller = await room.createDirectProducer(`caller-${i}`, { kind: 'audio', rtpParameters: opus(10_000 + i), appData: { source: 'mic' } });
  const call: Call = { room, caller, packetizer: new RtpPacketizer(10_000 + i, 111, 48_000), heardCaller: 0, heardBot: 0, close: async () => undefined };
  const listener = await subscribe(room, caller.id, () => call.heardCaller++);
  let botListener: Awaited<ReturnType<typeof subscribe>> | undefined;
  if (bot) {
    // The session takes the first producer that is not a server's as the caller: this one stands in for a browser's.
    const view = {
      roomId,
      observer: room.observer,
      peerJoined: room.peerJoined.bind(room),
      producers: async () => (await room.producers()).map((p) => (p.producerId === caller.id ? { ...p, direct: false } : p)),
      createDirectProducer: room.createDirectProducer.bind(room),
      createDirectConsumer: room.createDirectConsumer.bind(room),
      createPacedWriter: room.createPacedWriter.bind(room),
      closePeer: room.closePeer.bind(room),
    } as unknown as RoomMedia;
    call.session = bot(view, roomId);
    await call.session.start();
    botListener = await subscribe(room, call.session.producerId!, () => call.heardBot++);
  }
  call.close = async () => {
    await call.session?.close('bench-end');
    await botListener?.close();
    await listener.close();
    await caller.close();
    await pool.closeRoom(roomId);
  };
  return call;
}

/** One packet per call every 20 ms on a drift-free schedule, from this thread. */
function feed(calls: Call[]): () => void {
  let n = 0;
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    const payload = PAYLOADS[n % PAYLOADS.length]!;
    for (const c of calls) c.caller.send(c.packetizer.packetize(payload, 960, n % PAYLOADS.length === 0));
    n++;
    timer = setTimeout(tick, Math.max(0, start + n * 20 - performance.now()));
  };
  tick();
  return () => clearTimeout(timer);
}

async function phase(name: string, pool: MediaWorkerPool, mediaTids: Set<number>, pipelineTids: Set<number>, bot?: (room: RoomMedia, callId: string) => AgentSession) {
  const calls: Call[] = [];
  for (let i = 0; i < CALLS; i++) calls.push(await openCall(pool, `${name}-${i}`, i, bot));
  const stop = feed(calls);
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const a = sample(mediaTids, pipelineTids);
  const heard0 = calls.map((c) => [c.heardCaller, c.heardBot] as const);
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const b = sample(mediaTids, pipelineTids);
  const heard = calls.map((c, i) => [c.heardCaller - heard0[i]![0], c.heardBot - heard0[i]![1]] as const);
  stop();
  for (const c of calls) await c.close();
  const wallS = (b.at - a.at) / 1000;
  const perSecond = Object.fromEntries(GROUPS.map((g) => [g, (b[g] - a[g]) / wallS])) as unknown as Groups;
  return { perSecond, wallS, heard };
}

/**
 * The bot's mouth alone: N bots that talk all the time (a 22.05 kHz tone pushed in 200 ms pieces, as espeak-ng
 * streams), each with one subscriber, the paced writer either in the media worker (`worker`, what AgentSession
 * uses) or on the main thread sending each packet to the worker (`main`, how it was before).
 */
async function speakPhase(name: string, pool: MediaWorkerPool, mediaTids: Set<number>, pipelineTids: Set<number>, where: 'worker' | 'main') {
  const piece = new Int16Array(4410);
  for (let i = 0; i < piece.length; i++) piece[i] = Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / 22_050));
  const bots: Array<{ writer: PacedWriterHandle; heard: number; close(): Promise<void> }> = [];
  for (let i = 0; i < CALLS; i++) {
    const roomId = `${name}-${i}`;
    const room = await pool.room(roomId);
    const producer = await room.createDirectProducer(`bot-${i}`, { kind: 'audio', rtpParameters: opus(20_000 + i), appData: { source: 'bot' } });
    const writer = where === 'worker' ? await room.createPacedWriter(producer, { ssrc: 20_000 + i }) : localPacedWriter(20_000 + i, (p) => producer.send(p));
    const bot = { writer, heard: 0, close: async () => undefined };
    const listener = await subscribe(room, producer.id, () => bot.heard++);
    bot.close = async () => {
      await writer.close();
      await listener.close();
      await producer.close();
      await pool.closeRoom(roomId);
    };
    bots.push(bot);
  }
  const start = performance.now();
  let n = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    for (const b of bots) b.writer.push(piece, 22_050);
    n++;
    timer = setTimeout(tick, Math.max(0, start + n * 200 - performance.now()));
  };
  tick();
  await new Promise((r) => setTimeout(r, WARMUP_MS / 2));
  const a = sample(mediaTids, pipelineTids);
  const heard0 = bots.map((b) => b.heard);
  await new Promise((r) => setTimeout(r, (SECONDS * 1000) / 2));
  const b = sample(mediaTids, pipelineTids);
  const wallS = (b.at - a.at) / 1000;
  const heard = bots.map((x, i) => (x.heard - heard0[i]!) / wallS);
  clearTimeout(timer);
  for (const x of bots) await x.close();
  return { main: (b.main - a.main) / wallS, media: (b.media - a.media) / wallS, heard };
}

// ---- run ----
const config = loadConfig({ ...process.env, STT_ENGINE: 'pocketsphinx', STT_POCKETSPHINX_DECODERS: '1', AGENT_TTS: 'espeak', AGENT_LLM: 'knowledge-base' }, () => 'bench-secret-0123456789abcdef0123456789');
const before0 = tids();
const pool = new MediaWorkerPool(1, { transport: { listenIp: '127.0.0.1' }, audioLevelIntervalMs: 250 }, log);
await pool.room('warm-up');
const mediaTids = new Set([...tids()].filter((t) => !before0.has(t)));
const before1 = tids();
const pipeline = new AudioPipeline();
await new Promise((r) => setTimeout(r, 500));
const pipelineTids = new Set([...tids()].filter((t) => !before1.has(t)));
const speech = await createSpeech(config.speech, log);
if (!speech.speech) throw new Error(`speech did not start: ${speech.problems.map((p) => p.message).join('; ')}`);
const store = new MemoryTurns();
const engines = createAgentEngines(config.agent, store, log);
const stt = speech.speech.stt;
const makeBot = (room: RoomMedia, callId: string) =>
  new AgentSession(
    { room, tracks: { read: (c, o) => pipeline.read(c, o) }, stt, conversation: engines.conversationFor(), tts: engines.tts!, logger: log.child({ roomId: callId }) },
    { callId, language: 'en', greeting: engines.greeting(undefined, 'en') },
  );

console.log(`agent cost bench: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${CALLS} concurrent calls, ${SECONDS} s measured per phase after ${WARMUP_MS / 1000} s warm-up`);
console.log(`caller: ${clip.id} (${fmt(clip.samples.length / 16_000, 2)} s) + 2 s silence, looped; threads: media worker ${[...mediaTids].join(',')}, audio pipeline ${[...pipelineTids].join(',')}\n`);

const idle = await phase('idle', pool, mediaTids, pipelineTids);
const turnsBefore = store.turns.length;
const bots = await phase('bot', pool, mediaTids, pipelineTids, makeBot);
const turns = store.turns.length - turnsBefore;

const pct = (msPerS: number) => fmt(msPerS / 10, 2); // ms of CPU per s of wall = % of a core
const rows = GROUPS.map((g) => [
  g === 'main' ? 'main thread' : g === 'media' ? 'media worker (SFU + paced writer)' : g === 'pipeline' ? 'audio pipeline worker (decode)' : g === 'rest' ? 'other threads (libuv pool: pocketsphinx; V8)' : 'espeak-ng processes',
  pct(idle.perSecond[g] / CALLS),
  pct(bots.perSecond[g] / CALLS),
  pct((bots.perSecond[g] - idle.perSecond[g]) / CALLS),
  idle.perSecond[g] > 0.5 ? fmt(bots.perSecond[g] / idle.perSecond[g], 2) : '-',
]);
const sum = (x: Groups) => GROUPS.reduce((n, g) => n + x[g], 0);
rows.push(['total', pct(sum(idle.perSecond) / CALLS), pct(sum(bots.perSecond) / CALLS), pct((sum(bots.perSecond) - sum(idle.perSecond)) / CALLS), fmt(sum(bots.perSecond) / sum(idle.perSecond), 2)]);
console.log('CPU per call, % of one core (ms of CPU per second of call / 10)');
console.log(table(['thread', 'idle call', 'bot call', 'bot − idle', 'ratio bot/idle'], rows));
const perCallMs = sum(bots.perSecond) / CALLS;
console.log(`\nbot calls per core (whole process incl. espeak, at this load): ${fmt(1000 / perCallMs, 1)}; marginal bot cost per call ${fmt((sum(bots.perSecond) - sum(idle.perSecond)) / CALLS, 1)} ms CPU per s`);
console.log(`main thread per bot call: ${fmt(bots.perSecond.main / CALLS, 2)} ms/s; media worker per bot call: ${fmt(bots.perSecond.media / CALLS, 2)} ms/s`);
const fmtHeard = (h: ReadonlyArray<readonly [number, number]>, s: number) => h.map(([c, b]) => `${fmt(c / s, 1)}/${fmt(b / s, 1)}`).join(' ');
console.log(`packets/s heard per call (caller/bot): idle ${fmtHeard(idle.heard, idle.wallS)}; bot ${fmtHeard(bots.heard, bots.wallS)}; bot turns taken in the bot phase: ${turns}`);

const speakWorker = await speakPhase('speak-worker', pool, mediaTids, pipelineTids, 'worker');
const speakMain = await speakPhase('speak-main', pool, mediaTids, pipelineTids, 'main');
console.log(`\nthe bot's mouth alone: ${CALLS} bots talking all the time, ${SECONDS / 2} s each; CPU per talking bot, % of one core`);
console.log(
  table(['paced writer', 'main thread', 'media worker', 'packets/s at each subscriber'], [
    ['in the media worker (now)', pct(speakWorker.main / CALLS), pct(speakWorker.media / CALLS), speakWorker.heard.map((h) => fmt(h, 1)).join(' ')],
    ['on the main thread (before)', pct(speakMain.main / CALLS), pct(speakMain.media / CALLS), speakMain.heard.map((h) => fmt(h, 1)).join(' ')],
  ]),
);
console.log(`main-thread CPU of a talking bot, worker writer / main-thread writer (same run): ${fmt(speakWorker.main / speakMain.main, 2)}`);

await speech.speech.close();
await pipeline.close();
await pool.close();
process.exit(0);
