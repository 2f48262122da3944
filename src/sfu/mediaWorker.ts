/**
 * Main-thread handle of one media worker thread: typed requests with replies, and the
 * worker's notifications and tapped RTP as events. When the thread dies every pending
 * request fails and `died` is emitted once.
 */
import { EventEmitter } from 'node:events';
import { Worker, type Transferable } from 'node:worker_threads';
import { ParleyError } from '../errors.js';
import type { MediaWorkerData, WorkerMethod, WorkerMethods, WorkerNotification, WorkerReply, WorkerRtpIn, WorkerRtpOut, WorkerWriterIn } from './worker/protocol.js';

export interface MediaWorkerEvents {
  notification: [notification: WorkerNotification];
  rtp: [tapId: string, packet: Uint8Array];
  died: [reason: string];
}

const REQUEST_TIMEOUT_MS = 10_000;

function spawnThread(data: MediaWorkerData): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    // Running from TypeScript sources (tests, `npm run dev`): the thread registers tsx first.
    const entry = new URL('./worker/mediaWorkerMain.ts', here).href;
    return new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`, { eval: true, workerData: data });
  }
  return new Worker(new URL('./worker/mediaWorkerMain.js', here), { workerData: data });
}

export class MediaWorker extends EventEmitter<MediaWorkerEvents> {
  readonly rooms = new Set<string>();
  private readonly thread: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private nextId = 1;
  private dead = false;

  constructor(
    readonly index: number,
    data: MediaWorkerData,
  ) {
    super();
    this.thread = spawnThread(data);
    this.thread.on('message', (msg: WorkerReply | WorkerNotification | WorkerRtpOut) => {
      if (msg.type === 'reply') {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        clearTimeout(p.timer);
        if (msg.ok) p.resolve(msg.result);
        else p.reject(new ParleyError(msg.error.code, msg.error.message));
      } else if (msg.type === 'notification') {
        this.emit('notification', msg);
      } else {
        this.emit('rtp', msg.tapId, msg.packet);
      }
    });
    this.thread.on('error', (err) => this.die(`crashed: ${err.message}`));
    this.thread.on('exit', (code) => this.die(`exited with code ${code}`));
  }

  get threadId(): number {
    return this.thread.threadId;
  }

  get isAlive(): boolean {
    return !this.dead;
  }

  /** `transfer` moves objects in `params` (a MessagePort) to the worker instead of copying them. */
  request<M extends WorkerMethod>(method: M, params: WorkerMethods[M]['params'], transfer: readonly Transferable[] = []): Promise<WorkerMethods[M]['result']> {
    if (this.dead) return Promise.reject(new ParleyError('INTERNAL', 'media worker is gone; rejoin the room'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ParleyError('INTERNAL', `media worker did not answer ${method} within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.thread.postMessage({ type: 'request', id, method, params }, transfer);
    });
  }

  /** Feeds RTP into a direct producer (fire and forget; the bytes are transferred). */
  sendRtp(roomId: string, producerId: string, packet: Uint8Array): void {
    if (this.dead) return;
    const copy = packet.slice();
    this.thread.postMessage({ type: 'rtp-in', roomId, producerId, packet: copy } as WorkerRtpIn, [copy.buffer]);
  }

  /** PCM or a flush for a paced writer (fire and forget, in order with requests; PCM bytes are transferred). */
  sendWriter(message: WorkerWriterIn): void {
    if (this.dead) return;
    this.thread.postMessage(message, message.type === 'writer-pcm' ? [message.samples.buffer as ArrayBuffer] : []);
  }

  /** Ends the thread (also how tests simulate a crash). */
  async terminate(): Promise<void> {
    await this.thread.terminate();
  }

  private die(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new ParleyError('INTERNAL', `media worker ${reason}; rejoin the room`));
    }
    this.pending.clear();
    this.emit('died', reason);
  }
}
