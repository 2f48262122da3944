/**
 * A child process of the fan-out benchmark that hosts many subscribers: werift WebRTC
 * subscribers of Parley's voice room (bench/sfu/weriftClient.ts), or plain UDP receivers for
 * the baseline forwarder. For a measuring window it records, per subscriber, the arrival
 * time of each packet of the window (keyed by its RTP timestamp), then reports the receive
 * counts and one-way latencies once the publisher's send times are handed to it.
 *
 * argv: <verifyEvery>
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { RTCDtlsTransport, type RTCCertificate } from 'werift';
import { monoMs, TICKS_PER_PACKET, type FromHost, type ToHost } from './protocol.js';
import { JanusSession, openJanusSubscriber } from './janusClient.js';
import { openSubscriber, type Subscriber } from './weriftClient.js';

const verifyEvery = Math.max(1, Number(process.argv[2] ?? 25));

const send = (m: FromHost): void => {
  process.send?.(m);
};

interface Sink {
  /** Arrival times (monotonic ms) by packet index in the window; 0 = not received. */
  arrivals: Float64Array;
  /** A packet reached this subscriber since it was added. */
  seen: boolean;
  /** RTP packets that reached this subscriber since it was added. */
  total: number;
  /**
   * Ticks to add to an arriving RTP timestamp to get the publisher's (Parley keeps them: 0).
   * Janus rewrites each subscriber's timestamps to start near 0: the offset is learned from the
   * first packet werift decrypts, whose payload carries the publisher's packet index.
   * Undefined until learned; arrivals are then counted but not recorded.
   */
  offset: number | undefined;
}

interface Recording {
  ts0: number;
  packets: number;
  duplicates: number;
  verified: number;
  verifiable: number;
  cpu: NodeJS.CpuUsage;
  loop: IntervalHistogram;
}

const webrtc: Array<{ sink: Sink; sub: Subscriber }> = [];
const udp: Array<{ sink: Sink; socket: UdpSocket }> = [];
let recording: Recording | undefined;
let recordingMode: 'webrtc' | 'udp' = 'webrtc';
let certificate: Promise<RTCCertificate> | undefined;

function arrival(sink: Sink, rawTimestamp: number): void {
  sink.seen = true;
  sink.total++;
  const r = recording;
  if (!r || sink.offset === undefined) return;
  const timestamp = (rawTimestamp + sink.offset) >>> 0;
  const k = ((timestamp - r.ts0) >>> 0) / TICKS_PER_PACKET;
  if (k >= r.packets || !Number.isInteger(k)) return;
  if (sink.arrivals[k] !== 0) {
    r.duplicates++;
    return;
  }
  sink.arrivals[k] = monoMs();
}

async function addWebrtc(m: Extract<ToHost, { type: 'add-webrtc' }>): Promise<void> {
  const started = monoMs();
  certificate ??= RTCDtlsTransport.SetupCertificate();
  const cert = await certificate;
  const errors: string[] = [];
  let failed = 0;
  let retries = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < m.count) {
      next++;
      const sink: Sink = { arrivals: new Float64Array(0), seen: false, total: 0, offset: 0 };
      const userId = `sub-${process.pid}-${webrtc.length + next}`;
      // werift's DTLS client gives up when a ClientHello retransmission makes the server answer
      // with a second HelloVerifyRequest (it happens when the server is slow to answer, e.g. in a
      // burst of joins); browsers tolerate that. Such a subscriber is set up again (counted).
      for (let attempt = 1; attempt <= 3; attempt++) {
        try {
          const sub = await openSubscriber({
            url: m.url,
            roomId: m.roomId,
            producerId: m.producerId,
            userId: `${userId}-${attempt}`,
            certificate: cert,
            verifyEvery,
            onArrival: (_seq, ts) => arrival(sink, ts),
            onVerified: (p) => {
              const r = recording;
              if (!r) return;
              const k = ((p.header.timestamp - r.ts0) >>> 0) / TICKS_PER_PACKET;
              if (k < r.packets && Number.isInteger(k)) r.verified++;
            },
          });
          webrtc.push({ sink, sub });
          break;
        } catch (err) {
          if (errors.length < 5) errors.push(err instanceof Error ? err.message : String(err));
          if (attempt === 3) failed++;
          else retries++;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, m.concurrency) }, worker));
  send({ type: 'added-webrtc', total: webrtc.length, failed, retries, errors, setupMs: monoMs() - started });
}

let janusSession: JanusSession | undefined;

