/**
 * The SFU's direct datagram sender (src/sfu/udpSend.ts): every packet arrives, whole and in
 * order, at the address the path was made for; a socket closed under it sends nothing and
 * does not throw (a transport closing while its consumers still forward).
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { after, describe, test } from 'node:test';
import { scratchPacket, udpSender } from '../src/sfu/udpSend.js';

async function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

describe('direct UDP send path', () => {
  const sockets: Socket[] = [];
  after(() => {
    for (const s of sockets) {
      try {
        s.close();
      } catch {
        /* closed by the test */
      }
    }
  });

  test('2,000 packets of different sizes arrive whole and in order', async () => {
    const [from, to] = [await bound(), await bound()];
    sockets.push(from, to);
    const received: Buffer[] = [];
    const all = new Promise<void>((resolve) =>
      to.on('message', (m) => {
        received.push(m);
        if (received.length === 2000) resolve();
      }),
    );
    const send = udpSender(from, '127.0.0.1', to.address().port);
    for (let i = 0; i < 2000; i++) {
      const p = Buffer.alloc(20 + (i % 1200), i & 0xff);
      p.writeUInt32BE(i, 0);
      send(p);
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 1)); // let the receiver drain (its buffer holds ≈ 100 such packets)
    }
    await all;
    received.forEach((m, i) => {
      assert.equal(m.readUInt32BE(0), i, `packet ${i} out of order`);
      assert.equal(m.length, 20 + (i % 1200), `packet ${i} has the wrong length`);
      assert.equal(m[m.length - 1], i & 0xff, `packet ${i} has the wrong bytes`);
    });
  });

  // The queued branch (uv_udp_try_send answering EAGAIN, the scratch given up to the request)
  // cannot be reached on loopback: the kernel releases a loopback datagram's send-buffer charge
  // as soon as it is handed on. This checks that one buffer reused for every packet and length
  // sends each packet as it was when it was sent.
  test('packets written one after another into the shared scratch buffer arrive intact', async () => {
    const [from, to] = [await bound(), await bound()];
    sockets.push(from, to);
    to.setRecvBufferSize(1 << 20);
    const count = 400;
    const received = new Map<number, Buffer>();
    const all = new Promise<void>((resolve) =>
      to.on('message', (m) => {
        received.set(m.readUInt32BE(0), m);
        if (received.size === count) resolve();
      }),
    );
    const send = udpSender(from, '127.0.0.1', to.address().port);
    const sizes = (i: number): number => 1200 - (i % 3);
    for (let i = 0; i < count; i++) {
      const p = scratchPacket(sizes(i));
      p.fill(i & 0xff);
      p.writeUInt32BE(i, 0);
      send(p);
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.race([all, new Promise((r) => setTimeout(r, 3000))]);
    // Loopback may drop a datagram when the receiver is slow, never change one.
    assert.ok(received.size >= count * 0.9, `only ${received.size} of ${count} arrived`);
    for (const [i, m] of received) {
      assert.equal(m.length, sizes(i), `packet ${i} has the wrong length`);
      for (let b = 4; b < m.length; b++) if (m[b] !== (i & 0xff)) assert.fail(`packet ${i} was overwritten at byte ${b} (${m[b]})`);
    }
  });

  test('after the socket closes, sending is a no-op', async () => {
    const [from, to] = [await bound(), await bound()];
    sockets.push(to);
    const send = udpSender(from, '127.0.0.1', to.address().port);
    from.close();
    assert.doesNotThrow(() => send(Buffer.from('late')));
  });
});
