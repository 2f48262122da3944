/**
 * One datagram to one fixed address from a bound dgram socket, for the forwarding hot path
 * (one call per packet and subscriber), and where the packets are written before they are sent:
 * the thread's scratch for a packet sent on its own (`scratchPacket`, `sendNow`), one arena for
 * a whole fan-out (`SendBatch`).
 *
 * `Socket.send(buf, port, ip)` does, per call in Node 20: argument checks, a new `[buf]` list,
 * the address lookup (see `synchronousIpLookup` in webRtcTransport.ts), `afterDns` through
 * `defaultTriggerAsyncIdScope`, and a new `SendWrap` request object, a C++-backed object,
 * before the `sendmsg`. The address never changes for a send path, and libuv sends synchronously
 * when the socket's queue is empty (`uv_udp_try_send`), in which case the request object is
 * never used. So this calls the handle's `send` directly with one request object and one list
 * per path, reused while sends complete synchronously. When a send is queued (the kernel's
 * buffer was full), libuv keeps that request and list until it completes: a fresh pair is made
 * for the next packet, so a queued request is never reused.
 *
 * Node internals (v20: the socket's `state symbol` → `handle`, `handle.send(req, list, count,
 * port, ip, hasCallback)`, `process.binding('udp_wrap').SendWrap`). Where any of them is not
 * as expected, the path uses `socket.send` as before. Errors are dropped, as `socket.send`
 * without a callback drops them (the consent timer closes a transport whose peer is gone).
 */
import type { Socket as DgramSocket } from 'node:dgram';

/**
 * Sends one datagram. Returns true when libuv queued it instead of sending it at once (the
 * socket's send buffer was full): libuv then reads the packet's memory until the send
 * completes, so the caller must not write into that memory again (see `SendBatch`).
 */
export type UdpSend = (packet: Buffer) => boolean;

/**
 * One output buffer per thread for packets that are sent the moment they are written (the
 * SRTP encrypter writes each forwarded packet into it; see `WebRtcTransport.sendRtp`). A sent
 * datagram is copied by the kernel inside `sendmsg`, so the same memory serves the next packet:
 * no Buffer per packet and subscriber (a pool slice, a typed-array object, and every 8 KiB a
 * new pool for the GC to sweep). `handle.send` sends whole Buffers, so each packet length gets
 * its own view of the scratch, made once. When a send is queued instead (the socket's send
 * buffer was full), libuv keeps pointing into that memory until it completes: the scratch is
 * then given up to that request and a new one is made, so a queued packet is never overwritten.
 */
const SCRATCH_BYTES = 2048;
let scratch = new ArrayBuffer(SCRATCH_BYTES);
/** Filled (not holey) so that V8 keeps it a fast array indexed by length. */
const noViews = (): Array<Buffer | undefined> => new Array<Buffer | undefined>(SCRATCH_BYTES + 1).fill(undefined);
let views = noViews();

/**
 * A Buffer of exactly `size` bytes to write one packet into and hand to a sender of this
 * module right away (before anything else writes a packet). Larger packets get their own Buffer.
 */
export function scratchPacket(size: number): Buffer {
  if (size > SCRATCH_BYTES) return Buffer.allocUnsafe(size);
  return (views[size] ??= Buffer.from(scratch, 0, size));
}

function isScratch(packet: Buffer): boolean {
  return packet.buffer === scratch;
}

/** The scratch now belongs to a queued send: later packets use a new one. */
function giveUpScratch(): void {
  scratch = new ArrayBuffer(SCRATCH_BYTES);
  views = noViews();
}

/**
 * Sends a packet that may live in the thread's scratch (`scratchPacket`); a queued send keeps
 * the scratch and the next packet gets a new one.
 */
export function sendNow(send: UdpSend, packet: Buffer): void {
  if (send(packet) && isScratch(packet)) giveUpScratch();
}

/** First arena size; it doubles (up to ARENA_MAX_BYTES) when one fan-out needs more. */
const ARENA_MIN_BYTES = 16 * 1024;
/**
 * Above this, a fan-out is sent in parts (the packets written so far go out, then the arena is
 * written again from its start): 512 KiB holds ≈ 4,000 Opus packets or ≈ 400 video packets.
 */
export const ARENA_MAX_BYTES = 512 * 1024;

/**
 * One fan-out's outgoing packets, written first and sent afterwards in one tight loop.
 *
 * Why two phases: sending each packet the moment it is encrypted spaced the `sendmsg` calls
 * ≈ 15 µs of encryption apart. On loopback each send wakes a receiver that then preempts the
 * sender, and a send between stretches of other work measured dearer than the same send in a
 * run of sends (instruction cache, wakeups batched by the scheduler). So every consumer's packet
 * is encrypted into one arena (one ArrayBuffer; each packet a view of it, the views made once
 * per slot and reused), and `flush` then sends them all.
 *
 * The kernel copies a sent datagram inside `sendmsg`, so after a flush the arena is written
 * again from its start. When libuv queues a send instead, it keeps pointing into the arena
 * until that send completes: the arena is then given up to the queued request (the request's
 * list holds its Buffer) and the next fan-out writes into a new one.
 */
export class SendBatch {
  private arena: ArrayBuffer;
  private used = 0;
  private count = 0;
  /** views[i]: the last view made for the i-th packet of a fan-out (reused when it matches). */
  private views: Array<Buffer | undefined> = [];
  private readonly packets: Array<Buffer | undefined> = [];
  private readonly sends: Array<UdpSend | undefined> = [];
  /** Arenas given up to queued sends (for tests and stats). */
  arenasGivenUp = 0;
  /** The encrypter's `output` for a packet of this batch (srtpEncrypter.ts `PacketOutput`). */
  readonly output = (size: number): Buffer => this.take(size);

