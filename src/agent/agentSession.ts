/**
 * One AI agent in one SFU room (after LiveKit agents' `AgentSession`): a peer with role `bot` and its own direct
 * producer, that listens to the caller, decides when the caller's turn ended, thinks, and speaks sentence by
 * sentence while the model is still writing; the caller speaking over it (barge-in) silences it at once.
 *
 *   caller's producer → direct consumer → audio pipeline worker (decode, 16 kHz) → VAD + STT (StreamAdapter)
 *     → end of turn (min/max endpointing delay, transcript check) → ConversationService (history, system prompt,
 *     transfer_to_human) → SentenceStream (TTS) → the media worker's paced writer (Opus, RTP, 20 ms, on the worker's
 *     thread) → direct producer → the room.
 *
 * Both sides' words go out as captions and into the transcript; every turn is stored with its latencies.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { SpeechStream, STT } from '../ai/stt.js';
import { SentenceStream, type TTS } from '../ai/tts.js';
import type { ConversationService, Reply } from '../domain/agents/conversationService.js';
import type { TurnMetrics, TurnOutcome } from '../domain/agents/agentTurn.js';
import type { Logger } from '../log/logger.js';
import type { AudioItem } from '../media/audio/audioTrack.js';
import type { PacedWriterHandle } from '../sfu/pacedWriterHandle.js';
import type { DirectConsumerHandle, DirectProducerHandle, RoomMedia } from '../sfu/roomMedia.js';
import type { ProducerInfo } from '../sfu/worker/protocol.js';
import type { AgentMetrics } from './agentMetrics.js';
import { endOfTurnDelay, type Endpointing } from './endOfTurn.js';

export interface AgentCaption {
  readonly utteranceId: string;
  readonly peerId: string;
  readonly role: 'bot' | 'customer';
  readonly text: string;
  readonly isFinal: boolean;
  readonly language: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly engine: string;
}

export interface AgentSessionDeps {
  readonly room: RoomMedia;
  readonly tracks: { read(consumer: DirectConsumerHandle, options: { sampleRate: number }): AsyncIterable<AudioItem> & { close(): void } };
  /** Streaming STT (VAD-cut), e.g. the captions' StreamAdapter. */
  readonly stt: STT;
  readonly conversation: ConversationService;
  readonly tts: TTS;
  readonly metrics?: AgentMetrics;
  readonly logger: Logger;
  /** Each caption (caller's and bot's) to the room's listeners. */
  readonly publish?: (caption: AgentCaption) => void;
  /** Each final line into the transcript (caller's text masked by the caller of this hook). */
  readonly record?: (caption: AgentCaption) => Promise<unknown>;
}

export interface AgentSessionOptions {
  /** Where the turns are stored (a consultation id, or the room id). */
  readonly callId: string;
  readonly systemPrompt?: string;
  /** `ko`, `en`, or undefined to follow the caller. */
  readonly language?: string;
  /** Said when the caller arrives. */
  readonly greeting?: string;
  readonly endpointing?: Partial<Endpointing>;
  /** Caller speech (after the VAD's own minimum) needed to interrupt the bot. Default 0 ms. */
  readonly bargeInMinMs?: number;
  /** Peer id of the bot in the room. Default `bot-<random>`. */
  readonly botPeerId?: string;
}

export interface AgentSessionEvents {
  /** The bot handed the caller over (after saying so). */
  transfer: [info: { reason: string }];
  /** A turn ended and was stored. */
  turn: [info: { outcome: TurnOutcome; userMessage: string; aiResponse: string; metrics: TurnMetrics; sentiment: Reply['sentiment'] }];
  /** The bot's audio was stopped by the caller; `stopMs` is speech detected → last packet out. */
  'barge-in': [info: { stopMs: number; droppedMs: number }];
  closed: [reason: string];
}

