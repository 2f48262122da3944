/**
 * A mediasoup-like WebRtcTransport on werift's ORTC-style pieces: an ICE-lite agent
 * (RTCIceGatherer + RTCIceTransport) and a DTLS transport that yields the SRTP session.
 * The browser (mediasoup-client) is ICE-controlling and DTLS client; the server answers.
 *
 * Lifetime: `close(reason)` stops DTLS and ICE and emits `close` once. The transport also
 * closes itself when the browser stops sending ICE consent checks for `consentTimeoutMs`.
 *
 * When the process is out of file descriptors (EMFILE/ENFILE) or ports, `create` fails with
 * RESOURCE_EXHAUSTED instead of taking the worker down (see `reportBindErrors`).
 */
import { randomUUID } from 'node:crypto';
import { Socket as DgramSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIPv4 } from 'node:net';
import {
  ProtectionProfileAeadAes128Gcm,
  ProtectionProfileAes128CmHmacSha1_80,
  RTCDtlsFingerprint,
  RTCDtlsParameters,
  RTCDtlsTransport,
  RTCIceGatherer,
  RTCIceParameters,
  RTCIceTransport,
  RtcpSrPacket,
  UdpTransport,
  parseMessage,
  type RTCCertificate,
  type RtcpPacket,
  type RtpHeader,
  type RtpPacket,
} from 'werift';
import { ParleyError } from '../errors.js';
import { HandshakeAdmission } from './handshakeAdmission.js';
import { installRtpEncrypter, releaseRtpEncrypter, rtpEncrypterOf, type PacketOutput } from './srtpEncrypter.js';
import { senderReport, srtcpEncrypterFor, type SrtcpEncrypter, type SrtcpLocalContextLike } from './srtcpEncrypter.js';
import { bindingSuccess, canAnswer, xorMappedIpv4 } from './stunAnswer.js';
import { rtcpHasRoutedPacket, srtcpDecrypterFor, srtpDecrypterFor, srtpDecrypterKnows, type SrtcpContextLike, type SrtpContextLike } from './srtpDecrypter.js';
import { scratchPacket, sendNow, udpSender, type SendBatch, type UdpSend } from './udpSend.js';
import type { DtlsParameters, IceCandidate, WebRtcTransportParameters } from './rtpTypes.js';

export interface WebRtcTransportOptions {
  /** Bind and announce only this IPv4 address (unset: every host address plus 127.0.0.1). */
  listenIp?: string;
  /** Address put in the candidates instead of the bound one (public IP behind NAT). */
  announcedIp?: string;
  portRange?: [number, number];
  /** Close after this long without ICE consent checks from a connected browser. Default 30 s. */
  consentTimeoutMs?: number;
  appData?: Record<string, unknown>;
}

export type TransportCloseReason = 'closed' | 'ice-timeout' | 'connect-timeout' | 'dtls-failed' | 'peer-left' | 'router-closed';

export interface WebRtcTransportEvents {
  rtp: [packet: RtpPacket];
  rtcp: [packets: RtcpPacket[]];
  connected: [];
  close: [reason: TransportCloseReason];
}

let certificate: Promise<RTCCertificate> | undefined;
/** One self-signed ECDSA P-256 certificate per worker, as a mediasoup Worker has. */
function workerCertificate(): Promise<RTCCertificate> {
  certificate ??= RTCDtlsTransport.SetupCertificate();
  return certificate;
}

/**
 * DTLS handshakes of this worker thread, a few at a time (see handshakeAdmission.ts): the
 * forwarding loop and ICE answers stay on time through a burst of joins.
 */
export const handshakeAdmission = new HandshakeAdmission({ concurrent: 4, holdMs: 500, lagLimitMs: 20 });

type SrtpContext = RTCDtlsTransport['srtp']['localContext'];
type SrtpSsrcState = ReturnType<SrtpContext['getSrtpSsrcState']>;
/** Outgoing SSRC states looked up by a linear scan per packet (more are looked up in werift's). */
const MAX_CACHED_SSRC_STATES = 8;

interface SendPath {
  send: UdpSend;
}

interface StunSocketInternals {
  datagramReceived(data: Buffer, addr: unknown): void;
}

