/**
 * The main thread's handle on one room's media, living on one media worker. This is the
 * in-process SFU API later capabilities use (mediasoup's shape): transports, producers and
 * consumers for browsers; `observer` for server code (new producers with their appData,
 * producer close/pause/resume, peers joined/left); `createDirectConsumer` (read a producer's
 * RTP on a transferable MessagePort, off the main thread); `createDirectProducer` (inject RTP).
 */
import { EventEmitter } from 'node:events';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { DirectConsumerCloseReason } from './directPort.js';
import type { MediaWorker } from './mediaWorker.js';
import { WorkerPacedWriter, type PacedWriterHandle } from './pacedWriterHandle.js';
import type { ConsumerParameters, DtlsParameters, MediaKind, RtpCapabilities, RtpParameters, WebRtcTransportParameters } from './rtpTypes.js';
import type { RoomMediaEvents } from './roomMediaEvents.js';
import type { ProducerInfo, WorkerNotifications } from './worker/protocol.js';


export interface RtpTapHandle {
  close(): Promise<void>;
}

/** Events of `RoomMedia.observer` (mediasoup's Router observer, plus peers). */
export interface RoomObserverEvents {
  /** A producer opened, a browser's or a direct one; `appData` is what its client gave `produce`. */
  newproducer: [producer: ProducerInfo];
  producerclose: [producer: { producerId: string; peerId: string; reason: string }];
  producerpause: [producer: { producerId: string; peerId: string }];
  producerresume: [producer: { producerId: string; peerId: string }];
  peerjoined: [peer: { peerId: string; appData: Record<string, unknown> }];
  peerleft: [peer: { peerId: string }];
  /** The room's media ended ('closed', 'media-worker-crashed'). */
  close: [reason: string];
}

export type DirectConsumerHandleCloseReason = DirectConsumerCloseReason | 'room-closed';

/**
 * Server code's reader of one producer. Transfer `port` to the thread that reads it
 * (`AudioPipeline.read` does); messages are `DirectConsumerMessage`s (directPort.ts).
 */
export interface DirectConsumerHandle {
  readonly id: string;
  readonly producerId: string;
  /** The producer's peer, kind and appData (`appData.source`: 'mic' | 'screen' …). */
  readonly producer: ProducerInfo;
  readonly appData: Record<string, unknown>;
  /** The reading end; transferable (postMessage(…, [port])). Ends with a `close` message. */
  readonly port: MessagePort;
  /** `close` (reason) once: closed here, producer closed, room closed. */
  readonly observer: EventEmitter<{ close: [reason: DirectConsumerHandleCloseReason] }>;
  readonly closed: boolean;
  close(): Promise<void>;
}

export type DirectProducerCloseReason = 'closed' | 'router-closed' | 'room-closed';

export interface DirectProducerHandle {
  readonly id: string;
  readonly peerId: string;
  readonly kind: MediaKind;
  readonly paused: boolean;
  readonly closed: boolean;
  /** `close` (reason), `pause`, `resume`. */
  readonly observer: EventEmitter<{ close: [reason: DirectProducerCloseReason]; pause: []; resume: [] }>;
  /** One serialized RTP packet, with the payload type and SSRC of the rtpParameters given. Dropped while paused or closed. */
  send(packet: Uint8Array): void;
  /** While paused nothing is forwarded and the room's clients get producer-paused. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

export class RoomMedia extends EventEmitter<RoomMediaEvents> {
  /** Server code's view of the room (mediasoup's `router.observer`). */
  readonly observer = new EventEmitter<RoomObserverEvents>();
  private readonly tapHandlers = new Map<string, (packet: Uint8Array) => void>();
  private readonly peers = new Map<string, Record<string, unknown>>();
  private readonly closeHooks = new Set<(reason: string) => void>();
  private isClosed = false;

