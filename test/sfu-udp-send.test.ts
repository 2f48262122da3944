/**
 * The SFU's direct datagram sender (src/sfu/udpSend.ts): every packet arrives, whole and in
 * order, at the address the path was made for; a socket closed under it sends nothing and
 * does not throw (a transport closing while its consumers still forward).
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { after, describe, test } from 'node:test';
import { udpSender } from '../src/sfu/udpSend.js';

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

  test('after the socket closes, sending is a no-op', async () => {
    const [from, to] = [await bound(), await bound()];
    sockets.push(to);
    const send = udpSender(from, '127.0.0.1', to.address().port);
    from.close();
    assert.doesNotThrow(() => send(Buffer.from('late')));
  });
});