/**
 * werift (0.24.4, pinned) answers a Binding request without verifying its MESSAGE-INTEGRITY,
 * and re-serialises what it parsed (so the check cannot be done on the parsed message).
 * Wrap each of the agent's UDP sockets so that a request not signed with this transport's
 * ICE password (RFC 8445 §7.3) is dropped on arrival. `answer` may then answer an
 * authenticated request itself (a consent check on the nominated pair, see
 * `WebRtcTransport.answerConsentCheck`) instead of having werift parse and answer it again.
 */
/** A Binding request that passed its MESSAGE-INTEGRITY check, as werift parsed it. */
interface VerifiedRequest {
  transactionId: Buffer;
  attributesKeys: string[];
  getAttributeValue(name: string): unknown;
}
/** Answers an authenticated request itself (true), or leaves it to werift (false). */
type ConsentAnswer = (request: VerifiedRequest, addr: readonly [string, number], protocol: unknown) => boolean;

function requireRequestIntegrity(gatherer: RTCIceGatherer, answer?: ConsentAnswer): void {
  const key = Buffer.from(gatherer.localParameters.password, 'utf8');
  const protocols = (gatherer.connection as unknown as { protocols?: StunSocketInternals[] }).protocols;
  if (!Array.isArray(protocols) || protocols.some((p) => typeof p.datagramReceived !== 'function')) {
    throw new Error('werift internals changed (ice connection protocols); STUN integrity cannot be enforced — check the pinned werift version');
  }
  for (const protocol of protocols) {
    const receive = protocol.datagramReceived.bind(protocol);
    protocol.datagramReceived = (data, addr) => {
      const isBindingRequest = data.length >= 20 && data.readUInt16BE(0) === 0x0001 && data.readUInt32BE(4) === 0x2112a442;
      if (isBindingRequest) {
        const request = parseMessage(data, key);
        if (!request) return;
        if (answer?.(request, addr as readonly [string, number], protocol)) return;
      }
      receive(data, addr);
    };
  }
}

interface IceConnectionInternals {
  nominated?: unknown;
  send(data: Buffer): Promise<void>;
}
interface StunProtocol {
  sendData(data: Buffer, addr: readonly [string, number]): Promise<void>;
}

/**
 * werift (0.24.4, pinned), as an ICE-lite agent, sends nothing until a check carrying
 * USE-CANDIDATE has nominated a pair, and drops (silently) what DTLS gives it before that.
 * Browsers start DTLS as soon as their first check is answered and nominate a moment later,
 * so the first HelloVerifyRequest of every handshake was lost and each join waited on the
 * browser's retransmission timer (longer still under load, and werift clients give up).
 * mediasoup's ICE-lite server selects the tuple of the first authenticated Binding request;
 * do the same: until a pair is nominated, DTLS goes to the address that last passed a check.
 * Returns the hook the STUN filter calls for each authenticated request.
 */
function sendBeforeNomination(gatherer: RTCIceGatherer): (addr: readonly [string, number], protocol: unknown) => void {
  const connection = gatherer.connection as unknown as IceConnectionInternals;
  if (typeof connection.send !== 'function') throw new Error('werift internals changed (ice connection send); check the pinned werift version');
  const send = connection.send.bind(connection);
  let tuple: { addr: readonly [string, number]; protocol: StunProtocol } | undefined;
  connection.send = async (data: Buffer): Promise<void> => {
    if (connection.nominated || !tuple) return send(data);
    await tuple.protocol.sendData(data, tuple.addr);
  };
  return (addr, protocol) => {
    if (connection.nominated) return;
    const p = protocol as Partial<StunProtocol> | undefined;
    if (p && typeof p.sendData === 'function') tuple = { addr, protocol: p as StunProtocol };
  };
}

/** A copy of an answered ClientHello arriving this soon after it is a stale retransmission. */
const STALE_CLIENT_HELLO_MS = 1000;

interface DtlsServerInternals {
  dtls?: { transport?: { socket?: { onData?: (buf: Buffer) => void } } };
}

/**
 * A client that waited for admission retransmitted its ClientHello, byte for byte (werift
 * resends the same datagram), and the copies queued behind the one that is answered. werift's
 * server answers each cookie-less copy with another HelloVerifyRequest, and werift's client
 * fails its handshake on a second one ("dtls failed"; browsers ignore it). So, during the
 * handshake, a ClientHello identical to the last one handed on within STALE_CLIENT_HELLO_MS
 * is dropped; a later copy (the answer was lost) is answered as before.
 * Call right after `start()` (which builds werift's server and its ICE-side transport).
 */
