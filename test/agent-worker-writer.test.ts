/**
 * The bot's paced writer in the media worker: PCM pushed on the main thread comes out of the room as Opus RTP
 * packets 20 ms apart — read here by a subscriber on the SFU (a direct consumer of the bot's producer, stamped by
 * the worker when each packet is forwarded). The pacing holds while the main thread is blocked (the writer runs on
 * the worker's thread), and `clearQueue()` stops the packets at once: the stop latency is printed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RtpPacket } from 'werift';
import { createLogger } from '../src/log/logger.js';
import { OpusDecoder } from '../src/media/audio/opusDecoder.js';
import type { DirectConsumerMessage } from '../src/sfu/directPort.js';
import { MediaWorkerPool } from '../src/sfu/mediaWorkerPool.js';
import type { DirectProducerHandle, RoomMedia } from '../src/sfu/roomMedia.js';

function tone(seconds: number, rate: number): Int16Array {
  const s = new Int16Array(Math.round(seconds * rate));
  for (let i = 0; i < s.length; i++) s[i] = Math.round(10_000 * Math.sin((2 * Math.PI * 300 * i) / rate));
  return s;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Received {
  at: number;
  packet: RtpPacket;
}

async function botWithSubscriber(room: RoomMedia, peerId: string, ssrc: number) {
  const producer: DirectProducerHandle = await room.createDirectProducer(peerId, {
    kind: 'audio',
    rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48_000, channels: 2 }], encodings: [{ ssrc }] },
    appData: { role: 'bot' },
  });
  const writer = await room.createPacedWriter(producer, { ssrc, payloadType: 111 });
  const consumer = await room.createDirectConsumer(producer.id, { appData: { purpose: 'test-subscriber' } });
  const received: Received[] = [];
  consumer.port.on('message', (m: DirectConsumerMessage) => {
    if (m.type === 'rtp') received.push({ at: m.receivedAtMs, packet: RtpPacket.deSerialize(Buffer.from(m.packet)) });
  });
  return { producer, writer, consumer, received };
}

describe('paced writer in the media worker', { timeout: 60_000 }, () => {
  let pool: MediaWorkerPool;
  let room: RoomMedia;

  before(async () => {
    pool = new MediaWorkerPool(1, { transport: { listenIp: '127.0.0.1' }, audioLevelIntervalMs: 1000 }, createLogger('silent'));
    room = await pool.room('writer-room');
  });
  after(async () => {
    await pool.closeRoom('writer-room');
    await pool.close();
  });

  test('pushed speech reaches a subscriber as Opus RTP 20 ms apart, also while the main thread is blocked', async () => {
    const { writer, consumer, received, producer } = await botWithSubscriber(room, 'bot-pace', 4242);
    const starts: number[] = [];
    writer.on('playout-start', ({ atMs }) => starts.push(atMs));
    writer.push(tone(2, 22_050), 22_050);
    assert.equal(writer.playing, true);
    await sleep(400);
    // The main thread does nothing for 400 ms: a writer on this thread would send nothing meanwhile.
    const blockedFrom = Date.now();
    while (Date.now() - blockedFrom < 400) {
      /* busy */
    }
    const blockedTo = Date.now();
    const ended = new Promise<{ cleared: boolean }>((r) => writer.once('playout-end', r));
    writer.flush();
    assert.equal((await ended).cleared, false, 'the queue ran dry: everything pushed was sent');
    assert.equal(writer.playing, false);
    await sleep(100);
    assert.ok(received.length >= 100 && received.length <= 102, `${received.length} packets for 2 s`);
    assert.equal(starts.length, 1);
    const during = received.filter((r) => r.at > blockedFrom + 40 && r.at < blockedTo - 40);
    // About 16 are due in that window; a writer on the main thread would send none (margin for a busy machine).
    assert.ok(during.length >= 8, `${during.length} packets forwarded while the main thread was blocked for 400 ms`);
    for (let i = 1; i < received.length; i++) {
      assert.equal((received[i]!.packet.header.sequenceNumber - received[i - 1]!.packet.header.sequenceNumber) & 0xffff, 1);
      assert.equal((received[i]!.packet.header.timestamp - received[i - 1]!.packet.header.timestamp) >>> 0, 960);
    }
    const spanMs = received.at(-1)!.at - received[0]!.at;
    assert.ok(spanMs > 1800 && spanMs < 2600, `2 s of audio went out over ${spanMs} ms`);
    assert.equal(received[0]!.packet.header.marker, true);
    const dec = new OpusDecoder(48_000, 1);
    const pcm = received.slice(5, 90).flatMap((r) => [...dec.decode(r.packet.payload)]);
    dec.close();
    const rms = Math.sqrt(pcm.reduce((n, v) => n + v * v, 0) / pcm.length);
    assert.ok(rms > 4000, `decoded rms ${rms}`);
    await consumer.close();
    await producer.close();
  });

  test('clearQueue() stops the packets a subscriber receives within 200 ms (barge-in)', async () => {
    const { writer, consumer, received, producer } = await botWithSubscriber(room, 'bot-barge', 5151);
    writer.push(tone(4, 24_000), 24_000);
    // Mid-reply: after 20 packets (half a second, or longer on a busy machine).
    for (let i = 0; i < 60 && received.length < 20; i++) await sleep(50);
    assert.ok(received.length >= 20, `${received.length} packets before the barge-in`);
    const clearedAt = performance.timeOrigin + performance.now();
    const { droppedMs, lastPacketAtMs } = await writer.clearQueue();
    assert.equal(writer.playing, false);
    await sleep(500);
    const last = received.at(-1)!.at;
    const stopMs = Math.max(0, last - clearedAt);
    console.log(`barge-in stop latency (clearQueue → last packet the subscriber received): ${stopMs.toFixed(1)} ms; ${droppedMs} ms of speech dropped; worker's last send ${lastPacketAtMs === null ? '-' : (lastPacketAtMs - clearedAt).toFixed(1)} ms after the call`);
    assert.ok(stopMs < 200, `stopped after ${stopMs} ms`);
    const count = received.length;
    assert.ok(Math.abs(droppedMs + count * 20 - 4000) <= 60, `dropped ${droppedMs} ms after sending ${count} packets of 4 s`);
    // The next reply plays again, marked as a new talkspurt.
    writer.push(tone(0.3, 24_000), 24_000);
    writer.flush();
    await sleep(600);
    assert.ok(received.length - count >= 15, `${received.length - count} packets of the next reply`);
    assert.equal(received[count]!.packet.header.marker, true);
    await consumer.close();
    await producer.close();
    // The producer's writer went with it: pushing is a no-op, clearing is too.
    writer.push(tone(0.2, 24_000), 24_000);
    assert.deepEqual(await writer.clearQueue(), { droppedMs: 0, lastPacketAtMs: null });
  });
  test('a flush with nothing left to send still ends the talkspurt (the reply waits for that end)', async () => {
    const { writer, consumer, producer } = await botWithSubscriber(room, 'bot-flush', 7171);
    // Exactly 3 frames of 48 kHz: nothing is left over for the flush to pad.
    writer.push(tone(0.06, 48_000), 48_000);
    await sleep(300);
    assert.equal(writer.playing, false, 'the queue ran dry');
    const ended = new Promise<{ cleared: boolean }>((r) => writer.once('playout-end', r));
    writer.flush();
    assert.equal(writer.playing, true);
    const result = await Promise.race([ended, sleep(2000).then(() => 'no playout-end' as const)]);
    assert.notEqual(result, 'no playout-end');
    assert.equal(writer.playing, false);
    // And a flush on a writer that never spoke.
    const { writer: quiet, consumer: c2, producer: p2 } = await botWithSubscriber(room, 'bot-quiet', 7272);
    const quietEnd = new Promise<unknown>((r) => quiet.once('playout-end', r));
    quiet.flush();
    assert.notEqual(await Promise.race([quietEnd, sleep(2000).then(() => 'no playout-end' as const)]), 'no playout-end');
    await c2.close();
    await p2.close();
    await consumer.close();
    await producer.close();
  });

  test('clearQueue() stops the packets at the next tick even while the media worker is behind on its messages', async () => {
    const { writer, consumer, received, producer } = await botWithSubscriber(room, 'bot-busy', 6161);
    // Another server-side producer in the room whose packets keep the worker busy (nobody consumes it).
    const other = await room.createDirectProducer('flood', {
      kind: 'audio',
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48_000, channels: 2 }], encodings: [{ ssrc: 777 }] },
    });
    writer.push(tone(4, 24_000), 24_000);
    for (let i = 0; i < 60 && received.length < 20; i++) await sleep(50);
    assert.ok(received.length >= 20, `${received.length} packets before the barge-in`);
    const packet = new Uint8Array(RtpPacket.deSerialize(Buffer.from(received[0]!.packet.serialize())).serialize());
    packet[8] = 0; // another SSRC: 777
    packet[9] = 0;
    packet[10] = 3;
    packet[11] = 9;
    for (let i = 0; i < 40_000; i++) other.send(packet);
    const clearedAt = performance.timeOrigin + performance.now();
    const cleared = writer.clearQueue();
    const { droppedMs } = await cleared;
    const replyMs = performance.timeOrigin + performance.now() - clearedAt;
    await sleep(300);
    const last = received.at(-1)!.at;
    const stopMs = Math.max(0, last - clearedAt);
    console.log(`barge-in with the media worker ${replyMs.toFixed(0)} ms behind on its messages: last packet at the subscriber ${stopMs.toFixed(1)} ms after clearQueue; ${droppedMs} ms dropped`);
    assert.ok(stopMs < 200, `stopped after ${stopMs} ms (the worker answered the clear after ${replyMs} ms)`);
    assert.ok(Math.abs(droppedMs + received.length * 20 - 4000) <= 60, `dropped ${droppedMs} ms after ${received.length} packets`);
    await other.close();
    await consumer.close();
    await producer.close();
  });
});
