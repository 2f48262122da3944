/**
 * A DirectConsumer (mediasoup's DirectTransport consumer, on the media worker): every RTP
 * packet of one producer, plus its sender reports and pause/resume, written straight to a
 * MessagePort the main thread handed over. Whoever holds the other end (an audio pipeline
 * worker) reads it without the main thread in between. It ends with a reason: 'closed'
 * (server code closed it), 'producer-closed' (the producer went), 'router-closed' (the room).
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { MessagePort } from 'node:worker_threads';
import type { RtpPacket } from 'werift';
import type { DirectConsumerCloseReason, DirectConsumerMessage, DirectConsumerRequest, SenderReport } from './directPort.js';
import type { Producer } from './producer.js';

export interface DirectConsumerEvents {
  close: [reason: DirectConsumerCloseReason];
}

export class DirectConsumer extends EventEmitter<DirectConsumerEvents> {
  readonly id = randomUUID();
  packetsSent = 0;
  private closed = false;
  private readonly onProducerClose = (reason: string): void => this.close(reason === 'router-closed' ? 'router-closed' : 'producer-closed');
  private readonly onPause = (): void => this.post({ type: 'pause' });
  private readonly onResume = (): void => this.post({ type: 'resume' });
  /** The reader's requests; the producer rate-limits key frame requests itself. */
  private readonly onRequest = (msg: DirectConsumerRequest): void => {
    if (msg?.type === 'request-key-frame') this.producer.requestKeyFrame();
  };

  constructor(
    readonly producer: Producer,
    private readonly port: MessagePort,
    roomStartedAtMs: number,
    readonly appData: Record<string, unknown>,
  ) {
    super();
    const codec = producer.mapping.routerCodec;
    this.post({
      type: 'start',
      consumerId: this.id,
      producerId: producer.id,
      peerId: producer.appData.peerId,
      kind: producer.kind,
      mimeType: codec.mimeType,
      payloadType: producer.mapping.codec.payloadType,
      clockRate: codec.clockRate,
      channels: codec.channels ?? 1,
      ssrc: producer.ssrc,
      roomStartedAtMs,
      producerAppData: { ...producer.appData },
      ...(producer.senderReport ? { senderReport: producer.senderReport } : {}),
    });
    producer.directConsumers.add(this);
    producer.once('close', this.onProducerClose);
    producer.on('pause', this.onPause);
    producer.on('resume', this.onResume);
    if (producer.kind === 'video') port.on('message', this.onRequest);
  }

  /** Hot path: one call per producer packet. The bytes are copied once and transferred. */
  forward(packet: RtpPacket): void {
    const bytes = packet.serialize();
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    this.port.postMessage({ type: 'rtp', packet: copy, receivedAtMs: Date.now() } satisfies DirectConsumerMessage, [copy.buffer]);
    this.packetsSent++;
  }

  senderReport(report: SenderReport): void {
    this.post({ type: 'sender-report', ...report });
  }

  close(reason: DirectConsumerCloseReason = 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    this.producer.directConsumers.delete(this);
    this.producer.off('close', this.onProducerClose);
    this.producer.off('pause', this.onPause);
    this.producer.off('resume', this.onResume);
    this.port.off('message', this.onRequest);
    this.post({ type: 'close', reason });
    this.port.close();
    this.emit('close', reason);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private post(msg: DirectConsumerMessage): void {
    this.port.postMessage(msg);
  }
}