interface ActiveTurn {
  readonly abort: AbortController;
  readonly sentences: SentenceStream;
  interrupted: boolean;
  spoken: string[];
  /** The voice failed for this reply (the caller heard nothing, or only part). */
  ttsFailed?: boolean;
}

export class AgentSession extends EventEmitter<AgentSessionEvents> {
  readonly botPeerId: string;
  readonly #d: AgentSessionDeps;
  readonly #o: AgentSessionOptions & { endpointing: Endpointing; bargeInMinMs: number };
  #producer: DirectProducerHandle | undefined;
  #writer: PacedWriterHandle | undefined;
  #caller: { producerId: string; peerId: string; stream: SpeechStream; close(): void } | undefined;
  #active: ActiveTurn | undefined;
  #pendingText = '';
  #pendingLanguage: string | undefined;
  #speechEndedAt: number | undefined;
  #sttStartedAt: number | undefined;
  #sttMs: number | undefined;
  #eouTimer: NodeJS.Timeout | undefined;
  #bargeTimer: NodeJS.Timeout | undefined;
  #callerSpeaking = false;
  #greeted = false;
  #closed = false;
  #chain: Promise<void> = Promise.resolve();
  /** Bot lines' times count from the session's start (the caller's from the room's media clock). */
  readonly #startedAt = performance.now();
  readonly #onNewProducer = (p: ProducerInfo) => void this.#attach(p);
  readonly #onProducerClose = (p: { producerId: string }) => {
    if (this.#caller?.producerId === p.producerId) this.#detachCaller();
  };
  readonly #onRoomClose = (reason: string) => void this.close(`room-${reason}`);

