/**
 * Captions as the rest of Parley sees them: which rooms are captioned, who a speaker is (from
 * the credential and, in a consultation, the seat it holds there), and who receives each
 * caption — the room's peers that may hear the speaker, the consultation's customer page and
 * agent console, and admins' live views.
 */
import type { Identity } from '../auth/identity.js';
import type { SpeakerRole } from '../domain/transcripts/transcript.js';
import type { Seat } from '../domain/consultations/mediaPolicy.js';
import type { Caption, Speaker } from './captionService.js';

const roleOfSeat: Record<Seat, SpeakerRole> = { customer: 'customer', agent: 'agent', supervisor: 'supervisor', observer: 'participant' };

export interface SpeakerDirectory {
  identityOf(peerId: string): Identity | undefined;
  consultationOf(roomId: string): string | undefined;
  seatOf(consultationId: string, who: Identity): Seat;
}

/** The speaker of `peerId` in `roomId`, as captions and transcripts label it. */
export function speakerOf(dir: SpeakerDirectory, roomId: string, peerId: string): Speaker | undefined {
  const identity = dir.identityOf(peerId);
  if (!identity) return undefined;
  const consultationId = dir.consultationOf(roomId);
  const role: SpeakerRole = consultationId ? roleOfSeat[dir.seatOf(consultationId, identity)] : 'participant';
  return { userId: identity.userId, role, name: identity.name ?? identity.userId };
}

export interface CaptionAudience {
  /** The room's peers that may hear the speaker. */
  voice(roomId: string, fromPeerId: string, caption: Caption): void;
  /** The consultation's customer page (only what the customer may hear) and agent console. */
  consultation(consultationId: string, caption: Caption): void;
  /** Admins' live call views. */
  admins(consultationId: string, caption: Caption): void;
}

/** Publishes one caption to everyone who may hear its speaker. */
export function publishCaption(audience: CaptionAudience, roomId: string, caption: Caption, consultationId: string | null): void {
  audience.voice(roomId, caption.peerId, caption);
  if (consultationId) {
    audience.consultation(consultationId, caption);
    audience.admins(consultationId, caption);
  }
}

/**
 * Whether a join turns captions on for its room: consultations by the server's setting; other
 * rooms by the setting or at a peer's request — a credentialed peer's only, since captioning
 * costs a speech engine per speaker and an anonymous client must not be able to spend it.
 */
export function captionsWanted(
  settings: { consultations: boolean; allRooms: boolean },
  room: { consultationId: string | null },
  joiner: Identity,
  request: { captions: boolean },
): boolean {
  if (room.consultationId) return settings.consultations;
  return settings.allRooms || (request.captions && joiner.grant.kind !== 'anonymous');
}
