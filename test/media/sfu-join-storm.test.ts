/**
 * A join storm (issue 14): one publisher streams Opus-sized RTP at 50 packets/s to 50 werift
 * subscribers; then 150 more subscribers join at once. The 50 must lose < 1 % of what the
 * publisher sent during the storm, the publisher must stay connected, every joiner must end up
 * receiving without being set up a second time (joiners wait rather than fail), and the room
 * must still be there.
 *
 * Parley runs as its own process (bench/sfu/server.ts: src/main.ts plus a stats hook), as in
 * production; the subscribers are the benchmark's (bench/sfu/subscriberHost.ts, werift clients
 * speaking seed 000's mediasoup protocol), in two child processes so that the storm's
 * client-side DTLS work neither delays the measurement of the 50 nor the publisher (here).
 * Bounded: 200 subscribers, the describe's timeout.
 */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RtpHeader, RtpPacket } from 'werift';
import { Child } from '../../bench/lib/child.js';
import { monoMs, PACKET_INTERVAL_MS, TICKS_PER_PACKET, type FromHost, type FromServer, type ToHost, type ToServer } from '../../bench/sfu/protocol.js';
import { openPublisher, type Publisher } from '../../bench/sfu/weriftClient.js';
import { assertLoopbackOnlyNetwork } from '../support/browser.js';

const STEADY = 50;
const STORM = 150;
/** The window measured on the 50: from the storm's start, this many packets (30 s). */
const WINDOW_PACKETS = 1500;
const here = dirname(fileURLToPath(import.meta.url));
const hostScript = join(here, '../../bench/sfu/subscriberHost.ts');
const serverScript = join(here, '../../bench/sfu/server.ts');

type Host = Child<ToHost, FromHost>;

interface RouterStats {
  transports: Array<{ connected: boolean }>;
  consumers: Array<{ packetsSent: number }>;
}

