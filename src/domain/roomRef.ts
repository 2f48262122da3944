/**
 * What an SFU room name on the wire refers to. Seed 000's clients name rooms with a string
 * (`join-room {roomId}`); Parley reads that string once, here, into a typed reference, and
 * every access decision is made on the reference. The `call-` names belong to consultations:
 * nobody can mint a room token for one (POST /token refuses them) and only the
 * consultation's own customer, its agent and admins are admitted.
 */
export type RoomRef = { kind: 'consultation'; consultationId: string } | { kind: 'open'; name: string };

const CONSULTATION_PREFIX = 'call-';

/** The SFU room of a consultation, as clients name it. */
export function consultationRoomName(consultationId: string): string {
  return `${CONSULTATION_PREFIX}${consultationId}`;
}

/** Names that only consultations may use (so no open room can pose as one). */
export function isReservedRoomName(name: string): boolean {
  return name.toLowerCase().startsWith(CONSULTATION_PREFIX);
}

export function voiceRoomRef(name: string): RoomRef {
  if (isReservedRoomName(name)) return { kind: 'consultation', consultationId: name.slice(CONSULTATION_PREFIX.length) };
  return { kind: 'open', name };
}

export const reservedRoomMessage = `room names that start with "${CONSULTATION_PREFIX}" belong to consultations; choose another name`;
