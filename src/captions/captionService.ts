/**
 * Live captions: the server hears every captioned room. For each audio producer of a room with
 * captions on, a direct consumer is read off the main thread by the audio pipeline (16 kHz
 * mono `AudioFrame`s with gaps), streamed into the configured speech engine (VAD-cut,
 * fallback-chained), masked, and published as `caption` events; each final utterance is kept
 * in the transcript (masked text only). Who spoke comes from the speaker's credential.
 *
 *   producer → DirectConsumer ─port→ pipeline worker → AudioTrack → SpeechStream
 *            → interim / final → moderation → publish(caption) [+ transcript on final]
 */
import type { SpeechStream, SpeechData, STT } from '../ai/stt.js';
import type { Logger } from '../log/logger.js';
import { frameDurationMs } from '../media/audio/audioFrame.js';
import { isGap, type AudioItem } from '../media/audio/audioTrack.js';
import type { TextMasker, TimedWord } from '../moderation/types.js';
import type { DirectConsumerHandle, RoomMedia } from '../sfu/roomMedia.js';
import type { ProducerInfo } from '../sfu/worker/protocol.js';
import type { MaskedSpan, NewUtterance, SpeakerRole } from '../domain/transcripts/transcript.js';

/** What every listener of a captioned room receives. */
export interface Caption {
  utteranceId: string;
  peerId: string;
  userId: string;
  role: SpeakerRole;
  name: string;
  /** Masked: each masked character is `*`; `maskedSpans` says where. */
  text: string;
  maskedSpans: MaskedSpan[];
  isFinal: boolean;
  /** Milliseconds since the room started. */
  startMs: number;
  endMs: number;
  language: string;
  engine: string;
}

/**
 * Whether a room's speech is being captioned, sent beside the captions so a page can say why it shows none:
 * `off` (captions are not wanted for this call), `no_engine` (no speech engine could start on this server),
 * `engine_failed` (the engine stopped answering; the next utterance it recognises turns captions back on).
 */
export type CaptionUnavailableReason = 'off' | 'no_engine' | 'engine_failed';
export type CaptionStatus = { available: true } | { available: false; reason: CaptionUnavailableReason; engine?: string };

export interface Speaker {
  userId: string;
  role: SpeakerRole;
  name: string;
}

/** Something that turns one producer's audio into items (the audio pipeline). */
export interface TrackSource {
  read(consumer: DirectConsumerHandle, options: { sampleRate: number }): AsyncIterable<AudioItem> & { close(): void };
}

export interface CaptionServiceDeps {
  rooms: { room(roomId: string): Promise<RoomMedia> };
  tracks: TrackSource;
  /** The streaming STT (VAD + engine chain). */
  stt: STT;
  masker: TextMasker;
  /** Who a peer of a room is, from its credential; undefined when the peer is unknown. */
  speakerOf(roomId: string, peerId: string): Speaker | undefined;
  /** Sends a caption to everyone who may hear its speaker. */
  publish(roomId: string, caption: Caption, consultationId: string | null): void;
  /** Tells everyone in the room that captions became (un)available. */
  announce(roomId: string, status: CaptionStatus, consultationId: string | null): void;
  /** Keeps a final utterance. */
  record(u: NewUtterance): Promise<unknown>;
  language?: string;
  logger: Logger;
}

interface Captioned {
  roomId: string;
  consultationId: string | null;
  room: RoomMedia;
  tracks: Map<string, { consumer: DirectConsumerHandle; stream: SpeechStream; close(): void; drain(): void; peerId: string; /** Media time up to which audio went into the speech stream. */ heardMs: number }>;
  /** Unavailable while the engine fails, available again after it recognises an utterance. */
  status: CaptionStatus;
  detach(): void;
}

function maskedSpansOf(masked: string, spans: ReadonlyArray<{ start: number; end: number; category: string }>): MaskedSpan[] {
  return spans.map((s) => ({ start: s.start, end: s.end, category: s.category })).filter((s) => s.end <= masked.length);
}

/** Words with times for the masker: the engine's own, or the text spread evenly over the utterance. */
function timedWords(d: SpeechData): TimedWord[] {
  if (d.words && d.words.length > 0) return d.words.map((w) => ({ text: w.word, startMs: w.startMs, endMs: w.endMs }));
  const words = d.text.split(/\s+/).filter((w) => w.length > 0);
  const total = words.reduce((n, w) => n + w.length, 0) || 1;
  const span = Math.max(0, d.endMs - d.startMs);
  let at = d.startMs;
  return words.map((w) => {
    const len = (span * w.length) / total;
    const word = { text: w, startMs: Math.round(at), endMs: Math.round(at + len) };
    at += len;
    return word;
  });
}