describe('join storm: 150 subscribers at once beside 50 listening', { timeout: 300_000 }, () => {
  let server: Child<ToServer, FromServer>;
  let url = '';
  let publisher: Publisher | undefined;
  const hosts: Host[] = [];
  let timer: NodeJS.Timeout | undefined;

  before(async () => {
    assertLoopbackOnlyNetwork();
    // PARLEY_STORM_PROF=<dir>: CPU profiles of the server's threads (the media worker's included).
    const prof = process.env.PARLEY_STORM_PROF;
    server = new Child<ToServer, FromServer>('parley', serverScript, [], {
      execArgv: [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), '--import', 'tsx'],
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'warn',
        SQLITE_PATH: ':memory:',
        JWT_SECRET: 'join-storm-test-secret-0123456789abcdef',
        ALLOWED_ORIGINS: '*',
        STT_ENGINE: 'none',
        MEDIA_LISTEN_IP: '127.0.0.1',
        MEDIA_WORKERS: '1',
        // 200 clients from one loopback address: lift the per-address limits meant for the Internet.
        MEDIA_MAX_TRANSPORTS_PER_ADDRESS: '1000',
        MEDIA_MAX_ROOMS_PER_ADDRESS: '1000',
        SOCKET_EVENTS_PER_SECOND: '100000',
        RATE_LIMIT_MAX: '100000',
      },
    });
    url = (await server.next('ready', 60_000)).url;
    for (const label of ['steady', 'storm']) hosts.push(new Child<ToHost, FromHost>(`subscriber host (${label})`, hostScript, ['25'], { execArgv: ['--import', 'tsx'] }));
    await Promise.all(hosts.map((h) => h.next('ready', 30_000)));
  });
  after(async () => {
    clearTimeout(timer);
    await publisher?.close().catch(() => undefined);
    await Promise.all(hosts.map((h) => h.stop(8000, { type: 'close' })));
    await server?.stop(10_000, { type: 'close' });
  });

  test('the 50 lose < 1 %, the publisher stays connected, every joiner receives', async (t) => {
    const roomId = 'storm-room';
    publisher = await openPublisher(url, roomId);
    const pub = publisher;
    const publisherEvents: string[] = [];
    const payload = Buffer.alloc(80, 0x5a);
    payload[0] = 0x78;
    // Packet k leaves at t0 + k·20 ms (self-correcting), RTP timestamp k·960.
    const sendMs: number[] = [];
    const t0 = monoMs();
    pub.onState((what) => publisherEvents.push(`+${((monoMs() - t0) / 1000).toFixed(1)} s: ${what}`));
    let k = 0;
    // Waiters for "packet n has been sent", resolved by the sending clock (no polling).
    const sentWaiters: Array<{ n: number; resolve: () => void }> = [];
    const sent = (n: number): Promise<void> => (k >= n ? Promise.resolve() : new Promise((resolve) => sentWaiters.push({ n, resolve })));
    const tick = (): void => {
      while (t0 + k * PACKET_INTERVAL_MS <= monoMs()) {
        const header = new RtpHeader({ payloadType: 100, sequenceNumber: k & 0xffff, timestamp: (k * TICKS_PER_PACKET) >>> 0, ssrc: pub.ssrc, marker: k === 0 });
        sendMs[k] = monoMs();
        pub.send(new RtpPacket(header, payload)).catch(() => undefined);
        k++;
      }
      for (let i = sentWaiters.length - 1; i >= 0; i--) {
        const w = sentWaiters[i]!;
        if (k >= w.n) {
          sentWaiters.splice(i, 1);
          w.resolve();
        }
      }
      timer = setTimeout(tick, Math.max(0, t0 + k * PACKET_INTERVAL_MS - monoMs()));
    };
    tick();

    const [steady, storm] = hosts as [Host, Host];
    steady.send({ type: 'add-webrtc', count: STEADY, url: url, roomId, producerId: pub.producerId, concurrency: 4 });
    const steadyAdded = await steady.next('added-webrtc', 120_000);
    assert.equal(steadyAdded.total, STEADY, `the 50 could join: ${JSON.stringify(steadyAdded)}`);
    const steadySeen = await waitAllSeen(steady, STEADY, 20_000);
    assert.equal(steadySeen, STEADY, `before the storm, all ${STEADY} listening subscribers must receive; ${steadySeen} did`);

    // The storm: all 150 in flight at once. The 50's window starts with it.
    const kStart = k + 10;
    steady.send({ type: 'record', mode: 'webrtc', ts0: (kStart * TICKS_PER_PACKET) >>> 0, packets: WINDOW_PACKETS });
    await steady.next('recording', 5000);
    await sent(kStart);
    const stormStarted = monoMs();
    t.diagnostic(`storm starts at +${((stormStarted - t0) / 1000).toFixed(1)} s`);
    storm.send({ type: 'add-webrtc', count: STORM, url: url, roomId, producerId: pub.producerId, concurrency: STORM });
    const stormAdded = await storm.next('added-webrtc', 240_000);
    const joinSeconds = (monoMs() - stormStarted) / 1000;
    const stormSeen = await waitAllSeen(storm, stormAdded.total, 20_000);

    // Close the window once its last packet had time to arrive.
    await sent(kStart + WINDOW_PACKETS + 50);
    steady.send({ type: 'report', sendMs: sendMs.slice(kStart, kStart + WINDOW_PACKETS) });
    const report = await steady.next('report', 10_000);
    const lossPct = report.received.map((n) => (100 * (WINDOW_PACKETS - n)) / WINDOW_PACKETS);
    const worst = Math.max(...lossPct);
    const lat = [...report.latenciesUs].sort((a, b) => a - b);
    const p99 = (lat[Math.floor(lat.length * 0.99)] ?? 0) / 1000;
    server.send({ type: 'router-stats', seq: 1, roomId });
    const reply = await server.next('router-stats', 10_000);
    const stats = (reply.stats ?? { transports: [], consumers: [] }) as RouterStats;
    t.diagnostic(
      `storm: ${stormAdded.total}/${STORM} joined in ${joinSeconds.toFixed(1)} s (${(stormAdded.total / joinSeconds).toFixed(1)} joins/s, ${stormAdded.retries} set up again, ${stormAdded.failed} failed), ${stormSeen} receiving; ` +
        `the 50: worst loss ${worst.toFixed(2)} %, latency p99 ${p99.toFixed(1)} ms (their host's event-loop delay p99 ${report.loopDelayP99Ms.toFixed(0)} ms); router: ${stats.consumers.length} consumers, ${stats.transports.filter((x) => x.connected).length} transports connected`,
    );
    if (stormAdded.errors.length > 0) t.diagnostic(`joiners' setup errors (first ${stormAdded.errors.length}): ${stormAdded.errors.join(' | ')}`);
    if (publisherEvents.length > 0) t.diagnostic(`publisher: ${publisherEvents.join(' | ')}`);

    const stormAt = `storm started at +${((stormStarted - t0) / 1000).toFixed(1)} s`;
    assert.ok(
      worst < 1,
      `each of the 50 must lose < 1 % of the ${WINDOW_PACKETS} packets sent from the storm's start; worst ${worst.toFixed(2)} % (per subscriber: ${lossPct.map((l) => l.toFixed(1)).join(' ')}). ` +
        `The media worker fell behind while the joiners' handshakes ran: see the storm line above for joins/s and the publisher's events.`,
    );
    assert.deepEqual(publisherEvents, [], `the publisher must stay connected through the storm (${stormAt}); its connection reported: ${publisherEvents.join(' | ')}`);
    assert.equal(stormAdded.failed, 0, `no joiner may give up (${stormAdded.failed} did): ${stormAdded.errors.join(' | ')}`);
    // Joiners wait for a handshake slot rather than fail: none needs a second setup.
    assert.equal(stormAdded.retries, 0, `no joiner may need setting up again (${stormAdded.retries} did): ${stormAdded.errors.join(' | ')}`);
    assert.equal(stormAdded.total, STORM, `all ${STORM} joiners must be set up; ${stormAdded.total} were`);
    assert.equal(stormSeen, STORM, `every joiner must receive media within 20 s of joining; ${stormSeen} of ${STORM} did`);
    assert.equal(stats.consumers.length, STEADY + STORM, `the room must hold every subscriber at the end; the router has ${stats.consumers.length} consumers of ${STEADY + STORM}`);
  });
});

async function waitAllSeen(host: Host, expected: number, timeoutMs: number): Promise<number> {
  const until = monoMs() + timeoutMs;
  let seen = 0;
  while (monoMs() < until) {
    host.send({ type: 'status' });
    seen = (await host.next('status', 5000)).seen;
    if (seen >= expected) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return seen;
}
