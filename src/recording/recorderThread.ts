/**
 * The recorder thread, from the main thread's side: hand it a direct consumer and a path,
 * learn when the track failed (a write error: disk full) and when it is complete.
 */
import { EventEmitter } from 'node:events';
import { Worker, type MessagePort } from 'node:worker_threads';
import type { TrackKind, TrackSummary } from './trackWriter.js';
import type { RecorderEvent, RecorderRequest } from './recorderProtocol.js';

function spawnThread(): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const entry = new URL('./recorderWorkerMain.ts', here).href;
    return new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`, { eval: true });
  }
  return new Worker(new URL('./recorderWorkerMain.js', here));
}

export interface RecordingTrackHandle {
  readonly trackId: string;
  /** Resolves when the file is complete: the producer ended, or `finish()` was called. */
  readonly finished: Promise<TrackSummary>;
  /** Asks the thread to complete the file now. */
  finish(): Promise<TrackSummary>;
}

export class RecorderThread extends EventEmitter<{ failed: [trackId: string, error: string] }> {
  private thread?: Worker;
  private readonly waiting = new Map<string, (s: TrackSummary) => void>();
  private closed = false;

  private worker(): Worker {
    if (this.thread) return this.thread;
    const thread = spawnThread();
    thread.unref();
    thread.on('message', (e: RecorderEvent) => {
      if (e.type === 'failed') this.emit('failed', e.trackId, e.error);
      else {
        this.waiting.get(e.trackId)?.(e.summary);
        this.waiting.delete(e.trackId);
      }
    });
    thread.once('exit', () => {
      if (this.thread === thread) this.thread = undefined;
      for (const [trackId, done] of this.waiting) {
        this.emit('failed', trackId, 'the recorder thread stopped');
        done({ durationMs: 0, packets: 0, bytes: 0, placedBySenderReport: false, endReason: 'failed', error: 'the recorder thread stopped' });
      }
      this.waiting.clear();
    });
    this.thread = thread;
    return thread;
  }

  /**
   * Starts writing a direct consumer's messages to `path` in the recorder thread. Pass the
   * reading end here before the consumer opens (`createDirectConsumer`'s `transferReader`), so
   * that the port goes from the media worker to this thread with nothing queued on the way.
   */
  record(trackId: string, port: MessagePort, path: string, kind: TrackKind = 'audio'): RecordingTrackHandle {
    if (this.closed) throw new Error('the recorder is closed');
    const thread = this.worker();
    const finished = new Promise<TrackSummary>((resolve) => this.waiting.set(trackId, resolve));
    const msg: RecorderRequest = { type: 'record', trackId, kind, port, path };
    thread.postMessage(msg, [port]);
    return {
      trackId,
      finished,
      finish: () => {
        if (this.waiting.has(trackId)) thread.postMessage({ type: 'finish', trackId } satisfies RecorderRequest);
        return finished;
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.thread?.terminate();
  }
}
