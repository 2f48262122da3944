/**
 * Child process that plays `2 × pairs` seed-002 clients against the server under test.
 * Phases are driven by the orchestrator over IPC so that several client processes move
 * together: connect → join (one video room per pair) → negotiate (offer/answer) → stream
 * (ICE candidates at a fixed rate, warm-up then measured window, then drain) → close.
 *
 * Both clients of a pair live in this process, so the send timestamp carried in the
 * candidate (`candidate.bench.t`, performance.now()) and the receive time come from the
 * same clock.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import { LOOP_RESOLUTION_MS, loopDelay } from './loopDelay.js';
import type { ClientJob, ClientResult, FromClient, ToClient } from './protocol.js';

/** A server-reflexive candidate line as Chrome writes it (~150 bytes): realistic size on the wire. */
const CANDIDATE =
  'candidate:842163049 1 udp 1677729535 203.0.113.7 49203 typ srflx raddr 10.0.0.12 rport 49203 generation 0 ufrag EsAw network-id 1 network-cost 10';

/** A plausible audio+video offer/answer body (~2.3 KB), only its size matters. */
function fakeSdp(type: 'offer' | 'answer'): string {
  const lines = [
    'v=0',
    `o=- 4611731400430051336 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=group:BUNDLE 0 1',
    'a=extmap-allow-mixed',
    'a=msid-semantic: WMS bench',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    'a=ice-ufrag:EsAw',
    'a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1',
    'a=ice-options:trickle',
    'a=fingerprint:sha-256 2C:3F:F5:1B:C4:7E:A1:05:9D:0F:DA:2E:88:13:3A:C2:51:B3:8C:96:1D:3F:6C:22:E1:99:47:50:41:A8:64:0B',
    `a=setup:${type === 'offer' ? 'actpass' : 'active'}`,
    'a=mid:0',
    'a=sendrecv',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=rtcp-fb:111 transport-cc',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 105 106 107 108 109 127 125 39 40 45 46 98 99 100 101',
    'c=IN IP4 0.0.0.0',
    'a=mid:1',
    'a=sendrecv',
    'a=rtcp-mux',
    'a=rtcp-rsize',
  ];
  for (let pt = 96; pt < 128; pt++) lines.push(`a=rtpmap:${pt} VP8/90000`, `a=rtcp-fb:${pt} goog-remb`, `a=rtcp-fb:${pt} nack pli`);
  return lines.join('\r\n') + '\r\n';
}

interface BenchStamp {
  /** Sequence number per sender. */
  s: number;
  /** Send time, performance.now() of this process. */
  t: number;
  /** 1 when sent inside the measured window. */
  w: 0 | 1;
}

interface Peer {
  socket: Socket;
  /** Partner's socket id as learned through the protocol (room-state / user-joined). */
  partner: string;
  nextSeq: number;
  nextDue: number;
  /** seen[s] = 1 once sequence s from the partner arrived (duplicate detection). */
  seen: Uint8Array;
  expected: number;
}

const PHASE_TIMEOUT_MS = 30_000;
const EVENT_TIMEOUT_MS = 10_000;
const TICK_MS = 2;
/** At most this many overdue messages are sent per client per tick; further backlog is skipped (and shows as send lag). */
const MAX_BURST = 4;

const send = (m: FromClient): void => {
  process.send?.(m);
};

function waitFor<T>(socket: Socket, event: string, timeoutMs = EVENT_TIMEOUT_MS): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler);
      reject(new Error(`no "${event}" within ${timeoutMs} ms on ${socket.id ?? '(unconnected)'}`));
    }, timeoutMs);
    const handler = (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    };
    socket.once(event, handler);
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]);
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class ClientSwarm {
  private readonly peers: Peer[] = [];
  /** Every socket ever opened, connected or not, so that close() reaches all of them. */
  private readonly sockets: Socket[] = [];
  private closing = false;
  private readonly seqCapacity: number;

  // Counters of the stream phase.
  private streaming = false;
  private windowStart = Infinity;
  private windowEnd = Infinity;
  private sentTotal = 0;
  private sentWindow = 0;
  private receivedTotal = 0;
  private receivedWindow = 0;
  private arrivedDuringWindow = 0;
  private duplicates = 0;
  private outOfOrder = 0;
  private misrouted = 0;
  private disconnects = 0;
  private readonly serverErrors: Record<string, number> = {};
  private readonly latency: Float64Array;
  private samples = 0;

  constructor(private readonly job: ClientJob) {
    const perClient = Math.ceil((job.rate * (job.warmupMs + job.durationMs)) / 1000);
    this.seqCapacity = perClient + 64;
    // Every window message of every client fits; 20 % slack for catch-up bursts.
    this.latency = new Float64Array(Math.ceil(job.pairs * 2 * ((job.rate * job.durationMs) / 1000) * 1.2) + 1024);
  }

  async connect(): Promise<void> {
    const { job } = this;
    const slots = Array.from({ length: job.pairs * 2 }, (_, i) => i);
    const sockets: Socket[] = new Array(slots.length);
    await pool(slots, job.connectConcurrency, async (i) => {
      const socket = io(job.url, {
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        timeout: EVENT_TIMEOUT_MS,
        auth: { userId: `bench-${job.runId}-${job.firstPair * 2 + i}` },
      });
      sockets[i] = socket;
      this.sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', (err) => reject(new Error(`client ${i} could not connect: ${err.message}`)));
      });
    });
    for (const socket of sockets) {
      const peer: Peer = { socket, partner: '', nextSeq: 0, nextDue: 0, seen: new Uint8Array(this.seqCapacity), expected: 0 };
      this.peers.push(peer);
      socket.on('video:ice-candidate', (msg: { from: string; candidate: { bench?: BenchStamp } | null }) => this.onCandidate(peer, msg));
      socket.on('error', (e: { code?: string }) => {
        const code = typeof e?.code === 'string' ? e.code : 'UNKNOWN';
        this.serverErrors[code] = (this.serverErrors[code] ?? 0) + 1;
      });
      socket.on('disconnect', () => {
        if (!this.closing) this.disconnects++;
      });
    }
  }

  async join(): Promise<void> {
    const { job } = this;
    const pairs = Array.from({ length: job.pairs }, (_, p) => p);
    await pool(pairs, 50, async (p) => {
      const a = this.peers[2 * p]!;
      const b = this.peers[2 * p + 1]!;
      const roomId = `bench-${job.runId}-${job.firstPair + p}`;
      const stateA = waitFor<{ participants: Array<{ socketId: string }> }>(a.socket, 'video:room-state');
      a.socket.emit('video:join-room', { studyId: `bench-study-${job.runId}`, roomId });
      await stateA;
      const aSeesB = waitFor<{ socketId: string }>(a.socket, 'video:user-joined');
      const stateB = waitFor<{ participants: Array<{ socketId: string }> }>(b.socket, 'video:room-state');
      b.socket.emit('video:join-room', { studyId: `bench-study-${job.runId}`, roomId });
      const [joined, state] = await Promise.all([aSeesB, stateB]);
      a.partner = joined.socketId;
      b.partner = state.participants[0]?.socketId ?? '';
      if (a.partner !== b.socket.id || b.partner !== a.socket.id) {
        throw new Error(`room ${roomId}: partners learned through the protocol do not match the sockets`);
      }
    });
  }

  /** b offers to a, a answers: the seed-002 handshake. Returns offer→answer round trips (two relays), ms. */
  async negotiate(): Promise<Float64Array> {
    const offer = { type: 'offer' as const, sdp: fakeSdp('offer') };
    const answer = { type: 'answer' as const, sdp: fakeSdp('answer') };
    const rtt = new Float64Array(this.job.pairs);
    await Promise.all(
      Array.from({ length: this.job.pairs }, async (_, p) => {
        const a = this.peers[2 * p]!;
        const b = this.peers[2 * p + 1]!;
        const gotOffer = waitFor<{ from: string; offer: unknown }>(a.socket, 'video:offer').then((m) => {
          if (m.from !== a.partner) throw new Error('offer from an unexpected socket');
          a.socket.emit('video:answer', { to: m.from, answer });
        });
        const gotAnswer = waitFor<{ from: string; answer: unknown }>(b.socket, 'video:answer');
        const t = performance.now();
        b.socket.emit('video:offer', { to: b.partner, offer });
        const [, m] = await Promise.all([gotOffer, gotAnswer]);
        rtt[p] = performance.now() - t;
        if (m.from !== b.partner) throw new Error('answer from an unexpected socket');
      }),
    );
    return rtt;
  }

  private onCandidate(peer: Peer, msg: { from: string; candidate: { bench?: BenchStamp } | null }): void {
    const now = performance.now();
    const stamp = msg?.candidate?.bench;
    if (!stamp || msg.from !== peer.partner || !this.streaming) {
      this.misrouted++;
      return;
    }
    if (stamp.s < peer.seen.length) {
      if (peer.seen[stamp.s] === 1) {
        this.duplicates++;
        return;
      }
      peer.seen[stamp.s] = 1;
    }
    if (stamp.s !== peer.expected) this.outOfOrder++;
    peer.expected = stamp.s + 1;
    this.receivedTotal++;
    if (now >= this.windowStart && now < this.windowEnd) this.arrivedDuringWindow++;
    if (stamp.w === 1) {
      this.receivedWindow++;
      if (this.samples < this.latency.length) this.latency[this.samples++] = now - stamp.t;
    }
  }

  async stream(): Promise<ClientResult> {
    const { job, peers } = this;
    const interval = 1000 / job.rate;
    const start = performance.now();
    this.windowStart = start + job.warmupMs;
    this.windowEnd = this.windowStart + job.durationMs;
    // Spread the clients evenly over one interval so the load is steady, not in bursts.
    peers.forEach((peer, i) => (peer.nextDue = start + (i / peers.length) * interval));
    this.streaming = true;

    const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    let cpuAtWindow: NodeJS.CpuUsage | undefined;
    let cpuMs = 0;
    let maxSendLagMs = 0;

    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const now = performance.now();
        if (cpuAtWindow === undefined && now >= this.windowStart) {
          cpuAtWindow = process.cpuUsage();
          loop.enable();
        }
        if (now >= this.windowEnd) {
          if (cpuAtWindow) {
            const cpu = process.cpuUsage(cpuAtWindow);
            cpuMs = (cpu.user + cpu.system) / 1000;
          }
          loop.disable();
          resolve();
          return;
        }
        for (const peer of peers) {
          if (peer.nextDue > now) continue;
          if (now >= this.windowStart) maxSendLagMs = Math.max(maxSendLagMs, now - peer.nextDue);
          let burst = 0;
          while (peer.nextDue <= now && burst < MAX_BURST) {
            this.sendCandidate(peer);
            peer.nextDue += interval;
            burst++;
          }
          if (peer.nextDue <= now) peer.nextDue = now + interval; // too far behind: skip the backlog
        }
        setTimeout(tick, TICK_MS);
      };
      tick();
    });

    // Drain: wait for everything sent to arrive (or give up after drainMs; the rest counts as lost).
    const drainStart = performance.now();
    while (this.receivedTotal < this.sentTotal && performance.now() - drainStart < job.drainMs) await sleep(20);
    const drainMs = performance.now() - drainStart;
    this.streaming = false;

    return {
      clients: peers.length,
      sentTotal: this.sentTotal,
      receivedTotal: this.receivedTotal,
      sentWindow: this.sentWindow,
      receivedWindow: this.receivedWindow,
      arrivedDuringWindow: this.arrivedDuringWindow,
      windowMs: job.durationMs,
      latencyMs: this.latency.slice(0, this.samples),
      duplicates: this.duplicates,
      outOfOrder: this.outOfOrder,
      misrouted: this.misrouted,
      serverErrors: this.serverErrors,
      disconnects: this.disconnects,
      drainMs,
      cpuMs,
      loopDelayP99Ms: loopDelay(loop, 99),
      maxSendLagMs,
    };
  }

  private sendCandidate(peer: Peer): void {
    const t = performance.now();
    const w: 0 | 1 = t >= this.windowStart && t < this.windowEnd ? 1 : 0;
    const stamp: BenchStamp = { s: peer.nextSeq++, t, w };
    peer.socket.emit('video:ice-candidate', {
      to: peer.partner,
      candidate: { candidate: CANDIDATE, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'EsAw', bench: stamp },
    });
    this.sentTotal++;
    if (w === 1) this.sentWindow++;
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const socket of this.sockets) socket.disconnect();
    // Give the close frames a moment to leave.
    await sleep(100);
  }
}

let swarm: ClientSwarm | undefined;

async function handle(m: ToClient): Promise<void> {
  const t = performance.now();
  switch (m.type) {
    case 'connect':
      swarm = new ClientSwarm(m.job);
      await withTimeout(swarm.connect(), PHASE_TIMEOUT_MS, 'connect');
      send({ type: 'connected', ms: performance.now() - t });
      return;
    case 'join':
      await withTimeout(swarm!.join(), PHASE_TIMEOUT_MS, 'join');
      send({ type: 'joined', ms: performance.now() - t });
      return;
    case 'negotiate': {
      const handshakeMs = await withTimeout(swarm!.negotiate(), PHASE_TIMEOUT_MS, 'negotiate');
      send({ type: 'negotiated', ms: performance.now() - t, handshakeMs });
      return;
    }
    case 'stream': {
      const result = await swarm!.stream();
      send({ type: 'result', result });
      return;
    }
    case 'close':
      await swarm?.close();
      send({ type: 'closed' });
      process.disconnect?.();
      setTimeout(() => process.exit(0), 200).unref();
      return;
  }
}

process.on('message', (raw) => {
  handle(raw as ToClient).catch((err: unknown) => {
    send({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
    void swarm?.close().finally(() => process.exit(1));
  });
});
process.on('disconnect', () => {
  void (swarm?.close() ?? Promise.resolve()).finally(() => process.exit(0));
});
