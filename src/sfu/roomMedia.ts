/**
 * The main thread's handle on one room's media, living on one media worker. This is the
 * in-process SFU API later capabilities use: transports, producers and consumers for
 * browsers, plus `tap` (read a producer's RTP) and `createDirectProducer` (inject RTP).
 */
import { EventEmitter } from 'node:events';
import type { MediaWorker } from './mediaWorker.js';
import type { ConsumerParameters, DtlsParameters, MediaKind, RtpCapabilities, RtpParameters, WebRtcTransportParameters } from './rtpTypes.js';
import type { ProducerInfo, WorkerNotifications } from './worker/protocol.js';

export type RoomMediaEvents = { [E in keyof WorkerNotifications]: [WorkerNotifications[E]] } & {
  closed: [reason: string];
  /** A server-side producer joined the room (signaling announces it like a browser's). */
  'direct-producer': [{ producerId: string; peerId: string; kind: MediaKind }];
};

export interface RtpTapHandle {
  close(): Promise<void>;
}

export interface DirectProducerHandle {
  id: string;
  /** One serialized RTP packet, with the payload type and SSRC of the rtpParameters given. */
  send(packet: Uint8Array): void;
}

export class RoomMedia extends EventEmitter<RoomMediaEvents> {
  private readonly tapHandlers = new Map<string, (packet: Uint8Array) => void>();

  constructor(
    readonly roomId: string,
    readonly worker: MediaWorker,
    readonly rtpCapabilities: RtpCapabilities,
  ) {
    super();
  }

  createTransport(peerId: string): Promise<WebRtcTransportParameters> {
    return this.worker.request('transport.create', { roomId: this.roomId, peerId });
  }

  connectTransport(peerId: string, transportId: string, dtlsParameters: DtlsParameters): Promise<void> {
    return this.worker.request('transport.connect', { roomId: this.roomId, peerId, transportId, dtlsParameters });
  }

  produce(peerId: string, input: { transportId: string; kind: MediaKind; rtpParameters: RtpParameters }): Promise<{ id: string }> {
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

  closePeer(peerId: string): Promise<void> {
    return this.worker.request('peer.close', { roomId: this.roomId, peerId });
  }

  producers(): Promise<ProducerInfo[]> {
    return this.worker.request('router.producers', { roomId: this.roomId });
  }

  stats(): Promise<unknown> {
    return this.worker.request('router.stats', { roomId: this.roomId });
  }

  /** Receives every RTP packet of a producer (serialized, as the producer sent it). */
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

  /** A producer fed by server code; browsers consume it like any other. */
  async createDirectProducer(peerId: string, input: { kind: MediaKind; rtpParameters: RtpParameters }): Promise<DirectProducerHandle> {
    const { id } = await this.worker.request('directProducer.create', { roomId: this.roomId, peerId, ...input });
    this.emit('direct-producer', { producerId: id, peerId, kind: input.kind });
    return { id, send: (packet) => this.worker.sendRtp(this.roomId, id, packet) };
  }

  /** @internal the pool routes tapped packets here. */
  deliverRtp(tapId: string, packet: Uint8Array): boolean {
    const h = this.tapHandlers.get(tapId);
    if (!h) return false;
    h(packet);
    return true;
  }
}
