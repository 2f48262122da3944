/** Payload pieces shared by the signaling protocols. Limits keep one client from flooding the rest. */
import { z } from 'zod';

/** Room, study, session and peer ids: strings or integers from the client, strings inside. */
export const id = z
  .union([z.string().trim().min(1).max(128), z.number().int().nonnegative()])
  .transform(String)
  .refine((s) => !/[\u0000-\u001f]/.test(s), 'must not contain control characters');

/** RTCSessionDescriptionInit as browsers serialise it. */
export const sessionDescription = (type: 'offer' | 'answer') =>
  z.object({ type: z.literal(type), sdp: z.string().min(1).max(64_000) }).loose();

/** RTCIceCandidateInit, or null for end-of-candidates. */
export const iceCandidate = z.union([
  z
    .object({
      candidate: z.string().max(2048),
      sdpMid: z.string().max(64).nullable().optional(),
      sdpMLineIndex: z.number().int().min(0).max(1024).nullable().optional(),
      usernameFragment: z.string().max(256).nullable().optional(),
    })
    .loose(),
  z.null(),
]);

/** Socket.IO socket ids are 20 url-safe characters; allow some slack for other adapters. */
export const socketId = z.string().min(1).max(64);

export const chatText = z.string().trim().min(1, 'must not be empty').max(4000);
