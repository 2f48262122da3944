/**
 * A werift-based client of Parley's `/voice` namespace (seed 000's mediasoup protocol), for
 * the fan-out benchmark: the same Socket.IO requests mediasoup-client makes (join-room,
 * create-transport, connect-transport, produce, consume), with the SDP that
 * mediasoup-client's RemoteSdp would build for the server side, fed to a werift
 * RTCPeerConnection. The server stays ICE-lite and DTLS server; the client is ICE-controlling
 * and DTLS client, as a browser running mediasoup-client is.
 *
 * - `openPublisher`: one Opus sender (sendonly transceiver); the caller hands it RTP packets.
 * - `openSubscriber`: one receive transport consuming one producer; each received RTP packet
 *   goes to `onRtp` (after SRTP decryption by werift).
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { connect } from '../../test/support/sockets.js';
import {
  RTCPeerConnection,
  RTCRtpCodecParameters,
  useAudioLevelIndication,
  useSdesMid,
  type RTCCertificate,
  type RtpPacket,
} from 'werift';

export interface TransportParams {
  id: string;
  iceParameters: { usernameFragment: string; password: string };
  iceCandidates: Array<{ foundation: string; priority: number; address?: string; ip: string; port: number; protocol: string; type: string }>;
  dtlsParameters: { fingerprints: Array<{ algorithm: string; value: string }> };
}

interface CodecParams {
  mimeType: string;
  payloadType: number;
  clockRate: number;
  channels?: number;
  parameters?: Record<string, unknown>;
}
interface ConsumerParams {
  id: string;
  producerId: string;
  kind: 'audio' | 'video';
  rtpParameters: {
    mid?: string;
    codecs: CodecParams[];
    headerExtensions?: Array<{ uri: string; id: number }>;
    encodings?: Array<{ ssrc?: number }>;
    rtcp?: { cname?: string };
  };
}

const OPUS_PT = 100;
const EXT_MID = 'urn:ietf:params:rtp-hdrext:sdes:mid';
const EXT_AUDIO_LEVEL = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
const REQUEST_TIMEOUT_MS = 15_000;

function connectSocket(url: string, userId: string): Promise<Socket> {
  return connect(`${url}/voice`, { auth: { userId } }, REQUEST_TIMEOUT_MS);
}

/** Ends one client: its signaling socket and its peer connection. */
async function closeClient(socket: Socket, pc: { close(): Promise<unknown> }): Promise<void> {
  socket.close();
  await pc.close().catch(() => undefined);
}

async function request<T>(socket: Socket, event: string, data: unknown): Promise<T> {
  const res = (await socket.timeout(REQUEST_TIMEOUT_MS).emitWithAck(event, data)) as T & { error?: { code: string; message: string } };
  if (res && typeof res === 'object' && 'error' in res && res.error) throw new Error(`${event}: ${res.error.code} ${res.error.message}`);
  return res;
}

/** `address`: the one local address ICE uses (127.0.0.1; the Janus target needs a non-loopback one, see bench/sfu/janusServer.ts). */
export function peerConnection(certificate: RTCCertificate | undefined, address = '127.0.0.1'): RTCPeerConnection {
  return new RTCPeerConnection({
    iceAdditionalHostAddresses: [address],
    iceInterfaceAddresses: { udp4: address },
    iceUseIpv6: false,
    codecs: { audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: OPUS_PT })], video: [] },
    headerExtensions: { audio: [useSdesMid(), useAudioLevelIndication()], video: [] },
    ...(certificate ? { certificates: [certificate] } : {}),
  });
}

/** The DTLS parameters the client's local description announces (what mediasoup-client sends in connect). */
function dtlsParametersOf(sdp: string): { role: 'client' | 'server'; fingerprints: Array<{ algorithm: string; value: string }> } {
  const fingerprints = [...sdp.matchAll(/^a=fingerprint:(\S+) (\S+)\r?$/gm)].map((m) => ({ algorithm: m[1]!.toLowerCase(), value: m[2]! }));
  const setup = /^a=setup:(\S+)\r?$/m.exec(sdp)?.[1];
  if (fingerprints.length === 0 || !setup) throw new Error('local description has no fingerprint/setup');
  // active → DTLS client; passive → DTLS server.
  return { role: setup === 'passive' ? 'server' : 'client', fingerprints: [fingerprints[0]!] };
}

