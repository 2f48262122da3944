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

/** A change made on this node, as other nodes replay it (src/cluster/roomReplication.ts). */
export type RoomChange<M extends RoomMember> =
  | { op: 'join'; room: string; member: M }
  | { op: 'leave'; room: string; connectionId: string }
  | { op: 'update'; room: string; connectionId: string; patch: Partial<M> };

export interface RoomDirectoryEvents<M extends RoomMember> {
  joined: [room: string, member: M];
  left: [room: string, member: M, reason: 'leave' | 'disconnect'];
  /** Every change to this node's own connections (never to members replayed from other nodes). */
  changed: [change: RoomChange<M>];
}

export class RoomDirectory<M extends RoomMember = RoomMember> extends EventEmitter<RoomDirectoryEvents<M>> {
  private readonly rooms = new Map<string, Map<string, M>>();
  private readonly byConnection = new Map<string, Set<string>>();
  /** Members held by another node's connections: connection id → node id. */
  private readonly remote = new Map<string, string>();

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
    if (this.remote.has(member.connectionId)) return others;
    if (!rejoin) this.emit('joined', room, member);
    this.emit('changed', { op: 'join', room, member });
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
    if (this.remote.has(connectionId)) {
      if (!joined || joined.size === 0) this.remote.delete(connectionId);
      return member;
    }
    this.emit('left', room, member, reason);
    this.emit('changed', { op: 'leave', room, connectionId });
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
    if (!this.remote.has(connectionId)) this.emit('changed', { op: 'update', room, connectionId, patch });
    return m;
  }

  /** Replays another node's change (no events: that node's own listeners handled it there). */
  applyRemote(nodeId: string, change: RoomChange<M>): void {
    if (this.rooms.get(change.room)?.has(change.op === 'join' ? change.member.connectionId : change.connectionId) && !this.remote.has(change.op === 'join' ? change.member.connectionId : change.connectionId)) return; // never over a local member
    if (change.op === 'join') {
      this.remote.set(change.member.connectionId, nodeId);
      this.join(change.room, change.member);
    } else if (change.op === 'leave') this.leave(change.room, change.connectionId);
    else this.update(change.room, change.connectionId, change.patch);
  }

  /** Forgets every member another node held (it stopped, or went silent). */
  dropNode(nodeId: string): Array<{ room: string; member: M }> {
    const gone = [...this.remote].filter(([, node]) => node === nodeId).map(([connectionId]) => connectionId);
    return gone.flatMap((connectionId) => this.leaveAll(connectionId));
  }

  /** This node's own memberships (what another node that just started needs to hear). */
  localMemberships(): Array<{ room: string; member: M }> {
    const out: Array<{ room: string; member: M }> = [];
    for (const [room, members] of this.rooms) for (const m of members.values()) if (!this.remote.has(m.connectionId)) out.push({ room, member: m });
    return out;
  }

  /** The node holding a member's connection, when it is another node. */
  remoteNodeOf(connectionId: string): string | undefined {
    return this.remote.get(connectionId);
  }

  /** Every room with its member count, for /metrics. */
  summary(): Array<{ name: string; participants: number }> {
    return [...this.rooms.entries()].map(([name, members]) => ({ name, participants: members.size }));
  }
}

export function roomKey(kind: string, id: string): string {
  return `${kind}:${id}`;
}
