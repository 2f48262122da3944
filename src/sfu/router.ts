/**
 * A Router is one room's media: its WebRtcTransports, Producers and Consumers, the demux
 * of incoming RTP/RTCP, and the room's audio level observer. Everything is owned here and
 * closes in cascade (transport → its producers and consumers; producer → its consumers).
 * Entities carry `appData.peerId`, so a peer's media can be found and closed at once.
 *
 * Limits (what one client may make the worker hold): transports and producers per peer,
 * and a transport that does not complete ICE and DTLS in time is closed ('connect-timeout').
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { GenericNack, PictureLossIndication, RtcpPayloadSpecificFeedback, RtcpSrPacket, RtcpTransportLayerFeedback, RtpPacket, type RtcpPacket } from 'werift';
import { ParleyError } from '../errors.js';
import { AudioLevelObserver, type AudioLevel } from './audioLevelObserver.js';
import type { MessagePort } from 'node:worker_threads';
import { Consumer, type ConsumerCloseReason } from './consumer.js';
import { DirectConsumer } from './directConsumer.js';
import { ntpToUnixMs, type DirectConsumerCloseReason } from './directPort.js';
import { canConsume, consumerRtpParameters, mapProducerRtpParameters } from './ortc.js';
import { Producer, type ProducerCloseReason, type RtpTap } from './producer.js';
import { routerRtpCapabilities } from './routerCapabilities.js';
import type { ConsumerParameters, DtlsParameters, MediaKind, RtpCapabilities, RtpParameters, WebRtcTransportParameters } from './rtpTypes.js';
import { WebRtcTransport, type TransportCloseReason, type WebRtcTransportOptions } from './webRtcTransport.js';

export interface RouterEvents {
  'producer-new': [producer: Producer];
  'direct-consumer-close': [consumer: DirectConsumer, reason: DirectConsumerCloseReason];
  'producer-close': [producer: Producer, reason: ProducerCloseReason];
  'producer-pause': [producer: Producer];
  'producer-resume': [producer: Producer];
  'consumer-close': [consumer: Consumer, reason: ConsumerCloseReason];
  'transport-close': [transport: WebRtcTransport, reason: TransportCloseReason];
  volumes: [levels: AudioLevel[]];
  'active-speaker': [speaker: AudioLevel];
}

export interface RouterLimits {
  /** Transports one peer may hold at once (mediasoup-client needs 2). */
  transportsPerPeer: number;
  /** Producers one peer may hold at once (server-side direct producers do not count). */
  producersPerPeer: number;
  /** A transport not connected this long after creation, or after connect-transport, is closed. */
  transportConnectTimeoutMs: number;
}

export const defaultRouterLimits: RouterLimits = { transportsPerPeer: 4, producersPerPeer: 3, transportConnectTimeoutMs: 15_000 };

export interface RouterOptions {
  transport: Omit<WebRtcTransportOptions, 'appData'>;
  audioLevelIntervalMs?: number;
  limits?: RouterLimits;
}

export class Router extends EventEmitter<RouterEvents> {
  readonly rtpCapabilities: RtpCapabilities = routerRtpCapabilities;
  readonly transports = new Map<string, WebRtcTransport>();
  readonly producers = new Map<string, Producer>();
  readonly consumers = new Map<string, Consumer>();
  readonly directConsumers = new Map<string, DirectConsumer>();
  /** Wall clock (Unix ms) of the room's media time 0. */
  readonly startedAtMs = Date.now();
  /** Per transport: producer SSRC → producer (the RTP demux). */
  private readonly producersBySsrc = new Map<string, Map<number, Producer>>();
  /** Per transport: consumer SSRC → consumer (the RTCP feedback demux). */
  private readonly consumersBySsrc = new Map<string, Map<number, Consumer>>();
  private readonly audioLevels: AudioLevelObserver;
  private readonly limits: RouterLimits;
  /** Per peer: transports being created (counted against the limit before they exist). */
  private readonly pendingTransports = new Map<string, number>();
  /** Per transport: restarts its connect deadline (connect-transport gives it a fresh one). */
  private readonly connectDeadlines = new Map<string, () => void>();
  private closed = false;

  constructor(
    readonly id: string,
    private readonly options: RouterOptions,
  ) {
    super();
    this.limits = options.limits ?? defaultRouterLimits;
    this.audioLevels = new AudioLevelObserver({ intervalMs: options.audioLevelIntervalMs ?? 250, thresholdDb: -60 });
    this.audioLevels.on('volumes', (v) => this.emit('volumes', v));
    this.audioLevels.on('active-speaker', (s) => this.emit('active-speaker', s));
  }