  constructor(private readonly send: (fn: UdpSend, packet: Buffer) => boolean = callSend) {
    this.arena = new ArrayBuffer(ARENA_MIN_BYTES);
  }

  /** Packets written and not yet sent. */
  get pending(): number {
    return this.count;
  }

  /** The arena's size now (it grows with the largest fan-out, up to ARENA_MAX_BYTES). */
  get capacity(): number {
    return this.arena.byteLength;
  }

  /**
   * A Buffer of exactly `size` bytes in the arena for the next packet, to be passed to `add`
   * (with the sender it goes to) before the next `take`.
   */
  take(size: number): Buffer {
    // 16-byte aligned starts: the encrypter's word writes and the kernel's copy stay aligned.
    let offset = (this.used + 15) & ~15;
    if (offset + size > this.arena.byteLength) {
      if (this.arena.byteLength >= ARENA_MAX_BYTES || size > ARENA_MAX_BYTES) {
        // Full at its largest (or a packet larger than any arena): send what is written, then
        // start again at the beginning. A packet larger than the arena gets its own Buffer.
        this.flush();
        if (size > this.arena.byteLength) return Buffer.allocUnsafe(size);
        offset = 0;
      } else {
        // The packets already written stay in the old arena (their Buffers hold it) until sent.
        let bytes = this.arena.byteLength * 2;
        while (bytes < size) bytes *= 2;
        this.arena = new ArrayBuffer(Math.min(bytes, ARENA_MAX_BYTES));
        this.views = [];
        offset = 0;
      }
    }
    this.used = offset + size;
    const slot = this.count;
    const view = this.views[slot];
    if (view !== undefined && view.byteOffset === offset && view.length === size && view.buffer === this.arena) return view;
    const made = Buffer.from(this.arena, offset, size);
    this.views[slot] = made;
    return made;
  }

  /** Queues `packet` (from `take`, or any Buffer) for `send` at the next `flush`. */
  add(send: UdpSend, packet: Buffer): void {
    const i = this.count++;
    this.sends[i] = send;
    this.packets[i] = packet;
  }

  /** Sends every queued packet in order, in one loop, and makes the arena reusable. */
  flush(): void {
    const n = this.count;
    if (n === 0) return;
    const { sends, packets } = this;
    let queued = false;
    try {
      for (let i = 0; i < n; i++) {
        if (this.send(sends[i]!, packets[i]!)) queued = true;
      }
    } finally {
      // Drop the references (a closed transport's sender must not be kept alive by the batch).
      for (let i = 0; i < n; i++) {
        sends[i] = undefined;
        packets[i] = undefined;
      }
      this.count = 0;
      this.used = 0;
      if (queued) this.giveUp();
    }
  }

  /** The arena now belongs to a queued send: later packets are written into a new one. */
  private giveUp(): void {
    this.arena = new ArrayBuffer(this.arena.byteLength);
    this.views = [];
    this.arenasGivenUp++;
  }
}

function callSend(fn: UdpSend, packet: Buffer): boolean {
  return fn(packet);
}

/** This thread's fan-out batch (Producer.receive: encrypt for every consumer, then flush). */
export const fanOutBatch = new SendBatch();

interface UdpHandle {
  send(req: object, list: Buffer[], count: number, port: number, ip: string, hasCallback: boolean): number;
}
interface SocketState {
  handle?: UdpHandle | null;
}
type SendWrapClass = new () => object & { list?: Buffer[] };

let sendWrapClass: SendWrapClass | null | undefined;

function sendWrap(): SendWrapClass | null {
  if (sendWrapClass !== undefined) return sendWrapClass;
  sendWrapClass = null;
  try {
    const binding = (process as unknown as { binding(name: string): { SendWrap?: unknown } }).binding('udp_wrap');
    if (typeof binding.SendWrap === 'function') sendWrapClass = binding.SendWrap as SendWrapClass;
  } catch {
    /* not available: socket.send */
  }
  return sendWrapClass;
}

/** A sender of datagrams to `address:port` (an IPv4 literal) from `socket`, which must be bound. */
export function udpSender(socket: DgramSocket, address: string, port: number): UdpSend {
  // socket.send resolves the address on a later tick before it sends: the packet may be in
  // memory that is written again before then (scratch, arena), so it is copied. A closed socket
  // throws there: dropped, as the direct path drops it.
  const fallback: UdpSend = (packet) => {
    try {
      socket.send(Buffer.from(packet), port, address);
    } catch {
      /* socket closed */
    }
    return false;
  };
  const stateKey = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const state = stateKey ? (socket as unknown as Record<symbol, SocketState | undefined>)[stateKey] : undefined;
  const handle = state?.handle;
  const SendWrap = sendWrap();
  if (!state || !handle || typeof handle.send !== 'function' || !SendWrap) return fallback;
  let req = new SendWrap();
  let list: Buffer[] = [];
  return (packet: Buffer): boolean => {
    // A closed socket has no handle (or another one): send nothing, as socket.send would throw.
    if (state.handle !== handle) return false;
    list[0] = packet;
    const sent = handle.send(req, list, 1, port, address, false);
    if (sent >= 1) return false; // sent synchronously: req and list are free again
    if (sent === 0) {
      // Queued: libuv holds this request and list (and so the packet) until the send completes.
      req.list = list;
      req = new SendWrap();
      list = [];
      return true;
    }
    // sent < 0: an errno, dropped as socket.send without a callback drops it.
    return false;
  };
}