/** The server's transport as SDP lines (session part + the ICE/DTLS lines of one m-section). */
function transportLines(t: TransportParams, setup: 'actpass' | 'passive'): { session: string[]; media: string[] } {
  const fp = t.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256') ?? t.dtlsParameters.fingerprints[0]!;
  const candidates = t.iceCandidates.map((c, i) => `a=candidate:${c.foundation || `udpcandidate${i}`} 1 udp ${c.priority} ${c.address ?? c.ip} ${c.port} typ host`);
  return {
    session: ['a=ice-lite', `a=fingerprint:${fp.algorithm} ${fp.value}`],
    media: [
      `a=ice-ufrag:${t.iceParameters.usernameFragment}`,
      `a=ice-pwd:${t.iceParameters.password}`,
      ...candidates,
      'a=end-of-candidates',
      'a=ice-options:renomination',
      `a=setup:${setup}`,
    ],
  };
}

function sdp(lines: string[]): string {
  return `${lines.join('\r\n')}\r\n`;
}

function firstPort(t: TransportParams): number {
  return t.iceCandidates[0]?.port ?? 9;
}

/** The server's offer for a receive transport carrying one consumer (mediasoup RemoteSdp shape). */
export function consumerOfferSdp(t: TransportParams, c: ConsumerParams): string {
  const codec = c.rtpParameters.codecs[0]!;
  const mid = c.rtpParameters.mid ?? '0';
  const ssrc = c.rtpParameters.encodings?.[0]?.ssrc;
  const cname = c.rtpParameters.rtcp?.cname ?? 'parley';
  const tl = transportLines(t, 'actpass');
  const fmtp = Object.entries(codec.parameters ?? {})
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(';');
  return sdp([
    ...audioSectionHead(t, tl, mid, codec.payloadType),
    'a=sendonly',
    `a=msid:${c.producerId} ${c.id}`,
    'a=rtcp-mux',
    'a=rtcp-rsize',
    `a=rtpmap:${codec.payloadType} opus/${codec.clockRate}/${codec.channels ?? 2}`,
    ...(fmtp ? [`a=fmtp:${codec.payloadType} ${fmtp}`] : []),
    ...(c.rtpParameters.headerExtensions ?? []).map((h) => `a=extmap:${h.id} ${h.uri}`),
    ...(ssrc !== undefined ? [`a=ssrc:${ssrc} cname:${cname}`, `a=ssrc:${ssrc} msid:${c.producerId} ${c.id}`] : []),
  ]);
}

/** Session lines and the start of the one audio m-section, up to its mid. */
function audioSectionHead(t: TransportParams, tl: ReturnType<typeof transportLines>, mid: string, payloadType: number): string[] {
  return [
    'v=0',
    `o=mediasoup-client ${Date.now()} 1 IN IP4 0.0.0.0`,
    's=-',
    't=0 0',
    ...tl.session,
    'a=msid-semantic: WMS *',
    `a=group:BUNDLE ${mid}`,
    `m=audio ${firstPort(t)} UDP/TLS/RTP/SAVPF ${payloadType}`,
    'c=IN IP4 127.0.0.1',
    'a=rtcp:9 IN IP4 0.0.0.0',
    ...tl.media,
    `a=mid:${mid}`,
  ];
}

/** The server's answer to a send transport's offer (one audio m-section). */
function producerAnswerSdp(t: TransportParams, offer: string): string {
  const mid = /^a=mid:(\S+)\r?$/m.exec(offer)?.[1] ?? '0';
  const tl = transportLines(t, 'passive');
  const exts = [...offer.matchAll(/^a=extmap:(\d+)(?:\/\w+)? (\S+)\r?$/gm)].filter((m) => m[2] === EXT_MID || m[2] === EXT_AUDIO_LEVEL).map((m) => `a=extmap:${m[1]} ${m[2]}`);
  return sdp([
    ...audioSectionHead(t, tl, mid, OPUS_PT),
    'a=recvonly',
    'a=rtcp-mux',
    'a=rtcp-rsize',
    `a=rtpmap:${OPUS_PT} opus/48000/2`,
    `a=fmtp:${OPUS_PT} minptime=10;useinbandfec=1`,
    ...exts,
  ]);
}

