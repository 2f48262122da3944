/**
 * What a room's media handle (RoomMedia) emits on the main thread: every notification its media worker sends,
 * plus the room's end and server-side producers joining. Apart from roomMedia.ts so that what listens to a room
 * (the paced writer's handle) needs no import of the room itself.
 */
import type { MediaKind } from './rtpTypes.js';
import type { WorkerNotifications } from './worker/protocol.js';

export type RoomMediaEvents = { [E in keyof WorkerNotifications]: [WorkerNotifications[E]] } & {
  closed: [reason: string];
  /** A server-side producer joined the room (signaling announces it like a browser's). */
  'direct-producer': [{ producerId: string; peerId: string; kind: MediaKind }];
};
