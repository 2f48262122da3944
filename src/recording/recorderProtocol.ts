/** Messages between the main thread and the recorder thread (recorderThread.ts). */
import type { MessagePort } from 'node:worker_threads';
import type { TrackKind, TrackSummary } from './trackWriter.js';

export type RecorderRequest =
  /** Write the direct consumer read from `port` into `path` until it closes or `finish`. */
  | { type: 'record'; trackId: string; kind: TrackKind; port: MessagePort; path: string }
  | { type: 'finish'; trackId: string };

export type RecorderEvent =
  | { type: 'failed'; trackId: string; error: string }
  | { type: 'finished'; trackId: string; summary: TrackSummary };
