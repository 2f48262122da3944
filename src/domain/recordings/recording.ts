/**
 * A recording of one Parley room (seed 004's "recording"): one Opus track per participant and
 * a mixed MP4 that plays in browsers, placed on the wall clock. Metadata lives in storage;
 * the files in a recording object store (local disk or S3-compatible).
 */
import type { Readable } from 'node:stream';
import type { SpeakerRole } from '../transcripts/transcript.js';

export type RecordingStatus = 'recording' | 'finalizing' | 'ready' | 'failed';

export interface RecordingTrack {
  id: string;
  peerId: string;
  userId: string;
  name: string;
  role: SpeakerRole;
  kind: 'audio' | 'video';
  /** Object key of the WebM file (Opus or VP8, as produced). */
  key: string;
  /** Where the track starts, in ms after the recording's start (a late joiner's is > 0). */
  offsetMs: number;
  durationMs: number;
  size: number;
  /** Masked words replaced by a 1 kHz tone here and in the mix: ms after the recording's start. */
  bleeps: Array<{ startMs: number; endMs: number }>;
  /**
   * Unix ms of the room's media zero on the server's clock for this speaker (transcript times are ms after it; the
   * speaker's clock offset, learnt from their sender reports, is taken out); absent on older rows.
   */
  roomStartedAtMs?: number;
  /** Object key of the unbleeped original, kept only when RECORDING_KEEP_UNBLEEPED is on. */
  originalKey?: string;
}

export interface Recording {
  id: string;
  /** Seed 004's file name (`….mp4`): the mixed file's object key, and the URL's name. */
  name: string;
  roomName: string;
  /** This room's session: a new id each time the room's media starts (LiveKit's room sid). */
  roomId: string;
  consultationId: string | null;
  status: RecordingStatus;
  /** Why a failed recording failed, for a person to act on. */
  failure: string | null;
  /** Unix ms. */
  startedAt: number;
  stoppedAt: number | null;
  durationMs: number | null;
  /** Bytes of the mixed file (0 until it is written). */
  size: number;
  tracks: RecordingTrack[];
  /** Who started it: 'api-key', an account id, 'anonymous' or 'consultation'. */
  startedBy: string;
}

export interface RecordingFilter {
  roomName?: string;
  roomId?: string;
  /** Only recordings of these consultations (an agent's own); undefined = no restriction. */
  consultationIds?: string[];
  /** Only recordings of open rooms (an anonymous caller in development). */
  openRoomsOnly?: boolean;
}

/** The storage port of recordings' metadata. */
export interface RecordingStore {
  add(r: Recording): Promise<void>;
  update(id: string, patch: Partial<Omit<Recording, 'id' | 'name'>>): Promise<void>;
  byName(name: string): Promise<Recording | undefined>;
  list(filter: RecordingFilter): Promise<Recording[]>;
  remove(id: string): Promise<void>;
  /** Ended recordings that stopped before `cutoffMs` (retention). */
  endedBefore(cutoffMs: number): Promise<Recording[]>;
  /** Recordings left `recording`/`finalizing` by a previous run. */
  unfinished(): Promise<Recording[]>;
}

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/** The object store port for recording files. */
export interface RecordingObjects {
  /** Where the store is (for logs): a directory or `s3://bucket`. */
  readonly label: string;
  /** Moves a finished local file into the store under `key`; resolves with its size. */
  put(key: string, localPath: string, contentType: string): Promise<number>;
  size(key: string): Promise<number | undefined>;
  read(key: string, range?: ByteRange): Promise<Readable>;
  remove(key: string): Promise<void>;
}
