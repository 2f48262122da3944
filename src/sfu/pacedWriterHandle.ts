/**
 * The main thread's handle on a paced writer that runs in the room's media worker (worker/mediaWorkerMain.ts):
 * PCM goes over in the order it is pushed (its bytes transferred, not copied); Opus encoding, RTP packetizing and
 * the 20 ms pacing happen on the worker's thread, next to the direct producer they feed, so a busy main thread
 * (speech recognition, signaling) neither delays nor bunches the bot's packets. `clearQueue()` reaches the worker
 * through a flag in shared memory that the writer reads before each packet (and then in one message): barge-in stops
 * the packets at the worker's next 20 ms tick even when its message queue is backed up.
 *
 * `playing` and the playout events follow the worker's notifications; each push, flush and clear carries a sequence
 * number so a stale "queue ran dry" (sent before the next push arrived) does not end a talkspurt that goes on.
 */
import { EventEmitter } from 'node:events';
import type { MediaWorker } from './mediaWorker.js';
import type { RoomMediaEvents } from './roomMediaEvents.js';
import type { WorkerNotifications } from './worker/protocol.js';

const FRAME_MS = 20;

export interface PacedWriterHandleEvents {
  /** The first packet of a talkspurt went out (`atMs`: Unix ms, on the worker). */
  'playout-start': [info: { atMs: number }];
  /** Everything pushed was sent, or the queue was cleared. */
  'playout-end': [info: { cleared: boolean; sentFrames: number }];
}

/** What the bot speaks through (the agent depends on this, not on the worker). */
export interface PacedWriterHandle extends EventEmitter<PacedWriterHandleEvents> {
  /** Packets are queued or going out. */
  readonly playing: boolean;
  /** Milliseconds of audio pushed and (by the wall clock) not yet sent. */
  readonly queuedMs: number;
  /** Mono PCM at `sampleRate` (copied; the caller keeps its buffer). */
  push(samples: Int16Array, sampleRate: number): void;
  /** The end of an utterance: the last partial frame goes out padded with silence. */
  flush(): void;
  /** Drops everything not sent yet; `lastPacketAtMs` (Unix ms) is when the last packet went out, if any did. */
  clearQueue(): Promise<{ droppedMs: number; lastPacketAtMs: number | null }>;
  close(): Promise<void>;
}

type RoomEvents = EventEmitter<RoomMediaEvents>;

export class WorkerPacedWriter extends EventEmitter<PacedWriterHandleEvents> implements PacedWriterHandle {
  #seq = 0;
  #playing = false;
  #closed = false;
  /** performance.now() by which everything pushed will have been sent. */
  #queuedUntil = 0;
  readonly #onStart = (n: WorkerNotifications['writer.playoutStart']): void => {
    if (n.producerId === this.producerId && !this.#closed) this.emit('playout-start', { atMs: n.atMs });
  };
  readonly #onEnd = (n: WorkerNotifications['writer.playoutEnd']): void => {
    if (n.producerId !== this.producerId || this.#closed || n.seq !== this.#seq) return;
    this.#playing = false;
    this.emit('playout-end', { cleared: n.cleared, sentFrames: n.sentFrames });
  };

  constructor(
    private readonly worker: MediaWorker,
    private readonly roomId: string,
    readonly producerId: string,
    private readonly room: RoomEvents,
    /** Shared with the worker's writer: the seq of the last clear asked for (see protocol.ts `writer.create`). */
    private readonly clearFlag: Int32Array,
  ) {
    super();
    room.on('writer.playoutStart', this.#onStart);
    room.on('writer.playoutEnd', this.#onEnd);
  }

  get playing(): boolean {
    return this.#playing;
  }

  get queuedMs(): number {
    return Math.max(0, this.#queuedUntil - performance.now());
  }

  push(samples: Int16Array, sampleRate: number): void {
    if (this.#closed || samples.length === 0) return;
    const now = performance.now();
    this.#queuedUntil = Math.max(now, this.#queuedUntil) + (samples.length / sampleRate) * 1000;
    // A copy is transferred: the caller's buffer may be a speech engine's cache or a view of a larger one.
    const own = samples.slice();
    this.#playing = true;
    this.worker.sendWriter({ type: 'writer-pcm', roomId: this.roomId, producerId: this.producerId, seq: ++this.#seq, samples: own, sampleRate });
  }

  flush(): void {
    if (this.#closed) return;
    this.#queuedUntil = Math.max(performance.now(), this.#queuedUntil) + FRAME_MS; // at most one padded frame
    this.#playing = true;
    this.worker.sendWriter({ type: 'writer-flush', roomId: this.roomId, producerId: this.producerId, seq: ++this.#seq });
  }

  async clearQueue(): Promise<{ droppedMs: number; lastPacketAtMs: number | null }> {
    if (this.#closed) return { droppedMs: 0, lastPacketAtMs: null };
    this.#queuedUntil = 0;
    this.#playing = false;
    const seq = ++this.#seq;
    // Seen by the worker's writer at its next packet, before the request below reaches it through the message queue.
    Atomics.store(this.clearFlag, 0, seq);
    return this.worker.request('writer.clear', { roomId: this.roomId, producerId: this.producerId, seq });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.room.off('writer.playoutStart', this.#onStart);
    this.room.off('writer.playoutEnd', this.#onEnd);
    // Whoever waits for the talkspurt to end is not left waiting.
    if (this.#playing) {
      this.#playing = false;
      this.emit('playout-end', { cleared: true, sentFrames: 0 });
    }
    await this.worker.request('writer.close', { roomId: this.roomId, producerId: this.producerId }).catch(() => undefined);
  }
}