export function waitConnected(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    if (pc.connectionState === 'connected') return resolve();
    const states = (): string => `ice ${pc.iceConnectionState}, dtls ${pc.dtlsTransports.map((d) => d.state).join('/') || 'none'}`;
    const timer = setTimeout(() => {
      unSubscribe();
      reject(new Error(`peer connection not connected after ${timeoutMs} ms (${pc.connectionState}; ${states()})`));
    }, timeoutMs);
    const { unSubscribe } = pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected') {
        clearTimeout(timer);
        unSubscribe();
        resolve();
      } else if (s === 'failed' || s === 'closed') {
        clearTimeout(timer);
        unSubscribe();
        reject(new Error(`peer connection ${s} after ${Math.round(performance.now() - started)} ms (${states()})`));
      }
    });
  });
}

export interface Publisher {
  producerId: string;
  peerId: string;
  ssrc: number;
  /** The id the producer announced for ssrc-audio-level (write the level with this id). */
  audioLevelExtId: number | undefined;
  /** Sends one RTP packet (the sender sets SSRC, payload type, mid; keeps seq and timestamp). */
  send(packet: RtpPacket): Promise<void>;
  /** Connection state changes after setup (e.g. ICE consent expiring) and Socket.IO disconnects. */
  onState(listener: (what: string) => void): void;
  close(): Promise<void>;
}

export async function openPublisher(url: string, roomId: string, certificate?: RTCCertificate): Promise<Publisher> {
  const socket = await connectSocket(url, 'bench-publisher');
  const pc = peerConnection(certificate);
  try {
    const joined = await request<{ peerId: string }>(socket, 'join-room', { roomId, userId: 'bench-publisher', audioLevels: wantsAudioLevels() });
    const t = await request<TransportParams>(socket, 'create-transport', { roomId, direction: 'send' });
    const transceiver = pc.addTransceiver('audio', { direction: 'sendonly' });
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const local = pc.localDescription!.sdp;
    // As mediasoup-client does: connect-transport first, then the answer (which starts ICE + DTLS).
    await request(socket, 'connect-transport', { roomId, transportId: t.id, dtlsParameters: dtlsParametersOf(local) });
    await pc.setRemoteDescription({ type: 'answer', sdp: producerAnswerSdp(t, local) });
    await waitConnected(pc, 15_000);
    const sender = transceiver.sender;
    const mid = transceiver.mid ?? '0';
    const ssrc = sender.ssrc;
    const extmap = [...local.matchAll(/^a=extmap:(\d+)(?:\/\w+)? (\S+)\r?$/gm)].map((m) => ({ id: Number(m[1]), uri: m[2]! }));
    const headerExtensions = extmap.filter((e) => e.uri === EXT_MID || e.uri === EXT_AUDIO_LEVEL).map((e) => ({ uri: e.uri, id: e.id, encrypt: false, parameters: {} }));
    const cname = /^a=ssrc:\d+ cname:(\S+)\r?$/m.exec(local)?.[1] ?? `bench-${randomBytes(4).toString('hex')}`;
    const { id: producerId } = await request<{ id: string }>(socket, 'produce', {
      roomId,
      transportId: t.id,
      kind: 'audio',
      rtpParameters: {
        mid,
        codecs: [{ mimeType: 'audio/opus', payloadType: OPUS_PT, clockRate: 48000, channels: 2, parameters: { minptime: 10, useinbandfec: 1 }, rtcpFeedback: [] }],
        headerExtensions,
        encodings: [{ ssrc }],
        rtcp: { cname, reducedSize: true },
      },
    });
    return {
      producerId,
      peerId: joined.peerId,
      ssrc,
      audioLevelExtId: headerExtensions.find((h) => h.uri === EXT_AUDIO_LEVEL)?.id,
      send: (packet) => sender.sendRtp(packet),
      onState: (listener) => {
        pc.connectionStateChange.subscribe((st) => listener(`peer connection ${st} (ice ${pc.iceConnectionState})`));
        socket.on('disconnect', (reason) => listener(`socket.io disconnected: ${reason}`));
      },
      close: () => closeClient(socket, pc),
    };
  } catch (err) {
    await closeClient(socket, pc);
    throw err;
  }
}

