/**
 * A Router's own rules, in process with real WebRtcTransports (UDP on 127.0.0.1 only):
 * per-peer limits on transports and producers, the connect deadline of a transport that never
 * completes ICE/DTLS (fake clock), and consumers that leave their transport as they found it.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, mock, test } from 'node:test';
import { ParleyError } from '../src/errors.js';
import { Router } from '../src/sfu/router.js';
import { routerRtpCapabilities } from '../src/sfu/routerCapabilities.js';
import type { RtpParameters } from '../src/sfu/rtpTypes.js';
import type { TransportCloseReason } from '../src/sfu/webRtcTransport.js';

const opus = (ssrc: number): RtpParameters => ({
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
  encodings: [{ ssrc }],
});

const isExhausted = (re: RegExp) => (e: unknown) => e instanceof ParleyError && e.code === 'RESOURCE_EXHAUSTED' && re.test(e.message);

const routers: Router[] = [];
function newRouter(limits?: { transportsPerPeer: number; producersPerPeer: number; transportConnectTimeoutMs: number }): Router {
  const r = new Router(`r${routers.length}`, { transport: { listenIp: '127.0.0.1' }, ...(limits ? { limits } : {}) });
  routers.push(r);
  return r;
}

afterEach(() => {
  mock.timers.reset();
  for (const r of routers.splice(0)) r.close();
});

describe('router limits per peer', { timeout: 30_000 }, () => {
  test('one peer gets at most 4 transports, even when it asks for 30 at once; others are not affected', async () => {
    const router = newRouter();
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => router.createWebRtcTransport('flooder')));
    const ok = results.filter((r) => r.status === 'fulfilled');
    assert.equal(ok.length, 4);
    for (const r of results) if (r.status === 'rejected') assert.ok(isExhausted(/at most 4 transports/)(r.reason), String(r.reason));
    assert.equal(router.transports.size, 4);
    await router.createWebRtcTransport('someone-else');
    // Closing one gives the slot back.
    const [first] = [...router.transports.values()].filter((t) => t.appData.peerId === 'flooder');
    first!.close();
    await router.createWebRtcTransport('flooder');
    await assert.rejects(router.createWebRtcTransport('flooder'), isExhausted(/at most 4 transports/));
  });

  test('one peer gets at most 3 producers (microphone, camera, screen)', async () => {
    const router = newRouter();
    const { id: transportId } = await router.createWebRtcTransport('p');
    for (let i = 0; i < 3; i++) router.produce('p', { transportId, kind: 'audio', rtpParameters: opus(1000 + i) });
    assert.throws(() => router.produce('p', { transportId, kind: 'audio', rtpParameters: opus(2000) }), isExhausted(/at most 3 producers/));
    assert.equal(router.producers.size, 3);
    // Server-side producers (the AI agent, a bot) do not count against a peer.
    router.createDirectProducer('p', { kind: 'audio', rtpParameters: opus(3000) });
    assert.equal(router.producers.size, 4);
  });
});

describe('transport connect deadline (fake clock)', { timeout: 30_000 }, () => {
  const limits = { transportsPerPeer: 4, producersPerPeer: 3, transportConnectTimeoutMs: 10_000 };

  test('a transport that never connects is closed after the timeout with reason connect-timeout', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    const router = newRouter(limits);
    const closed: Array<[string, TransportCloseReason]> = [];
    router.on('transport-close', (t, reason) => closed.push([t.id, reason]));
    const { id } = await router.createWebRtcTransport('idle');
    mock.timers.tick(9_999);
    assert.deepEqual(closed, [], 'still open just before the deadline');
    mock.timers.tick(1);
    assert.deepEqual(closed, [[id, 'connect-timeout']]);
    assert.equal(router.transports.size, 0);
  });

  test('connect-transport starts a fresh deadline for ICE and DTLS to complete', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    const router = newRouter(limits);
    const closed: TransportCloseReason[] = [];
    router.on('transport-close', (_t, reason) => closed.push(reason));
    const { id } = await router.createWebRtcTransport('slow');
    mock.timers.tick(6_000);
    router.connectTransport('slow', id, { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AA:'.repeat(31) + 'AA' }] });
    mock.timers.tick(9_999);
    assert.deepEqual(closed, [], 'the deadline restarted at connect-transport');
    mock.timers.tick(1);
    assert.deepEqual(closed, ['connect-timeout']);
  });

  test("a peer's transport not yet asked to connect is kept while another of its transports is connected", async () => {
    mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    const router = newRouter(limits);
    const closed: Array<[string, TransportCloseReason]> = [];
    router.on('transport-close', (t, reason) => closed.push([String(t.appData.peerId), reason]));
    const send = await router.createWebRtcTransport('listener');
    await router.createWebRtcTransport('listener'); // mediasoup-client's receive transport: connected only at the first consume
    await router.createWebRtcTransport('stranger'); // nothing of this peer ever connects
    // Stand-in for a completed ICE/DTLS handshake on the send transport.
    Object.defineProperty(router.transports.get(send.id)!, 'isConnected', { get: () => true });
    mock.timers.tick(35_000);
    assert.deepEqual(closed, [['stranger', 'connect-timeout']], 'only the transport of the peer with nothing connected expired');
    assert.deepEqual([...router.transports.values()].map((t) => t.appData.peerId), ['listener', 'listener']);
  });
});

describe('a UDP socket that cannot be bound', { timeout: 30_000 }, () => {
  test('fails that one request with a reason; the thread lives on (no uncaught bind error)', async () => {
    // 192.0.2.1 (TEST-NET-1) is not an address of this host: bind fails with EADDRNOTAVAIL.
    const router = new Router('unbindable', { transport: { listenIp: '192.0.2.1' } });
    routers.push(router);
    await assert.rejects(router.createWebRtcTransport('p'), (e: unknown) => e instanceof ParleyError && /could not open a UDP socket on 192\.0\.2\.1 \(EADDRNOTAVAIL\); check MEDIA_LISTEN_IP/.test(e.message));
    assert.equal(router.transports.size, 0);
    // Give an uncaught 'error' event the chance to surface (it would end this test process).
    await new Promise((r) => setTimeout(r, 50));
    const ok = newRouter();
    await ok.createWebRtcTransport('p');
  });
});

describe('consumers and their transport', { timeout: 30_000 }, () => {
  test('20 consumers on one transport raise no listener warning, and closing them leaves the transport as it was', async () => {
    const router = newRouter();
    const { id: transportId } = await router.createWebRtcTransport('sub');
    const transport = router.transports.get(transportId)!;
    const producer = router.createDirectProducer('bot', { kind: 'audio', rtpParameters: opus(4242) });
    const baseline = transport.eventNames().map((e) => [e, transport.listenerCount(e)]);
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const consumers = Array.from({ length: 20 }, () => router.consume('sub', { transportId, producerId: producer.id, rtpCapabilities: routerRtpCapabilities }));
      assert.equal(router.consumers.size, 20);
      for (const c of consumers) c.close();
      assert.equal(router.consumers.size, 0);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(
        transport.eventNames().map((e) => [e, transport.listenerCount(e)]),
        baseline,
        'listener counts on the transport are back to what they were before the consumers',
      );
      assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message), []);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('closing one consumer (a supervisor mode switch)', { timeout: 30_000 }, () => {
  test("closeConsumer ends only that peer's consumer: the producer forgets it and the router says why", async () => {
    const router = newRouter();
    const { id: transportId } = await router.createWebRtcTransport('listener');
    const { id: otherTransport } = await router.createWebRtcTransport('other');
    const producer = router.createDirectProducer('agent', { kind: 'audio', rtpParameters: opus(5151) });
    const mine = router.consume('listener', { transportId, producerId: producer.id, rtpCapabilities: routerRtpCapabilities });
    const theirs = router.consume('other', { transportId: otherTransport, producerId: producer.id, rtpCapabilities: routerRtpCapabilities });
    const closed: Array<[string, string]> = [];
    router.on('consumer-close', (c, reason) => closed.push([c.id, reason]));
    router.closeConsumer('other', mine.id); // not that peer's: left alone
    assert.equal(router.consumers.size, 2);
    router.closeConsumer('listener', mine.id);
    assert.deepEqual(closed, [[mine.id, 'closed']]);
    assert.deepEqual([...producer.consumers].map((c) => c.id), [theirs.id], 'nothing is forwarded to the closed consumer any more');
    assert.equal(router.consumers.has(mine.id), false);
    router.closeConsumer('listener', mine.id); // already gone: no error, no second event
    assert.equal(closed.length, 1);
  });
});
