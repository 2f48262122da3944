/**
 * Seed 004's recordings over Parley's rooms: start and stop per room (409 on a second start
 * and on a stop without one), list with filters, play with byte ranges, delete. Who may do
 * what is decided here from the caller's credential:
 *   - the integrator's backend (LiveKit key pair) and admins: every room;
 *   - an agent: the consultations they answered (start, stop, list, play; not delete);
 *   - no credential: only when ALLOW_ANONYMOUS_RECORDINGS is on (development's default), and
 *     only open rooms, never a consultation's.
 * A failed write (disk full, object store down) ends that recording as `failed`; the call
 * goes on untouched.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { randomBytes, randomUUID } from 'node:crypto';
import { hasRole, type Identity } from '../../auth/identity.js';
import { ParleyError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import { voiceRoomRef } from '../roomRef.js';
import type { SpeakerRole } from '../transcripts/transcript.js';
import type { ByteRange, Recording, RecordingFilter, RecordingObjects, RecordingStore, RecordingTrack } from './recording.js';

export type RecordingCaller = { kind: 'api-key' } | { kind: 'account'; identity: Identity } | { kind: 'anonymous' } | { kind: 'consultation' };

/** One participant's finished track, as the capture wrote it on local disk. */
export interface CapturedTrackFile {
  id: string;
  peerId: string;
  kind: 'audio' | 'video';
  path: string;
  /** Server wall clock of its first sample. */
  startedAtMs?: number;
  durationMs: number;
  /** Wall clock of the room's media time 0 (captions' word times are ms after it). */
  roomStartedAtMs?: number;
  /**
   * Server clock minus the speaker's clock, through the sender report that placed the track. Captions put words
   * on the speaker's clock once a report came, the track is on the server's: a word's time plus this is on the track.
   */
  senderClockOffsetMs?: number;
}

export interface ActiveCapture {
  /** The room's media session id. */
  readonly roomId: string;
  /** Peers in the room when the capture started. */
  readonly peerIds: string[];
  stop(): Promise<CapturedTrackFile[]>;
  /**
   * Captures the room again after its media closed and it was created anew (a lone customer's
   * reload): the new producers become new tracks of the same recording. False when the room has
   * nobody in it now.
   */
  reattach?(): Promise<boolean>;
}

export interface RecordingServiceDeps {
  store: RecordingStore;
  objects: RecordingObjects;
  /** Starts capturing a live room into `dir`; `onFailed` once when a write fails. Undefined when the room has no media now. */
  capture(roomName: string, dir: string, onFailed: (error: string) => void, onRoomClosed: () => void): Promise<ActiveCapture | undefined>;
  /** Rewrites one track with its bleeps (track-local ms) as a 1 kHz tone. */
  bleepTrack(path: string, bleeps: Array<{ startMs: number; endMs: number }>, out: string): Promise<void>;
  /** Keep the unbleeped original of a bleeped track (the admin's setting). */
  keepUnbleeped: boolean;
  /**
   * Waits until captions of the room's last words are in (bounded); resolves at once when captions are off.
   * `heardUntil`: how far each speaker's recorded audio went (ms on the room's clock, as captions time words):
   * captions that lag behind the recorder are waited for until they have heard it, so words said just before the
   * stop are begun, recognised and stored before the bleeps are read.
   */
  settle?(roomName: string, heardUntil: Array<{ peerId: string; mediaMs: number }>): Promise<void>;
  /** Writes the mixed MP4. */
  mix(tracks: Array<{ path: string; kind: 'audio' | 'video'; offsetMs: number; bleeps: Array<{ startMs: number; endMs: number }> }>, durationMs: number, out: string): Promise<void>;
  /** Who a peer of a room is (name, role), if known. */
  speakerOf(roomName: string, peerId: string): { userId: string; name: string; role: SpeakerRole } | undefined;
  /** Masked words' media times (ms on the room's clock) per peer, from the transcript. */
  maskedSpansOf?(roomName: string, sinceMs: number): Promise<Array<{ peerId: string; startMs: number; endMs: number }>>;
  /** A consultation's agent (undefined when there is no such consultation). */
  consultationAgent(consultationId: string): Promise<{ agentId: string | null } | undefined>;
  /** Consultations an agent answered (for their list). */
  consultationsOf(agentId: string): Promise<string[]>;
  allowAnonymous: boolean;
  /**
   * How long a recording outlives its room's media, ms, waiting for someone to come back (a
   * consultation whose call is still live: the customer's reconnect grace). 0 or absent: it is
   * finalized when the room closes.
   */
  holdMs?(roomName: string): Promise<number>;
  /** Local scratch space for tracks being written and the mix being encoded. */
  workDir: string;
  retentionDays: number;
  logger: Logger;
  now?: () => number;
}

