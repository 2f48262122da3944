/**
 * Seed 001's `/signaling` `audio-data` stream drives the AI agent (issue 11): what a peer of a seed 001 call's
 * session sends is answered as `conversation/process` answers an upload, and the answer goes back to that peer as
 * `ai-response` (the seed's `{success, data: {conversation, audioUrl}}`), or `ai-error {error: {code, message}}`.
 *
 * What `audioData` may be (bytes, or a base64 string, or a `data:audio/…;base64,` URL):
 * - a whole WAV file (16-bit PCM, 8–96 kHz, the first channel): one spoken message, answered at once;
 * - raw PCM, signed 16-bit little-endian, mono, 16 kHz, in chunks of any size: the VAD finds where each spoken
 *   message ends and it is answered then.
 * The session must be a live seed 001 call's (`POST /api/v1/calls` gives its `sessionId`); audio of any other
 * session is counted and dropped, as before. One message is answered at a time per peer, in order.
 */
import type { VAD, VADStream } from '../ai/vad.js';
import { decodeWav } from '../ai/utils/pcm.js';
import type { CallService } from '../domain/calls/callService.js';
import { isLive } from '../domain/calls/callStatus.js';
import type { Logger } from '../log/logger.js';
import { createFrame } from '../media/audio/audioFrame.js';
import type { SessionAudioChunk, SessionAudioSink } from '../socket/signalingNamespace.js';
import { answerSpokenTurn, resample, SpokenTurnError, type SpokenTurnDeps } from './spokenTurn.js';

/** Messages of one peer waiting for an answer; more are refused with BUSY (a flood would queue without bound). */
const MAX_PENDING = 2;

/** Raw PCM's format: the one a browser's AudioWorklet or a phone gateway gives most easily. */
export const RAW_PCM_RATE = 16_000;

export interface SessionAudioAgentDeps extends SpokenTurnDeps {
  readonly calls: Pick<CallService, 'bySession'>;
  /** The VAD that ends raw PCM messages; undefined while speech is off. */
  readonly vad: () => VAD | undefined;
  readonly logger: Logger;
  /** Streams open at once (each holds a VAD state); more are refused with BUSY. Default 50. */
  readonly maxStreams?: number;
  /** A stream nobody has written to for this long is closed. Default 60 s. */
  readonly idleMs?: number;
}

interface PeerStream {
  callId: string;
  vad?: VADStream;
  /** Media time of the next raw sample (ms since the stream opened). */
  mediaMs: number;
  /** An odd byte left from the last raw chunk. */
  carry?: number;
  /** Messages are answered one after another. */
  answering: Promise<void>;
  /** Raw PCM was refused (no VAD): the peer has been told once. */
  refused?: boolean;
  /** Messages taken and not answered yet (bounded: each costs recognition, a model call and synthesis). */
  pending: number;
  idle?: NodeJS.Timeout;
  respond: SessionAudioChunk['respond'];
}

function bytesOf(audio: Uint8Array | string): Buffer {
  if (typeof audio !== 'string') return Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength);
  const comma = audio.startsWith('data:') ? audio.indexOf(',') : -1;
  return Buffer.from(comma >= 0 ? audio.slice(comma + 1) : audio, 'base64');
}

const isWav = (b: Buffer): boolean => b.length >= 12 && b.toString('ascii', 0, 4) === 'RIFF' && b.toString('ascii', 8, 12) === 'WAVE';

export class SessionAudioAgent implements SessionAudioSink {
  readonly #streams = new Map<string, PeerStream>();
  readonly #d: SessionAudioAgentDeps;

  constructor(deps: SessionAudioAgentDeps) {
    this.#d = deps;
  }

  push(chunk: SessionAudioChunk): void {
    void this.#take(chunk).catch((err: unknown) => this.#d.logger.warn({ err: err instanceof Error ? err.message : String(err), sessionId: chunk.sessionId }, 'audio-data: a chunk could not be taken'));
  }

  /** Streams open now (for tests and metrics). */
  get open(): number {
    return this.#streams.size;
  }