function dropStaleClientHellos(dtls: RTCDtlsTransport): void {
  const socket = (dtls as unknown as DtlsServerInternals).dtls?.transport?.socket;
  const receive = socket?.onData;
  if (!socket || typeof receive !== 'function') return;
  let last: Buffer | undefined;
  let lastAt = 0;
  socket.onData = (buf: Buffer): void => {
    // DTLS record: content type 22 (handshake), 13-byte header, then msg_type 1 (ClientHello).
    if (buf.length > 13 && buf[0] === 22 && buf[13] === 1 && dtls.state === 'connecting') {
      const now = Date.now();
      if (last && now - lastAt < STALE_CLIENT_HELLO_MS && buf.equals(last)) return;
      last = buf;
      lastAt = now;
    }
    receive(buf);
  };
}

interface SrtcpSessionInternals {
  decrypt?: (packet: Buffer) => Buffer;
  remoteContext?: SrtcpContextLike;
}
interface SrtpSessionInternals {
  decrypt?: (packet: Buffer) => Buffer;
  remoteContext?: SrtpContextLike;
}
const NOTHING_ROUTED = Buffer.alloc(0);

/**
 * Publishers' RTP (AEAD_AES_128_GCM) is decrypted by srtpDecrypter.ts too (replay window,
 * one kept key schedule, the tag checked first). And every subscriber sends RTCP (receiver
 * reports, about one a second each), so the media thread decrypts ≈ N SRTCP packets a second.
 * Swap werift's SRTCP decryption (srtpDecrypter.ts: keys
 * kept per context, replay window added) and, once a packet is authenticated, hand werift's
 * RTCP parser only compounds that hold something the router acts on (Router.onRtcp: SR, NACK,
 * PLI, FIR); for the rest werift parses an empty compound and emits nothing. What fails
 * authentication throws werift's SrtpAuthenticationError and is dropped by werift as before.
 * Call once DTLS is connected (werift builds the SRTCP session just before 'connected').
 */
function installDecrypters(dtls: RTCDtlsTransport): void {
  // RTP from publishers (srtpDecrypter.ts): werift's path made a GCM decipher per packet and
  // had no replay protection. AES-CM RTP stays with werift.
  // Made on the first packet: a subscriber's transport never receives RTP.
  const rtp = (dtls as unknown as { srtp?: SrtpSessionInternals }).srtp;
  const rtpContext = rtp?.remoteContext;
  if (rtp && rtpContext && typeof rtp.decrypt === 'function' && srtpDecrypterKnows(rtpContext)) {
    let rtpDecrypter: ReturnType<typeof srtpDecrypterFor>;
    rtp.decrypt = (packet: Buffer): Buffer => (rtpDecrypter ??= srtpDecrypterFor(rtpContext)!).decrypt(packet);
  }
  const session = (dtls as unknown as { srtcp?: SrtcpSessionInternals }).srtcp;
  if (!session?.remoteContext || typeof session.decrypt !== 'function') return;
  const decrypter = srtcpDecrypterFor(session.remoteContext);
  if (!decrypter) return;
  session.decrypt = (packet: Buffer): Buffer => {
    const compound = decrypter.decrypt(packet);
    return rtcpHasRoutedPacket(compound) ? compound : NOTHING_ROUTED;
  };
}

const patchedLookups = new WeakSet<DgramSocket>();

/**
 * `dgram.Socket.send(buf, port, ip)` resolves even an IP literal through `dns.lookup`, which
 * answers on `process.nextTick`: a closure and a tick per packet and subscriber before the
 * `sendmsg`. The sockets of the send path only ever send to IP literals (ICE candidates), so
 * their handle's lookup answers those synchronously and hands anything else to Node's own.
 * Measured ≈ 0.6–1 µs less CPU per send (Node 20). Node internals: when they are not where
 * they were (Node 20's `state symbol` → `handle.lookup`), the socket is left as it is.
 */