/** The same subscribers as addWebrtc, of a Janus VideoRoom feed (one Janus session per host, one handle each). */
async function addJanus(m: Extract<ToHost, { type: 'add-janus' }>): Promise<void> {
  const started = monoMs();
  certificate ??= RTCDtlsTransport.SetupCertificate();
  const cert = await certificate;
  janusSession ??= await JanusSession.create(m.url);
  const session = janusSession;
  const errors: string[] = [];
  let failed = 0;
  let retries = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < m.count) {
      next++;
      const sink: Sink = { arrivals: new Float64Array(0), seen: false, total: 0, offset: undefined };
      for (let attempt = 1; attempt <= 3; attempt++) {
        try {
          const sub = await openJanusSubscriber({
            session,
            room: m.room,
            feed: m.feed,
            certificate: cert,
            onArrival: (_seq, ts) => arrival(sink, ts),
            // Until the offset is known every packet is decrypted; then 1 in verifyEvery, as for Parley.
            verify: (ts) => sink.offset === undefined || verifyEvery === 1 || (((ts + sink.offset) >>> 0) / TICKS_PER_PACKET) % verifyEvery === 0,
            onVerified: (p) => {
              if (sink.offset === undefined) {
                if (p.payload.length < 5) return;
                sink.offset = (p.payload.readUInt32BE(1) * TICKS_PER_PACKET - p.header.timestamp) >>> 0;
              }
              const r = recording;
              if (!r) return;
              const k = ((((p.header.timestamp + sink.offset) >>> 0) - r.ts0) >>> 0) / TICKS_PER_PACKET;
              if (k < r.packets && Number.isInteger(k)) r.verified++;
            },
          });
          webrtc.push({ sink, sub: { consumerId: '', close: () => sub.close() } });
          break;
        } catch (err) {
          if (errors.length < 5) errors.push(err instanceof Error ? err.message : String(err));
          if (attempt === 3) failed++;
          else retries++;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, m.concurrency) }, worker));
  send({ type: 'added-webrtc', total: webrtc.length, failed, retries, errors, setupMs: monoMs() - started });
}

async function addUdp(count: number): Promise<void> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const socket = createSocket('udp4');
    const sink: Sink = { arrivals: new Float64Array(0), seen: false, total: 0, offset: 0 };
    socket.on('message', (msg) => {
      if (msg.length >= 12) arrival(sink, msg.readUInt32BE(4));
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    ports.push(socket.address().port);
    udp.push({ sink, socket });
  }
  send({ type: 'added-udp', ports });
}

function sinks(): Sink[] {
  return recordingMode === 'webrtc' ? webrtc.map((w) => w.sink) : udp.map((u) => u.sink);
}

function report(sendMs: number[]): void {
  const r = recording;
  recording = undefined;
  if (!r) {
    send({ type: 'error', message: 'report without record' });
    return;
  }
  const cpu = process.cpuUsage(r.cpu);
  r.loop.disable();
  const received: number[] = [];
  const latenciesUs: number[] = [];
  let silent = 0;
  let verifiable = 0;
  for (const sink of sinks()) {
    let n = 0;
    for (let k = 0; k < r.packets; k++) {
      const at = sink.arrivals[k]!;
      if (at === 0) continue;
      n++;
      if (verifyEvery > 1 && ((r.ts0 / TICKS_PER_PACKET + k) % verifyEvery) === 0) verifiable++;
      const sent = sendMs[k];
      if (sent !== undefined && sent > 0) latenciesUs.push(Math.round((at - sent) * 1000));
    }
    if (!sink.seen) silent++;
    received.push(n);
  }
  if (verifyEvery === 1) verifiable = received.reduce((a, b) => a + b, 0);
  send({
    type: 'report',
    received,
    duplicates: r.duplicates,
    latenciesUs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    rssBytes: process.memoryUsage().rss,
    silent,
    verified: r.verified,
    verifiable: recordingMode === 'webrtc' ? verifiable : 0,
    loopDelayP99Ms: r.loop.percentile(99) / 1e6,
    loopDelayMaxMs: r.loop.max / 1e6,
  });
}

process.on('message', (m: ToHost) => {
  switch (m.type) {
    case 'add-webrtc':
      recordingMode = 'webrtc';
      addWebrtc(m).catch((err: unknown) => send({ type: 'error', message: String(err) }));
      break;
    case 'add-janus':
      recordingMode = 'webrtc';
      addJanus(m).catch((err: unknown) => send({ type: 'error', message: String(err) }));
      break;
    case 'add-udp':
      recordingMode = 'udp';
      addUdp(m.count).catch((err: unknown) => send({ type: 'error', message: String(err) }));
      break;
    case 'close-udp':
      for (const u of udp.splice(0)) u.socket.close();
      break;
    case 'record':
      recordingMode = m.mode;
      for (const s of sinks()) s.arrivals = new Float64Array(m.packets);
      recording?.loop.disable();
      recording = { ts0: m.ts0 >>> 0, packets: m.packets, duplicates: 0, verified: 0, verifiable: 0, cpu: process.cpuUsage(), loop: monitorEventLoopDelay({ resolution: 10 }) };
      recording.loop.enable();
      send({ type: 'recording' });
      break;
    case 'report':
      report(m.sendMs);
      break;
    case 'status':
      send({ type: 'status', webrtc: webrtc.length, udp: udp.length, seen: sinks().filter((x) => x.seen).length, arrivals: sinks().reduce((a, x) => a + x.total, 0) });
      break;
    case 'close':
      void Promise.allSettled(webrtc.map((w) => w.sub.close()))
        .then(() => janusSession?.destroy())
        .finally(() => {
        for (const u of udp) u.socket.close();
        process.exit(0);
      });
      setTimeout(() => process.exit(0), 5000).unref();
      break;
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', pid: process.pid });
