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
  const fallback: UdpSend = (packet) => socket.send(packet, port, address);
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
    }
    // sent < 0: an errno, dropped as socket.send without a callback drops it.
  };
}