function synchronousIpLookup(socket: DgramSocket): void {
  if (patchedLookups.has(socket)) return;
  patchedLookups.add(socket);
  const stateKey = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const state = stateKey ? (socket as unknown as Record<symbol, { handle?: { lookup?: unknown } } | undefined>)[stateKey] : undefined;
  const handle = state?.handle;
  const lookup = handle?.lookup;
  if (!handle || typeof lookup !== 'function') return;
  const resolve = lookup as (address: string, callback: (err: Error | null, ip?: string, family?: number) => void) => void;
  handle.lookup = (address: string, callback: (err: Error | null, ip?: string, family?: number) => void): void => {
    if (isIPv4(address)) callback(null, address, 4);
    else resolve.call(handle, address, callback);
  };
}

/** 'EMFILE' or 'ENFILE' when `err` says the process or the system is out of file descriptors. */
function outOfDescriptors(err: unknown): 'EMFILE' | 'ENFILE' | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as NodeJS.ErrnoException & { info?: { errno?: number } };
  const errno = e.info?.errno ?? e.errno;
  if (e.code === 'EMFILE' || errno === 24 || errno === -24 || /\bEMFILE\b|system error 24\b/.test(e.message)) return 'EMFILE';
  if (e.code === 'ENFILE' || errno === 23 || errno === -23 || /\bENFILE\b|system error 23\b/.test(e.message)) return 'ENFILE';
  return undefined;
}

/** The last UDP bind failure in this thread (what `create` reports when no socket could be opened). */
let lastBindError: NodeJS.ErrnoException | undefined;

/**
 * werift (0.24.4, pinned) binds each ICE socket with no 'error' listener: a bind that fails
 * (EMFILE at the file limit, EADDRINUSE, no free port) is an uncaught exception that ends the
 * whole media worker, and the gather it belongs to never finishes. Make `UdpTransport.init`
 * reject instead (werift then gathers no candidate for that address), so that only this
 * request fails.
 */
function reportBindErrors(): void {
  type Init = (this: { socket: DgramSocket }) => Promise<void>;
  const proto = UdpTransport.prototype as unknown as { init: Init; parleyBindErrors?: true };
  if (proto.parleyBindErrors) return;
  if (typeof proto.init !== 'function') throw new Error('werift internals changed (UdpTransport.init); bind errors cannot be caught — check the pinned werift version');
  const init = proto.init;
  proto.init = function (this: { socket: DgramSocket }): Promise<void> {
    const socket = this.socket;
    return new Promise<void>((resolve, reject) => {
      const failed = (err: NodeJS.ErrnoException): void => {
        lastBindError = err;
        try {
          socket.close();
        } catch {
          /* never bound */
        }
        reject(err);
      };
      socket.once('error', failed);
      init.call(this).then(
        () => {
          socket.off('error', failed);
          resolve();
        },
        (err: NodeJS.ErrnoException) => {
          socket.off('error', failed);
          failed(err);
        },
      );
    });
  };
  proto.parleyBindErrors = true;
}
reportBindErrors();

export class WebRtcTransport extends EventEmitter<WebRtcTransportEvents> {
  readonly id = randomUUID();
  readonly appData: Record<string, unknown>;
  /** mediasoup numbers consumer MIDs per transport: "0", "1", … */
  private nextMid = 0;
  private closed = false;
  private lastConsentAt = Date.now();
  private consentTimer?: NodeJS.Timeout;
  private dtlsStarted = false;
  private pathPair?: object;
  private encryptingSession?: object;
  private encrypter?: { output: PacketOutput | undefined };
  /** werift's rollover state objects of this session's outgoing SSRCs (see `encryptRtp`). */
  private ssrcStates: SrtpSsrcState[] = [];
  private path?: SendPath;
  private rtcpSession?: object;
  private consentPair?: object;
  private consentXorMapped?: Buffer;
  private consentKey?: Buffer;
  private rtcpEncrypter?: SrtcpEncrypter;
  rtpPacketsSent = 0;
  rtpBytesSent = 0;

  private constructor(
    private readonly options: WebRtcTransportOptions,
    private readonly gatherer: RTCIceGatherer,
    private readonly ice: RTCIceTransport,
    private readonly dtls: RTCDtlsTransport,
    private readonly cert: RTCCertificate,
  ) {
    super();
    this.appData = options.appData ?? {};
  }

