/**
 * Recordings as the rest of Parley sees them: the RecordingService built on the SFU (a live
 * room's media, captured by the recorder thread), ffmpeg's mixer, the recording store and
 * who each peer is. app.ts calls `createRecordings` and mounts the routes.
 */
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Config } from '../config/config.js';
import type { RecordingObjects } from '../domain/recordings/recording.js';
import { RecordingService } from '../domain/recordings/recordingService.js';
import type { SpeakerRole } from '../domain/transcripts/transcript.js';
import type { Logger } from '../log/logger.js';
import type { RoomMedia } from '../sfu/roomMedia.js';
import { RecordingRepository } from '../storage/recordingRepository.js';
import { TranscriptRepository } from '../storage/transcriptRepository.js';
import type { Database } from '../storage/schema.js';
import { LocalRecordingObjects } from './localRecordingObjects.js';
import { bleepTrack, mixTracks } from './mixer.js';
import { RecorderThread } from './recorderThread.js';
import { RoomCapture } from './roomCapture.js';
import { S3RecordingObjects } from './s3RecordingObjects.js';
import { randomBytes } from 'node:crypto';

export interface RecordingWiringDeps {
  config: Config['recordings'];
  db: Kysely<Database>;
  dialect: 'sqlite' | 'postgres';
  /** The SFU's rooms. */
  media: { room(roomId: string): Promise<RoomMedia> };
  /** Whether a /voice room has anyone in it now (recording never creates a room). */
  isLive(roomName: string): boolean;
  speakerOf(roomName: string, peerId: string): { userId: string; name: string; role: SpeakerRole } | undefined;
  consultationAgent(consultationId: string): Promise<{ agentId: string | null } | undefined>;
  objects?: RecordingObjects;
  /**
   * Resolves once the room's captions have stored every utterance begun (its last words may
   * still be on their way at stop), or after `timeoutMs`; at once when the room is not captioned.
   */
  settleCaptions?(roomName: string, timeoutMs: number, heardUntil: Array<{ peerId: string; mediaMs: number }>): Promise<{ settled: boolean; waitedMs: number; open: number }>;
  /** How long a recording waits for a rejoin after its room's media closed, ms (see RecordingServiceDeps.holdMs). */
  holdMs?(roomName: string): Promise<number>;
  /** The longest wait for those last words at stop, ms (RECORDING_CAPTION_GRACE_MS). */
  captionGraceMs: number;
  logger: Logger;
}

export function createRecordings(deps: RecordingWiringDeps): { service: RecordingService; close(): Promise<void> } {
  const recorder = new RecorderThread();
  const objects = deps.objects ?? (deps.config.s3 ? new S3RecordingObjects(deps.config.s3) : new LocalRecordingObjects(deps.config.path));
  const roomIds = new WeakMap<RoomMedia, string>();
  const logger = deps.logger;
  const store = new RecordingRepository(deps.db);
  const transcripts = new TranscriptRepository(deps.db, deps.dialect);
  const service = new RecordingService({
    store,
    objects,
    capture: async (roomName, dir, onFailed, onRoomClosed) => {
      if (!deps.isLive(roomName)) return undefined;
      const room = await deps.media.room(roomName);
      let roomId = roomIds.get(room);
      if (!roomId) {
        roomId = `RM_${randomBytes(8).toString('hex')}`;
        roomIds.set(room, roomId);
      }
      const watch = (r: RoomMedia): void => {
        r.observer.once('close', onRoomClosed);
        // Who a server-side producer is (the AI bot joining later) is noted while it is there: its name outlives it.
        const note = (p: { peerId: string }): void => service.notePeer(roomName, p.peerId);
        r.observer.on('newproducer', note);
        r.observer.once('close', () => r.observer.off('newproducer', note));
      };
      watch(room);
      // One capture per life of the room's media: a room re-created after it emptied (a lone customer's reload) is captured again.
      let current = room;
      const captures = [await RoomCapture.start(room, dir, recorder, onFailed, logger.child({ roomName }))];
      return {
        roomId,
        peerIds: room.peerIds(),
        reattach: async () => {
          if (!deps.isLive(roomName)) return false;
          const again = await deps.media.room(roomName);
          if (again === current) return true;
          current = again;
          watch(again);
          captures.push(await RoomCapture.start(again, dir, recorder, onFailed, logger.child({ roomName })));
          return true;
        },
        stop: async () =>
          (await Promise.all(captures.map((c) => c.stop())))
            .flat()
            .sort((a, b) => (a.summary.startedAtMs ?? 0) - (b.summary.startedAtMs ?? 0))
            .map((t) => ({ id: t.id, peerId: t.peerId, kind: t.kind, path: t.path, startedAtMs: t.summary.startedAtMs, durationMs: t.summary.durationMs, roomStartedAtMs: t.summary.roomStartedAtMs, ...(t.summary.senderClockOffsetMs !== undefined ? { senderClockOffsetMs: t.summary.senderClockOffsetMs } : {}) })),
      };
    },
    bleepTrack: (path, bleeps, out) => bleepTrack(path, bleeps, out, { ffmpeg: deps.config.ffmpegPath }),
    keepUnbleeped: deps.config.keepUnbleeped,
    // Utterances stored since the recording started (older ones belong to another session of the room's clock).
    maskedSpansOf: async (roomName, sinceMs) => (await transcripts.forRoom(roomName)).filter((u) => u.createdAt.getTime() >= sinceMs).flatMap((u) => (u.mediaSpans ?? []).map((m) => ({ peerId: u.peerId, startMs: m.startMs, endMs: m.endMs }))),
    settle: async (roomName, heardUntil) => {
      if (!deps.settleCaptions) return;
      const s = await deps.settleCaptions(roomName, deps.captionGraceMs, heardUntil);
      if (!s.settled) logger.warn({ roomName, waitedMs: s.waitedMs, open: s.open }, s.open > 0 ? `recording: ${s.open} caption(s) were still being recognised after RECORDING_CAPTION_GRACE_MS; words masked in them are not bleeped. Raise RECORDING_CAPTION_GRACE_MS if the speech engine is slow` : 'recording: the captions had not heard the last recorded audio after RECORDING_CAPTION_GRACE_MS (the machine is busy); words masked in it are not bleeped. Raise RECORDING_CAPTION_GRACE_MS on a loaded server');
      else if (s.waitedMs > 0) logger.debug({ roomName, waitedMs: s.waitedMs }, 'recording: waited for the last captions');
    },
    mix: (tracks, durationMs, out) => mixTracks(tracks, durationMs, out, { ffmpeg: deps.config.ffmpegPath }),
    speakerOf: deps.speakerOf,
    consultationAgent: deps.consultationAgent,
    consultationsOf: (agentId) => store.consultationsAnsweredBy(agentId),
    allowAnonymous: deps.config.allowAnonymous,
    ...(deps.holdMs ? { holdMs: deps.holdMs } : {}),
    workDir: join(deps.config.path, '.work'),
    retentionDays: deps.config.retentionDays,
    logger,
  });
  logger.info({ store: objects.label, retentionDays: deps.config.retentionDays }, `recordings are stored in ${objects.label}`);
  return {
    service,
    close: async () => {
      await service.close();
      await recorder.close();
    },
  };
}
