/**
 * A RoomDirectory across nodes: each node publishes the changes to its own connections'
 * memberships on the bus and replays the others', so seed 002's participant lists,
 * presence and "is this peer in a room with you" checks see every node's sockets while
 * reads stay synchronous and local.
 *
 * Converging: a node that starts says hello and every other node republishes its own
 * memberships; every node says it is alive every `heartbeatMs`, and the members of a node
 * not heard from for `ttlMs` are dropped (it died, or lost Redis; when it comes back its
 * hello brings its members back).
 */
import { z } from 'zod';
import type { RoomChange, RoomDirectory, RoomMember } from '../domain/roomDirectory.js';
import type { BusEnvelope, MessageBus } from '../events/messageBus.js';
import type { Logger } from '../log/logger.js';

const wire = z.discriminatedUnion('op', [
  z.object({ op: z.literal('join'), room: z.string(), member: z.looseObject({ connectionId: z.string(), userId: z.string(), joinedAt: z.number() }) }),
  z.object({ op: z.literal('leave'), room: z.string(), connectionId: z.string() }),
  z.object({ op: z.literal('update'), room: z.string(), connectionId: z.string(), patch: z.record(z.string(), z.unknown()) }),
  z.object({ op: z.literal('hello') }),
  z.object({ op: z.literal('alive') }),
  z.object({ op: z.literal('bye') }),
]);

export interface RoomReplication {
  /** Node ids heard from within the TTL (this one excluded). */
  peers(): string[];
  close(): Promise<void>;
}

export async function replicateRooms<M extends RoomMember>(
  name: string,
  rooms: RoomDirectory<M>,
  bus: MessageBus,
  o: { heartbeatMs: number; ttlMs: number; logger: Logger; onDropped?: (nodeId: string, dropped: Array<{ room: string; member: M }>) => void },
): Promise<RoomReplication> {
  const channel = `rooms:${name}`;
  const lastSeen = new Map<string, number>();
  const publish = (data: unknown) => bus.publish(channel, data).catch((err: unknown) => o.logger.warn({ err: err instanceof Error ? err.message : String(err), rooms: name }, 'a room change could not be shared with the other nodes (Redis away?); they catch up on its return'));
  const drop = (nodeId: string, why: string) => {
    lastSeen.delete(nodeId);
    const dropped = rooms.dropNode(nodeId);
    if (dropped.length > 0) o.logger.info({ rooms: name, nodeId, members: dropped.length, why }, "forgot another node's room members");
    o.onDropped?.(nodeId, dropped);
  };

  const onMessage = ({ from, data }: BusEnvelope) => {
    if (from === bus.nodeId) return;
    const parsed = wire.safeParse(data);
    if (!parsed.success) return;
    const msg = parsed.data;
    const known = lastSeen.has(from);
    lastSeen.set(from, Date.now());
    if (msg.op === 'hello' || !known) {
      // A node we had not heard of (new, or back): it gets our memberships.
      for (const { room, member } of rooms.localMemberships()) void publish({ op: 'join', room, member });
    }
    if (msg.op === 'bye') return drop(from, 'stopped');
    if (msg.op === 'join' || msg.op === 'leave' || msg.op === 'update') rooms.applyRemote(from, msg as RoomChange<M>);
  };
  const unsubscribe = await bus.subscribe(channel, onMessage);
  const onChange = (change: RoomChange<M>) => void publish(change);
  rooms.on('changed', onChange);
  await publish({ op: 'hello' });

  const timer = setInterval(() => {
    void publish({ op: 'alive' });
    const cutoff = Date.now() - o.ttlMs;
    for (const [nodeId, at] of lastSeen) if (at < cutoff) drop(nodeId, `silent for over ${o.ttlMs} ms`);
  }, o.heartbeatMs);
  timer.unref();

  return {
    peers: () => [...lastSeen.keys()],
    async close() {
      clearInterval(timer);
      rooms.off('changed', onChange);
      await publish({ op: 'bye' });
      await unsubscribe();
    },
  };
}
