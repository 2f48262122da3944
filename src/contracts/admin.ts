/**
 * `/admin`: the dashboard's live board (src/socket/adminNamespace.ts validates with
 * `adminRequests`; web-src/client/admin.ts derives its types from this file).
 */
import { z } from 'zod';
import type { Board } from '../domain/consultations/consultationView.js';
import type { Caption } from '../captions/captionService.js';
import type { CaptionStatusEvent } from '../captions/captionWiring.js';
import type { CommonServerToClient } from './socket.js';

export const adminRequests = {
  'rooms:list': z.object({}).optional(),
  'board:get': z.object({}).loose().optional(),
  /** The last caption-status this node announced for a live consultation (a dashboard opened mid-call missed it). */
  'captions:status': z.object({ consultationId: z.string().min(1).max(100) }),
} as const;

export type AdminRequests = typeof adminRequests;

export interface AdminReplies {
  'rooms:list': { connections: number; rooms: Array<{ name: string; participants: number }> };
  'board:get': Board;
  /** null: nothing announced for that consultation on this node (not live, or no peer joined yet). */
  'captions:status': { status: CaptionStatusEvent | null };
}

export interface AdminServerToClient extends CommonServerToClient {
  /** A live caption of the call (interim ones are replaced by the final with the same utteranceId). */
  caption: Caption & { consultationId: string };
  /** Whether a live call's speech is being captioned, and if not, why. */
  'caption-status': CaptionStatusEvent;
  /** The live board, pushed whenever it changes (at most every 250 ms). */
  board: Board;
  /** An AI assistant's turn: what the caller said (masked), the reply, the caller's sentiment (issue 11). */
  'agent:turn': AgentTurnPush;
}

export interface AgentTurnPush {
  roomId: string;
  /** The consultation the bot is on; null for an `/ai/` call. */
  consultationId: string | null;
  outcome: string;
  userMessage: string;
  aiResponse: string;
  sentiment: { sentiment: string; score: number };
}