interface Active {
  recording: Recording;
  capture: ActiveCapture;
  dir: string;
  speakers: Map<string, { userId: string; name: string; role: SpeakerRole }>;
  stopping?: Promise<Recording>;
  /** The room's media closed at `at`; the recording waits for a rejoin until `timer` fires. */
  held?: { at: number; timer?: NodeJS.Timeout };
}

export type RecordingAction = 'start' | 'stop' | 'list' | 'play' | 'delete';

function safeBase(roomName: string): string {
  const cleaned = roomName.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60);
  return cleaned.length > 0 ? cleaned : 'room';
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

export class RecordingService {
  private readonly active = new Map<string, Active>();
  private readonly starting = new Set<string>();
  private readonly now: () => number;
  private pruneTimer?: NodeJS.Timeout;
  private readonly listeners = new Set<(roomName: string, recording: Recording) => void>();

  constructor(private readonly deps: RecordingServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Told on every change of a recording's state (consultations show it to both sides). */
  onChange(listener: (roomName: string, recording: Recording) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  isRecording(roomName: string): boolean {
    return this.active.has(roomName);
  }

  /** The consultation's running (recording or finalizing) recording, if any. */
  activeForConsultation(consultationId: string): Recording | undefined {
    for (const a of this.active.values()) if (a.recording.consultationId === consultationId) return a.recording;
    return undefined;
  }

  /** Throws UNAUTHORIZED/FORBIDDEN unless the caller may act on that room. */
  async assertMay(caller: RecordingCaller, action: RecordingAction, roomName: string): Promise<void> {
    if (caller.kind === 'api-key' || caller.kind === 'consultation') return;
    const ref = voiceRoomRef(roomName);
    if (caller.kind === 'anonymous') {
      if (!this.deps.allowAnonymous) throw new ParleyError('UNAUTHORIZED', 'recordings need credentials: HTTP Basic LIVEKIT_API_KEY:LIVEKIT_API_SECRET from your backend, or an admin\'s access token (ALLOW_ANONYMOUS_RECORDINGS=true opens open rooms to anyone)');
      if (ref.kind === 'consultation') throw new ParleyError('UNAUTHORIZED', "a consultation's recording needs its agent's or an admin's access token");
      return;
    }
    const who = caller.identity;
    if (hasRole(who, 'admin')) return;
    if (hasRole(who, 'agent') && ref.kind === 'consultation' && action !== 'delete') {
      const c = await this.deps.consultationAgent(ref.consultationId);
      if (c && c.agentId === who.userId) return;
      throw new ParleyError('FORBIDDEN', `consultation ${ref.consultationId} is not yours`);
    }
    throw new ParleyError('FORBIDDEN', action === 'delete' ? 'only admins and the integrator\'s backend delete recordings' : "recordings of open rooms are the admins' and the integrator's backend's");
  }

  async start(caller: RecordingCaller, roomName: string): Promise<Recording> {
    await this.assertMay(caller, 'start', roomName);
    if (this.active.has(roomName) || this.starting.has(roomName)) throw new ParleyError('CONFLICT', `room ${roomName} is being recorded already; stop it first`);
    this.starting.add(roomName);
    try {
      const id = randomUUID();
      const startedAt = this.now();
      const name = `${safeBase(roomName)}-${stamp(startedAt)}-${randomBytes(3).toString('hex')}.mp4`;
      const dir = join(this.deps.workDir, id);
      await mkdir(dir, { recursive: true });
      let failedEarly: string | undefined;
      const capture = await this.deps.capture(
        roomName,
        dir,
        (error) => {
          if (this.active.get(roomName)?.recording.id === id) void this.fail(roomName, error);
          else failedEarly = error;
        },
        () => {
          if (this.active.get(roomName)?.recording.id === id) void this.roomClosed(roomName);
        },
      );
      if (!capture) {
        await rm(dir, { recursive: true, force: true });
        throw new ParleyError('NOT_FOUND', `room ${roomName} has nobody in it: start recording once someone has joined`);
      }
      const ref = voiceRoomRef(roomName);
      const recording: Recording = {
        id,
        name,
        roomName,
        roomId: capture.roomId,
        consultationId: ref.kind === 'consultation' ? ref.consultationId : null,
        status: 'recording',
        failure: null,
        startedAt,
        stoppedAt: null,
        durationMs: null,
        size: 0,
        tracks: [],
        startedBy: caller.kind === 'account' ? caller.identity.userId : caller.kind,
      };
      try {
        await this.deps.store.add(recording);
      } catch (err) {
        await capture.stop().catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
      this.active.set(roomName, { recording, capture, dir, speakers: new Map() });
      for (const peerId of capture.peerIds) this.notePeer(roomName, peerId);
      this.deps.logger.info({ recording: name, roomName, roomId: capture.roomId }, 'recording started');
      this.changed(roomName, recording);
      if (failedEarly) void this.fail(roomName, failedEarly);
      return recording;
    } finally {
      this.starting.delete(roomName);
    }
  }

  /** Keeps who a peer is while they are in the room (a leaver's name outlives them). */
  notePeer(roomName: string, peerId: string): void {
    const a = this.active.get(roomName);
    const speaker = this.deps.speakerOf(roomName, peerId);
    if (a && speaker) a.speakers.set(peerId, speaker);
  }

  /**
   * The room's media closed. A consultation still live keeps its recording open for the
   * customer's grace (a reload re-creates the room); anything else is finalized now.
   */
  private async roomClosed(roomName: string): Promise<void> {
    const a = this.active.get(roomName);
    if (!a || a.stopping || a.held) return;
    const held: NonNullable<Active['held']> = { at: this.now() };
    a.held = held;
    let holdMs = 0;
    try {
      holdMs = a.capture.reattach ? ((await this.deps.holdMs?.(roomName)) ?? 0) : 0;
    } catch (err) {
      this.deps.logger.warn({ roomName, err: err instanceof Error ? err.message : String(err) }, 'recording: could not tell whether the call goes on; finalizing it now');
    }
    if (a.held !== held || a.stopping) return; // resumed (or stopped) meanwhile
    if (holdMs <= 0) return void this.stopActive(roomName).catch(() => undefined);
    held.timer = setTimeout(() => {
      if (this.active.get(roomName) === a && a.held === held) {
        this.deps.logger.info({ recording: a.recording.name, roomName, holdMs }, 'recording: nobody came back to the room; finalizing it');
        void this.stopActive(roomName).catch(() => undefined);
      }
    }, holdMs);
    held.timer.unref?.();
    this.deps.logger.info({ recording: a.recording.name, roomName, holdMs }, 'recording: the room emptied while its call goes on; the recording waits for a rejoin');
  }

  /** Someone joined the room: a recording waiting for a rejoin captures the new room (no-op otherwise). */
  async resume(roomName: string): Promise<void> {
    const a = this.active.get(roomName);
    if (!a?.held || a.stopping || !a.capture.reattach) return;
    const held = a.held;
    if (held.timer) clearTimeout(held.timer);
    a.held = undefined;
    try {
      if (await a.capture.reattach()) {
        this.deps.logger.info({ recording: a.recording.name, roomName, gapMs: this.now() - held.at }, 'recording resumed: the room is captured again');
        return;
      }
    } catch (err) {
      this.deps.logger.warn({ recording: a.recording.name, roomName, err: err instanceof Error ? err.message : String(err) }, 'recording: the rejoined room could not be captured; finalizing what was recorded');
    }
    a.held = held;
    void this.stopActive(roomName).catch(() => undefined);
  }

  /** The call is over: a recording still waiting for a rejoin is finalized now. */
  release(roomName: string): void {
    const a = this.active.get(roomName);
    if (a?.held && !a.stopping) void this.stopActive(roomName).catch(() => undefined);
  }

  async stop(caller: RecordingCaller, roomName: string): Promise<Recording> {
    await this.assertMay(caller, 'stop', roomName);
    if (!this.active.has(roomName)) {
      const last = (await this.deps.store.list({ roomName })).find((r) => r.status === 'failed' && r.stoppedAt !== null && this.now() - r.stoppedAt < 10 * 60_000);
      throw new ParleyError('CONFLICT', last ? `room ${roomName} is not being recorded: its recording ${last.name} failed (${last.failure ?? 'unknown'})` : `room ${roomName} is not being recorded`);
    }
    return this.stopActive(roomName);
  }

  private stopActive(roomName: string): Promise<Recording> {
    const a = this.active.get(roomName)!;
    a.stopping ??= this.finalize(roomName, a);
    return a.stopping;
  }

  private async finalize(roomName: string, a: Active): Promise<Recording> {
    if (a.held?.timer) clearTimeout(a.held.timer);
    // Held after the room closed: the recording ends where its media did, not when the wait ran out.
    const stoppedAt = a.held?.at ?? this.now();
    const r = a.recording;
    r.status = 'finalizing';
    r.stoppedAt = stoppedAt;
    r.durationMs = stoppedAt - r.startedAt;
    this.changed(roomName, r);
    const began = Date.now();
    try {
      await this.deps.store.update(r.id, { status: 'finalizing', stoppedAt, durationMs: r.durationMs });
      const captured = await a.capture.stop();
      if ((r.status as string) === 'failed') return r;
      if (captured.length === 0) {
        // A call too short (or all muted) for any packet to reach the recorder: say so, never "ready" with nothing in it.
        await this.markFailed(r, 'nothing was recorded: no microphone or camera sent any media while the recording ran (the call was too short, or everyone was muted); record a longer call');
        this.deps.logger.warn({ recording: r.name, roomName, durationMs: r.durationMs }, 'recording stopped with no media: marked failed');
        return r;
      }
      // Masked spans that cannot be read fail the recording: it is never kept unbleeped by accident.
      const heardUntil = captured.flatMap((t) =>
        t.kind === 'audio' && t.startedAtMs !== undefined && t.roomStartedAtMs !== undefined ? [{ peerId: t.peerId, mediaMs: t.startedAtMs + t.durationMs - (t.senderClockOffsetMs ?? 0) - t.roomStartedAtMs }] : [],
      );
      await this.deps.settle?.(roomName, heardUntil);
      const masked = this.deps.maskedSpansOf ? await this.deps.maskedSpansOf(roomName, r.startedAt) : [];
      const tracks: RecordingTrack[] = captured.map((t) => {
        const speaker = a.speakers.get(t.peerId) ?? this.deps.speakerOf(roomName, t.peerId) ?? { userId: t.peerId, name: t.peerId, role: 'participant' as const };
        const offsetMs = Math.max(0, Math.round((t.startedAtMs ?? r.startedAt) - r.startedAt));
        // Media time 0 of the captions' word times, on the server's clock where this track is placed: a speaker whose
        // clock is off (or a report stamped late) would otherwise move every bleep off the words, or out of the track.
        const roomZero = (t.roomStartedAtMs ?? r.startedAt) + (t.senderClockOffsetMs ?? 0);
        const bleeps = masked
          .filter((m) => t.kind === 'audio' && m.peerId === t.peerId)
          .map((m) => ({ startMs: Math.round(roomZero + m.startMs - r.startedAt), endMs: Math.round(roomZero + m.endMs - r.startedAt) }))
          .filter((m) => m.endMs > offsetMs && m.startMs < offsetMs + t.durationMs)
          .map((m) => ({ startMs: Math.max(m.startMs, offsetMs), endMs: Math.min(m.endMs, Math.round(offsetMs + t.durationMs)) }))
          .sort((x, y) => x.startMs - y.startMs);
        return {
          id: t.id,
          peerId: t.peerId,
          userId: speaker.userId,
          name: speaker.name,
          role: speaker.role,
          kind: t.kind,
          key: `${r.name.replace(/\.mp4$/, '')}/${t.id}.webm`,
          offsetMs,
          durationMs: Math.round(t.durationMs),
          size: 0,
          bleeps,
          // On the server's clock, like the track: the call detail seeks to a transcript line by it.
          ...(t.roomStartedAtMs !== undefined ? { roomStartedAtMs: Math.round(roomZero) } : {}),
        };
      });
      r.tracks = tracks;
      const mixed = join(a.dir, 'mixed.mp4');
      await this.deps.mix(captured.map((t, i) => ({ path: t.path, kind: t.kind, offsetMs: tracks[i]!.offsetMs, bleeps: tracks[i]!.bleeps })), r.durationMs, mixed);
      for (const [i, t] of captured.entries()) {
        const track = tracks[i]!;
        if (track.bleeps.length > 0) {
          const bleeped = join(a.dir, `${t.id}.bleeped.webm`);
          await this.deps.bleepTrack(t.path, track.bleeps.map((b) => ({ startMs: b.startMs - track.offsetMs, endMs: b.endMs - track.offsetMs })), bleeped);
          if (this.deps.keepUnbleeped) {
            track.originalKey = track.key.replace(/\.webm$/, '.original.webm');
            await this.deps.objects.put(track.originalKey, t.path, 'audio/webm');
          }
          track.size = await this.deps.objects.put(track.key, bleeped, 'audio/webm');
        } else {
          track.size = await this.deps.objects.put(track.key, t.path, t.kind === 'video' ? 'video/webm' : 'audio/webm');
        }
      }
      r.size = await this.deps.objects.put(r.name, mixed, 'video/mp4');
      r.status = 'ready';
      await this.deps.store.update(r.id, { status: 'ready', size: r.size, tracks });
      this.deps.logger.info({ recording: r.name, tracks: tracks.length, size: r.size, durationMs: r.durationMs, finalizeMs: Date.now() - began }, 'recording stopped and stored');
      return r;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await this.markFailed(r, `finishing the recording failed: ${message}`);
      return r;
    } finally {
      this.active.delete(roomName);
      await rm(a.dir, { recursive: true, force: true }).catch(() => undefined);
      this.changed(roomName, r);
    }
  }

  /** A write failed mid-recording: the capture stops, the call does not. */
  private async fail(roomName: string, error: string): Promise<void> {
    const a = this.active.get(roomName);
    if (!a || a.stopping) return;
    const r = a.recording;
    this.deps.logger.error({ recording: r.name, roomName, error }, 'recording failed: its files could not be written (is the disk full?); the call goes on unrecorded');
    r.stoppedAt = this.now();
    r.durationMs = r.stoppedAt - r.startedAt;
    await this.markFailed(r, `a file could not be written (${error}); free disk space or fix the recording store, then start again`);
    a.stopping = (async () => {
      try {
        await a.capture.stop().catch(() => undefined);
      } finally {
        this.active.delete(roomName);
        await rm(a.dir, { recursive: true, force: true }).catch(() => undefined);
        this.changed(roomName, r);
      }
      return r;
    })();
  }

  private async markFailed(r: Recording, failure: string): Promise<void> {
    r.status = 'failed';
    r.failure = failure;
    await this.deps.store.update(r.id, { status: 'failed', failure, stoppedAt: r.stoppedAt, durationMs: r.durationMs }).catch((err: unknown) => this.deps.logger.error({ err, recording: r.name }, 'the failed recording could not be marked in storage'));
  }

  async list(caller: RecordingCaller, filter: { roomName?: string; roomId?: string }): Promise<Recording[]> {
    const f: RecordingFilter = { ...filter };
    if (caller.kind === 'anonymous') {
      if (!this.deps.allowAnonymous) await this.assertMay(caller, 'list', filter.roomName ?? '');
      f.openRoomsOnly = true;
    } else if (caller.kind === 'account' && !hasRole(caller.identity, 'admin')) {
      if (!hasRole(caller.identity, 'agent')) throw new ParleyError('FORBIDDEN', 'sign in as an agent or admin to list recordings');
      f.consultationIds = await this.deps.consultationsOf(caller.identity.userId);
    }
    return this.deps.store.list(f);
  }

  /** A recording the caller may see; NOT_FOUND otherwise (also when it is not theirs to see). */
  async find(caller: RecordingCaller, name: string, action: 'play' | 'delete'): Promise<Recording> {
    // No credential where one is needed: refused before anything is looked up.
    if (caller.kind === 'anonymous' && !this.deps.allowAnonymous) await this.assertMay(caller, action, '');
    const r = await this.deps.store.byName(name);
    if (!r) throw new ParleyError('NOT_FOUND', `no recording ${name}`);
    await this.assertMay(caller, action, r.roomName);
    return r;
  }

  async open(caller: RecordingCaller, name: string, trackId?: string): Promise<{ recording: Recording; key: string; size: number; contentType: string; read(range?: ByteRange): Promise<Readable> }> {
    const r = await this.find(caller, name, 'play');
    if (r.status !== 'ready') throw new ParleyError(r.status === 'failed' ? 'NOT_FOUND' : 'CONFLICT', r.status === 'failed' ? `recording ${name} failed: ${r.failure ?? ''}` : `recording ${name} is still ${r.status}; try again once it is stopped`);
    const key = trackId ? r.tracks.find((t) => t.id === trackId)?.key : r.name;
    if (!key) throw new ParleyError('NOT_FOUND', `recording ${name} has no track ${trackId}`);
    const size = await this.deps.objects.size(key);
    if (size === undefined) throw new ParleyError('NOT_FOUND', `the file of recording ${name} is gone from the store`);
    const track = trackId ? r.tracks.find((t) => t.id === trackId) : undefined;
    return { recording: r, key, size, contentType: track ? (track.kind === 'video' ? 'video/webm' : 'audio/webm') : 'video/mp4', read: (range) => this.deps.objects.read(key, range) };
  }

  async remove(caller: RecordingCaller, name: string): Promise<void> {
    const r = await this.find(caller, name, 'delete');
    if (this.active.get(r.roomName)?.recording.id === r.id) throw new ParleyError('CONFLICT', `recording ${name} is still running; stop it first`);
    await this.erase(r);
  }

  private async erase(r: Recording): Promise<void> {
    for (const t of r.tracks) {
      await this.deps.objects.remove(t.key);
      if (t.originalKey) await this.deps.objects.remove(t.originalKey);
    }
    await this.deps.objects.remove(r.name);
    await this.deps.store.remove(r.id);
  }

  /** Deletes recordings older than RECORDING_RETENTION_DAYS; returns how many. */
  async prune(): Promise<number> {
    if (this.deps.retentionDays <= 0) return 0;
    const old = await this.deps.store.endedBefore(this.now() - this.deps.retentionDays * 86_400_000);
    for (const r of old) await this.erase(r);
    if (old.length > 0) this.deps.logger.info({ deleted: old.length, days: this.deps.retentionDays }, 'recordings past retention deleted');
    return old.length;
  }

  /** Marks what a previous run left unfinished, and starts the retention timer. */
  async startUp(intervalMs: number): Promise<void> {
    for (const r of await this.deps.store.unfinished()) {
      await this.deps.store.update(r.id, { status: 'failed', failure: 'the server stopped while this recording was running' });
    }
    if (this.deps.retentionDays > 0) {
      this.pruneTimer = setInterval(() => void this.prune().catch((err: unknown) => this.deps.logger.warn({ err }, 'recording retention failed; retrying later')), intervalMs);
      this.pruneTimer.unref();
    }
  }

  /** Stops every running recording (shutdown): each is finalized, so nothing is lost. */
  async close(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await Promise.all([...this.active.keys()].map((room) => this.stopActive(room).catch(() => undefined)));
  }

  private changed(roomName: string, r: Recording): void {
    for (const l of this.listeners) {
      try {
        l(roomName, r);
      } catch (err) {
        this.deps.logger.warn({ err }, 'a recording listener failed');
      }
    }
  }
}
