/**
 * The SFU's direct datagram sender (src/sfu/udpSend.ts): every packet arrives, whole and in
 * order, at the address the path was made for; a socket closed under it sends nothing and
 * does not throw (a transport closing while its consumers still forward). And the fan-out
 * batch: every consumer's packet written into one arena, then all sent, each arriving as it was
 * written; a send libuv queued keeps its memory (the arena is given up to it).
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { after, describe, test } from 'node:test';
import { ARENA_MAX_BYTES, SendBatch, scratchPacket, udpSender, type UdpSend } from '../src/sfu/udpSend.js';

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

describe('fan-out batch (encrypt for every consumer, then send)', () => {
  const sockets: Socket[] = [];
  after(() => {
    for (const s of sockets) s.close();
  });

  test('120 receivers each get their own packet intact, written before any was sent, across arena growth', async () => {
    const from = await bound();
    sockets.push(from);
    const receivers: Socket[] = [];
    for (let i = 0; i < 120; i++) receivers.push(await bound());
    sockets.push(...receivers);
    const got = receivers.map(() => [] as Buffer[]);
    let arrived = 0;
    const rounds = 3;
    const all = new Promise<void>((resolve) =>
      receivers.forEach((r, i) =>
        r.on('message', (m) => {
          got[i]!.push(m);
          if (++arrived === receivers.length * rounds) resolve();
        }),
      ),
    );
    const batch = new SendBatch();
    const senders = receivers.map((r) => udpSender(from, '127.0.0.1', r.address().port));
    // 120 × ≈ 1,000 bytes is more than the first arena: it grows while the round is written.
    const size = (i: number, round: number): number => 900 + ((i * 7 + round * 13) % 200);
    for (let round = 0; round < rounds; round++) {
      receivers.forEach((_, i) => {
        const p = batch.take(size(i, round));
        assert.equal(p.length, size(i, round));
        p.fill((i + round) & 0xff);
        p.writeUInt32BE(i, 0);
        p.writeUInt32BE(round, 4);
        batch.add(senders[i]!, p);
      });
      assert.equal(batch.pending, receivers.length, 'nothing is sent before the flush');
      batch.flush();
      assert.equal(batch.pending, 0);
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.race([all, new Promise((r) => setTimeout(r, 3000))]);
    assert.ok(batch.capacity > 16 * 1024, `the arena grew (${batch.capacity} bytes)`);
    got.forEach((packets, i) => {
      assert.equal(packets.length, rounds, `receiver ${i} got ${packets.length} of ${rounds}`);
      packets.forEach((m, round) => {
        assert.equal(m.readUInt32BE(0), i, `receiver ${i} got another receiver's packet`);
        assert.equal(m.readUInt32BE(4), round, `receiver ${i}: round ${round} out of order`);
        assert.equal(m.length, size(i, round));
        for (let b = 8; b < m.length; b++) if (m[b] !== ((i + round) & 0xff)) assert.fail(`receiver ${i}, round ${round}: byte ${b} overwritten`);
      });
    });
  });

  test('a queued send keeps its memory: the next fan-out is written into a new arena', () => {
    const held: Buffer[] = [];
    // A sender whose second packet libuv "queued": it keeps that Buffer until the send completes.
    let calls = 0;
    const queuedOnce: UdpSend = (p) => {
      calls++;
      if (calls === 2) {
        held.push(p);
        return true;
      }
      return false;
    };
    const batch = new SendBatch();
    for (let i = 0; i < 4; i++) {
      const p = batch.take(100);
      p.fill(0xa0 + i);
      batch.add(queuedOnce, p);
    }
    batch.flush();
    assert.equal(batch.arenasGivenUp, 1);
    const queued = held[0]!;
    // The next fan-out writes as many packets again: none may land on the queued one.
    for (let i = 0; i < 4; i++) {
      const p = batch.take(100);
      assert.notEqual(p.buffer, queued.buffer, 'a new packet shares the queued packet’s memory');
      p.fill(0x11);
      batch.add(() => false, p);
    }
    batch.flush();
    assert.ok(queued.every((b) => b === 0xa1), 'the queued packet was overwritten');
    // Sends that all complete at once keep the arena.
    for (let i = 0; i < 4; i++) batch.add(() => false, batch.take(100));
    batch.flush();
    assert.equal(batch.arenasGivenUp, 1);
  });

  test('a fan-out larger than the largest arena goes out in order, in parts; a huge packet gets its own Buffer', () => {
    const sent: number[] = [];
    const batch = new SendBatch();
    const record: UdpSend = (p) => {
      sent.push(p.readUInt32BE(0));
      return false;
    };
    const count = Math.ceil((ARENA_MAX_BYTES * 2.5) / 1200);
    let sentBeforeFlush = -1;
    for (let i = 0; i < count; i++) {
      const p = batch.take(1200);
      p.writeUInt32BE(i, 0);
      batch.add(record, p);
      if (sentBeforeFlush < 0 && sent.length > 0) sentBeforeFlush = sent.length;
    }
    assert.ok(sentBeforeFlush > 0, 'the first part went out once the arena was full');
    assert.ok(batch.capacity <= ARENA_MAX_BYTES);
    batch.flush();
    assert.deepEqual(sent, Array.from({ length: count }, (_, i) => i));
    const huge = batch.take(ARENA_MAX_BYTES + 1);
    assert.equal(huge.length, ARENA_MAX_BYTES + 1);
    assert.ok(batch.capacity <= ARENA_MAX_BYTES);
  });

  test('an empty flush sends nothing; packets not taken from the arena are sent as they are', () => {
    const batch = new SendBatch();
    let sends = 0;
    batch.flush();
    const own = Buffer.from('own buffer');
    batch.add((p) => {
      sends++;
      assert.equal(p, own);
      return false;
    }, own);
    batch.flush();
    batch.flush();
    assert.equal(sends, 1);
  });
});
