/**
 * Seed 001's `/signaling` namespace: sessions of peers that relay offer, answer and ICE to
 * everyone else in the session, plus `audio-data` chunks for server-side processing.
 * Socket.IO room per session: "session:<sessionId>".
 */
import type { Namespace } from 'socket.io';
import { z } from 'zod';
import type { SpokenTurnResult } from '../agent/spokenTurn.js';
import type { RoomAccessPolicy } from '../auth/authenticator.js';
import { hasRole } from '../auth/identity.js';
import { roomKey, type RoomDirectory, type RoomMember } from '../domain/roomDirectory.js';
import { ParleyError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { defineEvent, type EventRouter, type SocketContext } from './eventRouter.js';
import { identityOf } from './handshakeAuth.js';
import { iceCandidate, id, sessionDescription } from './schemas.js';

export interface SessionMember extends RoomMember {
  peerId: string;
}

/** What the server may send back to the peer whose `audio-data` it processed (the AI agent's answers). */
export interface SessionAudioReplies {
  'ai-response': { success: true; data: SpokenTurnResult };
  'ai-error': { error: { code: string; message: string } };
}

export interface SessionAudioChunk {
  sessionId: string;
  peerId: string;
  userId: string;
  audio: Uint8Array | string;
  timestamp: number;
  /** Sends to the socket that sent this chunk. */
  respond<E extends keyof SessionAudioReplies>(event: E, payload: SessionAudioReplies[E]): void;
}

/** Where `audio-data` goes: the AI agent (src/agent/sessionAudioAgent.ts); without it, only counted. */
export interface SessionAudioSink {
  push(chunk: SessionAudioChunk): void;
}

export interface SignalingNamespaceDeps {
  namespace: Namespace;
  rooms: RoomDirectory<SessionMember>;
  access: RoomAccessPolicy;
  router: EventRouter;
  metrics: Metrics;
  logger: Logger;
  audioSink: SessionAudioSink;
  /**
   * ALLOW_ANONYMOUS_CALLS off: `audio-data` drives the AI agent (recognition, a model call, synthesis), so only an
   * agent's or admin's account may send it, as only they may call `POST /api/v1/calls/conversation/process`.
   */
  audioNeedsAgent: boolean;
}

const sessionRef = { sessionId: id, peerId: id };

export function attachSignalingNamespace(deps: SignalingNamespaceDeps): void {
  const { namespace, rooms, access, router, metrics, logger, audioSink, audioNeedsAgent } = deps;
  const nsName = namespace.name;

  const requireSession = (ctx: SocketContext, sessionId: string): SessionMember => {
    const m = rooms.get(roomKey('session', sessionId), ctx.socket.id);
    if (!m) throw new ParleyError('NOT_IN_ROOM', `you are not in session "${sessionId}"; emit join-session first`);
    return m;
  };

  const relay = (event: 'offer' | 'answer' | 'ice-candidate', field: 'offer' | 'answer' | 'candidate') =>
    defineEvent(
      z.object({ ...sessionRef, [field]: field === 'candidate' ? iceCandidate : sessionDescription(field as 'offer' | 'answer') }),
      (data, ctx) => {
        const sessionId = data.sessionId as string;
        const m = requireSession(ctx, sessionId);
        ctx.socket.to(roomKey('session', sessionId)).emit(event, { peerId: m.peerId, [field]: (data as Record<string, unknown>)[field] });
        metrics.relayedMessages.inc({ namespace: nsName, kind: event });
      },
    );

  const events = {
    'join-session': defineEvent(z.object(sessionRef), async (data, ctx) => {
      await access.assertCanJoin(ctx.identity, { kind: 'session', id: data.sessionId });
      const key = roomKey('session', data.sessionId);
      const others = rooms.join(key, { connectionId: ctx.socket.id, userId: ctx.identity.userId, peerId: data.peerId, joinedAt: Date.now() });
      await ctx.socket.join(key);
      ctx.socket.emit('joined-session', { sessionId: data.sessionId, peerId: data.peerId });
      ctx.socket.to(key).emit('peer-joined', { peerId: data.peerId });
      logger.info({ session: data.sessionId, peerId: data.peerId, peers: others.length + 1 }, 'signaling session joined');
      return { ok: true, sessionId: data.sessionId, peers: others.map((o) => o.peerId) };
    }),
    offer: relay('offer', 'offer'),
    answer: relay('answer', 'answer'),
    'ice-candidate': relay('ice-candidate', 'candidate'),
    'leave-session': defineEvent(z.object(sessionRef), (data, ctx) => {
      const key = roomKey('session', data.sessionId);
      const m = rooms.leave(key, ctx.socket.id);
      if (!m) throw new ParleyError('NOT_IN_ROOM', `you are not in session "${data.sessionId}"`);
      void ctx.socket.leave(key);
      ctx.socket.to(key).emit('peer-left', { peerId: m.peerId });
    }),
    'audio-data': defineEvent(
      z.object({
        ...sessionRef,
        audioData: z.union([z.string().min(1).max(2_000_000), z.instanceof(Uint8Array)]),
        timestamp: z.number().finite().optional(),
      }),
      (data, ctx) => {
        if (audioNeedsAgent && !hasRole(ctx.identity, 'agent')) {
          throw new ParleyError('FORBIDDEN', "audio-data goes to the AI agent, which needs an agent's or admin's sign-in here (ALLOW_ANONYMOUS_CALLS is off); connect with an access token");
        }
        const m = requireSession(ctx, data.sessionId);
        const bytes = typeof data.audioData === 'string' ? data.audioData.length : data.audioData.byteLength;
        metrics.audioBytes.inc(bytes);
        const socket = ctx.socket;
        audioSink.push({
          sessionId: data.sessionId,
          peerId: m.peerId,
          userId: ctx.identity.userId,
          audio: data.audioData,
          timestamp: data.timestamp ?? Date.now(),
          respond: (event, payload) => void socket.emit(event, payload),
        });
        return { ok: true, received: bytes };
      },
    ),
  };

  namespace.on('connection', (socket) => {
    const identity = identityOf(socket);
    metrics.socketConnections.inc({ namespace: nsName });
    router.attach(socket, identity, events);
    socket.on('disconnect', (reason) => {
      metrics.socketConnections.dec({ namespace: nsName });
      for (const { room, member } of rooms.leaveAll(socket.id)) namespace.to(room).emit('peer-disconnected', { peerId: member.peerId });
      logger.debug({ socketId: socket.id, reason }, 'signaling socket disconnected');
    });
  });
}
