/**
 * Entry of a media worker thread: owns the Routers of the rooms placed on it and answers
 * the main thread's requests. RTP never leaves the thread except through taps.
 */
import { randomUUID } from 'node:crypto';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { ParleyError } from '../../errors.js';
import type { Producer } from '../producer.js';
import { Router } from '../router.js';
import type { MediaWorkerData, ProducerInfo, WorkerMethod, WorkerMethods, WorkerNotification, WorkerNotifications, WorkerReply, WorkerRequest, WorkerRtpIn, WorkerRtpOut } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('mediaWorkerMain must run in a worker thread');
const data = workerData as MediaWorkerData;
const routers = new Map<string, Router>();
const taps = new Map<string, () => void>();

function notify<E extends keyof WorkerNotifications>(roomId: string, event: E, payload: WorkerNotifications[E]): void {
  port!.postMessage({ type: 'notification', roomId, event, data: payload } as WorkerNotification);
}

function router(roomId: string): Router {
  const r = routers.get(roomId);
  if (!r) throw new ParleyError('NOT_FOUND', `room ${roomId} has no media on this worker`);
  return r;
}

function producerInfo(p: Producer): ProducerInfo {
  return { producerId: p.id, peerId: p.appData.peerId, kind: p.kind, paused: p.paused, direct: p.transport === undefined, appData: { ...p.appData } };
}

function createRouter(roomId: string): Router {
  const r = new Router(roomId, { transport: data.transport, audioLevelIntervalMs: data.audioLevelIntervalMs, limits: data.limits });
  r.on('producer-new', (p) => notify(roomId, 'producer.new', producerInfo(p)));
  r.on('direct-consumer-close', (d, reason) => notify(roomId, 'directConsumer.closed', { directConsumerId: d.id, producerId: d.producer.id, reason }));
  r.on('producer-close', (p, reason) => notify(roomId, 'producer.closed', { producerId: p.id, peerId: p.appData.peerId, reason }));
  r.on('producer-pause', (p) => notify(roomId, 'producer.paused', { producerId: p.id, peerId: p.appData.peerId }));
  r.on('producer-resume', (p) => notify(roomId, 'producer.resumed', { producerId: p.id, peerId: p.appData.peerId }));
  r.on('consumer-close', (c, reason) => notify(roomId, 'consumer.closed', { consumerId: c.id, producerId: c.producer.id, peerId: c.appData.peerId, reason }));
  r.on('transport-close', (t, reason) => notify(roomId, 'transport.closed', { transportId: t.id, peerId: String(t.appData.peerId), reason }));
  r.on('volumes', (levels) => notify(roomId, 'audio.volumes', { levels }));
  r.on('active-speaker', (s) => notify(roomId, 'audio.activeSpeaker', s));
  routers.set(roomId, r);
  return r;
}

type Handlers = { [M in WorkerMethod]: (params: WorkerMethods[M]['params']) => Promise<WorkerMethods[M]['result']> | WorkerMethods[M]['result'] };

