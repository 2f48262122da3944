/**
 * A werift client of Janus's VideoRoom over Janus's plain HTTP API (the REST transport with
 * long polling), for the fan-out benchmark's `janus` target: the same RTCPeerConnection set-up
 * as bench/sfu/weriftClient.ts (codecs, header extensions, 127.0.0.1 only), so that Janus and
 * Parley are driven by identical subscribers.
 *
 * - `JanusSession`: one Janus session per process; every publisher or subscriber is a handle on
 *   it, and one long-poll loop hands each asynchronous event to the request that waits for it
 *   (matched by transaction).
 * - `openJanusPublisher`: creates the room and publishes one Opus stream (`joinandconfigure`).
 * - `openJanusSubscriber`: `join` as a subscriber of that feed, answer Janus's offer, `start`.
 */
import { randomBytes } from 'node:crypto';
import type { RTCCertificate, RtpPacket } from 'werift';
import { JANUS_ICE_ADDRESS } from './janusServer.js';
import { peerConnection, waitConnected, type Publisher } from './weriftClient.js';

const EXT_AUDIO_LEVEL = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
const REQUEST_TIMEOUT_MS = 20_000;

interface JanusReply {
  janus: string;
  transaction?: string;
  sender?: number;
  data?: { id: number };
  error?: { code: number; reason: string };
  plugindata?: { plugin: string; data: Record<string, unknown> & { error?: string; error_code?: number } };
  jsep?: { type: 'offer' | 'answer'; sdp: string };
}