  static async create(options: WebRtcTransportOptions): Promise<WebRtcTransport> {
    const cert = await workerCertificate();
    let self: WebRtcTransport | undefined;
    let checked: ((addr: readonly [string, number], protocol: unknown) => void) | undefined;
    const listen = options.listenIp;
    const gatherer: RTCIceGatherer = new RTCIceGatherer({
      iceLite: true,
      useIpv4: true,
      useIpv6: false,
      additionalHostAddresses: listen ? [listen] : ['127.0.0.1'],
      ...(listen ? { interfaceAddresses: { udp4: listen } } : {}),
      ...(options.portRange ? { portRange: options.portRange } : {}),
      // Answer only checks for this transport, and count them as consent (RFC 7675).
      // Their MESSAGE-INTEGRITY is verified below, before werift sees them.
      filterStunResponse: (msg, addr, protocol): boolean => {
        const user = String(msg.getAttributeValue('USERNAME') ?? '');
        if (user.split(':')[0] !== gatherer.localParameters.usernameFragment) return false;
        if (self) self.lastConsentAt = Date.now();
        checked?.(addr, protocol);
        return true;
      },
    });
    const noSocket = async (err: unknown): Promise<never> => {
      await gatherer.connection.close().catch(() => undefined);
      const exhausted = outOfDescriptors(err);
      if (exhausted) throw new ParleyError('RESOURCE_EXHAUSTED', `the media server could not open a UDP socket (${exhausted}); try again in a moment`);
      const e = err as NodeJS.ErrnoException | undefined;
      throw new ParleyError('INTERNAL', `the media server could not open a UDP socket on ${listen ?? 'its host addresses'} (${e?.code ?? e?.message ?? 'no address to bind'}); check MEDIA_LISTEN_IP and MEDIA_PORT_MIN/MAX`);
    };
    try {
      await gatherer.gather();
    } catch (err) {
      // Listing the host's interfaces needs a descriptor too (uv_interface_addresses).
      if (outOfDescriptors(err)) return noSocket(err);
      throw err;
    }
    if (!gatherer.localCandidates.some((c) => c.protocol === 'udp' && c.type === 'host')) {
      return noSocket(lastBindError);
    }
    requireRequestIntegrity(gatherer, (request, addr, protocol) => self?.answerConsentCheck(request, addr, protocol) ?? false);
    checked = sendBeforeNomination(gatherer);
    const ice = new RTCIceTransport(gatherer);
    // mediasoup-client never sends the browser's ICE credentials. A lite agent only answers
    // checks (signed with its own password), so these placeholders only satisfy werift.
    ice.setRemoteParams(new RTCIceParameters({ usernameFragment: 'none', password: 'nonenonenonenonenonenone', iceLite: false }));
    const dtls = new RTCDtlsTransport({}, ice, cert, [ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80]);
    self = new WebRtcTransport(options, gatherer, ice, dtls, cert);
    const t = self;
    dtls.onRtp.subscribe((p) => t.emit('rtp', p));
    dtls.onRtcp.subscribe((p) => t.emit('rtcp', Array.isArray(p) ? p : [p]));
    dtls.onStateChange.subscribe((s) => {
      if (s === 'connected') {
        installDecrypters(dtls);
        t.emit('connected');
      }
      if (s === 'failed') t.close('dtls-failed');
    });
    // Answer checks from the start (werift queues the early ones until connect()).
    ice.start().catch(() => undefined);
    const timeout = options.consentTimeoutMs ?? 30_000;
    t.consentTimer = setInterval(() => {
      if (t.dtlsStarted && Date.now() - t.lastConsentAt > timeout) t.close('ice-timeout');
    }, Math.min(5000, timeout / 2));
    t.consentTimer.unref();
    return t;
  }

  get parameters(): WebRtcTransportParameters {
    const { usernameFragment, password } = this.gatherer.localParameters;
    const listen = this.options.listenIp;
    const candidates: IceCandidate[] = this.gatherer.localCandidates
      .filter((c) => c.protocol === 'udp' && c.type === 'host' && (!listen || c.ip === listen))
      .map((c) => {
        const address = this.options.announcedIp ?? c.ip;
        return { foundation: c.foundation, priority: c.priority, address, ip: address, port: c.port, protocol: 'udp', type: 'host' };
      });
    return {
      id: this.id,
      iceParameters: { usernameFragment, password, iceLite: true },
      iceCandidates: candidates,
      dtlsParameters: { role: 'auto', fingerprints: this.cert.getFingerprints().map((f) => ({ algorithm: f.algorithm, value: f.value })) },
    };
  }

