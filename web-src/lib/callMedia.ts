/**
 * One side of a consultation's media: joins a `/voice` room (seed 000's protocol) with stock
 * mediasoup-client, sends the microphone (and optionally the camera), receives everyone
 * else, and plays what it receives in a given container. Used by the customer landing page
 * and the agent console.
 *
 *   const media = new CallMedia({ roomId, token, remote: el });
 *   await media.join();            // join-room → Device.load → send+recv transports → produce → consume
 *   await media.mute(true);        // pauses the mic producer (locally and on the SFU)
 *   await media.setHold(true);     // pauses every producer of this side
 *   await media.stats();           // inbound-rtp / outbound-rtp rows of both transports
 *   await media.leave();
 *
 * Pages that show the whole room (the voice room page) also pass the roster, pause,
 * audio-level and room-closed callbacks, and may send their own `/voice` requests with
 * `media.request(event, data)`.
 *
 * A producer is paused while it is muted (audio only) or on hold; pausing is done both in the
 * browser (`producer.pause()`) and on the SFU (`pause-producer`), so nothing is forwarded.
 */
import { Device } from 'mediasoup-client';
import type { Consumer, MediaKind, Producer, RtpCapabilities, RtpParameters, Transport, TransportOptions } from 'mediasoup-client/types';
import type { Socket } from 'socket.io-client';
import { askRaw } from '../client/socket.js';
import { liveSocket } from '../ui/client.js';

/** A `/voice` request with its acknowledgement (rejects with ApiError on `{error}` or no answer). */
const request = async <T = unknown>(socket: Socket, event: string, data: unknown = {}): Promise<T> => (await askRaw(socket, event, data)) as T;
import { ApiError } from '../ui/rest.js';

export interface CallMediaOptions {
  /** The `/voice` room, e.g. `call-<consultationId>`. */
  roomId: string;
  /** Handshake `auth.token`: a customer token or an access token. Optional for anonymous sockets (see `authUserId`). */
  token?: string;
  /** Handshake `auth.userId` (seed 002): who an anonymous socket is, when the server allows anonymous sockets. */
  authUserId?: string;
  /** Where remote `<audio>`/`<video>` elements are attached. */
  remote: HTMLElement;
  /** Where remote `<video>` elements go instead; default: `remote`. */
  remoteVideo?: HTMLElement;
  /** Where the local camera preview goes (only with `video`); default: `remote`. */
  local?: HTMLElement;
  /** Also send the camera. Default false. */
  video?: boolean;
  /** Send the microphone. Default true; false joins to listen only (a supervisor's listen mode). */
  microphone?: boolean;
  /** The microphone to open (a deviceId from enumerateDevices); default: the system's. */
  microphoneId?: string;
  /** A live caption from the room (issue 10 emits `caption` on /voice). */
  onCaption?: (caption: unknown) => void;
  /** `userId` sent with join-room (a display name); default: the server's identity. */
  userId?: string;
  /** Every `/voice` event received and every step taken, for the page's log. */
  onEvent?: (event: string, data: unknown) => void;
  /** A non-fatal failure (one consumer, the microphone, a pause request…). */
  onError?: (where: string, message: string) => void;
  /** A remote element could not start playing (autoplay policy): show a "tap to hear" button. */
  onAutoplayBlocked?: () => void;
  /** The remote side paused/resumed a producer, or left. */
  onRemoteChange?: () => void;
  /** The room went away under us (room-closed, transport failed, socket gone for good). */
  onClosed?: (reason: string) => void;
  /** join-room answered: this side's peer id and the peers already in the room (before any media flows). */
  onRoomJoined?: (room: { peerId: string; peers: RemotePeer[] }) => void;
  /** Another peer joined the room. */
  onPeerJoined?: (peer: RemotePeer) => void;
  /** A peer left the room (its consumers are already closed). */
  onPeerLeft?: (peerId: string) => void;
  /** A producer of any peer (this side's own included) was paused or resumed on the SFU. */
  onProducerPauseChange?: (peerId: string, producerId: string, paused: boolean) => void;
  /** The room's audio levels (dBov, -127 silence … 0 loudest). `audio-levels` is only listened to with this or `onActiveSpeaker`. */
  onAudioLevels?: (levels: AudioLevel[]) => void;
  /** The loudest peer changed. `active-speaker` is only listened to with this or `onAudioLevels`. */
  onActiveSpeaker?: (peerId: string) => void;
  /** The SFU closed the room (e.g. `media-worker-crashed`), with the server's reason as sent; `onClosed` follows. */
  onRoomClosed?: (reason: string) => void;
}

