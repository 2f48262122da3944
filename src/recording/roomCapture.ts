/**
 * Captures one room: every producer, now and later, the browsers' and the server's own (the AI
 * bot's voice is a direct producer), is read through a direct consumer (off the forwarding
 * loop) and written by the recorder thread as its own WebM file: Opus for a microphone, VP8
 * for a camera, as produced.
 * A leaver's track ends when its producer closes; `stop()` ends the rest and reports them all.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import type { DirectConsumerHandle, RoomMedia } from '../sfu/roomMedia.js';
import type { ProducerInfo } from '../sfu/worker/protocol.js';
import type { TrackKind, TrackSummary } from './trackWriter.js';
import type { RecorderThread, RecordingTrackHandle } from './recorderThread.js';

export interface CapturedTrack {
  id: string;
  producerId: string;
  peerId: string;
  kind: TrackKind;
  path: string;
  summary: TrackSummary;
}

interface Live {
  id: string;
  producerId: string;
  peerId: string;
  kind: TrackKind;
  path: string;
  consumer: DirectConsumerHandle;
  handle: RecordingTrackHandle;
}

export class RoomCapture {
  private readonly live = new Map<string, Live>();
  private readonly ended: CapturedTrack[] = [];
  private readonly pending = new Set<Promise<unknown>>();
  private stopped = false;
  private readonly onNew = (p: ProducerInfo): void => this.track(p);
  private readonly onClose = (): void => void this.stop();
  private readonly onFailed = (trackId: string, error: string): void => {
    if ([...this.live.values()].some((t) => t.id === trackId)) this.failed(error);
  };

  private constructor(
    readonly room: RoomMedia,
    private readonly dir: string,
    private readonly recorder: RecorderThread,
    private readonly failed: (error: string) => void,
    private readonly logger: Logger,
  ) {}

  /** Starts recording every producer of the room into `dir`. */
  static async start(room: RoomMedia, dir: string, recorder: RecorderThread, onFailed: (error: string) => void, logger: Logger): Promise<RoomCapture> {
    const capture = new RoomCapture(room, dir, recorder, onFailed, logger);
    room.observer.on('newproducer', capture.onNew);
    room.observer.on('close', capture.onClose);
    recorder.on('failed', capture.onFailed);
    const existing = await room.producers();
    logger.debug({ producers: existing.map((p) => ({ id: p.producerId, kind: p.kind, direct: p.direct })) }, 'recording: capturing the room');
    for (const p of existing) capture.track(p);
    return capture;
  }

  /** Peers whose tracks are being written now. */
  get recordingPeers(): string[] {
    return [...new Set([...this.live.values()].map((t) => t.peerId))];
  }

  private track(p: ProducerInfo): void {
    if (this.stopped || this.live.has(p.producerId)) return;
    const kind: TrackKind = p.kind;
    const opening = (async () => {
      const id = randomUUID();
      const path = join(this.dir, `${id}.webm`);
      let handle: RecordingTrackHandle | undefined;
      let consumer: DirectConsumerHandle;
      try {
        consumer = await this.room.createDirectConsumer(p.producerId, { appData: { purpose: 'recording' }, transferReader: (port) => (handle = this.recorder.record(id, port, path, kind)) });
      } catch (err) {
        void handle?.finish();
        this.logger.warn({ producerId: p.producerId, err: err instanceof Error ? err.message : String(err) }, 'recording: could not read this producer; its track is missing from the recording');
        return;
      }
      if (!handle) return;
      if (this.stopped) {
        await consumer.close();
        await handle.finish();
        return;
      }
      const live: Live = { id, producerId: p.producerId, peerId: p.peerId, kind, path, consumer, handle };
      this.live.set(p.producerId, live);
      void handle.finished.then((summary) => {
        this.live.delete(p.producerId);
        if (summary.packets > 0) this.ended.push({ id, producerId: p.producerId, peerId: p.peerId, kind, path, summary });
        else this.logger.info({ producerId: p.producerId, peerId: p.peerId, endReason: summary.endReason, error: summary.error }, 'recording: a producer sent nothing while it was recorded; no track for it');
      });
    })();
    this.pending.add(opening);
    void opening.finally(() => this.pending.delete(opening));
  }

  /** Ends every track (idempotent) and resolves with those that carry media. */
  async stop(): Promise<CapturedTrack[]> {
    if (!this.stopped) {
      this.stopped = true;
      this.room.observer.off('newproducer', this.onNew);
      this.room.observer.off('close', this.onClose);
      this.recorder.off('failed', this.onFailed);
    }
    await Promise.all([...this.pending]);
    const live = [...this.live.values()];
    await Promise.all(
      live.map(async (t) => {
        await t.handle.finish();
        await t.consumer.close();
      }),
    );
    // The `finished` callbacks above ran before `finish()` resolved here.
    await Promise.resolve();
    return [...this.ended].sort((a, b) => (a.summary.startedAtMs ?? 0) - (b.summary.startedAtMs ?? 0));
  }
}
