/**
 * AI agent benchmark. An `AgentSession` in a stand-in room (the SFU's producer/consumer surface, in process) is fed
 * a LibriVox clip as 20 ms frames paced in real time, then silence; the bot's RTP goes to a counting sink. Per turn
 * it measures, on the wall clock, the last voiced sample fed → the first bot RTP packet (voice to voice), and
 * subtracts what is configuration, not work: the VAD's closing silence (VAD_MIN_SILENCE_MS) and the endpointing
 * delay. Two setups, same run:
 *   1. instant providers (STT answers a fixed text at once, the knowledge base, a TTS that returns a tone at once):
 *      the framework's own overhead — goal < 100 ms;
 *   2. embedded engines (pocketsphinx, knowledge base, espeak-ng): the full voice-to-voice breakdown.
 * Then CPU: N concurrent bot calls with the embedded engines, CPU seconds per call-second → bot calls per core.
 *
 *   npx tsx bench/agent.ts [--turns=5] [--calls=2]
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { KnowledgeBaseLLM, loadKnowledgeBase } from '../src/ai/providers/knowledgeBaseLlm.js';
import { EmbeddedSentimentAnalyzer } from '../src/ai/providers/embeddedSentiment.js';
import { EspeakTTS } from '../src/ai/providers/espeakTts.js';
import { PocketsphinxSTT } from '../src/ai/providers/pocketsphinx.js';
import { SileroVAD } from '../src/ai/providers/sileroVad.js';
import { StreamAdapter } from '../src/ai/streamAdapter.js';
import { STT, type SpeechData, type STTCapabilities } from '../src/ai/stt.js';
import { ChunkedStream, TTS, type TTSCapabilities } from '../src/ai/tts.js';
import type { Utterance } from '../src/ai/utils/pcm.js';
import { utteranceEndMs } from '../src/ai/utils/pcm.js';
import { AgentSession } from '../src/agent/agentSession.js';
import type { AgentTurn, AgentTurnStore, NewAgentTurn } from '../src/domain/agents/agentTurn.js';
import { ConversationService } from '../src/domain/agents/conversationService.js';
import { createLogger } from '../src/log/logger.js';
import type { AudioItem } from '../src/media/audio/audioTrack.js';
import { AsyncQueue } from '../src/ai/utils/asyncQueue.js';
import type { RoomMedia } from '../src/sfu/roomMedia.js';
import { framesOf, librivoxClips } from '../test/ai-audio.js';
import { localPacedWriter } from './lib/localPacedWriter.js';
import { fmt, percentile, sortedOf, table } from './lib/stats.js';

const arg = (name: string, d: number, max: number) => Math.max(1, Math.min(max, Number(new RegExp(`^--${name}=(\\d+)$`).exec(process.argv.find((a) => a.startsWith(`--${name}=`)) ?? '')?.[1] ?? d)));
const TURNS = arg('turns', 5, 20);
const CALLS = arg('calls', 2, 8);
const VAD_SILENCE_MS = 500;
const ENDPOINT_MIN_MS = 300;
const clip = librivoxClips().find((c) => c.id.endsWith('0880'))!;
const log = createLogger(process.env.BENCH_LOG ?? 'silent');

class InstantSTT extends STT {
  readonly label = 'instant';
  readonly capabilities: STTCapabilities = { streaming: false, interimResults: false, wordTimings: false, sampleRate: 16_000, languages: 'any' };
  async recognize(u: Utterance): Promise<SpeechData> {
    return { text: 'when do you open', language: 'en', startMs: u.startMs, endMs: utteranceEndMs(u), confidence: 1 };
  }
}

class InstantTTS extends TTS {
  readonly label = 'instant';
  readonly capabilities: TTSCapabilities = { sampleRate: 24_000, languages: 'any' };
  synthesize(): ChunkedStream {
    const s = new ChunkedStream(this.label, 24_000);
    const pcm = new Int16Array(24_000 / 5);
    for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin(i / 8));
    queueMicrotask(() => {
      s.pushPcm(pcm);
      s.end();
    });
    return s;
  }
}

class MemoryTurns implements AgentTurnStore {
  readonly turns: AgentTurn[] = [];
  async add(t: NewAgentTurn): Promise<AgentTurn> {
    const turn = { ...t, id: String(this.turns.length), seq: this.turns.length + 1, createdAt: new Date() };
    this.turns.push(turn);
    return turn;
  }
  async forCall(): Promise<AgentTurn[]> {
    return this.turns.slice(-20);
  }
}

/** The part of RoomMedia a session uses: a caller producer and the bot's direct producer. */
function standInRoom(onPacket: () => void): { room: RoomMedia; caller: AsyncQueue<AudioItem> } {
  const observer = new EventEmitter();
  const caller = new AsyncQueue<AudioItem>();
  const room = {
    roomId: 'bench',
    observer,
    peerJoined: () => undefined,
    producers: async () => [{ producerId: 'mic', peerId: 'caller', kind: 'audio', paused: false, direct: false, appData: {} }],
    createDirectProducer: async () => ({ id: 'bot', peerId: 'bot', kind: 'audio', paused: false, closed: false, observer: new EventEmitter(), send: onPacket, pause: async () => undefined, resume: async () => undefined, close: async () => undefined }),
    createDirectConsumer: async () => ({ id: 'c', producerId: 'mic', observer: new EventEmitter(), close: async () => undefined }),
    createPacedWriter: async (_p: unknown, o: { ssrc: number }) => localPacedWriter(o.ssrc, onPacket),
    closePeer: async () => undefined,
  };
  return { room: room as unknown as RoomMedia, caller };
}