/** One entry of `audio-levels`. */
export interface AudioLevel {
  peerId: string;
  producerId?: string;
  volume: number;
}

/** One row of `stats()`: an RTP stream of the send or the receive transport. */
export interface MediaStat {
  transport: 'send' | 'recv';
  type: 'inbound-rtp' | 'outbound-rtp';
  kind: string;
  ssrc?: number;
  packetsReceived?: number;
  bytesReceived?: number;
  packetsLost?: number;
  jitter?: number;
  packetsSent?: number;
  bytesSent?: number;
  /** inbound: from the stream itself; outbound: from its media-source. 0…1. */
  audioLevel?: number;
  totalAudioEnergy?: number;
}

/**
 * What the test helpers read from `window.parley.peers`: the subset of RTCPeerConnection
 * that a mediasoup-client transport offers without reaching into its private handler.
 */
export interface PeerConnectionView {
  readonly connectionState: string;
  readonly iceConnectionState: string;
  getStats(): Promise<RTCStatsReport>;
}

interface JoinAck {
  rtpCapabilities: RtpCapabilities;
  peerId: string;
  peers: Array<{ peerId: string; userId: string }>;
  producers: Array<{ peerId: string; producerId: string; kind?: MediaKind; paused?: boolean }>;
}

interface ConsumeAck {
  id: string;
  producerId: string;
  kind: MediaKind;
  rtpParameters: RtpParameters;
  producerPaused?: boolean;
}

