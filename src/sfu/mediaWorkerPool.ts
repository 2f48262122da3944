/**
 * Places rooms on media worker threads (one per core by default): a room stays on the
 * worker that created its router; a new room goes to the worker with the fewest rooms.
 * When a worker dies, only its rooms end (`room-closed` with the reason), a replacement
 * worker is started, and the server goes on.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../log/logger.js';
import { MediaWorker } from './mediaWorker.js';
import { RoomMedia } from './roomMedia.js';
import type { MediaWorkerData } from './worker/protocol.js';

export interface MediaWorkerPoolEvents {
  'room-closed': [roomId: string, reason: string];
}

export class MediaWorkerPool extends EventEmitter<MediaWorkerPoolEvents> {
  readonly workers: MediaWorker[] = [];
  private readonly rooms = new Map<string, Promise<RoomMedia>>();
  private readonly media = new Map<string, RoomMedia>();
  private closing = false;

  constructor(
    private readonly count: number,
    private readonly data: MediaWorkerData,
    private readonly logger: Logger,
  ) {
    super();
  }

  /** Starts the worker threads (done on first use otherwise). */
  warmUp(): void {
    if (this.closing) return;
    for (let i = this.workers.length; i < this.count; i++) this.workers.push(this.start(i));
  }

  private start(index: number): MediaWorker {
    const worker = new MediaWorker(index, this.data);
    worker.on('notification', (n) => {
      const room = this.media.get(n.roomId);
      if (room) (room.emit as (e: string, d: unknown) => boolean)(n.event, n.data);
    });
    worker.on('rtp', (tapId, packet) => {
      for (const roomId of worker.rooms) if (this.media.get(roomId)?.deliverRtp(tapId, packet)) return;
    });
    worker.once('died', (reason) => {
      if (this.closing) return;
      const lost = [...worker.rooms];
      this.logger.error({ worker: index, threadId: worker.threadId, reason, rooms: lost.length }, 'media worker died; closing its rooms and starting a new worker');
      for (const roomId of lost) this.dropRoom(roomId, 'media-worker-crashed');
      this.workers[index] = this.start(index);
    });
    this.logger.info({ worker: index, threadId: worker.threadId }, 'media worker started');
    const nice = this.data.nice;
    if (nice !== undefined) {
      worker.request('worker.priority', { nice }).then(
        (r) => this.logger.info({ worker: index, nice: r.nice }, 'media worker thread priority set'),
        (err: unknown) => this.logger.warn({ worker: index, err }, 'media worker thread priority not set (MEDIA_WORKER_NICE below 0 needs CAP_SYS_NICE); it runs at the process priority'),
      );
    }
    return worker;
  }

  /** The room's media, created on the least-loaded worker the first time. */
  room(roomId: string): Promise<RoomMedia> {
    let room = this.rooms.get(roomId);
    if (!room) {
      this.warmUp();
      const worker = this.workers.filter((w) => w.isAlive).sort((a, b) => a.rooms.size - b.rooms.size)[0];
      if (!worker) return Promise.reject(new Error('no media worker is running'));
      worker.rooms.add(roomId);
      room = worker.request('router.create', { roomId }).then(
        ({ rtpCapabilities }) => {
          const media = new RoomMedia(roomId, worker, rtpCapabilities);
          this.media.set(roomId, media);
          return media;
        },
        (err: unknown) => {
          worker.rooms.delete(roomId);
          this.rooms.delete(roomId);
          throw err;
        },
      );
      this.rooms.set(roomId, room);
    }
    return room;
  }

  workerOf(roomId: string): MediaWorker | undefined {
    return this.workers.find((w) => w.rooms.has(roomId));
  }

  /** Ends a room's media (last peer left). */
  async closeRoom(roomId: string): Promise<void> {
    const worker = this.workerOf(roomId);
    this.dropRoom(roomId, 'closed');
    await worker?.request('router.close', { roomId }).catch(() => undefined);
  }

  private dropRoom(roomId: string, reason: string): void {
    const media = this.media.get(roomId);
    this.rooms.delete(roomId);
    this.media.delete(roomId);
    for (const w of this.workers) w.rooms.delete(roomId);
    if (media) {
      media.emit('closed', reason);
      media.removeAllListeners();
    }
    if (reason !== 'closed') this.emit('room-closed', roomId, reason);
  }

  /** What each running worker holds (for metrics); workers not started yet are skipped. */
  async dump(): Promise<Array<{ worker: number; rooms: number; transports: number; producers: number; consumers: number }>> {
    const live = this.workers.filter((w) => w.isAlive);
    const dumps = await Promise.all(live.map((w) => w.request('worker.dump', {}).catch(() => undefined)));
    return live.flatMap((w, i) => {
      const d = dumps[i];
      return d ? [{ worker: w.index, rooms: d.rooms.length, transports: d.transports, producers: d.producers, consumers: d.consumers }] : [];
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