interface Run {
  v2v: number[];
  cpuMs: number;
  wallMs: number;
  turns: AgentTurn[];
}

async function runCall(stt: STT, tts: TTS, turns: number): Promise<Run> {
  const vad = SileroVAD.load({ minSilenceMs: VAD_SILENCE_MS });
  const adapter = new StreamAdapter(stt, vad);
  const store = new MemoryTurns();
  const conversation = new ConversationService({ llm: new KnowledgeBaseLLM(loadKnowledgeBase('config/knowledge/default.json')), sentiment: new EmbeddedSentimentAnalyzer(), store, defaultSystemPrompt: 'bench', llmTimeoutMs: 5000 });
  let firstPacketAt: number | undefined;
  const { room, caller } = standInRoom(() => {
    firstPacketAt ??= performance.now();
  });
  const session = new AgentSession(
    { room, tracks: { read: () => caller }, stt: adapter, conversation, tts, logger: log.child({ roomId: 'bench' }) },
    { callId: 'bench', language: 'en', endpointing: { minDelayMs: ENDPOINT_MIN_MS, maxDelayMs: 1500 } },
  );
  await session.start();
  const v2v: number[] = [];
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  let mediaMs = 0;
  const pace = async (frames: AudioItem[]) => {
    const start = performance.now();
    for (let i = 0; i < frames.length; i++) {
      const due = start + i * 20;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      caller.put(frames[i]!);
    }
  };
  for (let t = 0; t < turns; t++) {
    await pace(framesOf(clip.samples, mediaMs));
    mediaMs += (clip.samples.length / 16_000) * 1000;
    const speechEnd = performance.now();
    firstPacketAt = undefined;
    // Silence while the bot answers: until its turn ended (at most 20 s; pocketsphinx is slow on a busy machine).
    let stop = false;
    const done = new Promise<void>((r) => session.once('turn', () => r())).then(() => {
      stop = true;
    });
    const silent = (async () => {
      for (let i = 0; i < 1000 && !stop; i++) {
        caller.put(framesOf(new Int16Array(320), mediaMs)[0]!);
        mediaMs += 20;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await Promise.race([done, silent]);
    stop = true;
    await silent;
    if (firstPacketAt !== undefined) v2v.push(firstPacketAt - speechEnd);
    // Let the bot finish speaking before the next question (no barge-in here).
    await new Promise((r) => setTimeout(r, 200));
    while (session.speaking) await new Promise((r) => setTimeout(r, 50));
  }
  const c = process.cpuUsage(c0);
  const wallMs = performance.now() - w0;
  await session.close();
  caller.close();
  await adapter.close();
  return { v2v, cpuMs: (c.user + c.system) / 1000, wallMs, turns: store.turns };
}

/** CPU ms of finished child processes (espeak-ng), from /proc/self/stat cutime+cstime (clock ticks of 10 ms). */
function childCpuMs(): number {
  try {
    const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[13]) + Number(f[14])) * 10;
  } catch {
    return 0;
  }
}

const row = (name: string, xs: number[]) => {
  const s = sortedOf(xs);
  return [name, String(xs.length), fmt(percentile(s, 0.5), 1), fmt(percentile(s, 0.9), 1), fmt(s[s.length - 1] ?? NaN, 1)];
};

console.log(`agent bench: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${TURNS} turns per setup, clip ${clip.id} (${fmt(clip.samples.length / 16_000, 2)} s)`);
console.log(`configured waits in every voice-to-voice figure: VAD closing silence ${VAD_SILENCE_MS} ms + endpointing ${ENDPOINT_MIN_MS} ms = ${VAD_SILENCE_MS + ENDPOINT_MIN_MS} ms\n`);

const instant = await runCall(new InstantSTT(), new InstantTTS(), TURNS);
// The session's own figure: its end-of-speech event → first packet, less the endpointing wait it was told to make.
const overhead = instant.turns.map((t) => t.metrics.voiceToVoiceMs).filter((x): x is number => x !== undefined).map((v) => v - ENDPOINT_MIN_MS);
const ps = await PocketsphinxSTT.create({ poolSize: 1 });
const embedded = await runCall(ps, new EspeakTTS(), TURNS);
const embeddedOverhead = embedded.turns.map((t) => t.metrics.voiceToVoiceMs).filter((x): x is number => x !== undefined).map((v) => v - ENDPOINT_MIN_MS - (0));

console.log('end of speech → first bot RTP packet (ms)');
console.log(
  table(['setup', 'turns', 'p50', 'p90', 'max'], [
    row('instant providers, last fed voiced frame → first packet', instant.v2v),
    row('instant providers, framework overhead (VAD end event → packet, minus endpointing)', overhead),
    row('embedded engines, last fed voiced frame → first packet', embedded.v2v),
    row('embedded engines, VAD end event → packet, minus endpointing', embeddedOverhead),
  ]),
);
const m = (k: keyof AgentTurn['metrics']) => embedded.turns.map((t) => t.metrics[k]).filter((x): x is number => x !== undefined);
console.log('\nembedded engines, per-turn breakdown as stored with each turn (ms)');
console.log(
  table(['stage', 'turns', 'p50', 'p90', 'max'], [
    row('eou delay (speech end event → turn decided)', m('eouDelayMs')),
    row('stt (speech end event → final)', m('sttMs')),
    row('llm ttft (knowledge base)', m('llmTtftMs')),
    row('tts ttfb (espeak-ng, first sentence)', m('ttsTtfbMs')),
    row('voice-to-voice (speech end event → first packet)', m('voiceToVoiceMs')),
  ]),
);

// CPU per concurrent bot call, embedded engines.
const child0 = childCpuMs();
const runs = await Promise.all(Array.from({ length: CALLS }, async () => runCall(await PocketsphinxSTT.create({ poolSize: 1 }), new EspeakTTS(), 2)));
const wall = Math.max(...runs.map((r) => r.wallMs));
// cpuUsage is per process: every call's window saw all the calls' CPU; take the longest window's figure once.
const cpu = Math.max(...runs.map((r) => r.cpuMs));
const childCpu = childCpuMs() - child0;
const perCall = (cpu + childCpu) / CALLS / wall;
console.log(`\n${CALLS} concurrent bot calls (embedded engines, 2 turns each): ${fmt(wall / 1000, 1)} s wall, ${fmt(cpu / 1000, 1)} s CPU in this process + ${fmt(childCpu / 1000, 1)} s in espeak-ng children`);
console.log(`CPU per bot call (while talking, no idle time): ${fmt(perCall * 100, 1)} % of a core → about ${fmt(1 / perCall, 1)} concurrent bot calls per core`);
const ratio = percentile(sortedOf(overhead), 0.5) / 100;
console.log(`\nframework overhead p50 vs the 100 ms goal: ${fmt(ratio, 2)}× of the budget`);
process.exit(0);