  constructor(deps: AgentSessionDeps, options: AgentSessionOptions) {
    super();
    this.#d = deps;
    this.botPeerId = options.botPeerId ?? `bot-${randomUUID().slice(0, 8)}`;
    this.#o = {
      ...options,
      endpointing: { minDelayMs: options.endpointing?.minDelayMs ?? 300, maxDelayMs: options.endpointing?.maxDelayMs ?? 2000 },
      bargeInMinMs: options.bargeInMinMs ?? 0,
    };
  }

  get producerId(): string | undefined {
    return this.#producer?.id;
  }

  /** Whether the caller's microphone is attached. */
  get hasCaller(): boolean {
    return this.#caller !== undefined;
  }

  get speaking(): boolean {
    return this.#writer?.playing ?? false;
  }

  /** Joins the room as the bot: its producer opens (the room's clients get new-producer), then it listens. */
  async start(): Promise<void> {
    const room = this.#d.room;
    room.peerJoined(this.botPeerId, { role: 'bot', userId: 'ai-agent' });
    const ssrc = randomInt(1, 0xffff_fffe);
    this.#producer = await room.createDirectProducer(this.botPeerId, {
      kind: 'audio',
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48_000, channels: 2 }], encodings: [{ ssrc }] },
      appData: { source: 'bot', role: 'bot' },
    });
    const producer = this.#producer;
    this.#writer = await room.createPacedWriter(producer, { ssrc, payloadType: 111 });
    producer.observer.once('close', (reason) => void this.close(`producer-${reason}`));
    room.observer.on('newproducer', this.#onNewProducer);
    room.observer.on('producerclose', this.#onProducerClose);
    room.observer.on('close', this.#onRoomClose);
    this.#d.metrics?.sessions.inc();
    this.#d.logger.info({ botPeerId: this.botPeerId, producerId: producer.id }, 'AI agent joined the room');
    for (const p of await room.producers()) await this.#attach(p);
  }

  async close(reason = 'closed'): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#eouTimer);
    clearTimeout(this.#bargeTimer);
    this.#active?.abort.abort();
    this.#active?.sentences.abort();
    this.#detachCaller();
    const room = this.#d.room;
    room.observer.off('newproducer', this.#onNewProducer);
    room.observer.off('producerclose', this.#onProducerClose);
    room.observer.off('close', this.#onRoomClose);
    await this.#writer?.close();
    await this.#producer?.close().catch(() => undefined);
    // Gone from the room for everyone (its producer closed first, then `peerleft`).
    await room.closePeer(this.botPeerId).catch(() => undefined);
    this.#d.metrics?.sessions.dec();
    this.#d.logger.info({ reason }, 'AI agent left the room');
    this.emit('closed', reason);
  }

  /** The caller's microphone: the first audio producer that is not a server's. */
  async #attach(p: ProducerInfo): Promise<void> {
    if (this.#closed || this.#caller || p.kind !== 'audio' || p.direct || p.peerId === this.botPeerId) return;
    let consumer: DirectConsumerHandle;
    try {
      consumer = await this.#d.room.createDirectConsumer(p.producerId, { appData: { purpose: 'agent' } });
    } catch (err) {
      this.#d.logger.warn({ err: (err as Error).message, producerId: p.producerId }, 'AI agent could not read the caller');
      return;
    }
    if (this.#closed || this.#caller) return void consumer.close();
    const audio = this.#d.tracks.read(consumer, { sampleRate: this.#d.stt.capabilities.sampleRate });
    const stream = this.#d.stt.stream({ language: this.#o.language });
    const close = () => {
      audio.close();
      stream.close();
      void consumer.close();
    };
    this.#caller = { producerId: p.producerId, peerId: p.peerId, stream, close };
    void (async () => {
      for await (const item of audio) {
        if (stream.inputEnded) break;
        stream.pushFrame(item);
      }
      if (!stream.inputEnded) stream.endInput();
    })().catch((err: unknown) => this.#d.logger.warn({ err: (err as Error).message }, 'AI agent: caller audio reader stopped'));
    void this.#listen(stream, p.peerId);
    if (!this.#greeted && this.#o.greeting) {
      this.#greeted = true;
      this.#enqueue(() => this.#speakText(this.#o.greeting!));
    }
  }

  #detachCaller(): void {
    this.#caller?.close();
    this.#caller = undefined;
  }

  async #listen(stream: SpeechStream, peerId: string): Promise<void> {
    try {
      for await (const ev of stream) {
        if (this.#closed) break;
        switch (ev.type) {
          case 'start_of_speech':
            this.#callerSpeaking = true;
            this.#sttStartedAt = undefined;
            clearTimeout(this.#eouTimer);
            if (this.speaking || this.#active) {
              clearTimeout(this.#bargeTimer);
              const detectedAt = performance.timeOrigin + performance.now();
              // At once when no extra minimum is asked: the VAD has already heard its minimum of speech.
              if (this.#o.bargeInMinMs <= 0) this.#bargeIn(detectedAt);
              else this.#bargeTimer = setTimeout(() => this.#bargeIn(detectedAt), this.#o.bargeInMinMs);
            }
            break;
          case 'end_of_speech':
            this.#callerSpeaking = false;
            clearTimeout(this.#bargeTimer);
            this.#speechEndedAt = performance.now();
            this.#sttStartedAt = this.#speechEndedAt;
            // A final that came in while the caller was speaking again is answered once they stop.
            if (this.#pendingText) this.#scheduleTurn();
            break;
          case 'final_transcript': {
            const best = ev.alternatives[0];
            if (this.#sttStartedAt !== undefined) this.#sttMs = performance.now() - this.#sttStartedAt;
            if (!best || !best.text.trim()) break;
            const caption: AgentCaption = { utteranceId: ev.utteranceId, peerId, role: 'customer', text: best.text.trim(), isFinal: true, language: best.language, startMs: Math.round(best.startMs), endMs: Math.round(best.endMs), engine: ev.engine };
            this.#d.publish?.(caption);
            void this.#d.record?.(caption).catch((err: unknown) => this.#d.logger.warn({ err: (err as Error).message }, 'AI agent: caller line not stored'));
            this.#pendingText = this.#pendingText ? `${this.#pendingText} ${caption.text}` : caption.text;
            this.#pendingLanguage = best.language === 'ko' || best.language === 'en' ? best.language : undefined;
            if (!this.#callerSpeaking) this.#scheduleTurn();
            break;
          }
          case 'interim_transcript': {
            const best = ev.alternatives[0];
            if (best?.text.trim()) this.#d.publish?.({ utteranceId: ev.utteranceId, peerId, role: 'customer', text: best.text.trim(), isFinal: false, language: best.language, startMs: Math.round(best.startMs), endMs: Math.round(best.endMs), engine: ev.engine });
            break;
          }
          case 'recognition_error':
            this.#d.logger.warn({ code: ev.error.code }, `AI agent: an utterance could not be recognised: ${ev.error.message}`);
            break;
        }
      }
    } catch (err) {
      this.#d.logger.warn({ err: (err as Error).message }, 'AI agent: speech stream failed');
    }
  }

  #scheduleTurn(): void {
    clearTimeout(this.#eouTimer);
    const endedAt = this.#speechEndedAt ?? performance.now();
    const wait = Math.max(0, endedAt + endOfTurnDelay(this.#pendingText, this.#o.endpointing) - performance.now());
    this.#eouTimer = setTimeout(() => {
      const text = this.#pendingText;
      const language = this.#pendingLanguage;
      this.#pendingText = '';
      if (!text) return;
      const metrics: TurnMetrics = { eouDelayMs: Math.round(performance.now() - endedAt), ...(this.#sttMs !== undefined ? { sttMs: Math.round(this.#sttMs) } : {}) };
      this.#enqueue(() => this.#turn(text, language, endedAt, metrics));
    }, wait);
  }

  /** Turns run one after the other; a barge-in ends the current one early so the next follows at once. */
  #enqueue(job: () => Promise<void>): void {
    this.#chain = this.#chain.then(job).catch((err: unknown) => this.#d.logger.error({ err: (err as Error).message }, 'AI agent: a turn failed'));
  }

  /** `detectedAt`: Unix ms (sub-ms) when the caller's speech was heard, comparable with the worker's packet times. */
  #bargeIn(detectedAt: number): void {
    const active = this.#active;
    if (!active && !this.speaking) return;
    const cleared = this.#writer?.clearQueue() ?? Promise.resolve({ droppedMs: 0, lastPacketAtMs: null });
    if (active) {
      active.interrupted = true;
      active.abort.abort();
      active.sentences.abort();
    }
    void cleared.then(
      ({ droppedMs, lastPacketAtMs }) => {
        const stopMs = Math.max(0, (lastPacketAtMs ?? detectedAt) - detectedAt);
        this.#d.metrics?.bargeInStopMs.observe(stopMs / 1000);
        this.#d.logger.info({ stopMs, droppedMs }, 'AI agent interrupted by the caller');
        this.emit('barge-in', { stopMs, droppedMs });
      },
      (err: unknown) => this.#d.logger.warn({ err: (err as Error).message }, 'AI agent: the media worker did not stop the bot’s audio'),
    );
  }

  /** Speaks fixed text (the greeting) as a bot line. */
  async #speakText(text: string): Promise<void> {
    const sentences = new SentenceStream(this.#d.tts, { language: this.#o.language });
    const turn: ActiveTurn = { abort: new AbortController(), sentences, interrupted: false, spoken: [] };
    this.#active = turn;
    sentences.pushText(text);
    sentences.endInput();
    await this.#play(turn, () => undefined);
    this.#active = undefined;
  }

  async #turn(userText: string, language: string | undefined, speechEndedAt: number, metrics: TurnMetrics): Promise<void> {
    if (this.#closed) return;
    const abort = new AbortController();
    const lang = this.#o.language ?? language;
    const sentences = new SentenceStream(this.#d.tts, { language: lang ?? (/[\uac00-\ud7a3]/u.test(userText) ? 'ko' : 'en') });
    const turn: ActiveTurn = { abort, sentences, interrupted: false, spoken: [] };
    this.#active = turn;
    let firstPacketAt: number | undefined;
    let ttsTtfbMs: number | undefined;
    const replying = this.#d.conversation
      .reply({ callId: this.#o.callId, userText, language: lang, systemPrompt: this.#o.systemPrompt, signal: abort.signal, onText: (d) => sentences.pushText(d) })
      .finally(() => sentences.endInput());
    const playing = this.#play(turn, (ttfb) => {
      ttsTtfbMs ??= ttfb;
    }, (at) => {
      firstPacketAt ??= at;
    });
    const [reply] = await Promise.all([replying, playing]);
    this.#active = undefined;
    // A voice that fails cannot go on talking: the caller goes to a person, as when the model fails.
    const transfer = reply.transfer ?? (turn.ttsFailed && !turn.interrupted ? { reason: 'provider-failed:tts' } : undefined);
    const outcome: TurnOutcome = transfer ? 'transferred' : turn.interrupted ? 'interrupted' : reply.failure ? 'failed' : 'answered';
    const all: TurnMetrics = {
      ...metrics,
      ...reply.metrics,
      ...(ttsTtfbMs !== undefined ? { ttsTtfbMs: Math.round(ttsTtfbMs) } : {}),
      ...(firstPacketAt !== undefined ? { voiceToVoiceMs: Math.round(firstPacketAt - speechEndedAt) } : {}),
    };
    const spokenText = turn.interrupted ? turn.spoken.join(' ') : reply.aiResponse;
    await this.#d.conversation.record(reply, this.#o.callId, outcome, { metrics: all, spokenText }).catch((err: unknown) => this.#d.logger.warn({ err: (err as Error).message }, 'AI agent: turn not stored'));
    this.#d.metrics?.observeTurn(all, outcome);
    this.emit('turn', { outcome, userMessage: userText, aiResponse: spokenText, metrics: all, sentiment: reply.sentiment });
    // The caller asked for a person (or the model failed): talking over the bot's "I will connect you" does not undo it.
    if (transfer) this.emit('transfer', { reason: transfer.reason });
  }

  /** Plays each sentence's frames through the paced writer; resolves when the last packet is out (or on barge-in). */
  async #play(turn: ActiveTurn, onTtfb: (ms: number) => void, onFirstPacket?: (at: number) => void): Promise<void> {
    const writer = this.#writer;
    if (!writer) return;
    // The worker says when its first packet went out (Unix ms): as performance.now() on this thread.
    const started = ({ atMs }: { atMs: number }) => onFirstPacket?.(atMs - performance.timeOrigin);
    writer.once('playout-start', started);
    try {
      for await (const s of turn.sentences) {
        if (turn.interrupted || this.#closed) break;
        const lineStart = Math.round(performance.now() - this.#startedAt);
        let first = true;
        for await (const f of s.frames) {
          if (turn.interrupted) break;
          if (first && s.frames.ttfbMs !== undefined) onTtfb(s.frames.ttfbMs);
          first = false;
          writer.push(f.data, f.sampleRate);
        }
        if (turn.interrupted) break;
        turn.spoken.push(s.text);
        const caption: AgentCaption = { utteranceId: randomUUID(), peerId: this.botPeerId, role: 'bot', text: s.text, isFinal: true, language: /[\uac00-\ud7a3]/u.test(s.text) ? 'ko' : 'en', startMs: lineStart, endMs: lineStart + writer.queuedMs, engine: this.#d.tts.label };
        this.#d.publish?.(caption);
        void this.#d.record?.(caption).catch(() => undefined);
      }
      if (!turn.interrupted) {
        writer.flush();
        if (writer.playing) await new Promise<void>((r) => writer.once('playout-end', () => r()));
      }
    } catch (err) {
      turn.ttsFailed = true;
      this.#d.logger.warn({ err: (err as Error).message }, 'AI agent: speech synthesis failed for this reply; the caller is handed to a person');
    } finally {
      writer.off('playout-start', started);
    }
  }
}
