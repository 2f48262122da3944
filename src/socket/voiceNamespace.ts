/**
 * Seed 000's `/voice` namespace (a mediasoup voice-room server), served by Parley's own SFU
 * to stock mediasoup-client. The seed's events and shapes are kept; what the seed left out
 * and a mediasoup app needs (pause/resume, leaving, closed consumers, speakers) is added
 * with the same naming style. Every request is acknowledged (`emitWithAck`).
 *
 * Peer id = socket id. Socket.IO room per voice room: "voice:<roomId>".
 *
 * Order promised to clients: when a peer leaves, every `consumer-closed` and `producer-closed`
 * its departure causes is sent before `peer-left` (the media is closed first, then announced).
 *
 * Who may send to and receive from whom is the MediaPolicy's (a consultation's seats and its
 * supervisor's mode, src/domain/consultations/mediaPolicy.ts): `produce` and `consume` are
 * refused against it, `new-producer`, `peer-joined` and the producer and level events are
 * sent only to peers it lets know, and when it says a room's seats changed every open
 * consumer there is checked again — one no longer allowed is closed for its client
 * (`consumer-closed`) and on the SFU, and a producer newly allowed is announced (`new-producer`).
 *
 * Limits: rooms and transports per client address (ClientQuotas; signed-in agents and admins
 * are exempt); transports and producers per peer and the connect timeout are the Router's.
 */