  close(): void {
    for (const key of [...this.#streams.keys()]) this.#end(key);
  }

  async #take(chunk: SessionAudioChunk): Promise<void> {
    const key = `${chunk.sessionId}\u0000${chunk.peerId}`;
    let s = this.#streams.get(key);
    if (!s) {
      const call = await this.#d.calls.bySession(chunk.sessionId);
      if (!call || call.channel !== 'api' || !isLive(call.status)) return;
      if (this.#streams.size >= (this.#d.maxStreams ?? 50)) {
        chunk.respond('ai-error', { error: { code: 'BUSY', message: 'the AI agent is answering as many callers as it can; send the message again in a moment, or use POST /api/v1/calls/conversation/process' } });
        return;
      }
      // Another chunk of this peer may have opened it while the call was looked up.
      s = this.#streams.get(key) ?? { callId: call.id, mediaMs: 0, answering: Promise.resolve(), pending: 0, respond: chunk.respond };
      this.#streams.set(key, s);
    }
    s.respond = chunk.respond;
    this.#touch(key, s);
    const bytes = bytesOf(chunk.audio);
    if (isWav(bytes)) {
      let wav: { samples: Int16Array; sampleRate: number };
      try {
        wav = decodeWav(bytes);
      } catch (e) {
        chunk.respond('ai-error', { error: { code: 'UNSUPPORTED_AUDIO', message: `audioData is a WAV file the agent cannot read (${(e as Error).message}); send 16-bit PCM` } });
        return;
      }
      if (wav.sampleRate < 8000 || wav.sampleRate > 96_000) {
        chunk.respond('ai-error', { error: { code: 'UNSUPPORTED_AUDIO', message: `audioData's sample rate ${wav.sampleRate} Hz is outside 8000–96000 Hz` } });
        return;
      }
      this.#answer(s, wav.samples, wav.sampleRate);
      return;
    }
    this.#raw(s, bytes);
  }

  #raw(s: PeerStream, bytes: Buffer): void {
    if (!s.vad) {
      const vad = this.#d.vad();
      if (!vad) {
        // Said once per stream, not once per chunk.
        if (!s.refused) s.respond('ai-error', { error: { code: 'SPEECH_UNAVAILABLE', message: 'raw PCM needs the VAD of speech recognition, which is off (STT_ENGINE); send whole WAV messages, or turn speech recognition on' } });
        s.refused = true;
        return;
      }
      s.vad = vad.stream();
      void this.#listen(s, s.vad);
    }
    let buf = bytes;
    if (s.carry !== undefined) buf = Buffer.concat([Buffer.from([s.carry]), bytes]);
    s.carry = buf.length % 2 === 1 ? buf[buf.length - 1] : undefined;
    const n = Math.floor(buf.length / 2);
    if (n === 0) return;
    const pcm = new Int16Array(n);
    for (let i = 0; i < n; i++) pcm[i] = buf.readInt16LE(i * 2);
    const rate = this.#d.vad()?.capabilities.sampleRate ?? RAW_PCM_RATE;
    s.vad.pushFrame(createFrame(resample(pcm, RAW_PCM_RATE, rate), rate, 1, s.mediaMs));
    s.mediaMs += (n / RAW_PCM_RATE) * 1000;
  }

  async #listen(s: PeerStream, vad: VADStream): Promise<void> {
    for await (const ev of vad) {
      if (ev.type === 'end_of_speech') this.#answer(s, ev.speech.samples, ev.speech.sampleRate);
    }
  }

  #answer(s: PeerStream, samples: Int16Array, sampleRate: number): void {
    if (s.pending >= MAX_PENDING) {
      s.respond('ai-error', { error: { code: 'BUSY', message: `the agent is still answering your last ${MAX_PENDING} messages; this one was dropped — wait for their ai-response before sending more` } });
      return;
    }
    s.pending++;
    s.answering = s.answering.then(async () => {
      try {
        const data = await answerSpokenTurn(this.#d, { callId: s.callId, samples, sampleRate }, this.#d.logger);
        s.respond('ai-response', { success: true, data });
      } catch (e) {
        if (e instanceof SpokenTurnError) s.respond('ai-error', { error: { code: e.code, message: e.message } });
        else {
          this.#d.logger.error({ err: e instanceof Error ? e.message : String(e), callId: s.callId }, 'audio-data: the agent failed to answer');
          s.respond('ai-error', { error: { code: 'INTERNAL', message: 'the AI agent could not answer this message; send it again' } });
        }
      } finally {
        s.pending--;
      }
    });
  }

  #touch(key: string, s: PeerStream): void {
    if (s.idle) clearTimeout(s.idle);
    s.idle = setTimeout(() => this.#end(key), this.#d.idleMs ?? 60_000);
    s.idle.unref();
  }

  #end(key: string): void {
    const s = this.#streams.get(key);
    if (!s) return;
    this.#streams.delete(key);
    if (s.idle) clearTimeout(s.idle);
    s.vad?.endInput();
  }
}