/** What a room's captions still owe: utterances begun and not final yet, finals not stored yet. */
interface Owed {
  open: Set<string>;
  writes: number;
  waiters: Set<() => void>;
}

/** How far the audio heard may stay short of what the recorder wrote: the two readers' clocks differ by their packets' arrival. */
const HEARD_TOLERANCE_MS = 40;

/** How long a disabled room's streams may take to finish what they heard before they are closed outright. */
const DRAIN_LIMIT_MS = 30_000;

/** What a recording asks captions to have heard at stop: a speaker's audio up to `mediaMs` (ms on the room's clock). */
export interface HeardUntil {
  peerId: string;
  mediaMs: number;
}

export class CaptionService {
  private readonly rooms = new Map<string, Captioned>();
  private readonly starting = new Map<string, Promise<void>>();
  private readonly owed = new Map<string, Owed>();

  constructor(private readonly deps: CaptionServiceDeps) {}

  /** The engine that captions (for logs and the posture line). */
  get engine(): string {
    return this.deps.stt.label;
  }

  isOn(roomId: string): boolean {
    return this.rooms.has(roomId);
  }

  /**
   * Resolves once every utterance begun in the room (start of speech or an interim caption)
   * has its final caption stored or failed, or after `timeoutMs`, whichever is first; at once
   * when nothing is owed (or the room is not captioned). Recording waits on this at stop so
   * that the last masked words are bleeped.
   */
  async settle(roomId: string, timeoutMs: number, heardUntil: readonly HeardUntil[] = []): Promise<{ settled: boolean; waitedMs: number; open: number }> {
    if (heardUntil.length > 0) return this.settleHeard(roomId, timeoutMs, heardUntil);
    const began = Date.now();
    const o = this.owed.get(roomId);
    if (!o || (o.open.size === 0 && o.writes === 0)) return { settled: true, waitedMs: 0, open: 0 };
    let done!: () => void;
    const free = new Promise<void>((resolve) => (done = resolve));
    o.waiters.add(done);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
    const late = await Promise.race([free.then(() => false), timedOut]);
    clearTimeout(timer);
    o.waiters.delete(done);
    return { settled: !late, waitedMs: Date.now() - began, open: o.open.size + o.writes };
  }

  /**
   * `settle`, when the recording says how far each speaker's audio went: first until the captions have heard that
   * audio (on a loaded machine the pipeline lags, and words said just before the stop were not begun yet when the
   * stop came, so nothing was owed and their bleeps were missed), then until what it began is stored.
   */
  private async settleHeard(roomId: string, timeoutMs: number, heardUntil: readonly HeardUntil[]): Promise<{ settled: boolean; waitedMs: number; open: number }> {
    const began = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<true>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
    const owedNow = (): number => {
      const o = this.owed.get(roomId);
      return o ? o.open.size + o.writes : 0;
    };
    let wake: (() => void) | undefined;
    try {
      for (;;) {
        const changed = new Promise<false>((resolve) => this.changesOf(roomId).add((wake = () => resolve(false))));
        if (!this.behind(roomId, heardUntil)) {
          // What the last audio heard began reaches `open` through the speech stream's queues (promise jobs) first.
          await new Promise((resolve) => setImmediate(resolve));
          if (!this.behind(roomId, heardUntil) && owedNow() === 0) return { settled: true, waitedMs: Date.now() - began, open: 0 };
        }
        if (await Promise.race([changed, timedOut])) return { settled: false, waitedMs: Date.now() - began, open: owedNow() };
      }
    } finally {
      clearTimeout(timer);
      const set = this.changes.get(roomId);
      if (wake) set?.delete(wake);
      if (set?.size === 0) this.changes.delete(roomId);
    }
  }

  /** Whether a live caption track of one of these speakers has not heard their audio that far yet. */
  private behind(roomId: string, heardUntil: readonly HeardUntil[]): boolean {
    const c = this.rooms.get(roomId);
    if (!c) return false;
    return heardUntil.some((h) => [...c.tracks.values()].some((t) => t.peerId === h.peerId && t.heardMs < h.mediaMs - HEARD_TOLERANCE_MS));
  }

  private readonly changes = new Map<string, Set<() => void>>();

  private changesOf(roomId: string): Set<() => void> {
    let set = this.changes.get(roomId);
    if (!set) {
      set = new Set();
      this.changes.set(roomId, set);
    }
    return set;
  }

