/**
 * Consultations are recorded by themselves: when a consultation's room gets its first peer and
 * the customer consented (the consent stored with the call, never a client's claim), a
 * recording starts; it ends when the room does. Both sides hear of every change of the
 * recording's state (`recording` on /consult: the customer page and the agent console).
 */
import type { Recording } from '../domain/recordings/recording.js';
import type { RecordingService } from '../domain/recordings/recordingService.js';
import { voiceRoomRef } from '../domain/roomRef.js';
import type { Logger } from '../log/logger.js';

export interface ConsultationRecordingDeps {
  recordings: RecordingService;
  /** RECORD_CONSULTATIONS: off records no consultation automatically. */
  enabled: boolean;
  /** Whether the customer of this consultation agreed to recording (from storage). */
  consented(consultationId: string): Promise<boolean>;
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
      if (!deps.enabled || ref.kind !== 'consultation' || deps.recordings.isRecording(roomName)) return;
      void (async () => {
        if (!(await deps.consented(ref.consultationId))) return;
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
