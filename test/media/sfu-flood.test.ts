/**
 * Anonymous clients cannot exhaust the SFU (issue 9 item 6). While room B forwards real RTP
 * (a werift publisher and subscriber, SRTP over ICE-lite on 127.0.0.1), sockets flood room A
 * with create-transport:
 *  - with the default limits, the flood from one socket and from many sockets of one address
 *    is bounded, every refusal is RESOURCE_EXHAUSTED, and the worker (the only one) lives on;
 *  - against a server process held to 200 file descriptors with the per-address limits lifted,
 *    the flood runs into EMFILE: those requests are answered RESOURCE_EXHAUSTED, the media
 *    worker and room B live on, and transports work again once the flood is gone.
 * Room B's packets are counted at the subscriber before and after.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Socket } from 'socket.io-client';
import { RtpHeader, RtpPacket } from 'werift';
import { openPublisher, openSubscriber, type Publisher, type Subscriber } from '../../bench/sfu/weriftClient.js';
import { startParley, type RunningParley } from '../support/parleyServer.js';
import { connect } from '../support/sockets.js';

type Ack = { id?: string; error?: { code: string; message: string } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Room B: one Opus publisher at 50 packets/s and one subscriber counting what arrives. */
async function flowingRoom(url: string, roomId: string) {
  const publisher: Publisher = await openPublisher(url, roomId);
  let received = 0;
  const subscriber: Subscriber = await openSubscriber({
    url,
    roomId,
    producerId: publisher.producerId,
    userId: 'room-b-listener',
    verifyEvery: 1,
    onArrival: () => undefined,
    onVerified: () => received++,
  });
  let k = 0;
  const payload = Buffer.alloc(60, 0xf8);
  const timer = setInterval(() => {
    const header = new RtpHeader({ payloadType: 100, sequenceNumber: k & 0xffff, timestamp: (k * 960) >>> 0, ssrc: publisher.ssrc, marker: k === 0 });
    k++;
    publisher.send(new RtpPacket(header, payload)).catch(() => undefined);
  }, 20);
  /** Packets the subscriber decrypted during `ms`. */
  const countFor = async (ms: number): Promise<number> => {
    const start = received;
    await sleep(ms);
    return received - start;
  };
  return {
    countFor,
    close: async () => {
      clearInterval(timer);
      await subscriber.close();
      await publisher.close();
    },
  };
}

async function floodSockets(url: string, n: number, roomId: string): Promise<Socket[]> {
  const sockets = await Promise.all(Array.from({ length: n }, () => connect(`${url}/voice`, {}, 15_000)));
  for (const s of sockets) {
    const ack = (await s.timeout(10_000).emitWithAck('join-room', { roomId })) as Ack;
    assert.equal(ack.error, undefined, JSON.stringify(ack));
  }
  return sockets;
}

const createTransports = (sockets: Socket[], roomId: string, each: number): Promise<Ack[]> =>
  Promise.all(sockets.flatMap((s) => Array.from({ length: each }, () => s.timeout(15_000).emitWithAck('create-transport', { roomId }) as Promise<Ack>)));

describe('a create-transport flood is bounded and the media worker lives on', { timeout: 120_000 }, () => {
  let server: RunningParley;
  let roomB: Awaited<ReturnType<typeof flowingRoom>> | undefined;
  const sockets: Socket[] = [];

  before(async () => {
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1' });
  });
  after(async () => {
    for (const s of sockets) s.close();
    await roomB?.close();
    await server?.close();
  });

  test('one socket and then 30 sockets of one address flood room A; room B keeps forwarding', async (t) => {
    roomB = await flowingRoom(server.url, 'room-b');
    const worker = server.parley.media.workerOf('room-b')!;
    const threadId = worker.threadId;
    const before = await roomB.countFor(1000);
    assert.ok(before > 30, `room B flows before the flood (${before} packets/s)`);

    const [one] = await floodSockets(server.url, 1, 'room-a');
    sockets.push(one!);
    const fromOne = await createTransports([one!], 'room-a', 50);
    assert.equal(fromOne.filter((a) => a.id).length, 4, 'one socket: MEDIA_MAX_TRANSPORTS_PER_PEER=4');

    const many = await floodSockets(server.url, 30, 'room-a');
    sockets.push(...many);
    const fromMany = await createTransports(many, 'room-a', 4);
    const all = [...fromOne, ...fromMany];
    const refused = all.filter((a) => !a.id);
    for (const a of refused) assert.equal(a.error?.code, 'RESOURCE_EXHAUSTED', JSON.stringify(a));
    const held = (await server.parley.media.dump()).reduce((n, w) => n + w.transports, 0);
    // Room B's two transports come from the same address (127.0.0.1): 40 in all.
    assert.equal(held, 40, 'MEDIA_MAX_TRANSPORTS_PER_ADDRESS=40 bounds the address, whatever the number of sockets');
    assert.equal(all.filter((a) => a.id).length, 38);

    assert.equal(worker.isAlive, true);
    assert.equal(server.parley.media.workerOf('room-b')?.threadId, threadId, 'room B is still on the same, living worker');
    const during = await roomB.countFor(1000);
    assert.ok(during > 30, `room B keeps forwarding after the flood (${before} → ${during} packets/s)`);
    t.diagnostic(`flood: ${all.length} create-transport, ${all.length - refused.length} created, ${refused.length} refused; room B ${before} → ${during} packets/s`);
  });
});