  /** Wakes whoever waits in `settleHeard` for this room (heard audio, a track ended, something owed was paid). */
  private changed(roomId: string): void {
    const set = this.changes.get(roomId);
    if (!set || set.size === 0) return;
    const wake = [...set];
    set.clear();
    for (const w of wake) w();
  }

  private owedOf(roomId: string): Owed {
    let o = this.owed.get(roomId);
    if (!o) {
      o = { open: new Set(), writes: 0, waiters: new Set() };
      this.owed.set(roomId, o);
    }
    return o;
  }

  private paid(roomId: string): void {
    this.changed(roomId);
    const o = this.owed.get(roomId);
    if (!o || o.open.size > 0 || o.writes > 0) return;
    for (const w of [...o.waiters]) w();
    // Forgotten once the room is no longer captioned (its tracks hold this object while they run).
    if (!this.rooms.has(roomId) && !this.starting.has(roomId)) this.owed.delete(roomId);
  }

  /** The room's caption status (undefined when the room is not captioned). */
  statusOf(roomId: string): CaptionStatus | undefined {
    return this.rooms.get(roomId)?.status;
  }

  private setStatus(c: Captioned, status: CaptionStatus): void {
    if (c.status.available === status.available) return;
    c.status = status;
    this.deps.announce(c.roomId, status, c.consultationId);
  }

  /** Turns captions on for a room (idempotent): every audio producer in it, now and later. */
  enable(roomId: string, consultationId: string | null): Promise<void> {
    if (this.rooms.has(roomId)) return Promise.resolve();
    const pending = this.starting.get(roomId);
    if (pending) return pending;
    const start = this.start(roomId, consultationId).finally(() => this.starting.delete(roomId));
    this.starting.set(roomId, start);
    return start;
  }

  /** Turns captions off for a room: its readers and streams stop. */
  disable(roomId: string, how: 'drain' | 'now' = 'drain'): void {
    const c = this.rooms.get(roomId);
    if (!c) return;
    this.rooms.delete(roomId);
    c.detach();
    // Draining: each reader stops at what was received and the speech engine finishes what it heard. A call that ends
    // by hang-up closes the room while the last words are being recognised; closing the streams outright dropped
    // them from the transcript, and so from the recording's bleeps.
    for (const t of c.tracks.values()) (how === 'drain' ? t.drain : t.close)();
    c.tracks.clear();
    this.paid(roomId);
  }

  /** Shutdown: every stream stops now. */
  close(): void {
    for (const roomId of [...this.rooms.keys()]) this.disable(roomId, 'now');
  }

  private async start(roomId: string, consultationId: string | null): Promise<void> {
    const room = await this.deps.rooms.room(roomId);
    const onNew = (p: ProducerInfo) => void this.track(roomId, p);
    const onClose = () => this.disable(roomId);
    room.observer.on('newproducer', onNew);
    room.observer.on('close', onClose);
    const captioned: Captioned = {
      roomId,
      consultationId,
      room,
      tracks: new Map(),
      status: { available: true },
      detach: () => {
        room.observer.off('newproducer', onNew);
        room.observer.off('close', onClose);
      },
    };
    this.rooms.set(roomId, captioned);
    this.deps.logger.info({ roomId, engine: this.engine }, 'captions on');
    for (const p of await room.producers()) void this.track(roomId, p);
  }