  /** connect-transport was called (ICE and DTLS may still be under way). */
  get connectStarted(): boolean {
    return this.dtlsStarted;
  }

  get isConnected(): boolean {
    return !this.closed && this.dtls.state === 'connected' && this.dtls.srtpStarted;
  }

  allocateMid(): string {
    return String(this.nextMid++);
  }

  /**
   * mediasoup's `transport.connect({ dtlsParameters })`. The server takes the role opposite
   * to the browser's (mediasoup-client says 'client', so Parley is DTLS server). The
   * handshake runs in the background: the browser only starts ICE after this returns.
   */
  connect(remote: DtlsParameters): void {
    if (this.closed) throw new ParleyError('NOT_FOUND', 'transport is closed');
    if (this.dtlsStarted) throw new ParleyError('CONFLICT', 'transport is already connected');
    const remoteRole = remote.role ?? 'client';
    if (remoteRole === 'auto') throw new ParleyError('INVALID_PAYLOAD', "dtlsParameters.role must be 'client' or 'server' (the server answered 'auto')");
    const localRole: 'client' | 'server' = remoteRole === 'server' ? 'client' : 'server';
    this.dtls.setRemoteParams(new RTCDtlsParameters(remote.fingerprints.map((f) => new RTCDtlsFingerprint(f.algorithm, f.value)), remoteRole));
    this.dtls.role = localRole;
    this.dtlsStarted = true;
    this.lastConsentAt = Date.now();
    const run = async (): Promise<void> => {
      // As DTLS server, a slot is taken when the client's first record (its ClientHello) is
      // here, not at connect-transport: a client still setting up ICE holds no slot.
      const early = localRole === 'server' ? await this.firstDtlsRecords() : undefined;
      if (localRole === 'client') await this.iceConnected();
      if (this.closed) return;
      const slot = handshakeAdmission.acquire();
      const release = typeof slot === 'function' ? slot : await slot;
      if (this.closed) return release();
      try {
        const started = this.dtls.start();
        // werift's DTLS server now listens (it is built synchronously in start()): hand it what
        // the client sent while it waited, at once, instead of waiting for the client's
        // retransmission timer (werift: 0.5 s, 1 s, 1.5 s, …; up to seconds after admission,
        // while the slot is held). See handshakeAdmission.ts.
        if (early) {
          dropStaleClientHellos(this.dtls);
          early.replay();
        }
        await started;
      } finally {
        release();
      }
    };
    run().catch(() => this.close('dtls-failed'));
  }

  /**
   * Resolves at the first DTLS record the client sends; until `replay()`, keeps the latest one
   * (a ClientHello retransmission replaces the earlier copy) and then re-delivers it through the
   * ICE connection's data event, which werift's DTLS server subscribes to in `start()`.
   */
  private firstDtlsRecords(): Promise<{ replay(): void }> {
    const connection = this.ice.connection;
    return new Promise((resolve) => {
      let latest: Buffer | undefined;
      let replayed = false;
      const replay = (): void => {
        if (replayed) return;
        replayed = true;
        unSubscribe();
        const record = latest;
        latest = undefined;
        if (record && !this.closed) connection.onData.execute(record);
      };
      const { unSubscribe } = connection.onData.subscribe((data: Buffer) => {
        if (replayed || data.length === 0 || data[0]! < 20 || data[0]! > 63) return;
        const first = latest === undefined;
        latest = data;
        if (first) resolve({ replay });
      });
      this.once('close', () => {
        unSubscribe();
        resolve({ replay });
      });
    });
  }