  async createWebRtcTransport(peerId: string): Promise<WebRtcTransportParameters> {
    this.assertOpen();
    const max = this.limits.transportsPerPeer;
    const pending = this.pendingTransports.get(peerId) ?? 0;
    if (this.transportsOf(peerId).length + pending >= max) {
      throw new ParleyError('RESOURCE_EXHAUSTED', `a peer may hold at most ${max} transports at once (mediasoup-client needs 2: send and receive); reuse or close one first`);
    }
    this.pendingTransports.set(peerId, pending + 1);
    let transport: WebRtcTransport;
    try {
      transport = await WebRtcTransport.create({ ...this.options.transport, appData: { peerId } });
    } finally {
      const left = (this.pendingTransports.get(peerId) ?? 1) - 1;
      if (left > 0) this.pendingTransports.set(peerId, left);
      else this.pendingTransports.delete(peerId);
    }
    if (this.closed) {
      transport.close('router-closed');
      this.assertOpen();
    }
    this.transports.set(transport.id, transport);
    const bySsrc = new Map<number, Producer>();
    const consumersBySsrc = new Map<number, Consumer>();
    this.producersBySsrc.set(transport.id, bySsrc);
    this.consumersBySsrc.set(transport.id, consumersBySsrc);
    transport.on('rtp', (packet) => bySsrc.get(packet.header.ssrc)?.receive(packet));
    transport.on('rtcp', (packets) => this.onRtcp(bySsrc, consumersBySsrc, packets));
    // A newly connected transport: each of its consumers needs a key frame to start decoding.
    // One listener per transport (not one per consumer, which would pile up).
    transport.on('connected', () => {
      for (const c of consumersBySsrc.values()) c.producer.requestKeyFrame();
    });
    this.watchConnectDeadline(transport, peerId);
    transport.once('close', (reason) => {
      for (const p of [...this.producers.values()]) if (p.transport === transport) p.close('transport-closed');
      for (const c of [...this.consumers.values()]) if (c.transport === transport) c.close('transport-closed');
      this.transports.delete(transport.id);
      this.producersBySsrc.delete(transport.id);
      this.consumersBySsrc.delete(transport.id);
      this.emit('transport-close', transport, reason);
    });
    return transport.parameters;
  }

  connectTransport(peerId: string, transportId: string, dtlsParameters: DtlsParameters): void {
    const transport = this.transportOf(peerId, transportId);
    transport.connect(dtlsParameters);
    this.connectDeadlines.get(transport.id)?.();
  }

  private transportsOf(peerId: string): WebRtcTransport[] {
    return [...this.transports.values()].filter((t) => t.appData.peerId === peerId);
  }

