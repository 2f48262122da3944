/**
 * What the sockets of one client address hold in the SFU at once: the voice rooms they are in
 * and the transports they own. Per-peer limits live in the Router (on the media worker); these
 * stop one address from spreading a flood over many sockets and rooms. A slot is taken before
 * the work is done and given back if it fails, so concurrent requests cannot overshoot.
 */
import { ParleyError } from '../errors.js';

export interface AddressLimits {
  roomsPerAddress: number;
  transportsPerAddress: number;
}

export interface TransportSlot {
  /** The transport exists: the slot stays taken until it closes or its peer leaves. */
  commit(transportId: string): void;
  /** Creating the transport failed: the slot is free again. */
  release(): void;
}

interface OwnedTransport {
  address: string;
  roomId: string;
  peerId: string;
}

export class ClientQuotas {
  /** address → roomId → members (connection ids) from that address. */
  private readonly rooms = new Map<string, Map<string, Set<string>>>();
  /** address → transports held or being created. */
  private readonly transportCounts = new Map<string, number>();
  private readonly transports = new Map<string, OwnedTransport>();

  constructor(private readonly limits: AddressLimits) {}

  /**
   * Member `memberId` (a connection) from `address` is in `roomId`; refused when the address is
   * already in as many other rooms as allowed. Entering twice counts once.
   */
  enterRoom(address: string, roomId: string, memberId: string): void {
    const byRoom = this.rooms.get(address) ?? new Map<string, Set<string>>();
    const max = this.limits.roomsPerAddress;
    if (!byRoom.has(roomId) && byRoom.size >= max) {
      throw new ParleyError('RESOURCE_EXHAUSTED', `your address is already in ${max} voice rooms, the most allowed at once; leave one before joining another`);
    }
    const members = byRoom.get(roomId) ?? new Set<string>();
    members.add(memberId);
    byRoom.set(roomId, members);
    this.rooms.set(address, byRoom);
  }

  leaveRoom(address: string, roomId: string, memberId: string): void {
    const byRoom = this.rooms.get(address);
    const members = byRoom?.get(roomId);
    if (!byRoom || !members) return;
    members.delete(memberId);
    if (members.size === 0) byRoom.delete(roomId);
    if (byRoom.size === 0) this.rooms.delete(address);
  }

  /** Takes a transport slot for `address`, or refuses when its sockets already hold as many as allowed. */
  reserveTransport(address: string, roomId: string, peerId: string): TransportSlot {
    const held = this.transportCounts.get(address) ?? 0;
    const max = this.limits.transportsPerAddress;
    if (held >= max) {
      throw new ParleyError('RESOURCE_EXHAUSTED', `connections from your address already hold ${max} media transports, the most allowed at once; close some before creating more`);
    }
    this.transportCounts.set(address, held + 1);
    let settled = false;
    return {
      commit: (transportId) => {
        if (settled) return;
        settled = true;
        this.transports.set(transportId, { address, roomId, peerId });
      },
      release: () => {
        if (settled) return;
        settled = true;
        this.decrement(address);
      },
    };
  }

  transportClosed(transportId: string): void {
    const t = this.transports.get(transportId);
    if (!t) return;
    this.transports.delete(transportId);
    this.decrement(t.address);
  }

  /** Everything a peer held in a room is gone (it left, or its room closed). */
  peerLeft(roomId: string, peerId: string): void {
    for (const [id, t] of this.transports) if (t.roomId === roomId && t.peerId === peerId) this.transportClosed(id);
  }

  roomClosed(roomId: string): void {
    for (const [id, t] of this.transports) if (t.roomId === roomId) this.transportClosed(id);
  }

  /** What one address holds now (for tests and diagnostics). */
  usage(address: string): { rooms: number; transports: number } {
    return { rooms: this.rooms.get(address)?.size ?? 0, transports: this.transportCounts.get(address) ?? 0 };
  }

  private decrement(address: string): void {
    const n = (this.transportCounts.get(address) ?? 1) - 1;
    if (n > 0) this.transportCounts.set(address, n);
    else this.transportCounts.delete(address);
  }
}