export interface Subscriber {
  consumerId: string;
  close(): Promise<void>;
}

export interface SubscriberOptions {
  url: string;
  roomId: string;
  producerId: string;
  userId: string;
  certificate?: RTCCertificate;
  /**
   * Every RTP packet as it arrives on the subscriber's ICE socket: its sequence number and RTP
   * timestamp, read from the RTP header (sent in the clear by SRTP), before decryption.
   */
  onArrival: (sequenceNumber: number, timestamp: number) => void;
  /**
   * Only packets whose RTP timestamp ÷ 960 is a multiple of this go on to werift's SRTP
   * decryption and RTP stack (1 = every packet, as a plain werift client does). The others
   * are counted at arrival and dropped, to keep the subscribers' CPU off the measurement.
   */
  verifyEvery: number;
  /** A packet that werift decrypted and authenticated (SRTP) and delivered on the track. */
  onVerified: (packet: RtpPacket) => void;
}

type DataEvent = { execute: (...args: unknown[]) => void };

/** bench:sfu's `--audio-levels` (SFU_BENCH_AUDIO_LEVELS=1): whether these clients ask for `audio-levels`. */
function wantsAudioLevels(): boolean {
  return process.env.SFU_BENCH_AUDIO_LEVELS === '1';
}

export async function openSubscriber(o: SubscriberOptions): Promise<Subscriber> {
  const { url, roomId, producerId, userId } = o;
  const socket = await connectSocket(url, userId);
  const pc = peerConnection(o.certificate);
  try {
    const joined = await request<{ rtpCapabilities: unknown }>(socket, 'join-room', { roomId, userId, audioLevels: wantsAudioLevels() });
    const t = await request<TransportParams>(socket, 'create-transport', { roomId, direction: 'recv' });
    // mediasoup-client sends the Device's capabilities; the router's own are what a browser with
    // Opus ends up with for audio (same codec, payload type and extension ids).
    const c = await request<ConsumerParams>(socket, 'consume', { roomId, transportId: t.id, producerId, rtpCapabilities: joined.rtpCapabilities });
    pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe(o.onVerified);
    });
    await pc.setRemoteDescription({ type: 'offer', sdp: consumerOfferSdp(t, c) });
    const answer = await pc.createAnswer();
    // As mediasoup-client does: the server learns the DTLS parameters (connect-transport) before
    // the local description is applied, i.e. before this side starts ICE and its DTLS handshake.
    await request(socket, 'connect-transport', { roomId, transportId: t.id, dtlsParameters: dtlsParametersOf(answer.sdp) });
    await pc.setLocalDescription(answer);
    // Everything the ICE agent receives that is not STUN goes through this one event
    // (DTLS, SRTP, SRTCP): count RTP here, on arrival.
    const receiver = pc.getTransceivers()[0]!.receiver;
    const data = receiver.dtlsTransport.iceTransport.connection.onData as unknown as DataEvent;
    const execute = data.execute;
    const every = Math.max(1, Math.floor(o.verifyEvery));
    data.execute = (...args: unknown[]): void => {
      const buf = args[0] as Buffer;
      const b0 = buf[0]!;
      const b1 = buf[1]!;
      if (b0 > 127 && b0 < 192 && !(b1 >= 192 && b1 <= 208) && buf.length >= 12) {
        const ts = buf.readUInt32BE(4);
        o.onArrival(buf.readUInt16BE(2), ts);
        if (every > 1 && (ts / 960) % every !== 0) return;
      }
      execute(...args);
    };
    await waitConnected(pc, 20_000);
    return {
      consumerId: c.id,
      close: () => closeClient(socket, pc),
    };
  } catch (err) {
    await closeClient(socket, pc);
    throw err;
  }
}