  /**
   * Closes a transport that has not completed ICE and DTLS within the connect timeout, counted
   * from its creation and again from connect-transport. mediasoup-client connects its receive
   * transport only at the first consume, so a transport not yet asked to connect is kept (and
   * checked again later) while another transport of the same peer is connected.
   */
  private watchConnectDeadline(transport: WebRtcTransport, peerId: string): void {
    let timer: NodeJS.Timeout | undefined;
    const check = (): void => {
      if (transport.isClosed || transport.isConnected) return;
      if (!transport.connectStarted && this.transportsOf(peerId).some((t) => t !== transport && t.isConnected)) return arm();
      transport.close('connect-timeout');
    };
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(check, this.limits.transportConnectTimeoutMs);
    };
    const stop = (): void => {
      clearTimeout(timer);
      this.connectDeadlines.delete(transport.id);
    };
    this.connectDeadlines.set(transport.id, arm);
    transport.once('connected', stop);
    transport.once('close', stop);
    arm();
  }

  produce(peerId: string, input: { transportId: string; kind: MediaKind; rtpParameters: RtpParameters; appData?: Record<string, unknown> }): Producer {
    const transport = this.transportOf(peerId, input.transportId);
    const max = this.limits.producersPerPeer;
    const held = [...this.producers.values()].filter((p) => p.transport && p.appData.peerId === peerId).length;
    if (held >= max) throw new ParleyError('RESOURCE_EXHAUSTED', `a peer may hold at most ${max} producers at once (microphone, camera, screen); close one first`);
    const mapping = mapProducerRtpParameters(input.kind, input.rtpParameters);
    const bySsrc = this.producersBySsrc.get(transport.id)!;
    if (bySsrc.has(mapping.ssrc)) throw new ParleyError('CONFLICT', `ssrc ${mapping.ssrc} is already produced on this transport`);
    const producer = new Producer(input.kind, input.rtpParameters, mapping, transport, { ...(input.appData ?? {}), peerId });
    bySsrc.set(mapping.ssrc, producer);
    this.addProducer(producer);
    producer.once('close', () => bySsrc.delete(mapping.ssrc));
    return producer;
  }

  /** A producer fed by server code (the AI agent, test tones): packets come through `send`. */
  createDirectProducer(peerId: string, input: { kind: MediaKind; rtpParameters: RtpParameters; appData?: Record<string, unknown> }): Producer {
    this.assertOpen();
    const mapping = mapProducerRtpParameters(input.kind, input.rtpParameters);
    const producer = new Producer(input.kind, input.rtpParameters, mapping, undefined, { ...(input.appData ?? {}), peerId, direct: true });
    this.addProducer(producer);
    return producer;
  }

  private addProducer(producer: Producer): void {
    this.producers.set(producer.id, producer);
    this.audioLevels.add(producer);
    producer.on('pause', () => this.emit('producer-pause', producer));
    producer.on('resume', () => this.emit('producer-resume', producer));
    producer.once('close', (reason) => {
      this.producers.delete(producer.id);
      this.audioLevels.remove(producer);
      this.emit('producer-close', producer, reason);
    });
    this.emit('producer-new', producer);
  }

  /**
   * Server code reads a producer: its RTP, sender reports, pause/resume and the end, written to
   * `port` (the media worker's end of a MessageChannel). Closes with the producer.
   */
  createDirectConsumer(producerId: string, port: MessagePort, appData: Record<string, unknown> = {}): DirectConsumer {
    this.assertOpen();
    const producer = this.producers.get(producerId);
    if (!producer) {
      port.close();
      throw new ParleyError('NOT_FOUND', `no producer ${producerId} in this room`);
    }
    const consumer = new DirectConsumer(producer, port, this.startedAtMs, appData);
    // A reader of video (the recorder) can start only at a key frame: ask the sender for one now.
    producer.requestKeyFrame();
    this.directConsumers.set(consumer.id, consumer);
    consumer.once('close', (reason) => {
      this.directConsumers.delete(consumer.id);
      this.emit('direct-consumer-close', consumer, reason);
    });
    return consumer;
  }

  canConsume(producerId: string, rtpCapabilities: RtpCapabilities): boolean {
    const producer = this.producers.get(producerId);
    return producer !== undefined && canConsume(producer.mapping.routerCodec, rtpCapabilities);
  }

  consume(peerId: string, input: { transportId: string; producerId: string; rtpCapabilities: RtpCapabilities; paused?: boolean }): Consumer {
    const transport = this.transportOf(peerId, input.transportId);
    const producer = this.producers.get(input.producerId);
    if (!producer) throw new ParleyError('NOT_FOUND', `no producer ${input.producerId} in this room`);
    if (!canConsume(producer.mapping.routerCodec, input.rtpCapabilities)) {
      throw new ParleyError('INVALID_PAYLOAD', `rtpCapabilities cannot receive ${producer.mapping.routerCodec.mimeType}; load the Device with the room's rtpCapabilities`);
    }
    const bySsrc = this.consumersBySsrc.get(transport.id)!;
    let ssrc = randomBytes(4).readUInt32BE(0);
    while (bySsrc.has(ssrc) || ssrc === 0) ssrc = randomBytes(4).readUInt32BE(0);
    const rtpParameters = consumerRtpParameters({ kind: producer.kind, mapping: producer.mapping, caps: input.rtpCapabilities, mid: transport.allocateMid(), ssrc, cname: producer.cname });
    const consumer = new Consumer(producer, transport, rtpParameters, { peerId });
    if (input.paused) consumer.pause();
    producer.consumers.add(consumer);
    bySsrc.set(ssrc, consumer);
    this.consumers.set(consumer.id, consumer);
    consumer.once('close', (reason) => {
      bySsrc.delete(ssrc);
      this.consumers.delete(consumer.id);
      this.emit('consumer-close', consumer, reason);
    });
    producer.requestKeyFrame();
    return consumer;
  }

  consumerParameters(consumer: Consumer): ConsumerParameters {
    return { id: consumer.id, producerId: consumer.producer.id, kind: consumer.kind, rtpParameters: consumer.rtpParameters, type: 'simple', producerPaused: consumer.producer.paused };
  }

  /** Server code reads a producer's RTP (captions, recording). Returns the way to stop. */
  tap(producerId: string, tap: RtpTap): () => void {
    const producer = this.producers.get(producerId);
    if (!producer) throw new ParleyError('NOT_FOUND', `no producer ${producerId} in this room`);
    producer.taps.add(tap);
    return () => producer.taps.delete(tap);
  }

  /** Feeds one RTP packet (serialized) into a direct producer. */
  sendDirect(producerId: string, packet: Buffer): void {
    const producer = this.producers.get(producerId);
    if (!producer || producer.transport) throw new ParleyError('NOT_FOUND', `no direct producer ${producerId}`);
    producer.receive(RtpPacket.deSerialize(packet));
  }

  producerOf(peerId: string, producerId: string): Producer {
    const p = this.producers.get(producerId);
    if (!p || p.appData.peerId !== peerId) throw new ParleyError('NOT_FOUND', `you have no producer ${producerId}`);
    return p;
  }

  consumerOf(peerId: string, consumerId: string): Consumer {
    const c = this.consumers.get(consumerId);
    if (!c || c.appData.peerId !== peerId) throw new ParleyError('NOT_FOUND', `you have no consumer ${consumerId}`);
    return c;
  }

  /** Closes one of the peer's consumers; one already gone (or another peer's) is left alone. */
  closeConsumer(peerId: string, consumerId: string): void {
    const c = this.consumers.get(consumerId);
    if (c && c.appData.peerId === peerId) c.close('closed');
  }

  /** Closes everything a peer owns (its transports, hence its producers and consumers). */
  closePeer(peerId: string): void {
    for (const t of [...this.transports.values()]) if (t.appData.peerId === peerId) t.close('peer-left');
    for (const p of [...this.producers.values()]) if (p.appData.peerId === peerId) p.close('closed');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of [...this.transports.values()]) t.close('router-closed');
    for (const p of [...this.producers.values()]) p.close('router-closed');
    this.audioLevels.close();
  }

  stats() {
    return {
      id: this.id,
      transports: [...this.transports.values()].map((t) => ({ id: t.id, peerId: String(t.appData.peerId), connected: t.isConnected, rtpPacketsSent: t.rtpPacketsSent })),
      producers: [...this.producers.values()].map((p) => ({ id: p.id, kind: p.kind, peerId: p.appData.peerId, paused: p.paused, packetsReceived: p.packetsReceived, packetsDroppedLate: p.packetsDroppedLate, handledLateMs: p.handledLate.snapshot(), fanOutMs: p.fanOut.snapshot() })),
      consumers: [...this.consumers.values()].map((c) => ({
        id: c.id,
        producerId: c.producer.id,
        peerId: c.appData.peerId,
        paused: c.paused,
        packetsSent: c.packetsSent,
        packetsRetransmitted: c.packetsRetransmitted,
      })),
    };
  }

  private transportOf(peerId: string, transportId: string): WebRtcTransport {
    this.assertOpen();
    const t = this.transports.get(transportId);
    if (!t || t.appData.peerId !== peerId) throw new ParleyError('NOT_FOUND', `unknown transport ${transportId}; create it with create-transport first`);
    return t;
  }

  private assertOpen(): void {
    if (this.closed) throw new ParleyError('NOT_FOUND', 'room media is closed');
  }

  private onRtcp(producers: Map<number, Producer>, consumers: Map<number, Consumer>, packets: RtcpPacket[]): void {
    for (const packet of packets) {
      if (packet instanceof RtcpSrPacket) {
        // RTP timestamps are forwarded unchanged, so the sender's NTP↔RTP mapping holds for
        // every consumer: each sends its own report with it (receivers need it for A/V sync).
        const producer = producers.get(packet.ssrc);
        if (!producer) continue;
        for (const c of producer.consumers) c.sendSenderReport(packet.senderInfo.ntpTimestamp, packet.senderInfo.rtpTimestamp);
        producer.receiveSenderReport({ ntpMs: ntpToUnixMs(packet.senderInfo.ntpTimestamp), rtpTimestamp: packet.senderInfo.rtpTimestamp, receivedAtMs: Date.now() });
        continue;
      }
      if (packet instanceof RtcpTransportLayerFeedback && packet.feedback instanceof GenericNack) {
        consumers.get(packet.feedback.mediaSourceSsrc)?.retransmit(packet.feedback.lost);
      } else if (packet instanceof RtcpPayloadSpecificFeedback) {
        const fb = packet.feedback;
        if (fb instanceof PictureLossIndication) consumers.get(fb.mediaSsrc)?.producer.requestKeyFrame();
        // FIR (werift does not export its class): one entry per media SSRC.
        else if ('fir' in fb && Array.isArray(fb.fir)) for (const entry of fb.fir as Array<{ ssrc: number }>) consumers.get(entry.ssrc)?.producer.requestKeyFrame();
      }
    }
  }
}