  /** One producer's audio → captions, until the producer or the room goes. */
  private async track(roomId: string, producer: ProducerInfo): Promise<void> {
    const c = this.rooms.get(roomId);
    if (!c || producer.kind !== 'audio' || producer.direct || c.tracks.has(producer.producerId)) return;
    const log = this.deps.logger.child({ roomId, producerId: producer.producerId, peerId: producer.peerId });
    let consumer: DirectConsumerHandle;
    try {
      consumer = await c.room.createDirectConsumer(producer.producerId, { appData: { purpose: 'captions' } });
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'captions: could not read this producer; its speaker goes uncaptioned');
      return;
    }
    if (this.rooms.get(roomId) !== c) {
      void consumer.close();
      return;
    }
    const audio = this.deps.tracks.read(consumer, { sampleRate: this.deps.stt.capabilities.sampleRate });
    const stream = this.deps.stt.stream({ language: this.deps.language });
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      audio.close();
      stream.close();
      void consumer.close();
    };
    // The consumer's close reaches the reader after what it queued, so the audio ends, the stream's input ends, its last
    // results come out and the loop below closes the rest.
    const drain = () => {
      void consumer.close();
      // A reader or engine that never ends is stopped all the same.
      setTimeout(close, DRAIN_LIMIT_MS).unref();
    };
    const entry = { consumer, stream, close, drain, peerId: producer.peerId, heardMs: Number.NEGATIVE_INFINITY };
    c.tracks.set(producer.producerId, entry);
    consumer.observer.once('close', () => {
      if (!stream.inputEnded) stream.endInput();
    });

    // Frames in (ends when the producer or room closes) …
    const feed = (async () => {
      for await (const item of audio) {
        if (stream.inputEnded) break;
        stream.pushFrame(item);
        entry.heardMs = item.timestampMs + (isGap(item) ? item.durationMs : frameDurationMs(item));
        this.changed(roomId);
      }
      if (!stream.inputEnded) stream.endInput();
    })().catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'captions: audio reader stopped'));

    // … and captions out. Utterances begun and not final yet are owed to whoever waits in `settle`.
    const owed = this.owedOf(roomId);
    const key = (utteranceId: string) => `${producer.producerId}:${utteranceId}`;
    try {
      for await (const ev of stream) {
        if (ev.type === 'start_of_speech' || ev.type === 'interim_transcript') owed.open.add(key(ev.utteranceId));
        if (ev.type === 'final_transcript' || ev.type === 'recognition_error') {
          // Settled after emitCaption below has counted the final's write.
          queueMicrotask(() => {
            owed.open.delete(key(ev.utteranceId));
            this.paid(roomId);
          });
        }
        if (ev.type === 'recognition_error') {
          log.warn({ code: ev.error.code, engine: ev.error.engine }, `captions: an utterance could not be recognised: ${ev.error.message}`);
          if (ev.error.code !== 'closed') this.setStatus(c, { available: false, reason: 'engine_failed', engine: ev.error.engine });
          continue;
        }
        if (ev.type !== 'interim_transcript' && ev.type !== 'final_transcript') continue;
        const best = ev.alternatives[0];
        if (!best || best.text.trim().length === 0) continue;
        if (ev.type === 'final_transcript') this.setStatus(c, { available: true });
        this.emitCaption(c, producer.peerId, ev.utteranceId, best, ev.engine, ev.type === 'final_transcript', log);
      }
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'captions: speech stream failed; this speaker goes uncaptioned');
    } finally {
      await feed;
      close();
      if (c.tracks.get(producer.producerId)?.consumer === consumer) c.tracks.delete(producer.producerId);
      for (const k of [...owed.open]) if (k.startsWith(`${producer.producerId}:`)) owed.open.delete(k);
      this.paid(roomId);
      this.changed(roomId);
    }
  }

  private emitCaption(c: Captioned, peerId: string, utteranceId: string, d: SpeechData, engine: string, isFinal: boolean, log: Logger): void {
    const speaker = this.deps.speakerOf(c.roomId, peerId) ?? { userId: peerId, role: 'participant' as const, name: peerId };
    const language = d.language;
    const timed = isFinal ? this.deps.masker.maskTimedWords(timedWords(d), language === 'ko' || language === 'en' ? language : undefined) : undefined;
    const masked = timed ?? this.deps.masker.mask(d.text, language === 'ko' || language === 'en' ? language : undefined);
    const caption: Caption = {
      utteranceId,
      peerId,
      userId: speaker.userId,
      role: speaker.role,
      name: speaker.name,
      text: masked.masked,
      maskedSpans: maskedSpansOf(masked.masked, masked.spans),
      isFinal,
      startMs: Math.round(d.startMs),
      endMs: Math.round(d.endMs),
      language,
      engine: d.engine ?? engine,
    };
    this.deps.publish(c.roomId, caption, c.consultationId);
    if (!isFinal) return;
    const owed = this.owedOf(c.roomId);
    owed.writes++;
    void this.deps
      .record({
        roomId: c.roomId,
        consultationId: c.consultationId,
        utteranceId,
        peerId,
        userId: speaker.userId,
        role: speaker.role,
        name: speaker.name,
        startMs: caption.startMs,
        endMs: caption.endMs,
        text: caption.text,
        spans: caption.maskedSpans,
        mediaSpans: (timed?.mediaSpans ?? []).map((m) => ({ startMs: Math.round(m.startMs), endMs: Math.round(m.endMs) })),
        language,
        engine: caption.engine,
        confidence: Number.isFinite(d.confidence) ? d.confidence : null,
      })
      .catch((err: unknown) => log.error({ err: err instanceof Error ? err.message : String(err) }, 'captions: the transcript line could not be stored'))
      .finally(() => {
        owed.writes--;
        this.paid(c.roomId);
      });
  }
}