  constructor(
    readonly roomId: string,
    readonly worker: MediaWorker,
    readonly rtpCapabilities: RtpCapabilities,
  ) {
    super();
    this.on('producer.new', (p) => this.observer.emit('newproducer', p));
    this.on('producer.closed', ({ producerId, peerId, reason }) => this.observer.emit('producerclose', { producerId, peerId, reason }));
    this.on('producer.paused', (p) => this.observer.emit('producerpause', p));
    this.on('producer.resumed', (p) => this.observer.emit('producerresume', p));
    this.once('closed', (reason) => {
      this.isClosed = true;
      for (const hook of [...this.closeHooks]) hook(reason);
      this.closeHooks.clear();
      this.observer.emit('close', reason);
      this.observer.removeAllListeners();
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Signaling tells the room a peer joined (the SFU itself only sees transports). */
  peerJoined(peerId: string, appData: Record<string, unknown> = {}): void {
    if (this.peers.has(peerId)) return;
    this.peers.set(peerId, appData);
    this.observer.emit('peerjoined', { peerId, appData });
  }

  /** Peers signaling announced and that have not left. */
  peerIds(): string[] {
    return [...this.peers.keys()];
  }

  createTransport(peerId: string): Promise<WebRtcTransportParameters> {
    return this.worker.request('transport.create', { roomId: this.roomId, peerId });
  }

  connectTransport(peerId: string, transportId: string, dtlsParameters: DtlsParameters): Promise<void> {
    return this.worker.request('transport.connect', { roomId: this.roomId, peerId, transportId, dtlsParameters });
  }

  /** `appData` is the client's (mediasoup-client `produce({ appData })`), kept on the producer. */
  produce(peerId: string, input: { transportId: string; kind: MediaKind; rtpParameters: RtpParameters; appData?: Record<string, unknown> }): Promise<{ id: string }> {
    return this.worker.request('producer.create', { roomId: this.roomId, peerId, ...input });
  }

  consume(peerId: string, input: { transportId: string; producerId: string; rtpCapabilities: RtpCapabilities; paused?: boolean }): Promise<ConsumerParameters> {
    return this.worker.request('consumer.create', { roomId: this.roomId, peerId, ...input });
  }

  setProducerPaused(peerId: string, producerId: string, paused: boolean): Promise<void> {
    return this.worker.request(paused ? 'producer.pause' : 'producer.resume', { roomId: this.roomId, peerId, producerId });
  }

  closeProducer(peerId: string, producerId: string): Promise<void> {
    return this.worker.request('producer.close', { roomId: this.roomId, peerId, producerId });
  }

  setConsumerPaused(peerId: string, consumerId: string, paused: boolean): Promise<void> {
    return this.worker.request(paused ? 'consumer.pause' : 'consumer.resume', { roomId: this.roomId, peerId, consumerId });
  }

  /**
   * Closes one consumer of `peerId` on the SFU (nothing more is forwarded to it, its state is
   * freed). The room then emits `consumer.closed`, which /voice passes to the peer as
   * `consumer-closed`. Closing a consumer that is already gone is not an error.
   */
  closeConsumer(peerId: string, consumerId: string): Promise<void> {
    return this.worker.request('consumer.close', { roomId: this.roomId, peerId, consumerId });
  }

  /** Closes everything the peer owns (close events first), then `observer` says `peerleft`. */
  async closePeer(peerId: string): Promise<void> {
    try {
      await this.worker.request('peer.close', { roomId: this.roomId, peerId });
    } finally {
      if (this.peers.delete(peerId)) this.observer.emit('peerleft', { peerId });
    }
  }

  producers(): Promise<ProducerInfo[]> {
    return this.worker.request('router.producers', { roomId: this.roomId });
  }

  stats(): Promise<unknown> {
    return this.worker.request('router.stats', { roomId: this.roomId });
  }

  /**
   * Receives every RTP packet of a producer on the main thread (serialized, as sent).
   * Prefer `createDirectConsumer`, which keeps packets off the main thread.
   */
  async tap(producerId: string, onPacket: (packet: Uint8Array) => void): Promise<RtpTapHandle> {
    const { tapId } = await this.worker.request('tap.create', { roomId: this.roomId, producerId });
    this.tapHandlers.set(tapId, onPacket);
    return {
      close: async () => {
        this.tapHandlers.delete(tapId);
        await this.worker.request('tap.close', { tapId }).catch(() => undefined);
      },
    };
  }

  /**
   * Opens a direct consumer on a producer: its RTP, sender reports, pause/resume and end arrive
   * on `handle.port`, written by the media worker itself. Transfer the port to the thread that
   * decodes (an AudioPipeline); the main thread then carries none of the packets.
   */
  async createDirectConsumer(
    producerId: string,
    options: {
      appData?: Record<string, unknown>;
      /** Hands the reading end to its thread before the media worker writes the first message (then `handle.port` is that thread's). */
      transferReader?: (port: MessagePort) => void;
    } = {},
  ): Promise<DirectConsumerHandle> {
    const { port1, port2 } = new MessageChannel();
    options.transferReader?.(port2);
    const appData = options.appData ?? {};
    let result: { id: string; producer: ProducerInfo };
    try {
      result = await this.worker.request('directConsumer.create', { roomId: this.roomId, producerId, port: port1, appData }, [port1]);
    } catch (err) {
      port2.close();
      throw err;
    }
    const { id, producer } = result;
    const observer = new EventEmitter<{ close: [reason: DirectConsumerHandleCloseReason] }>();
    let closed = false;
    const end = (reason: DirectConsumerHandleCloseReason): void => {
      if (closed) return;
      closed = true;
      this.off('directConsumer.closed', onClosed);
      this.closeHooks.delete(onRoomClosed);
      observer.emit('close', reason);
    };
    const onClosed = (n: { directConsumerId: string; reason: DirectConsumerCloseReason }): void => {
      if (n.directConsumerId === id) end(n.reason);
    };
    const onRoomClosed = (): void => end('room-closed');
    this.on('directConsumer.closed', onClosed);
    this.closeHooks.add(onRoomClosed);
    return {
      id,
      producerId,
      producer,
      appData,
      port: port2,
      observer,
      get closed() {
        return closed;
      },
      close: async () => {
        if (closed) return;
        await this.worker.request('directConsumer.close', { roomId: this.roomId, directConsumerId: id }).catch(() => undefined);
        end('closed');
      },
    };
  }

  /** A producer fed by server code; browsers consume it like any other. */
  async createDirectProducer(peerId: string, input: { kind: MediaKind; rtpParameters: RtpParameters; appData?: Record<string, unknown> }): Promise<DirectProducerHandle> {
    const { id } = await this.worker.request('directProducer.create', { roomId: this.roomId, peerId, ...input });
    this.emit('direct-producer', { producerId: id, peerId, kind: input.kind });
    const observer = new EventEmitter<{ close: [reason: DirectProducerCloseReason]; pause: []; resume: [] }>();
    let closed = false;
    let paused = false;
    const end = (reason: DirectProducerCloseReason): void => {
      if (closed) return;
      closed = true;
      this.off('producer.closed', onClosed);
      this.closeHooks.delete(onRoomClosed);
      observer.emit('close', reason);
    };
    const onClosed = (n: { producerId: string; reason: string }): void => {
      if (n.producerId === id) end(n.reason === 'router-closed' ? 'router-closed' : 'closed');
    };
    const onRoomClosed = (): void => end('room-closed');
    this.on('producer.closed', onClosed);
    this.closeHooks.add(onRoomClosed);
    const setPaused = async (on: boolean): Promise<void> => {
      if (closed || paused === on) return;
      await this.setProducerPaused(peerId, id, on);
      paused = on;
      observer.emit(on ? 'pause' : 'resume');
    };
    return {
      id,
      peerId,
      kind: input.kind,
      get paused() {
        return paused;
      },
      get closed() {
        return closed;
      },
      observer,
      send: (packet) => {
        if (!closed && !paused) this.worker.sendRtp(this.roomId, id, packet);
      },
      pause: () => setPaused(true),
      resume: () => setPaused(false),
      close: async () => {
        if (closed) return;
        await this.closeProducer(peerId, id).catch(() => undefined);
        end('closed');
      },
    };
  }

  /**
   * A paced writer on one of this room's direct producers, run in the media worker: PCM pushed here is Opus-encoded,
   * packetized (`ssrc`, `payloadType`, as the producer's rtpParameters say) and sent every 20 ms by the worker.
   */
  async createPacedWriter(producer: DirectProducerHandle, options: { ssrc: number; payloadType?: number }): Promise<PacedWriterHandle> {
    const clearFlag = new SharedArrayBuffer(4);
    await this.worker.request('writer.create', { roomId: this.roomId, producerId: producer.id, ...options, clearFlag });
    const writer = new WorkerPacedWriter(this.worker, this.roomId, producer.id, this, new Int32Array(clearFlag));
    producer.observer.once('close', () => void writer.close());
    return writer;
  }

  /** @internal the pool routes tapped packets here. */
  deliverRtp(tapId: string, packet: Uint8Array): boolean {
    const h = this.tapHandlers.get(tapId);
    if (!h) return false;
    h(packet);
    return true;
  }
}