export interface RemotePeer {
  peerId: string;
  userId: string;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class CallMedia {
  readonly roomId: string;
  /** This side's peer id in the room (the `/voice` socket id), once joined. */
  peerId = '';
  device: Device | undefined;
  sendTransport: Transport | undefined;
  recvTransport: Transport | undefined;
  /** Producers by kind ('audio', 'video'). */
  readonly producers = new Map<string, Producer>();
  readonly consumers = new Map<string, Consumer>();
  readonly remotePeers = new Map<string, RemotePeer>();
  /** Remote producers currently paused (by producer id). */
  readonly remotePaused = new Set<string>();
  muted = false;
  onHold = false;
  joined = false;
  closed = false;
  /** Why the microphone could not be used, if it could not. */
  micError: string | undefined;

  private readonly opts: CallMediaOptions;
  private socket: Socket | undefined;
  private closeSocket: (() => void) | undefined;
  private localStream: MediaStream | undefined;
  private readonly consumed = new Set<string>();
  private readonly pending: Array<{ peerId: string; producerId: string; paused?: boolean }> = [];
  private readonly elements = new Map<string, HTMLMediaElement>();
  private localPreview: HTMLVideoElement | undefined;

  constructor(options: CallMediaOptions) {
    this.opts = options;
    this.roomId = options.roomId;
  }

  /** The two transports, as `window.parley.peers` (keys 'send' and 'recv'). */
  get peers(): Map<string, PeerConnectionView> {
    const out = new Map<string, PeerConnectionView>();
    for (const [key, t] of [
      ['send', this.sendTransport],
      ['recv', this.recvTransport],
    ] as const) {
      if (!t) continue;
      out.set(key, {
        get connectionState() {
          return t.connectionState;
        },
        get iceConnectionState() {
          // mediasoup-client reports one state; map it onto the ICE names the helpers print.
          return t.connectionState;
        },
        getStats: () => t.getStats(),
      });
    }
    return out;
  }

  /** Connects the `/voice` socket (to the node named, when the room is pinned elsewhere). */
  private async openVoice(node?: string): Promise<Socket> {
    const { token, authUserId } = this.opts;
    // Parley's one socket policy (web-src/ui/client.ts) without reconnecting: a dropped /voice peer has left its room.
    const live = liveSocket('/voice', token, {
      reconnect: false,
      // Several nodes: `?node=` is what the load balancer routes on (docs/cluster.md).
      query: node ? { node } : undefined,
      auth: authUserId !== undefined ? { userId: authUserId, token } : undefined,
      // A sign-in revoked mid-call (`signed-out`): the socket is closed, so the room is gone for this side.
      onRefused: (reason) => {
        this.emit('voice-refused', { reason });
        if (this.joined && !this.closed) {
          this.closed = true;
          this.teardown();
          this.opts.onClosed?.(`signed out of the voice server (${reason})`);
        }
      },
      onError: (err) => this.emit('voice-connect-error', { code: err.code, message: err.message }),
    });
    const socket = live.socket;
    this.closeSocket = live.close;
    this.socket = socket;
    this.wire(socket);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the voice server did not answer within 10 s')), 10_000);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('connect_error', (err: Error & { data?: { message?: string } }) => {
        clearTimeout(timer);
        reject(new Error(`could not connect to the voice server: ${err.data?.message ?? err.message}`));
      });
    });
    this.assertOpen();
    return socket;
  }

  private async joinRoom(socket: Socket, body: { roomId: string; userId?: string; audioLevels: boolean }): Promise<JoinAck & { error?: { code: string; message: string; node?: string } }> {
    return (await socket.timeout(10_000).emitWithAck('join-room', body)) as JoinAck & { error?: { code: string; message: string; node?: string } };
  }

  /** Joins the room, sends the mic (+camera) and receives everything already there. */
  async join(): Promise<void> {
    if (this.joined || this.socket) throw new Error('this CallMedia already joined; make a new one');
    // A page that shows no level meters asks the server not to send it `audio-levels` (4 a second).
    const audioLevels = this.opts.onAudioLevels !== undefined || this.opts.onActiveSpeaker !== undefined;
    const body = this.opts.userId ? { roomId: this.roomId, userId: this.opts.userId, audioLevels } : { roomId: this.roomId, audioLevels };
    let socket = await this.openVoice();
    let ack = await this.joinRoom(socket, body);
    // Several nodes (docs/cluster.md): the room is hosted by another node; reconnect there once
    // (`?node=` is what the load balancer routes on) and join again.
    if (ack.error?.code === 'WRONG_NODE' && ack.error.node) {
      this.emit('wrong-node', { node: ack.error.node });
      socket.disconnect();
      socket = await this.openVoice(ack.error.node);
      ack = await this.joinRoom(socket, body);
    }
    if (ack.error) throw new ApiError(0, ack.error.code, ack.error.message);
    const joined = ack;
    this.emit('join-room', { peerId: joined.peerId, peers: joined.peers, producers: joined.producers });
    this.peerId = joined.peerId;
    for (const p of joined.peers) this.remotePeers.set(p.peerId, { peerId: p.peerId, userId: p.userId });
    this.opts.onRoomJoined?.({ peerId: joined.peerId, peers: [...this.remotePeers.values()] });
    this.pending.push(...joined.producers.map((p) => ({ peerId: p.peerId, producerId: p.producerId, paused: p.paused })));

    const device = new Device();
    await device.load({ routerRtpCapabilities: joined.rtpCapabilities });
    this.assertOpen();
    this.device = device;
    if (!device.canProduce('audio')) throw new Error('this browser cannot send audio to the voice server');

    const sendParams = await request<TransportOptions>(socket, 'create-transport', { roomId: this.roomId, direction: 'send' });
    const send = device.createSendTransport(sendParams);
    send.on('connect', ({ dtlsParameters }, ok, ko) => {
      request(socket, 'connect-transport', { roomId: this.roomId, transportId: send.id, dtlsParameters }).then(() => ok(), ko);
    });
    send.on('produce', ({ kind, rtpParameters, appData }, ok, ko) => {
      request<{ id: string }>(socket, 'produce', { roomId: this.roomId, transportId: send.id, kind, rtpParameters, appData }).then(ok, ko);
    });
    send.on('connectionstatechange', (s) => this.transportState('send', s));
    this.sendTransport = send;

    const recvParams = await request<TransportOptions>(socket, 'create-transport', { roomId: this.roomId, direction: 'recv' });
    const recv = device.createRecvTransport(recvParams);
    recv.on('connect', ({ dtlsParameters }, ok, ko) => {
      request(socket, 'connect-transport', { roomId: this.roomId, transportId: recv.id, dtlsParameters }).then(() => ok(), ko);
    });
    recv.on('connectionstatechange', (s) => this.transportState('recv', s));
    this.recvTransport = recv;

    for (const p of this.pending.splice(0)) await this.consume(p.peerId, p.producerId, p.paused).catch((e: unknown) => this.fail('consume', e));

    this.assertOpen();
    if (this.opts.microphone !== false) await this.produceLocal();
    this.assertOpen();
    this.joined = true;
    this.emit('joined', { roomId: this.roomId, peerId: this.peerId, producers: [...this.producers.keys()] });
  }

  /** Mutes/unmutes the microphone (toggles without an argument). Resolves with `muted`. */
  async mute(on: boolean = !this.muted): Promise<boolean> {
    this.muted = on;
    await this.applyPause();
    return this.muted;
  }

  /** Holds/resumes: while on hold, nothing this side sends reaches the room. */
  async setHold(on: boolean): Promise<void> {
    this.onHold = on;
    await this.applyPause();
  }

  /** Whether any remote producer of `kind` is currently paused (the other side muted or held us). */
  remoteKindPaused(kind: MediaKind): boolean {
    for (const c of this.consumers.values()) if (c.kind === kind && this.remotePaused.has(c.producerId)) return true;
    return false;
  }

  /** Sends one `/voice` request in this side's socket and resolves with its ack (rejects with ApiError on `{error}`). */
  async request<T = unknown>(event: string, data: unknown = {}): Promise<T> {
    if (!this.socket) throw new Error('not connected to the voice server; join first');
    return request<T>(this.socket, event, data);
  }

  /** Plays every remote element again (after a user gesture, when autoplay was blocked). */
  unlockAudio(): void {
    for (const el of this.elements.values()) void el.play().catch(() => undefined);
  }

  /** Leaves the room, stops the devices, removes the media elements. Safe to call twice. */
  async leave(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const socket = this.socket;
    if (socket?.connected && this.peerId) {
      await Promise.race([request(socket, 'leave-room', { roomId: this.roomId }).catch(() => undefined), new Promise((r) => setTimeout(r, 1500))]);
    }
    this.teardown();
    if (this.closeSocket) this.closeSocket();
    else socket?.disconnect();
    this.emit('left', { roomId: this.roomId });
  }

  /** inbound-rtp / outbound-rtp entries of both transports (`transport.getStats()`). */
  async stats(): Promise<MediaStat[]> {
    const out: MediaStat[] = [];
    for (const [name, t] of [
      ['send', this.sendTransport],
      ['recv', this.recvTransport],
    ] as const) {
      if (!t || t.closed) continue;
      let report: RTCStatsReport;
      try {
        report = await t.getStats();
      } catch {
        continue;
      }
      const byId = new Map<string, Record<string, unknown>>();
      report.forEach((s: Record<string, unknown>) => byId.set(String(s.id), s));
      for (const s of byId.values()) {
        if (s.type !== 'inbound-rtp' && s.type !== 'outbound-rtp') continue;
        const row: MediaStat = { transport: name, type: s.type, kind: String(s.kind ?? s.mediaType ?? '') };
        const ssrc = num(s.ssrc);
        if (ssrc !== undefined) row.ssrc = ssrc;
        if (s.type === 'inbound-rtp') {
          row.packetsReceived = num(s.packetsReceived) ?? 0;
          row.bytesReceived = num(s.bytesReceived) ?? 0;
          const lost = num(s.packetsLost);
          if (lost !== undefined) row.packetsLost = lost;
          const jitter = num(s.jitter);
          if (jitter !== undefined) row.jitter = jitter;
          const level = num(s.audioLevel);
          if (level !== undefined) row.audioLevel = level;
          const energy = num(s.totalAudioEnergy);
          if (energy !== undefined) row.totalAudioEnergy = energy;
        } else {
          row.packetsSent = num(s.packetsSent) ?? 0;
          row.bytesSent = num(s.bytesSent) ?? 0;
          const source = typeof s.mediaSourceId === 'string' ? byId.get(s.mediaSourceId) : undefined;
          const level = num(source?.audioLevel);
          if (level !== undefined) row.audioLevel = level;
          const energy = num(source?.totalAudioEnergy);
          if (energy !== undefined) row.totalAudioEnergy = energy;
        }
        out.push(row);
      }
    }
    return out;
  }

  // ── internals ─────────────────────────────────────────────────────────────────────────

  private assertOpen(): void {
    if (this.closed) throw new Error('left the voice room while joining');
  }

  private emit(event: string, data: unknown): void {
    this.opts.onEvent?.(event, data);
  }

  private fail(where: string, err: unknown): void {
    this.opts.onError?.(where, message(err));
  }

  private transportState(which: 'send' | 'recv', state: string): void {
    this.emit('transport-state', { transport: which, state });
    if (state === 'failed' && !this.closed) this.opts.onClosed?.(`the ${which} media connection failed`);
  }

  private wire(socket: Socket): void {
    socket.on('caption', (c: unknown) => this.opts.onCaption?.(c));
    socket.on('peer-joined', (d: RemotePeer) => {
      this.emit('peer-joined', d);
      this.remotePeers.set(d.peerId, { peerId: d.peerId, userId: d.userId });
      this.opts.onPeerJoined?.({ peerId: d.peerId, userId: d.userId });
      this.opts.onRemoteChange?.();
    });
    socket.on('peer-left', (d: { peerId: string }) => {
      this.emit('peer-left', d);
      this.remotePeers.delete(d.peerId);
      for (const c of [...this.consumers.values()]) if (c.appData.peerId === d.peerId) this.closeConsumer(c.id);
      this.opts.onPeerLeft?.(d.peerId);
      this.opts.onRemoteChange?.();
    });
    socket.on('new-producer', (d: { peerId: string; producerId: string }) => {
      this.emit('new-producer', d);
      this.consume(d.peerId, d.producerId).catch((e: unknown) => this.fail('consume', e));
    });
    socket.on('producer-closed', (d: { peerId: string; producerId: string }) => {
      this.emit('producer-closed', d);
      for (const c of [...this.consumers.values()]) if (c.producerId === d.producerId) this.closeConsumer(c.id);
    });
    socket.on('consumer-closed', (d: { consumerId: string }) => {
      this.emit('consumer-closed', d);
      this.closeConsumer(d.consumerId);
    });
    const pauseChange = (paused: boolean) => (d: { peerId: string; producerId: string }) => {
      this.emit(paused ? 'producer-paused' : 'producer-resumed', d);
      this.opts.onProducerPauseChange?.(d.peerId, d.producerId, paused);
      if (d.peerId === this.peerId) return;
      if (paused) this.remotePaused.add(d.producerId);
      else this.remotePaused.delete(d.producerId);
      this.opts.onRemoteChange?.();
    };
    socket.on('producer-paused', pauseChange(true));
    socket.on('producer-resumed', pauseChange(false));
    socket.on('room-closed', (d: { reason: string }) => {
      this.emit('room-closed', d);
      if (this.closed) return;
      this.closed = true;
      this.teardown();
      socket.disconnect();
      this.opts.onRoomClosed?.(d.reason);
      this.opts.onClosed?.(`the voice room closed (${d.reason})`);
    });
    if (this.opts.onAudioLevels || this.opts.onActiveSpeaker) {
      socket.on('audio-levels', (d: { levels: AudioLevel[] }) => {
        this.emit('audio-levels', d);
        this.opts.onAudioLevels?.(d.levels);
      });
      socket.on('active-speaker', (d: { peerId: string }) => {
        this.emit('active-speaker', d);
        this.opts.onActiveSpeaker?.(d.peerId);
      });
    }
    socket.on('transport-closed', (d: { transportId: string; reason: string }) => {
      this.emit('transport-closed', d);
      if (!this.closed) this.opts.onClosed?.(`the media connection closed (${d.reason})`);
    });
    socket.on('error', (d: { event?: string; message?: string }) => this.fail(`voice ${d.event ?? ''}`.trim(), d.message ?? 'error'));
    socket.on('disconnect', (reason) => {
      this.emit('voice-disconnect', { reason });
      // The server drops a peer whose socket went away: the room is gone for us.
      if (this.joined && !this.closed) {
        this.closed = true;
        this.teardown();
        socket.disconnect();
        this.opts.onClosed?.(`lost the voice server (${reason})`);
      }
    });
  }

  private async consume(peerId: string, producerId: string, paused?: boolean): Promise<void> {
    if (this.closed || this.consumed.has(producerId) || peerId === this.peerId) return;
    const socket = this.socket;
    if (!socket || !this.recvTransport || !this.device) {
      if (!this.pending.some((p) => p.producerId === producerId)) this.pending.push({ peerId, producerId, paused });
      return;
    }
    this.consumed.add(producerId);
    const params = await request<ConsumeAck>(socket, 'consume', {
      roomId: this.roomId,
      transportId: this.recvTransport.id,
      producerId,
      rtpCapabilities: this.device.rtpCapabilities,
    });
    const consumer = await this.recvTransport.consume({ id: params.id, producerId: params.producerId, kind: params.kind, rtpParameters: params.rtpParameters, appData: { peerId } });
    this.consumers.set(consumer.id, consumer);
    if (params.producerPaused || paused) this.remotePaused.add(producerId);
    const el = document.createElement(consumer.kind === 'video' ? 'video' : 'audio');
    el.autoplay = true;
    el.muted = false;
    el.setAttribute('playsinline', '');
    el.dataset.consumerId = consumer.id;
    el.dataset.peerId = peerId;
    el.className = `remote-${consumer.kind}`;
    el.srcObject = new MediaStream([consumer.track]);
    (consumer.kind === 'video' ? (this.opts.remoteVideo ?? this.opts.remote) : this.opts.remote).append(el);
    this.elements.set(consumer.id, el);
    el.play().catch(() => this.opts.onAutoplayBlocked?.());
    consumer.on('trackended', () => this.closeConsumer(consumer.id));
    consumer.on('transportclose', () => this.closeConsumer(consumer.id));
    this.emit('consumed', { consumerId: consumer.id, producerId, peerId, kind: consumer.kind });
    this.opts.onRemoteChange?.();
  }

  private closeConsumer(consumerId: string): void {
    const c = this.consumers.get(consumerId);
    if (c) {
      if (!c.closed) c.close();
      this.consumers.delete(consumerId);
      this.consumed.delete(c.producerId);
      this.remotePaused.delete(c.producerId);
    }
    const el = this.elements.get(consumerId);
    if (el) {
      el.srcObject = null;
      el.remove();
      this.elements.delete(consumerId);
    }
  }

  private async produceLocal(): Promise<void> {
    const send = this.sendTransport;
    if (!send) return;
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, ...(this.opts.microphoneId ? { deviceId: { exact: this.opts.microphoneId } } : {}) },
        video: this.opts.video ? { width: { ideal: 640 }, height: { ideal: 360 } } : false,
      });
    } catch (err) {
      if (this.opts.video) {
        // No camera (or refused): carry on with the microphone alone.
        this.fail('camera', err);
        try {
          stream = await navigator.mediaDevices.getUserMedia({ audio: true });
        } catch (err2) {
          this.micError = message(err2);
          this.fail('microphone', err2);
          return;
        }
      } else {
        this.micError = navigator.mediaDevices ? message(err) : 'this page has no access to media devices (it needs https or localhost)';
        this.fail('microphone', this.micError);
        return;
      }
    }
    if (this.closed) {
      for (const t of stream.getTracks()) t.stop();
      return;
    }
    this.localStream = stream;
    for (const track of stream.getTracks()) {
      const producer = await send.produce({ track, stopTracks: true, appData: { kind: track.kind, source: track.kind === 'audio' ? 'mic' : 'camera' } });
      this.producers.set(producer.kind, producer);
      this.emit('produced', { producerId: producer.id, kind: producer.kind });
      if (producer.kind === 'video') {
        const self = document.createElement('video');
        self.muted = true;
        self.autoplay = true;
        self.setAttribute('playsinline', '');
        self.className = 'local-video';
        self.srcObject = new MediaStream([track]);
        (this.opts.local ?? this.opts.remote).append(self);
        this.localPreview = self;
      }
    }
    // Muted or held before the producers existed: apply it now.
    if (this.muted || this.onHold) await this.applyPause();
  }

  /**
   * Starts sending the microphone after a listen-only join (a supervisor switching from
   * listen to whisper or barge); does nothing when it is already sent.
   */
  async startMicrophone(): Promise<void> {
    const audio = this.producers.get('audio');
    if (audio && !audio.closed) return;
    this.micError = undefined;
    await this.produceLocal();
  }

  /** Stops sending the microphone (back to listen-only); the SFU closes the producer for everyone. */
  async stopMicrophone(): Promise<void> {
    const audio = this.producers.get('audio');
    if (!audio) return;
    this.producers.delete('audio');
    const id = audio.id;
    audio.close();
    if (this.socket?.connected) await request(this.socket, 'close-producer', { roomId: this.roomId, producerId: id }).catch(() => undefined);
  }

  /** Brings every producer's paused state in line with `muted` / `onHold`. */
  private async applyPause(): Promise<void> {
    const socket = this.socket;
    const work: Array<Promise<unknown>> = [];
    for (const [kind, producer] of this.producers) {
      if (producer.closed) continue;
      const want = this.onHold || (kind === 'audio' && this.muted);
      if (producer.paused === want) continue;
      if (want) producer.pause();
      else producer.resume();
      if (socket?.connected) {
        work.push(
          request(socket, want ? 'pause-producer' : 'resume-producer', { roomId: this.roomId, producerId: producer.id })
            .then(() => this.emit(want ? 'producer-pause' : 'producer-resume', { producerId: producer.id, kind }))
            .catch((e: unknown) => this.fail(want ? 'pause-producer' : 'resume-producer', e)),
        );
      }
    }
    await Promise.all(work);
  }

  private teardown(): void {
    for (const id of [...this.consumers.keys()]) this.closeConsumer(id);
    for (const p of this.producers.values()) if (!p.closed) p.close();
    this.producers.clear();
    for (const t of this.localStream?.getTracks() ?? []) t.stop();
    this.localStream = undefined;
    this.localPreview?.remove();
    this.localPreview = undefined;
    if (this.sendTransport && !this.sendTransport.closed) this.sendTransport.close();
    if (this.recvTransport && !this.recvTransport.closed) this.recvTransport.close();
  }
}