import type { Namespace, Socket } from 'socket.io';
import { z } from 'zod';
import type { RoomAccessPolicy } from '../auth/authenticator.js';
import { hasRole, type Identity } from '../auth/identity.js';
import { openMediaPolicy, type MediaPolicy } from '../domain/consultations/mediaPolicy.js';
import { roomKey, type RoomDirectory, type RoomMember } from '../domain/roomDirectory.js';
import { ParleyError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { ClientQuotas, type AddressLimits } from '../sfu/clientQuotas.js';
import type { MediaWorkerPool } from '../sfu/mediaWorkerPool.js';
import type { RoomMedia } from '../sfu/roomMedia.js';
import { dtlsParameters, mediaKind, rtpCapabilities, rtpParameters } from '../sfu/rtpTypes.js';
import { defineEvent, type EventRouter, type SocketContext } from './eventRouter.js';
import { identityOf } from './handshakeAuth.js';
import { id } from './schemas.js';

export interface VoiceMember extends RoomMember {
  peerId: string;
  /** The client address this member counts against (unset: exempt from per-address limits). */
  address?: string;
}

/**
 * The client address a socket counts against for per-address limits. For now the TCP peer
 * address; the trusted-proxy rule (TRUST_PROXY) is to be applied here, in one place.
 */
export function clientAddressOf(socket: Socket): string {
  return socket.handshake.address;
}

export interface VoiceNamespaceDeps {
  /** Which node hosts a room (src/cluster/roomPlacement.ts): a join elsewhere is refused naming it. */
  placement?: { claim(roomId: string): Promise<void> };
  namespace: Namespace;
  rooms: RoomDirectory<VoiceMember>;
  access: RoomAccessPolicy;
  router: EventRouter;
  media: MediaWorkerPool;
  metrics: Metrics;
  logger: Logger;
  /** Rooms and transports per client address (defaults: 10 and 40). */
  limits?: AddressLimits;
  /** Defaults to `clientAddressOf`. */
  clientAddress?: (socket: Socket) => string;
  /** Whether a user id is a Parley account's (an anonymous peer may not call itself that). */
  isAccountId?: (userId: string) => Promise<boolean>;
  /** Who may send to and receive from whom (default: everyone, everyone). */
  policy?: MediaPolicy;
  /** A peer joined; `captions` is what its `join-room` asked for (seed 000's payload plus `captions: true`). */
  onJoined?: (roomId: string, identity: Identity, request: { captions: boolean }) => void;
}

/** What server code (captions, later the AI agent) asks of the /voice rooms. */
export interface VoiceRooms {
  /** The credential's identity of a peer that is (or just was) in a voice room. */
  identityOf(peerId: string): Identity | undefined;
  /** Sends `event` to every peer of the room that may hear `fromPeerId` (the media policy's rule). */
  emitHeardFrom(roomId: string, fromPeerId: string, event: string, payload: unknown): void;
  /** Sends `event` to every peer of the room (news about the room itself, such as its caption status). */
  emitToRoom(roomId: string, event: string, payload: unknown): void;
}

/** A consumer this namespace created: whose, of which producer (and whose), and whether the policy closed it. */
interface ConsumerSeat {
  roomId: string;
  peerId: string;
  producerId: string;
  senderPeerId: string;
  revoked: boolean;
}

const entityId = z.string().min(1).max(64);
/** mediasoup-client's `produce({ appData })`, kept on the producer for server code (`source: 'mic' | 'screen'`). */
const producerAppData = z
  .record(z.string().max(64), z.unknown())
  .refine((v) => JSON.stringify(v).length <= 1024, 'appData must be at most 1024 bytes of JSON');

export function attachVoiceNamespace(deps: VoiceNamespaceDeps): VoiceRooms {
  const { namespace, rooms, access, router, media, metrics, logger } = deps;
  const clientAddress = deps.clientAddress ?? clientAddressOf;
  const isAccountId = deps.isAccountId ?? (async () => false);
  const quotas = new ClientQuotas(deps.limits ?? { roomsPerAddress: 10, transportsPerAddress: 40 });
  const nsName = namespace.name;
  /** Rooms whose media events are already forwarded to the sockets. */
  const wired = new WeakSet<RoomMedia>();
  const policy = deps.policy ?? openMediaPolicy;
  /** The identity of every peer in a voice room, kept until it has left (its socket may be gone first). */
  const peerIdentities = new Map<string, Identity>();
  const consumerSeats = new Map<string, ConsumerSeat>();
  /**
   * Peers that receive `audio-levels` (all but those whose `join-room` said `audioLevels: false`).
   * The levels go to each listener 4 times a second; a client that shows no meters (seed 000's
   * stock clients, a listen-only viewer) saves the room one WebSocket frame per 250 ms each.
   */
  const wantsLevels = new Set<string>();
  /** The Socket.IO room of a voice room's level listeners. */
  const levelsKey = (roomId: string): string => `${roomKey('voice', roomId)}:levels`;
  const who = (peerId: string): Identity | undefined => peerIdentities.get(peerId);

  /** Peers of the room (other than `peerId`) that may not learn of `peerId`. */
  const unaware = (roomId: string, peerId: string): string[] => {
    const peer = who(peerId);
    return rooms
      .members(roomKey('voice', roomId))
      .filter((m) => {
        if (m.peerId === peerId) return false;
        const receiver = who(m.peerId);
        return receiver === undefined || !policy.mayKnow(roomId, receiver, peer);
      })
      .map((m) => m.peerId);
  };
  /** The room's sockets that may learn of `peerId`'s media. */
  const toAware = (roomId: string, peerId: string) => {
    const hidden = unaware(roomId, peerId);
    const to = namespace.to(roomKey('voice', roomId));
    return hidden.length > 0 ? to.except(hidden) : to;
  };
  const mayReceive = (roomId: string, receiverPeerId: string, senderPeerId: string): boolean => {
    const receiver = who(receiverPeerId);
    return receiver !== undefined && policy.mayReceive(roomId, receiver, who(senderPeerId));
  };

  /**
   * The policy changed for a room: close every consumer it no longer allows (on the SFU, so
   * nothing is forwarded, and for the client) and announce every producer it now allows
   * to the peers that have no consumer of it.
   */
  const reconcile = async (roomId: string): Promise<void> => {
    const key = roomKey('voice', roomId);
    const members = rooms.members(key);
    if (members.length === 0) return;
    const room = await media.room(roomId);
    for (const [consumerId, c] of consumerSeats) {
      if (c.roomId !== roomId || c.revoked || mayReceive(roomId, c.peerId, c.senderPeerId)) continue;
      // Told first, then closed on the SFU (paused if the close fails). The seat stays, revoked,
      // until its peer leaves, so a resume is refused as closed rather than as unknown.
      c.revoked = true;
      namespace.to(c.peerId).emit('consumer-closed', { consumerId, producerId: c.producerId });
      await room.closeConsumer(c.peerId, consumerId).catch(() => room.setConsumerPaused(c.peerId, consumerId, true).catch(() => undefined));
    }
    const producers = await room.producers();
    for (const m of members) {
      for (const p of producers) {
        if (p.peerId === m.peerId || !mayReceive(roomId, m.peerId, p.peerId)) continue;
        const has = [...consumerSeats.values()].some((c) => c.peerId === m.peerId && c.producerId === p.producerId && !c.revoked);
        if (!has) namespace.to(m.peerId).emit('new-producer', { peerId: p.peerId, producerId: p.producerId, kind: p.kind });
      }
    }
  };
  policy.onChange((roomId) => {
    reconcile(roomId).catch((err: unknown) => logger.error({ err, roomId }, 'applying the media policy to a room failed'));
  });

  const memberOf = (ctx: SocketContext, roomId: string): VoiceMember => {
    const m = rooms.get(roomKey('voice', roomId), ctx.socket.id);
    if (!m) throw new ParleyError('NOT_IN_ROOM', `you are not in voice room "${roomId}"; emit join-room first`);
    return m;
  };

  const roomMedia = async (ctx: SocketContext, roomId: string): Promise<{ m: VoiceMember; room: RoomMedia }> => {
    const m = memberOf(ctx, roomId);
    return { m, room: await media.room(roomId) };
  };

  /** Forwards one room's media events to its sockets (once per room). */
  const wire = (roomId: string, room: RoomMedia): void => {
    if (wired.has(room)) return;
    wired.add(room);
    const key = roomKey('voice', roomId);
    room.on('consumer.closed', ({ consumerId, producerId, peerId }) => {
      if (consumerSeats.get(consumerId)?.revoked) return; // the policy closed it and said so already
      consumerSeats.delete(consumerId);
      namespace.to(peerId).emit('consumer-closed', { consumerId, producerId });
    });
    room.on('direct-producer', ({ producerId, peerId, kind }) => namespace.to(key).emit('new-producer', { peerId, producerId, kind }));
    room.on('producer.closed', ({ producerId, peerId }) => toAware(roomId, peerId).emit('producer-closed', { peerId, producerId }));
    room.on('producer.paused', ({ producerId, peerId }) => toAware(roomId, peerId).emit('producer-paused', { peerId, producerId }));
    room.on('producer.resumed', ({ producerId, peerId }) => toAware(roomId, peerId).emit('producer-resumed', { peerId, producerId }));
    room.on('audio.volumes', ({ levels }) => {
      const all = levels.map((l) => ({ peerId: l.peerId, producerId: l.producerId, volume: l.volume }));
      const hiddenFrom = new Map(all.map((l) => [l.peerId, new Set(unaware(roomId, l.peerId))]));
      if ([...hiddenFrom.values()].every((h) => h.size === 0)) {
        namespace.to(levelsKey(roomId)).emit('audio-levels', { levels: all });
        return;
      }
      // Someone may not learn of a peer (a whispering supervisor): each socket gets its own list.
      for (const m of rooms.members(key)) {
        if (!wantsLevels.has(m.peerId)) continue;
        namespace.to(m.peerId).emit('audio-levels', { levels: all.filter((l) => !hiddenFrom.get(l.peerId)?.has(m.peerId)) });
      }
    });
    room.on('audio.activeSpeaker', (s) => toAware(roomId, s.peerId).emit('active-speaker', { peerId: s.peerId, producerId: s.producerId, volume: s.volume }));
    room.on('transport.closed', ({ transportId, peerId, reason }) => {
      quotas.transportClosed(transportId);
      if (reason === 'ice-timeout' || reason === 'dtls-failed' || reason === 'connect-timeout') namespace.to(peerId).emit('transport-closed', { transportId, reason });
    });
  };

  /**
   * Closes the peer's media first, then announces `peer-left`: the worker posts every
   * `consumer.closed`/`producer.closed` of that close before its reply, and each is emitted
   * on arrival, so every client has them before `peer-left`.
   */
  const leave = async (socket: Socket, roomId: string): Promise<void> => {
    const key = roomKey('voice', roomId);
    const m = rooms.leave(key, socket.id);
    if (!m) return;
    void socket.leave(key);
    void socket.leave(levelsKey(roomId));
    wantsLevels.delete(socket.id);
    if (m.address) quotas.leaveRoom(m.address, roomId, m.connectionId);
    logger.info({ room: key, peerId: m.peerId }, 'voice room left');
    try {
      await (await media.room(roomId)).closePeer(m.peerId);
    } catch {
      /* the room's media is already gone (worker crash, room closed) */
    }
    quotas.peerLeft(roomId, m.peerId);
    const hidden = unaware(roomId, m.peerId);
    for (const [id, c] of consumerSeats) if (c.peerId === m.peerId || c.senderPeerId === m.peerId) consumerSeats.delete(id);
    peerIdentities.delete(m.peerId);
    (hidden.length > 0 ? namespace.to(key).except(hidden) : namespace.to(key)).emit('peer-left', { peerId: m.peerId });
    if (rooms.members(key).length === 0) await media.closeRoom(roomId);
  };

  media.on('room-closed', (roomId, reason) => {
    const key = roomKey('voice', roomId);
    namespace.to(key).emit('room-closed', { roomId, reason });
    quotas.roomClosed(roomId);
    for (const [id, c] of consumerSeats) if (c.roomId === roomId) consumerSeats.delete(id);
    for (const m of rooms.members(key)) {
      peerIdentities.delete(m.peerId);
      rooms.leave(key, m.connectionId);
      if (m.address) quotas.leaveRoom(m.address, roomId, m.connectionId);
      namespace.in(m.connectionId).socketsLeave([key, levelsKey(roomId)]);
      wantsLevels.delete(m.peerId);
    }
    logger.warn({ room: key, reason }, 'voice room closed by the media layer');
  });

  const setProducerPaused = (paused: boolean) =>
    defineEvent(z.object({ roomId: id, producerId: entityId }), async (data, ctx) => {
      const { m, room } = await roomMedia(ctx, data.roomId);
      await room.setProducerPaused(m.peerId, data.producerId, paused);
      return { paused };
    });

  const setConsumerPaused = (paused: boolean) =>
    defineEvent(z.object({ roomId: id, consumerId: entityId }), async (data, ctx) => {
      const { m, room } = await roomMedia(ctx, data.roomId);
      if (!paused && consumerSeats.get(data.consumerId)?.revoked) throw new ParleyError('FORBIDDEN', 'this consumer was closed: you may no longer receive that producer');
      await room.setConsumerPaused(m.peerId, data.consumerId, paused);
      return { paused };
    });

  const events = {
    'join-room': defineEvent(z.object({ roomId: id, userId: id.optional(), captions: z.boolean().optional(), audioLevels: z.boolean().optional() }), async (data, ctx) => {
      await access.assertCanJoin(ctx.identity, { kind: 'voice', id: data.roomId });
      const key = roomKey('voice', data.roomId);
      const already = rooms.get(key, ctx.socket.id);
      if (!already) await deps.placement?.claim(data.roomId);
      // Signed-in agents and admins (e.g. a call centre behind one NAT) are not counted per address.
      const address = already ? already.address : hasRole(ctx.identity, 'agent') ? undefined : clientAddress(ctx.socket);
      if (address) quotas.enterRoom(address, data.roomId, ctx.socket.id);
      let room: RoomMedia;
      try {
        room = await media.room(data.roomId);
      } catch (err) {
        if (address && !already) quotas.leaveRoom(address, data.roomId, ctx.socket.id);
        throw err;
      }
      wire(data.roomId, room);
      // A credential names its holder; only an anonymous peer names itself, and never as an account.
      const anonymous = ctx.identity.grant.kind === 'anonymous';
      if (anonymous && data.userId !== undefined && data.userId !== ctx.identity.userId && (await isAccountId(data.userId))) {
        if (address && !already) quotas.leaveRoom(address, data.roomId, ctx.socket.id);
        throw new ParleyError('UNAUTHORIZED', `user id "${data.userId}" belongs to a Parley account; connect with that account's access token`);
      }
      const userId = anonymous ? (data.userId ?? ctx.identity.userId) : ctx.identity.userId;
      peerIdentities.set(ctx.socket.id, ctx.identity);
      const others = rooms.join(key, { connectionId: ctx.socket.id, userId, peerId: ctx.socket.id, joinedAt: Date.now(), ...(address ? { address } : {}) });
      await ctx.socket.join(key);
      if (data.audioLevels === false) {
        wantsLevels.delete(ctx.socket.id);
        await ctx.socket.leave(levelsKey(data.roomId));
      } else {
        wantsLevels.add(ctx.socket.id);
        await ctx.socket.join(levelsKey(data.roomId));
      }
      const hidden = unaware(data.roomId, ctx.socket.id);
      (hidden.length > 0 ? ctx.socket.to(key).except(hidden) : ctx.socket.to(key)).emit('peer-joined', { peerId: ctx.socket.id, userId, verified: !anonymous });
      room.peerJoined(ctx.socket.id, { userId, verified: !anonymous });
      const producers = (await room.producers()).filter((p) => p.peerId !== ctx.socket.id && mayReceive(data.roomId, ctx.socket.id, p.peerId));
      // Late joiners learn the existing producers in the ack and, for clients that only
      // listen for them, as new-producer events right after it.
      setImmediate(() => {
        for (const p of producers) ctx.socket.emit('new-producer', { peerId: p.peerId, producerId: p.producerId, kind: p.kind });
      });
      logger.info({ room: key, peerId: ctx.socket.id, peers: others.length + 1 }, 'voice room joined');
      deps.onJoined?.(data.roomId, ctx.identity, { captions: data.captions === true });
      return {
        rtpCapabilities: room.rtpCapabilities,
        peerId: ctx.socket.id,
        peers: others.filter((o) => policy.mayKnow(data.roomId, ctx.identity, who(o.peerId))).map((o) => ({ peerId: o.peerId, userId: o.userId })),
        producers: producers.map((p) => ({ peerId: p.peerId, producerId: p.producerId, kind: p.kind, paused: p.paused })),
      };
    }),
    'create-transport': defineEvent(z.object({ roomId: id, direction: z.enum(['send', 'recv']).optional() }), async (data, ctx) => {
      const { m, room } = await roomMedia(ctx, data.roomId);
      const slot = m.address ? quotas.reserveTransport(m.address, data.roomId, m.peerId) : undefined;
      try {
        const params = await room.createTransport(m.peerId);
        slot?.commit(params.id);
        return params;
      } catch (err) {
        slot?.release();
        throw err;
      }
    }),
    'connect-transport': defineEvent(z.object({ roomId: id, transportId: entityId, dtlsParameters }), async (data, ctx) => {
      const { m, room } = await roomMedia(ctx, data.roomId);
      await room.connectTransport(m.peerId, data.transportId, data.dtlsParameters);
      return { connected: true };
    }),
    produce: defineEvent(z.object({ roomId: id, transportId: entityId, kind: mediaKind, rtpParameters, appData: producerAppData.optional() }), async (data, ctx) => {
      const { m, room } = await roomMedia(ctx, data.roomId);
      const refusal = policy.produceRefusal(data.roomId, ctx.identity);
      if (refusal) throw new ParleyError('FORBIDDEN', refusal);
      const { id: producerId } = await room.produce(m.peerId, { transportId: data.transportId, kind: data.kind, rtpParameters: data.rtpParameters, ...(data.appData ? { appData: data.appData } : {}) });
      for (const other of rooms.members(roomKey('voice', data.roomId))) {
        if (other.peerId !== m.peerId && mayReceive(data.roomId, other.peerId, m.peerId)) namespace.to(other.peerId).emit('new-producer', { peerId: m.peerId, producerId, kind: data.kind });
      }
      return { id: producerId };
    }),
    consume: defineEvent(z.object({ roomId: id, transportId: entityId, producerId: entityId, rtpCapabilities, paused: z.boolean().optional() }), async (data, ctx) => {
      const { m, room } = await roomMedia(ctx, data.roomId);
      const sender = (await room.producers()).find((p) => p.producerId === data.producerId);
      if (sender && !mayReceive(data.roomId, m.peerId, sender.peerId)) throw new ParleyError('FORBIDDEN', 'you may not receive that producer in this call');
      const params = await room.consume(m.peerId, { transportId: data.transportId, producerId: data.producerId, rtpCapabilities: data.rtpCapabilities, paused: data.paused });
      const seat: ConsumerSeat = { roomId: data.roomId, peerId: m.peerId, producerId: data.producerId, senderPeerId: sender?.peerId ?? '', revoked: false };
      consumerSeats.set(params.id, seat);
      // The seats may have changed while the consumer was being made: check it again.
      if (sender && !mayReceive(data.roomId, m.peerId, sender.peerId)) void reconcile(data.roomId).catch(() => undefined);
      return params;
    }),
    'pause-producer': setProducerPaused(true),
    'resume-producer': setProducerPaused(false),
    'close-producer': defineEvent(z.object({ roomId: id, producerId: entityId }), async (data, ctx) => {
      const { m, room } = await roomMedia(ctx, data.roomId);
      await room.closeProducer(m.peerId, data.producerId);
      return { closed: true };
    }),
    'pause-consumer': setConsumerPaused(true),
    'resume-consumer': setConsumerPaused(false),
    'leave-room': defineEvent(z.object({ roomId: id }), async (data, ctx) => {
      memberOf(ctx, data.roomId);
      await leave(ctx.socket, data.roomId);
      return { left: true };
    }),
  };

  const voiceRooms: VoiceRooms = {
    identityOf: who,
    emitHeardFrom(roomId, fromPeerId, event, payload) {
      for (const m of rooms.members(roomKey('voice', roomId))) {
        if (m.peerId === fromPeerId || mayReceive(roomId, m.peerId, fromPeerId)) namespace.to(m.peerId).emit(event, payload);
      }
    },
    emitToRoom(roomId, event, payload) {
      for (const m of rooms.members(roomKey('voice', roomId))) namespace.to(m.peerId).emit(event, payload);
    },
  };

  namespace.on('connection', (socket) => {
    metrics.socketConnections.inc({ namespace: nsName });
    router.attach(socket, identityOf(socket), events);
    socket.on('disconnect', () => {
      metrics.socketConnections.dec({ namespace: nsName });
      for (const key of rooms.roomsOf(socket.id, 'voice')) {
        leave(socket, key.slice('voice:'.length)).catch((err: unknown) => logger.error({ err, room: key }, 'leaving the voice room failed'));
      }
    });
  });
  return voiceRooms;
}
