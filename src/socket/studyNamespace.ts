/**
 * Seed 002 ("CoUp" signaling server) on Socket.IO's default namespace: video rooms with
 * peer-to-peer offer/answer/ICE relayed by socket id, media state, chat in a study and in
 * a call, typing, and presence. Event names and payloads are the seed's, unchanged.
 *
 * Socket.IO rooms used: "video:<roomId>" and "study:<studyId>" (the names /metrics shows).
 */
import { randomUUID } from 'node:crypto';
import type { Namespace, Socket } from 'socket.io';
import { z } from 'zod';
import type { RoomAccessPolicy } from '../auth/authenticator.js';
import type { Identity } from '../auth/identity.js';
import { roomKey, type RoomDirectory, type RoomMember } from '../domain/roomDirectory.js';
import { ParleyError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { TextMasker } from '../moderation/types.js';
import { defineEvent, type EventRouter, type SocketContext } from './eventRouter.js';
import { identityOf } from './handshakeAuth.js';
import { chatText, iceCandidate, id, sessionDescription, socketId } from './schemas.js';

export interface StudyMember extends RoomMember {
  user: Identity['user'];
  studyId?: string;
  isMuted: boolean;
  isVideoOff: boolean;
  isSharing: boolean;
  status: PresenceStatus;
}

const presenceStatus = z.enum(['online', 'away', 'busy', 'offline']);
type PresenceStatus = z.infer<typeof presenceStatus>;

export interface StudyNamespaceDeps {
  namespace: Namespace;
  rooms: RoomDirectory<StudyMember>;
  access: RoomAccessPolicy;
  router: EventRouter;
  metrics: Metrics;
  logger: Logger;
  /** Chat is relayed masked: the sender's original text is never sent on. */
  moderation: TextMasker;
}

export function attachStudyNamespace(deps: StudyNamespaceDeps): void {
  const { namespace, rooms, access, router, metrics, logger } = deps;
  const nsName = namespace.name;
  const status = new Map<string, PresenceStatus>();

  const member = (ctx: SocketContext, extra: Partial<StudyMember> = {}): StudyMember => ({
    connectionId: ctx.socket.id,
    userId: ctx.identity.userId,
    user: ctx.identity.user,
    joinedAt: Date.now(),
    isMuted: false,
    isVideoOff: false,
    isSharing: false,
    status: status.get(ctx.socket.id) ?? 'online',
    ...extra,
  });

  const requireVideoMember = (ctx: SocketContext, roomId: string): StudyMember => {
    const m = rooms.get(roomKey('video', roomId), ctx.socket.id);
    if (!m) throw new ParleyError('NOT_IN_ROOM', `you are not in video room "${roomId}"; emit video:join-room first`);
    return m;
  };

  /** The target of a relay must share a video room with the sender. */
  const requireSharedRoom = (ctx: SocketContext, to: string): void => {
    if (to === ctx.socket.id) throw new ParleyError('UNKNOWN_PEER', 'cannot send to yourself');
    for (const room of rooms.roomsOf(ctx.socket.id, 'video')) if (rooms.has(room, to)) return;
    throw new ParleyError('UNKNOWN_PEER', `socket "${to}" is not in a video room with you`);
  };

  const relay = (kind: 'offer' | 'answer' | 'ice-candidate', field: 'offer' | 'answer' | 'candidate') =>
    defineEvent(
      z.object({ to: socketId, [field]: field === 'candidate' ? iceCandidate : sessionDescription(field as 'offer' | 'answer') }),
      (data, ctx) => {
        const to = data.to as string;
        requireSharedRoom(ctx, to);
        namespace.to(to).emit(`video:${kind}`, { from: ctx.socket.id, [field]: (data as Record<string, unknown>)[field] });
        metrics.relayedMessages.inc({ namespace: nsName, kind });
      },
    );

  const setMediaState = (ctx: SocketContext, roomId: string, patch: Pick<StudyMember, 'isMuted'> | Pick<StudyMember, 'isVideoOff'>, event: string): void => {
    requireVideoMember(ctx, roomId);
    rooms.update(roomKey('video', roomId), ctx.socket.id, patch);
    ctx.socket.to(roomKey('video', roomId)).emit(event, { socketId: ctx.socket.id, userId: ctx.identity.userId, ...patch });
  };

  const screenShare = (isSharing: boolean) =>
    defineEvent(z.object({ roomId: id }), (data, ctx) => {
      requireVideoMember(ctx, data.roomId);
      rooms.update(roomKey('video', data.roomId), ctx.socket.id, { isSharing });
      ctx.socket.to(roomKey('video', data.roomId)).emit('video:peer-screen-share', { socketId: ctx.socket.id, userId: ctx.identity.userId, isSharing });
    });

  const leaveVideo = (socket: Socket, roomId: string, reason: 'leave' | 'disconnect'): void => {
    const key = roomKey('video', roomId);
    const left = rooms.leave(key, socket.id, reason);
    if (!left) return;
    void socket.leave(key);
    socket.to(key).emit('video:user-left', { socketId: socket.id, userId: left.userId });
  };

  const announceOffline = (socket: Socket, studyRoom: string, m: StudyMember): void => {
    if (rooms.userStillPresent(studyRoom, m.userId)) return;
    socket.to(studyRoom).emit('presence:user-offline', { userId: m.userId, user: m.user, timestamp: new Date().toISOString() });
  };

  const events = {
    'video:join-room': defineEvent(z.object({ studyId: id.optional(), roomId: id }), async (data, ctx) => {
      await access.assertCanJoin(ctx.identity, { kind: 'video', id: data.roomId, studyId: data.studyId });
      const key = roomKey('video', data.roomId);
      const others = rooms.join(key, member(ctx, { studyId: data.studyId }));
      await ctx.socket.join(key);
      const participants = others.map((o) => ({
        socketId: o.connectionId,
        userId: o.userId,
        user: o.user,
        isMuted: o.isMuted,
        isVideoOff: o.isVideoOff,
        isSharing: o.isSharing,
      }));
      ctx.socket.emit('video:room-state', { participants });
      ctx.socket.to(key).emit('video:user-joined', { socketId: ctx.socket.id, userId: ctx.identity.userId, user: ctx.identity.user });
      logger.info({ room: key, userId: ctx.identity.userId, participants: others.length + 1 }, 'video room joined');
      return { ok: true, roomId: data.roomId, participants };
    }),
    'video:leave-room': defineEvent(z.object({ roomId: id }), (data, ctx) => {
      requireVideoMember(ctx, data.roomId);
      leaveVideo(ctx.socket, data.roomId, 'leave');
    }),
    'video:offer': relay('offer', 'offer'),
    'video:answer': relay('answer', 'answer'),
    'video:ice-candidate': relay('ice-candidate', 'candidate'),
    'video:toggle-audio': defineEvent(z.object({ roomId: id, isMuted: z.boolean() }), (data, ctx) =>
      setMediaState(ctx, data.roomId, { isMuted: data.isMuted }, 'video:peer-audio-changed'),
    ),
    'video:toggle-video': defineEvent(z.object({ roomId: id, isVideoOff: z.boolean() }), (data, ctx) =>
      setMediaState(ctx, data.roomId, { isVideoOff: data.isVideoOff }, 'video:peer-video-changed'),
    ),
    'video:screen-share-start': screenShare(true),
    'video:screen-share-stop': screenShare(false),

    'chat:send-message': defineEvent(
      z.object({ studyId: id, message: chatText, type: z.enum(['text', 'image', 'file', 'system']).default('text') }),
      async (data, ctx) => {
        await access.assertCanJoin(ctx.identity, { kind: 'study', id: data.studyId, studyId: data.studyId });
        const message = {
          id: randomUUID(),
          studyId: data.studyId,
          userId: ctx.identity.userId,
          user: ctx.identity.user,
          message: deps.moderation.mask(data.message).masked,
          type: data.type,
          timestamp: new Date().toISOString(),
        };
        namespace.to(roomKey('study', data.studyId)).emit('chat:message-received', message);
        return { ok: true, id: message.id };
      },
    ),
    'chat:video-message': defineEvent(z.object({ roomId: id, message: chatText }), (data, ctx) => {
      requireVideoMember(ctx, data.roomId);
      const message = {
        id: randomUUID(),
        roomId: data.roomId,
        userId: ctx.identity.userId,
        user: ctx.identity.user,
        message: deps.moderation.mask(data.message).masked,
        timestamp: new Date().toISOString(),
      };
      namespace.to(roomKey('video', data.roomId)).emit('chat:video-message-received', message);
      return { ok: true, id: message.id };
    }),
    'chat:typing': defineEvent(z.object({ studyId: id, isTyping: z.boolean() }), (data, ctx) => {
      const key = roomKey('study', data.studyId);
      if (!rooms.has(key, ctx.socket.id)) throw new ParleyError('NOT_IN_ROOM', `you are not in study "${data.studyId}"; emit presence:join-study first`);
      ctx.socket.to(key).emit('chat:user-typing', { userId: ctx.identity.userId, user: ctx.identity.user, isTyping: data.isTyping });
    }),

    'presence:join-study': defineEvent(z.object({ studyId: id }), async (data, ctx) => {
      await access.assertCanJoin(ctx.identity, { kind: 'study', id: data.studyId, studyId: data.studyId });
      const key = roomKey('study', data.studyId);
      const wasPresent = rooms.userStillPresent(key, ctx.identity.userId);
      rooms.join(key, member(ctx, { studyId: data.studyId }));
      await ctx.socket.join(key);
      if (!wasPresent) ctx.socket.to(key).emit('presence:user-online', { userId: ctx.identity.userId, user: ctx.identity.user, timestamp: new Date().toISOString() });
      const online = new Map<string, { userId: string; user: StudyMember['user']; status: PresenceStatus }>();
      for (const m of rooms.members(key)) online.set(m.userId, { userId: m.userId, user: m.user, status: status.get(m.connectionId) ?? 'online' });
      return { ok: true, studyId: data.studyId, online: [...online.values()] };
    }),
    'presence:leave-study': defineEvent(z.object({ studyId: id }), (data, ctx) => {
      const key = roomKey('study', data.studyId);
      const left = rooms.leave(key, ctx.socket.id);
      if (!left) throw new ParleyError('NOT_IN_ROOM', `you are not in study "${data.studyId}"`);
      void ctx.socket.leave(key);
      announceOffline(ctx.socket, key, left);
    }),
    'presence:status-change': defineEvent(z.object({ status: presenceStatus }), (data, ctx) => {
      status.set(ctx.socket.id, data.status);
      const studies = rooms.roomsOf(ctx.socket.id, 'study');
      for (const key of studies) rooms.update(key, ctx.socket.id, { status: data.status });
      if (studies.length > 0) ctx.socket.to(studies).emit('presence:user-status-changed', { userId: ctx.identity.userId, user: ctx.identity.user, status: data.status });
    }),
  };

  namespace.on('connection', (socket) => {
    const identity = identityOf(socket);
    metrics.socketConnections.inc({ namespace: nsName });
    logger.info({ socketId: socket.id, userId: identity.userId, role: identity.role, grant: identity.grant.kind, verified: identity.user.verified }, 'socket connected');
    router.attach(socket, identity, events);
    socket.on('disconnect', (reason) => {
      metrics.socketConnections.dec({ namespace: nsName });
      status.delete(socket.id);
      for (const { room, member: m } of rooms.leaveAll(socket.id)) {
        if (room.startsWith('video:')) namespace.to(room).emit('video:user-left', { socketId: socket.id, userId: m.userId });
        else if (room.startsWith('study:')) announceOffline(socket, room, m);
      }
      logger.info({ socketId: socket.id, userId: identity.userId, reason }, 'socket disconnected');
    });
  });
}
