/**
 * Entry of a media worker thread: owns the Routers of the rooms placed on it and answers
 * the main thread's requests. RTP never leaves the thread except through taps.
 */
import { randomUUID } from 'node:crypto';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { ParleyError } from '../../errors.js';
import { PacedWriter } from '../../media/audio/pacedWriter.js';
import type { Producer } from '../producer.js';
import { Router } from '../router.js';
import type { MediaWorkerData, ProducerInfo, WorkerMethod, WorkerMethods, WorkerNotification, WorkerNotifications, WorkerReply, WorkerRequest, WorkerRtpIn, WorkerRtpOut, WorkerWriterIn } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('mediaWorkerMain must run in a worker thread');
const data = workerData as MediaWorkerData;
const routers = new Map<string, Router>();
const taps = new Map<string, () => void>();
/**
 * Paced writers by direct producer id (closed with their producer or room). `flag[0]` is the seq of the last clear
 * the main thread asked for; `applied` the last one done here; PCM older than a clear asked for is dropped.
 */
interface WriterEntry {
  writer: PacedWriter;
  roomId: string;
  seq: number;
  flag: Int32Array;
  applied: number;
  droppedMs: number;
}
const writers = new Map<string, WriterEntry>();

/** Does a clear the main thread asked for (from the shared flag) if not done yet; true when it did one now. */
function applyClear(w: WriterEntry, requested = 0): boolean {
  const asked = Math.max(requested, Atomics.load(w.flag, 0));
  if (asked <= w.applied) return false;
  w.applied = asked;
  w.seq = Math.max(w.seq, asked);
  w.droppedMs += w.writer.clearQueue();
  return true;
}
/** Unix ms with sub-millisecond precision, comparable across threads. */
const epochMs = (): number => performance.timeOrigin + performance.now();

function writerOf(roomId: string, producerId: string): WriterEntry {
  const w = writers.get(producerId);
  if (!w || w.roomId !== roomId) throw new ParleyError('NOT_FOUND', `no paced writer on producer ${producerId}`);
  return w;
}

function closeWriter(producerId: string): void {
  writers.get(producerId)?.writer.close();
  writers.delete(producerId);
}

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
  r.on('producer-close', (p, reason) => {
    closeWriter(p.id);
    notify(roomId, 'producer.closed', { producerId: p.id, peerId: p.appData.peerId, reason });
  });
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
  'writer.create': ({ roomId, producerId, ssrc, payloadType, clearFlag }) => {
    const r = router(roomId);
    const producer = r.producers.get(producerId);
    if (!producer || producer.transport) throw new ParleyError('NOT_FOUND', `no direct producer ${producerId}`);
    if (writers.has(producerId)) throw new ParleyError('CONFLICT', `producer ${producerId} already has a paced writer`);
    let entry: WriterEntry | undefined;
    const writer = new PacedWriter({
      ssrc,
      ...(payloadType !== undefined ? { payloadType } : {}),
      interrupted: () => entry !== undefined && applyClear(entry),
      sink: (packet) => {
        try {
          r.sendDirect(producerId, Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength));
        } catch {
          /* the producer closed under a due packet */
        }
      },
    });
    const e: WriterEntry = { writer, roomId, seq: 0, flag: new Int32Array(clearFlag), applied: 0, droppedMs: 0 };
    entry = e;
    writer.on('playout-start', () => notify(roomId, 'writer.playoutStart', { producerId, seq: e.seq, atMs: epochMs() }));
    writer.on('playout-end', ({ cleared, sentFrames }) => notify(roomId, 'writer.playoutEnd', { producerId, seq: e.seq, cleared, sentFrames, atMs: epochMs() }));
    writers.set(producerId, e);
  },
  'writer.clear': ({ roomId, producerId, seq }) => {
    const w = writerOf(roomId, producerId);
    // Done already at a packet's tick when the flag was seen first; what was dropped since is reported once.
    applyClear(w, seq);
    w.seq = Math.max(w.seq, seq);
    const droppedMs = Math.round(w.droppedMs);
    w.droppedMs = 0;
    const last = w.writer.lastSentAt;
    return { droppedMs, lastPacketAtMs: last === undefined ? null : performance.timeOrigin + last };
  },
  'writer.close': ({ roomId, producerId }) => {
    if (writers.get(producerId)?.roomId === roomId) closeWriter(producerId);
  },
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

port.on('message', (msg: WorkerRequest | WorkerRtpIn | WorkerWriterIn) => {
  if (msg.type === 'writer-pcm' || msg.type === 'writer-flush') {
    const w = writers.get(msg.producerId);
    if (!w || w.roomId !== msg.roomId) return; // the producer just closed
    // Pushed before a clear that was asked for since (barge-in): dropped, as if it had been queued.
    if (msg.seq < Atomics.load(w.flag, 0)) {
      if (msg.type === 'writer-pcm') w.droppedMs += (msg.samples.length / msg.sampleRate) * 1000;
      return;
    }
    applyClear(w);
    w.seq = Math.max(w.seq, msg.seq);
    if (msg.type === 'writer-pcm') w.writer.push(msg.samples, msg.sampleRate);
    else {
      w.writer.flush();
      // Nothing left to send (the queue had run dry, or nothing was pushed): the talkspurt is over now, and whoever
      // waits for its end must hear so, since no packet will end it.
      if (!w.writer.playing) notify(w.roomId, 'writer.playoutEnd', { producerId: msg.producerId, seq: w.seq, cleared: false, sentFrames: w.writer.sentFrames, atMs: epochMs() });
    }
    return;
  }
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