type Waiter = { resolve: (r: JanusReply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export class JanusSession {
  private readonly waiting = new Map<string, Waiter>();
  private readonly handleListeners = new Map<number, (r: JanusReply) => void>();
  private polling = false;
  private closed = false;

  private constructor(
    readonly url: string,
    readonly id: number,
  ) {}

  static async create(url: string): Promise<JanusSession> {
    const r = await post(url, { janus: 'create', transaction: tx() });
    if (r.janus !== 'success' || !r.data) throw new Error(`janus create: ${describe(r)}`);
    const s = new JanusSession(url, r.data.id);
    s.poll();
    return s;
  }

  async attach(onEvent?: (r: JanusReply) => void): Promise<number> {
    const r = await post(`${this.url}/${this.id}`, { janus: 'attach', plugin: 'janus.plugin.videoroom', transaction: tx() });
    if (r.janus !== 'success' || !r.data) throw new Error(`janus attach: ${describe(r)}`);
    if (onEvent) this.handleListeners.set(r.data.id, onEvent);
    return r.data.id;
  }

  async detach(handle: number): Promise<void> {
    this.handleListeners.delete(handle);
    await post(`${this.url}/${this.id}/${handle}`, { janus: 'detach', transaction: tx() }).catch(() => undefined);
  }

  /** A plugin request. Synchronous ones answer at once; asynchronous ones (join, start, configure) answer `ack` and then an event. */
  async message(handle: number, body: Record<string, unknown>, jsep?: { type: string; sdp: string }): Promise<JanusReply> {
    const transaction = tx();
    const eventual = new Promise<JanusReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(transaction);
        reject(new Error(`janus ${String(body.request)}: no answer within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.waiting.set(transaction, { resolve, reject, timer });
    });
    eventual.catch(() => undefined);
    const r = await post(`${this.url}/${this.id}/${handle}`, { janus: 'message', body, transaction, ...(jsep ? { jsep } : {}) });
    let reply = r;
    if (r.janus === 'ack') reply = await eventual;
    else {
      const w = this.waiting.get(transaction);
      if (w) clearTimeout(w.timer);
      this.waiting.delete(transaction);
    }
    const err = reply.janus === 'error' ? `${reply.error?.code} ${reply.error?.reason}` : reply.plugindata?.data.error ? `${reply.plugindata.data.error_code} ${reply.plugindata.data.error}` : undefined;
    if (err) throw new Error(`janus ${String(body.request)}: ${err}`);
    return reply;
  }

  async destroy(): Promise<void> {
    this.closed = true;
    await post(`${this.url}/${this.id}`, { janus: 'destroy', transaction: tx() }).catch(() => undefined);
  }

  private poll(): void {
    if (this.polling) return;
    this.polling = true;
    const loop = async (): Promise<void> => {
      while (!this.closed) {
        let events: JanusReply[] = [];
        try {
          const res = await fetch(`${this.url}/${this.id}?maxev=50&rid=${Date.now()}`, { signal: AbortSignal.timeout(70_000) });
          const body = (await res.json()) as JanusReply | JanusReply[];
          events = Array.isArray(body) ? body : [body];
        } catch {
          if (this.closed) return;
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        for (const e of events) {
          const w = e.transaction ? this.waiting.get(e.transaction) : undefined;
          if (w && e.janus === 'event') {
            this.waiting.delete(e.transaction!);
            clearTimeout(w.timer);
            w.resolve(e);
          } else if (e.sender !== undefined) this.handleListeners.get(e.sender)?.(e);
        }
      }
    };
    void loop();
  }
}

function tx(): string {
  return randomBytes(8).toString('hex');
}

function describe(r: JanusReply): string {
  return r.error ? `${r.error.code} ${r.error.reason}` : JSON.stringify(r).slice(0, 300);
}

async function post(url: string, body: unknown): Promise<JanusReply> {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return (await res.json()) as JanusReply;
}

/** Creates the VideoRoom (one publisher, Opus) and publishes one Opus stream into it. */
export async function openJanusPublisher(session: JanusSession, room: number, certificate?: RTCCertificate): Promise<Publisher> {
  const events: Array<(what: string) => void> = [];
  const handle = await session.attach((e) => {
    if (e.janus === 'hangup' || e.janus === 'webrtcup' || e.janus === 'slowlink') for (const l of events) l(`janus ${e.janus}`);
  });
  const pc = peerConnection(certificate, JANUS_ICE_ADDRESS);
  try {
    await session.message(handle, { request: 'create', room, publishers: 1, audiocodec: 'opus', videocodec: 'vp8', notify_joining: false, permanent: false, is_private: false });
    const transceiver = pc.addTransceiver('audio', { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    const local = pc.localDescription!.sdp;
    const joined = await session.message(handle, { request: 'joinandconfigure', room, ptype: 'publisher', display: 'bench-publisher', audio: true, video: false }, { type: 'offer', sdp: local });
    if (!joined.jsep) throw new Error(`janus joinandconfigure: no answer SDP (${describe(joined)})`);
    await pc.setRemoteDescription(joined.jsep);
    await waitConnected(pc, 20_000);
    const extmap = [...local.matchAll(/^a=extmap:(\d+)(?:\/\w+)? (\S+)\r?$/gm)].map((m) => ({ id: Number(m[1]), uri: m[2]! }));
    const answerHasLevel = new RegExp(`^a=extmap:\\d+ ${EXT_AUDIO_LEVEL}`, 'm').test(joined.jsep.sdp);
    const publisherId = joined.plugindata?.data.id;
    return {
      producerId: String(publisherId),
      peerId: String(publisherId),
      ssrc: transceiver.sender.ssrc,
      audioLevelExtId: answerHasLevel ? extmap.find((e) => e.uri === EXT_AUDIO_LEVEL)?.id : undefined,
      send: (packet: RtpPacket) => transceiver.sender.sendRtp(packet),
      onState: (listener) => {
        events.push(listener);
        pc.connectionStateChange.subscribe((st) => listener(`peer connection ${st} (ice ${pc.iceConnectionState})`));
      },
      close: async () => {
        await session.detach(handle);
        await pc.close().catch(() => undefined);
      },
    };
  } catch (err) {
    await session.detach(handle);
    await pc.close().catch(() => undefined);
    throw err;
  }
}

export interface JanusSubscriberOptions {
  session: JanusSession;
  room: number;
  feed: number;
  certificate?: RTCCertificate;
  /** Every RTP packet as it arrives, before decryption (sequence number and timestamp from the clear header). */
  onArrival: (sequenceNumber: number, timestamp: number) => void;
  /** Whether this packet (by its RTP timestamp) goes on into werift's SRTP decryption and RTP stack. */
  verify: (timestamp: number) => boolean;
  onVerified: (packet: RtpPacket) => void;
}

type DataEvent = { execute: (...args: unknown[]) => void };

export async function openJanusSubscriber(o: JanusSubscriberOptions): Promise<{ close(): Promise<void> }> {
  const handle = await o.session.attach();
  const pc = peerConnection(o.certificate, JANUS_ICE_ADDRESS);
  try {
    const attached = await o.session.message(handle, { request: 'join', room: o.room, ptype: 'subscriber', streams: [{ feed: o.feed }] });
    if (!attached.jsep) throw new Error(`janus join: no offer SDP (${describe(attached)})`);
    pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe(o.onVerified);
    });
    await pc.setRemoteDescription(attached.jsep);
    await pc.setLocalDescription(await pc.createAnswer());
    const receiver = pc.getTransceivers()[0]!.receiver;
    const data = receiver.dtlsTransport.iceTransport.connection.onData as unknown as DataEvent;
    const execute = data.execute;
    data.execute = (...args: unknown[]): void => {
      const buf = args[0] as Buffer;
      const b0 = buf[0]!;
      const b1 = buf[1]!;
      if (b0 > 127 && b0 < 192 && !(b1 >= 192 && b1 <= 208) && buf.length >= 12) {
        const ts = buf.readUInt32BE(4);
        o.onArrival(buf.readUInt16BE(2), ts);
        if (!o.verify(ts)) return;
      }
      execute(...args);
    };
    await o.session.message(handle, { request: 'start' }, { type: 'answer', sdp: pc.localDescription!.sdp });
    await waitConnected(pc, 20_000);
    return {
      close: async () => {
        await o.session.detach(handle);
        await pc.close().catch(() => undefined);
      },
    };
  } catch (err) {
    await o.session.detach(handle);
    await pc.close().catch(() => undefined);
    throw err;
  }
}