  private iceConnected(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ice.state === 'connected' || this.ice.state === 'completed') return resolve();
      const { unSubscribe } = this.ice.onStateChange.subscribe((s) => {
        if (s === 'connected' || s === 'completed') {
          unSubscribe();
          resolve();
        }
      });
    });
  }

  /**
   * Encrypts with the DTLS-negotiated SRTP session and writes straight to the UDP socket of
   * the nominated candidate pair (werift's own `sendRtp` goes through four promise-returning
   * layers per packet). For one packet on its own (a retransmission); a fan-out uses `queueRtp`.
   * The header is serialized synchronously here, so callers may reuse it.
   */
  sendRtp(payload: Buffer, header: RtpHeader): void {
    if (!this.isConnected) return;
    const path = this.sendPath();
    if (!path) {
      this.dtls.sendRtp(payload, header).catch(() => undefined);
      return;
    }
    // Written into the thread's scratch buffer and sent before anything else is encrypted
    // (udpSend.ts keeps it safe if the send is queued): no Buffer per packet.
    sendNow(path.send, this.encryptRtp(payload, header, scratchPacket));
  }

  /**
   * Hot path, phase 1 of a fan-out (Producer.receive): encrypts the packet into the batch's
   * arena and queues it for this transport's socket; `batch.flush()` sends it with every other
   * consumer's packet (udpSend.ts `SendBatch`). The header is serialized synchronously here.
   */
  queueRtp(payload: Buffer, header: RtpHeader, batch: SendBatch): void {
    if (!this.isConnected) return;
    const path = this.sendPath();
    if (!path) {
      this.dtls.sendRtp(payload, header).catch(() => undefined);
      return;
    }
    batch.add(path.send, this.encryptRtp(payload, header, batch.output));
  }

  /**
   * The SRTP packet for this header and payload, written where `output` says when it can be.
   * What werift's `SrtpSession.encrypt` → `SrtpContext.encryptRtp` does (the SSRC's rollover
   * state, then the cipher), with the state object kept here: werift looks it up per packet in
   * an object keyed by 32-bit SSRCs (dictionary elements, a generic keyed load measured at
   * ≈ 2 % of the media thread at N = 100). The state is werift's own object, so werift's own
   * send path (before nomination) and this one count rollovers together.
   */
  private encryptRtp(payload: Buffer, header: RtpHeader, output: PacketOutput): Buffer {
    // The SRTP session exists once DTLS is connected; its cipher is swapped for one that keeps
    // the key schedule (srtpEncrypter.ts) before its first packet.
    const srtp = this.dtls.srtp;
    if (srtp !== this.encryptingSession) {
      installRtpEncrypter(srtp);
      this.encrypter = rtpEncrypterOf(srtp);
      this.encryptingSession = srtp;
      this.ssrcStates = [];
    }
    const context = srtp.localContext;
    const state = this.ssrcState(context, header.ssrc);
    context.updateRolloverCount(header.sequenceNumber, state);
    const encrypter = this.encrypter;
    let packet: Buffer;
    if (encrypter) {
      encrypter.output = output;
      try {
        packet = context.cipher.encryptRtp(header, payload, state.rolloverCounter);
      } finally {
        encrypter.output = undefined;
      }
    } else {
      packet = context.cipher.encryptRtp(header, payload, state.rolloverCounter);
    }
    this.rtpPacketsSent++;
    this.rtpBytesSent += packet.length;
    return packet;
  }

  /** werift's rollover state of an outgoing SSRC (a transport sends a few: one per consumer). */
  private ssrcState(context: SrtpContext, ssrc: number): SrtpSsrcState {
    const states = this.ssrcStates;
    for (let i = 0; i < states.length; i++) if (states[i]!.ssrc === ssrc) return states[i]!;
    const state = context.getSrtpSsrcState(ssrc);
    // A transport whose consumers keep changing (close, consume again) keeps the last few.
    if (states.length >= MAX_CACHED_SSRC_STATES) states.shift();
    states.push(state);
    return state;
  }

  /**
   * A consent check (RFC 7675) on the nominated pair, already authenticated by
   * `requireRequestIntegrity`: counted as consent and answered here (stunAnswer.ts), on the
   * pair's socket, instead of through werift, which parses the request a second time, builds
   * its answer serialising it four times and sends it through its promise-returning layers.
   * werift's ICE state has nothing to learn from such a check: its pair is nominated already.
   * libwebrtc (and werift's client) put USE-CANDIDATE on every consent check to an ICE-lite
   * peer (semi-aggressive nomination); on the pair already nominated werift's `checkComplete`
   * does nothing with it, so those are answered here too.
   * Left to werift: anything before nomination, from another address or socket (a new pair,
   * possibly a new nomination), carrying ICE-CONTROLLED (a role conflict, answered 487 by
   * werift), not for this transport's username fragment, or from an IPv6 peer.
   */
  answerConsentCheck(request: VerifiedRequest, addr: readonly [string, number], protocol: unknown): boolean {
    if (this.closed) return false;
    const pair = this.ice.connection.nominated as { protocol?: unknown; remoteAddr?: readonly [string, number] } | undefined;
    if (!pair || pair.protocol !== protocol || !pair.remoteAddr) return false;
    const [host, port] = pair.remoteAddr;
    if (host !== addr[0] || port !== addr[1]) return false;
    if (request.attributesKeys.includes('ICE-CONTROLLED')) return false;
    const { usernameFragment } = this.gatherer.localParameters;
    if (String(request.getAttributeValue('USERNAME') ?? '').split(':')[0] !== usernameFragment) return false;
    if (this.consentPair !== pair) {
      if (!canAnswer(host)) return false;
      this.consentPair = pair;
      this.consentXorMapped = xorMappedIpv4(host, port);
      this.consentKey = Buffer.from(this.gatherer.localParameters.password, 'utf8');
    }
    const path = this.sendPath();
    if (!path || !this.consentXorMapped || !this.consentKey) return false;
    this.lastConsentAt = Date.now();
    path.send(bindingSuccess(request.transactionId, this.consentXorMapped, this.consentKey));
    return true;
  }

  /** The UDP socket and remote address of the nominated pair, cached until the pair changes. */
  private sendPath(): SendPath | undefined {
    const pair = this.ice.connection.nominated;
    if (!pair) return undefined;
    if (pair !== this.pathPair) {
      this.pathPair = pair;
      const socket = (pair.protocol as { transport?: { socket?: unknown } }).transport?.socket;
      const [address, port] = pair.remoteAddr;
      if (socket instanceof DgramSocket) {
        // werift registers no error listener on its UDP sockets; a send error must not take
        // the worker down (the consent timer closes a transport whose peer is gone).
        if (socket.listenerCount('error') === 0) socket.on('error', () => undefined);
        synchronousIpLookup(socket);
        this.path = { send: udpSender(socket, address, port) };
      } else {
        this.path = undefined;
      }
    }
    return this.path;
  }

  /**
   * RTCP to the peer: each consumer's sender report (N of them for each report a producer
   * sends) and PLIs. Encrypted with the SRTCP session's keys kept per context
   * (srtcpEncrypter.ts) and written to the nominated pair's socket, as `sendRtp` does; before
   * nomination, or for a profile the encrypter does not know, through werift as before.
   */
  sendRtcp(packets: RtcpPacket[]): void {
    if (!this.isConnected) return;
    const path = this.sendPath();
    const srtcp = this.dtls.srtcp as unknown as { localContext?: SrtcpLocalContextLike };
    if (srtcp !== this.rtcpSession) {
      this.rtcpSession = srtcp;
      this.rtcpEncrypter = srtcp.localContext ? srtcpEncrypterFor(srtcp.localContext) : undefined;
    }
    const encrypter = this.rtcpEncrypter;
    if (!path || !encrypter) {
      this.dtls.sendRtcp(packets).catch(() => undefined);
      return;
    }
    const first = packets[0];
    let rtcp: Buffer;
    if (packets.length === 1 && first instanceof RtcpSrPacket && first.reports.length === 0) {
      const info = first.senderInfo;
      rtcp = senderReport(first.ssrc, info.ntpTimestamp, info.rtpTimestamp, info.packetCount, info.octetCount);
    } else {
      rtcp = packets.length === 1 && first ? first.serialize() : Buffer.concat(packets.map((p) => p.serialize()));
    }
    path.send(encrypter.encrypt(rtcp));
  }

  close(reason: TransportCloseReason = 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.consentTimer);
    // The encrypter's GHASH table (wasm memory, srtpEncrypter.ts) goes back now, not at GC.
    releaseRtpEncrypter(this.dtls.srtp);
    this.dtls.stop().catch(() => undefined);
    this.ice.stop().catch(() => undefined);
    this.emit('close', reason);
    this.removeAllListeners('rtp');
    this.removeAllListeners('rtcp');
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
