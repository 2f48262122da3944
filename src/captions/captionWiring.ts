/**
 * Captions as the rest of Parley sees them: which rooms are captioned, who a speaker is (from
 * the credential and, in a consultation, the seat it holds there), and who receives each
 * caption — the room's peers that may hear the speaker, the consultation's customer page and
 * agent console, and admins' live views.
 */
import type { Identity } from '../auth/identity.js';
import type { SpeakerRole } from '../domain/transcripts/transcript.js';
import type { Seat } from '../domain/consultations/mediaPolicy.js';
import { consultationCaptioned, type CaptionsSetting } from '../domain/consultations/captionsSetting.js';
import type { Caption, CaptionStatus, Speaker } from './captionService.js';

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

/** What every page of a room receives as `caption-status`. */
export type CaptionStatusEvent = CaptionStatus & { roomId: string; consultationId?: string };

export interface CaptionStatusAudience {
  /** Every peer of the /voice room. */
  room(roomId: string, status: CaptionStatusEvent): void;
  /** The consultation's customer page and agent console. */
  consultation(consultationId: string, status: CaptionStatusEvent): void;
  /** Admins' live call views. */
  admins(consultationId: string, status: CaptionStatusEvent): void;
}

/** Tells a room's pages whether its speech is being captioned, so none of them shows an empty panel without saying why. */
export function publishCaptionStatus(audience: CaptionStatusAudience, roomId: string, status: CaptionStatus, consultationId: string | null): void {
  const event: CaptionStatusEvent = consultationId ? { ...status, roomId, consultationId } : { ...status, roomId };
  audience.room(roomId, event);
  if (consultationId) {
    audience.consultation(consultationId, event);
    audience.admins(consultationId, event);
  }
}

/**
 * Whether a join turns captions on for its room: consultations by their entry point's setting
 * (`inherit`: the server's); other
 * rooms by the setting or at a peer's request — a credentialed peer's only, since captioning
 * costs a speech engine per speaker and an anonymous client must not be able to spend it.
 */
export function captionsWanted(
  settings: { consultations: boolean; allRooms: boolean },
  room: { consultationId: string | null; entryPointCaptions?: CaptionsSetting },
  joiner: Identity,
  request: { captions: boolean },
): boolean {
  if (room.consultationId) return consultationCaptioned(room.entryPointCaptions ?? 'inherit', settings.consultations);
  return settings.allRooms || (request.captions && joiner.grant.kind !== 'anonymous');
}

/** What a join does to its room's captions: start them, or tell the room why there are none. */
export type JoinCaptions = { enable: true } | { enable: false; announce?: CaptionStatus };

/**
 * The join's outcome: captions wanted and an engine ready → enable; wanted but no engine → the room
 * hears `no_engine` (or `off` when the operator configured none); a consultation (or a peer that asked)
 * not captioned by its setting → `off`. An open room nobody asked to caption hears nothing.
 */
export function captionsOnJoin(
  settings: { consultations: boolean; allRooms: boolean },
  speech: { configured: boolean; ready: boolean },
  room: { consultationId: string | null; entryPointCaptions?: CaptionsSetting },
  joiner: Identity,
  request: { captions: boolean },
): JoinCaptions {
  if (!captionsWanted(settings, room, joiner, request)) return room.consultationId || request.captions ? { enable: false, announce: { available: false, reason: 'off' } } : { enable: false };
  if (speech.ready) return { enable: true };
  return { enable: false, announce: { available: false, reason: speech.configured ? 'no_engine' : 'off' } };
}
