/**
 * Who is in which room, for every protocol surface: seed 002's video rooms and studies,
 * seed 001's sessions, and later SFU rooms and calls. Rooms are keyed by
 * "<kind>:<id>" (e.g. "video:study-123-main", "session:abc"); a room exists while it has
 * members. The protocol modules translate to and from their wire events; this class
 * knows nothing of sockets or SQL.
 */
import { EventEmitter } from 'node:events';

export interface RoomMember {
  /** The connection that holds the membership (Socket.IO socket id). */
  connectionId: string;
  userId: string;
  joinedAt: number;
}

export interface RoomDirectoryEvents<M extends RoomMember> {
  joined: [room: string, member: M];
  left: [room: string, member: M, reason: 'leave' | 'disconnect'];
}

export class RoomDirectory<M extends RoomMember = RoomMember> extends EventEmitter<RoomDirectoryEvents<M>> {
  private readonly rooms = new Map<string, Map<string, M>>();
  private readonly byConnection = new Map<string, Set<string>>();

  /** Adds (or refreshes) a member; returns the members that were there before. */
  join(room: string, member: M): M[] {
    let members = this.rooms.get(room);
    if (!members) {
      members = new Map();
      this.rooms.set(room, members);
    }
    const others = [...members.values()].filter((m) => m.connectionId !== member.connectionId);
    const rejoin = members.has(member.connectionId);
    members.set(member.connectionId, member);
    let joined = this.byConnection.get(member.connectionId);
    if (!joined) {
      joined = new Set();
      this.byConnection.set(member.connectionId, joined);
    }
    joined.add(room);
    if (!rejoin) this.emit('joined', room, member);
    return others;
  }

  leave(room: string, connectionId: string, reason: 'leave' | 'disconnect' = 'leave'): M | undefined {
    const members = this.rooms.get(room);
    const member = members?.get(connectionId);
    if (!members || !member) return undefined;
    members.delete(connectionId);
    if (members.size === 0) this.rooms.delete(room);
    const joined = this.byConnection.get(connectionId);
    joined?.delete(room);
    if (joined && joined.size === 0) this.byConnection.delete(connectionId);
    this.emit('left', room, member, reason);
    return member;
  }

  /** Removes a connection from every room it is in (socket dropped). */
  leaveAll(connectionId: string): Array<{ room: string; member: M }> {
    const rooms = [...(this.byConnection.get(connectionId) ?? [])];
    const out: Array<{ room: string; member: M }> = [];
    for (const room of rooms) {
      const member = this.leave(room, connectionId, 'disconnect');
      if (member) out.push({ room, member });
    }
    return out;
  }

  get(room: string, connectionId: string): M | undefined {
    return this.rooms.get(room)?.get(connectionId);
  }

  has(room: string, connectionId: string): boolean {
    return this.rooms.get(room)?.has(connectionId) ?? false;
  }

  members(room: string): M[] {
    return [...(this.rooms.get(room)?.values() ?? [])];
  }

  /** True when some other connection of the same user is still in the room. */
  userStillPresent(room: string, userId: string): boolean {
    for (const m of this.rooms.get(room)?.values() ?? []) if (m.userId === userId) return true;
    return false;
  }

  roomsOf(connectionId: string, kind?: string): string[] {
    const rooms = [...(this.byConnection.get(connectionId) ?? [])];
    return kind ? rooms.filter((r) => r.startsWith(`${kind}:`)) : rooms;
  }

  update(room: string, connectionId: string, patch: Partial<M>): M | undefined {
    const m = this.rooms.get(room)?.get(connectionId);
    if (!m) return undefined;
    Object.assign(m, patch);
    return m;
  }

  /** Every room with its member count, for /metrics. */
  summary(): Array<{ name: string; participants: number }> {
    return [...this.rooms.entries()].map(([name, members]) => ({ name, participants: members.size }));
  }
}

export function roomKey(kind: string, id: string): string {
  return `${kind}:${id}`;
}
