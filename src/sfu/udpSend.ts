/**
 * One datagram to one fixed address from a bound dgram socket, for the forwarding hot path
 * (one call per packet and subscriber).
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

export type UdpSend = (packet: Buffer) => void;

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
  // socket.send resolves the address on a later tick before it sends: a scratch packet is copied.
  const fallback: UdpSend = (packet) => socket.send(isScratch(packet) ? Buffer.from(packet) : packet, port, address);
  const stateKey = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const state = stateKey ? (socket as unknown as Record<symbol, SocketState | undefined>)[stateKey] : undefined;
  const handle = state?.handle;
  const SendWrap = sendWrap();
  if (!state || !handle || typeof handle.send !== 'function' || !SendWrap) return fallback;
  let req = new SendWrap();
  let list: Buffer[] = [];
  return (packet: Buffer): void => {
    // A closed socket has no handle (or another one): send nothing, as socket.send would throw.
    if (state.handle !== handle) return;
    list[0] = packet;
    const sent = handle.send(req, list, 1, port, address, false);
    if (sent >= 1) return; // sent synchronously: req and list are free again
    if (sent === 0) {
      // Queued: libuv holds this request and list (and so the packet) until the send completes.
      req.list = list;
      req = new SendWrap();
      list = [];
      if (isScratch(packet)) giveUpScratch();
    }
    // sent < 0: an errno, dropped as socket.send without a callback drops it.
  };
}
