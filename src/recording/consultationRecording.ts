/**
 * Consultations are recorded by themselves: when a consultation's room gets its first peer, the
 * customer consented (the consent stored with the call, never a client's claim) and its entry
 * point records (its setting, or RECORD_CONSULTATIONS when it inherits), a recording starts; it
 * ends when the room does. Without consent nothing is recorded, whatever the settings. Both sides hear of every change of the
 * recording's state (`recording` on /consult: the customer page and the agent console).
 * A customer alone in the room who reloads empties it for a moment: the recording stays open for
 * the customer's grace while the call is live (`holdMs` in the wiring) and captures the room again
 * when they are back, so the rest of the call is in the same recording.
 */
import type { Recording } from '../domain/recordings/recording.js';
import type { RecordingService } from '../domain/recordings/recordingService.js';
import { consultationRecorded, type RecordingSetting } from '../domain/consultations/recordingSetting.js';
import { voiceRoomRef } from '../domain/roomRef.js';
import type { Logger } from '../log/logger.js';

export interface ConsultationRecordingDeps {
  recordings: RecordingService;
  /** RECORD_CONSULTATIONS: the default for entry points that inherit. */
  enabled: boolean;
  /** Whether the customer of this consultation agreed to recording (from storage). */
  consented(consultationId: string): Promise<boolean>;
  /** The recording setting of the entry point the consultation came in by. */
  settingOf(consultationId: string): Promise<RecordingSetting>;
  /** Tells the consultation's customer and agent. */
  tell(consultationId: string, state: { consultationId: string; status: Recording['status']; name: string; failure: string | null }): void;
  logger: Logger;
}

export function recordConsultations(deps: ConsultationRecordingDeps): { roomJoined(roomName: string): void } {
  deps.recordings.onChange((roomName, r) => {
    if (r.consultationId) deps.tell(r.consultationId, { consultationId: r.consultationId, status: r.status, name: r.name, failure: r.failure });
  });
  return {
    roomJoined(roomName) {
      const ref = voiceRoomRef(roomName);
      if (ref.kind !== 'consultation') return;
      // A recording kept open across the room's close (a lone customer's reload) takes the new room.
      if (deps.recordings.isRecording(roomName)) return void deps.recordings.resume(roomName).catch(() => undefined);
      void (async () => {
        const consented = await deps.consented(ref.consultationId);
        if (!consented) return;
        const setting = await deps.settingOf(ref.consultationId);
        if (!consultationRecorded({ consented, setting, serverDefault: deps.enabled })) return;
        if (deps.recordings.isRecording(roomName)) return;
        await deps.recordings.start({ kind: 'consultation' }, roomName);
      })().catch((err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        // A second join racing the first: the recording is running already.
        if (!/being recorded already/.test(message)) deps.logger.warn({ roomName, err: message }, 'the consultation could not be recorded; the call goes on');
      });
    },
  };
}