describe('out of file descriptors: the request fails, the worker and other rooms live on', { timeout: 120_000 }, () => {
  const FILE_LIMIT = 200;
  let child: ReturnType<typeof spawn> | undefined;
  let output = '';
  let url = '';
  let roomB: Awaited<ReturnType<typeof flowingRoom>> | undefined;
  const sockets: Socket[] = [];

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-emfile-'));
    // The limit is set once the server listens: loading the modules (tsx reads a wide import graph
    // concurrently) could itself run into it, and that is not what this test is about.
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: {
        PATH: process.env.PATH ?? '',
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'info',
        SQLITE_PATH: join(dir, 'p.sqlite'),
        JWT_SECRET: 'test-secret-test-secret-test-secret-0123',
        ALLOWED_ORIGINS: '*',
        MEDIA_WORKERS: '1',
        MEDIA_LISTEN_IP: '127.0.0.1',
        MEDIA_MAX_TRANSPORTS_PER_ADDRESS: '100000',
        MEDIA_MAX_ROOMS_PER_ADDRESS: '1000',
        SOCKET_EVENTS_PER_SECOND: '1000',
      },
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 30_000;
    while (!url && Date.now() < deadline) {
      url = /Parley listening on (http:\/\/[\d.]+:\d+)/.exec(output)?.[1] ?? '';
      if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`);
      await sleep(100);
    }
    if (!url) throw new Error(`server did not start:\n${output}`);
    const limited = spawnSync('prlimit', ['--pid', String(child.pid), `--nofile=${FILE_LIMIT}:${FILE_LIMIT}`], { encoding: 'utf8' });
    assert.equal(limited.status, 0, `prlimit failed: ${limited.stderr}`);
    const open = readdirSync(`/proc/${child.pid}/fd`).length;
    assert.ok(open < FILE_LIMIT / 2, `the server holds ${open} descriptors before the flood (limit ${FILE_LIMIT})`);
  });
  after(async () => {
    for (const s of sockets) s.close();
    await roomB?.close();
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  test(`at ${FILE_LIMIT} open files, create-transport is answered RESOURCE_EXHAUSTED and room B keeps forwarding`, async (t) => {
    roomB = await flowingRoom(url, 'room-b');
    const before = await roomB.countFor(1000);
    assert.ok(before > 30, `room B flows before the flood (${before} packets/s)`);

    const flood = await floodSockets(url, 50, 'room-a');
    sockets.push(...flood);
    const acks = await createTransports(flood, 'room-a', 4);
    const created = acks.filter((a) => a.id).length;
    const refused = acks.filter((a) => !a.id);
    assert.ok(refused.length > 0, `the flood reached the file limit (${created} transports created)`);
    for (const a of refused) {
      assert.equal(a.error?.code, 'RESOURCE_EXHAUSTED', JSON.stringify(a));
      assert.match(a.error!.message, /could not open a UDP socket \((EMFILE|ENFILE)\); try again/);
    }

    const during = await roomB.countFor(1000);
    assert.ok(during > 30, `room B keeps forwarding at the file limit (${before} → ${during} packets/s)`);
    assert.doesNotMatch(output, /media worker died/, 'the media worker did not die');

    for (const s of sockets.splice(0)) s.close();
    // Once the flood is gone, transports can be created again (in a new room, on the same worker).
    let ack: Ack = {};
    const deadline = Date.now() + 10_000;
    const probe = await connect(`${url}/voice`);
    sockets.push(probe);
    assert.equal(((await probe.emitWithAck('join-room', { roomId: 'room-c' })) as Ack).error, undefined);
    while (Date.now() < deadline) {
      ack = (await probe.timeout(10_000).emitWithAck('create-transport', { roomId: 'room-c' })) as Ack;
      if (ack.id) break;
      await sleep(200);
    }
    assert.ok(ack.id, `a transport can be created after the flood: ${JSON.stringify(ack)}`);
    const afterFlood = await roomB.countFor(1000);
    assert.ok(afterFlood > 30, `room B still forwarding after the flood (${afterFlood} packets/s)`);
    assert.doesNotMatch(output, /media worker died|uncaught/i);
    t.diagnostic(`at ${FILE_LIMIT} files: ${acks.length} create-transport, ${created} created, ${refused.length} refused (EMFILE); room B ${before} → ${during} → ${afterFlood} packets/s`);
  });
});