const handlers: Handlers = {
  'router.create': ({ roomId }) => ({ rtpCapabilities: (routers.get(roomId) ?? createRouter(roomId)).rtpCapabilities }),
  'router.close': ({ roomId }) => {
    routers.get(roomId)?.close();
    routers.delete(roomId);
  },
  'router.producers': ({ roomId }) =>
    [...router(roomId).producers.values()].map(producerInfo),
  'router.stats': ({ roomId }) => router(roomId).stats(),
  'transport.create': ({ roomId, peerId }) => router(roomId).createWebRtcTransport(peerId),
  'transport.connect': ({ roomId, peerId, transportId, dtlsParameters }) => router(roomId).connectTransport(peerId, transportId, dtlsParameters),
  'producer.create': ({ roomId, peerId, transportId, kind, rtpParameters, appData }) => ({ id: router(roomId).produce(peerId, { transportId, kind, rtpParameters, ...(appData ? { appData } : {}) }).id }),
  'producer.pause': ({ roomId, peerId, producerId }) => router(roomId).producerOf(peerId, producerId).pause(),
  'producer.resume': ({ roomId, peerId, producerId }) => router(roomId).producerOf(peerId, producerId).resume(),
  'producer.close': ({ roomId, peerId, producerId }) => router(roomId).producerOf(peerId, producerId).close(),
  'consumer.create': ({ roomId, peerId, ...input }) => {
    const r = router(roomId);
    return r.consumerParameters(r.consume(peerId, input));
  },
  'consumer.pause': ({ roomId, peerId, consumerId }) => router(roomId).consumerOf(peerId, consumerId).pause(),
  'consumer.resume': ({ roomId, peerId, consumerId }) => router(roomId).consumerOf(peerId, consumerId).resume(),
  'consumer.close': ({ roomId, peerId, consumerId }) => routers.get(roomId)?.closeConsumer(peerId, consumerId),
  'peer.close': ({ roomId, peerId }) => routers.get(roomId)?.closePeer(peerId),
  'tap.create': ({ roomId, producerId }) => {
    const tapId = randomUUID();
    const untap = router(roomId).tap(producerId, (packet) => {
      const bytes = packet.serialize();
      const copy = new Uint8Array(bytes.byteLength);
      copy.set(bytes);
      port!.postMessage({ type: 'rtp', tapId, packet: copy } as WorkerRtpOut, [copy.buffer]);
    });
    taps.set(tapId, untap);
    return { tapId };
  },
  'tap.close': ({ tapId }) => {
    taps.get(tapId)?.();
    taps.delete(tapId);
  },
  'directProducer.create': ({ roomId, peerId, kind, rtpParameters, appData }) => ({ id: router(roomId).createDirectProducer(peerId, { kind, rtpParameters, ...(appData ? { appData } : {}) }).id }),
  'directConsumer.create': ({ roomId, producerId, port, appData }) => {
    const r = routers.get(roomId);
    if (!r) {
      port.close();
      throw new ParleyError('NOT_FOUND', `room ${roomId} has no media on this worker`);
    }
    const d = r.createDirectConsumer(producerId, port, appData);
    return { id: d.id, producer: producerInfo(d.producer) };
  },
  'directConsumer.close': ({ roomId, directConsumerId }) => routers.get(roomId)?.directConsumers.get(directConsumerId)?.close('closed'),
  'worker.priority': ({ nice }) => {
    // pid 0 is the calling thread on Linux (nice is per thread there): only the media thread
    // changes, not the main thread's Socket.IO or the other workers. Below 0 needs CAP_SYS_NICE.
    try {
      setPriority(0, nice);
    } catch (err) {
      throw new ParleyError('FORBIDDEN', `the media thread's priority could not be set to nice ${nice}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return { nice: getPriority(0) };
  },
  'worker.dump': () => {
    let transports = 0;
    let producers = 0;
    let consumers = 0;
    for (const r of routers.values()) {
      transports += r.transports.size;
      producers += r.producers.size;
      consumers += r.consumers.size;
    }
    return { rooms: [...routers.keys()], transports, producers, consumers };
  },
};

port.on('message', (msg: WorkerRequest | WorkerRtpIn) => {
  if (msg.type === 'rtp-in') {
    try {
      routers.get(msg.roomId)?.sendDirect(msg.producerId, Buffer.from(msg.packet.buffer, msg.packet.byteOffset, msg.packet.byteLength));
    } catch {
      /* a packet for a producer that just closed */
    }
    return;
  }
  const handler = handlers[msg.method] as (p: unknown) => unknown;
  Promise.resolve()
    .then(() => handler(msg.params))
    .then(
      (result) => port.postMessage({ type: 'reply', id: msg.id, ok: true, result } as WorkerReply),
      (err: unknown) => {
        const e = err instanceof ParleyError ? err : new ParleyError('INTERNAL', err instanceof Error ? err.message : String(err));
        port.postMessage({ type: 'reply', id: msg.id, ok: false, error: { code: e.code, message: e.message } } as WorkerReply);
      },
    );
});
