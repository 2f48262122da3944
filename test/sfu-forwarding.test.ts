/**
 * The SFU's forwarding rules without a browser: codec mapping and refusals (ortc), and a
 * Consumer's rewriting — its own SSRC and payload type, sequence numbers without gaps
 * across a pause, and NACK answered from the producer's packet buffer; a producer's fan-out
 * reaches every connected, unpaused consumer. The transport here is a recording stand-in with
 * the members a Consumer uses (isConnected, sendRtp for one packet, queueRtp for a fan-out,
 * which records what it queued when the batch sends it).
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80, RtpHeader, RtpPacket, SrtpSession } from 'werift';
import { ParleyError } from '../src/errors.js';
import { Consumer } from '../src/sfu/consumer.js';
import { canConsume, consumerRtpParameters, mapProducerRtpParameters } from '../src/sfu/ortc.js';
import { Producer } from '../src/sfu/producer.js';
import { EXT, routerRtpCapabilities } from '../src/sfu/routerCapabilities.js';
import type { RtpParameters } from '../src/sfu/rtpTypes.js';
import { SendBatch } from '../src/sfu/udpSend.js';
import { WebRtcTransport } from '../src/sfu/webRtcTransport.js';

const chromeVp8: RtpParameters = {
  mid: '1',
  codecs: [
    { mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, rtcpFeedback: [{ type: 'nack', parameter: '' }] },
    { mimeType: 'video/rtx', payloadType: 97, clockRate: 90000, parameters: { apt: 96 } },
  ],
  headerExtensions: [
    { uri: EXT.mid, id: 4 },
    { uri: EXT.videoOrientation, id: 13 },
  ],
  encodings: [{ ssrc: 1111 }],
  rtcp: { cname: 'chrome-cname' },
};

const chromeOpus: RtpParameters = {
  mid: '0',
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { minptime: 10, useinbandfec: 1 } }],
  headerExtensions: [{ uri: EXT.audioLevel, id: 1 }],
  encodings: [{ ssrc: 2222 }],
  rtcp: { cname: 'c' },
};

interface SentHeader {
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  payloadType: number;
  extensions: Array<{ id: number; payload: Buffer }>;
}

/** Copies what it is given: a consumer reuses its header object from packet to packet. */
class RecordingTransport extends EventEmitter {
  isConnected = true;
  sent: SentHeader[] = [];
  sendRtp(_payload: Buffer, h: RtpHeader): void {
    this.sent.push(copy(h));
  }
  queueRtp(payload: Buffer, h: RtpHeader, batch: SendBatch): void {
    if (!this.isConnected) return;
    const header = copy(h);
    batch.add(() => {
      this.sent.push(header);
      return false;
    }, payload);
  }
}

function copy(h: RtpHeader): SentHeader {
  return { sequenceNumber: h.sequenceNumber, timestamp: h.timestamp, ssrc: h.ssrc, payloadType: h.payloadType, extensions: h.extensions.map((e) => ({ id: e.id, payload: Buffer.from(e.payload) })) };
}

function packet(seq: number, ssrc: number, pt: number, extensions: Array<{ id: number; payload: Buffer }> = []): RtpPacket {
  return new RtpPacket(new RtpHeader({ sequenceNumber: seq, timestamp: seq * 3000, ssrc, payloadType: pt, extensionProfile: 0xbede, extension: extensions.length > 0, extensions }), Buffer.from([seq & 0xff]));
}

describe('codec negotiation (ortc)', () => {
  test("a producer's browser payload type maps to the router codec; RTX is skipped", () => {
    const m = mapProducerRtpParameters('video', chromeVp8);
    assert.equal(m.codec.payloadType, 96);
    assert.equal(m.routerCodec.preferredPayloadType, 101);
    assert.equal(m.ssrc, 1111);
    assert.deepEqual(m.extensionIds, { mid: 4, audioLevel: undefined, videoOrientation: 13 });
  });

  test('the router refuses what it cannot forward, saying why', () => {
    const refuse = (kind: 'audio' | 'video', p: RtpParameters, re: RegExp) =>
      assert.throws(() => mapProducerRtpParameters(kind, p), (e: unknown) => e instanceof ParleyError && e.code === 'INVALID_PAYLOAD' && re.test(e.message));
    refuse('video', { ...chromeVp8, codecs: [{ mimeType: 'video/H265', payloadType: 100, clockRate: 90000 }] }, /cannot accept video\/H265.*supports video\/VP8/);
    refuse('audio', chromeVp8, /is not audio/);
    refuse('audio', { ...chromeOpus, encodings: [{}] }, /ssrc is required/);
    refuse('audio', { ...chromeOpus, encodings: [{ ssrc: 1 }, { ssrc: 2 }] }, /simulcast/);
    refuse('audio', { ...chromeOpus, codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 8000, channels: 2 }] }, /cannot accept/);
  });

  test('consumer parameters use the receiver capabilities, a fresh SSRC and only served feedback', () => {
    const mapping = mapProducerRtpParameters('video', chromeVp8);
    assert.equal(canConsume(mapping.routerCodec, routerRtpCapabilities), true);
    assert.equal(canConsume(mapping.routerCodec, { codecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] }), false);
    const caps = {
      codecs: [
        {
          kind: 'video' as const,
          mimeType: 'video/VP8',
          preferredPayloadType: 101,
          clockRate: 90000,
          rtcpFeedback: [
            { type: 'nack', parameter: '' },
            { type: 'nack', parameter: 'pli' },
            { type: 'goog-remb', parameter: '' },
          ],
        },
      ],
      headerExtensions: [
        { kind: 'video' as const, uri: EXT.videoOrientation, preferredId: 11, direction: 'sendrecv' as const },
        { kind: 'video' as const, uri: EXT.absSendTime, preferredId: 4, direction: 'sendrecv' as const },
      ],
    };
    const p = consumerRtpParameters({ kind: 'video', mapping, caps, mid: '3', ssrc: 777, cname: 'x' });
    assert.equal(p.codecs[0]!.payloadType, 101);
    assert.deepEqual(p.codecs[0]!.rtcpFeedback, [
      { type: 'nack', parameter: '' },
      { type: 'nack', parameter: 'pli' },
    ]);
    assert.deepEqual(p.headerExtensions, [{ uri: EXT.videoOrientation, id: 11, encrypt: false, parameters: {} }]);
    assert.deepEqual(p.encodings, [{ ssrc: 777 }]);
    assert.equal(p.mid, '3');
  });
});

describe('consumer rewriting', () => {
  const setup = (kind: 'audio' | 'video', params: RtpParameters) => {
    const mapping = mapProducerRtpParameters(kind, params);
    const producer = new Producer(kind, params, mapping, undefined, { peerId: 'pub' });
    const transport = new RecordingTransport();
    const rtpParameters = consumerRtpParameters({ kind, mapping, caps: routerRtpCapabilities, mid: '0', ssrc: 9999, cname: 'c' });
    const consumer = new Consumer(producer, transport as unknown as WebRtcTransport, rtpParameters, { peerId: 'sub' });
    producer.consumers.add(consumer);
    return { producer, transport, consumer };
  };

  test('SSRC, payload type and extension ids are the consumer’s own; the audio level is carried over', () => {
    const { producer, transport } = setup('audio', chromeOpus);
    producer.receive(packet(100, 2222, 111, [{ id: 1, payload: Buffer.from([0x80 | 30]) }]));
    const h = transport.sent[0]!;
    assert.equal(h.ssrc, 9999);
    assert.equal(h.payloadType, 100);
    assert.equal(h.sequenceNumber, 100);
    assert.deepEqual(h.extensions.map((e) => [e.id, [...e.payload]]), [
      [1, [...Buffer.from('0')]],
      [10, [0x80 | 30]],
    ]);
    assert.equal(producer.takeAudioLevel(), -30);
  });

  test('sequence numbers stay continuous across a pause, including across the 16-bit wrap', () => {
    const { producer, transport, consumer } = setup('video', chromeVp8);
    for (let s = 65530; s < 65534; s++) producer.receive(packet(s, 1111, 96));
    consumer.pause();
    for (let s = 65534; s < 65536 + 10; s++) producer.receive(packet(s & 0xffff, 1111, 96));
    consumer.resume();
    for (let s = 10; s < 13; s++) producer.receive(packet(s, 1111, 96));
    assert.deepEqual(
      transport.sent.map((h) => h.sequenceNumber),
      [65530, 65531, 65532, 65533, 65534, 65535, 0],
    );
  });

  test('a NACK is answered from the producer buffer with the consumer’s sequence numbers', () => {
    const { producer, transport, consumer } = setup('video', chromeVp8);
    for (let s = 500; s < 510; s++) producer.receive(packet(s, 1111, 96));
    consumer.pause();
    producer.receive(packet(510, 1111, 96));
    consumer.resume();
    for (let s = 511; s < 515; s++) producer.receive(packet(s, 1111, 96));
    // sent: 500..509 then 511..514 renumbered 510..513
    transport.sent = [];
    consumer.retransmit([505, 511, 60000]);
    assert.deepEqual(transport.sent.map((h) => h.sequenceNumber), [505, 511]);
    assert.equal(consumer.packetsRetransmitted, 2);
    const payloads = transport.sent.map((h) => h.timestamp / 3000);
    assert.deepEqual(payloads, [505, 512], 'outgoing 511 is incoming 512 (one packet skipped while paused)');
  });

  test('a fan-out reaches every connected, unpaused consumer with its own SSRC; the rest are skipped', () => {
    const mapping = mapProducerRtpParameters('audio', chromeOpus);
    const producer = new Producer('audio', chromeOpus, mapping, undefined, { peerId: 'pub' });
    const consumers = [1, 2, 3, 4, 5].map((n) => {
      const transport = new RecordingTransport();
      const rtpParameters = consumerRtpParameters({ kind: 'audio', mapping, caps: routerRtpCapabilities, mid: String(n), ssrc: 1000 + n, cname: 'c' });
      const consumer = new Consumer(producer, transport as unknown as WebRtcTransport, rtpParameters, { peerId: `sub${n}` });
      producer.consumers.add(consumer);
      return { consumer, transport };
    });
    consumers[1]!.transport.isConnected = false;
    consumers[3]!.consumer.pause();
    for (let s = 7; s < 10; s++) producer.receive(packet(s, 2222, 111, [{ id: 1, payload: Buffer.from([0x80 | (s * 2)]) }]));
    consumers.forEach(({ transport, consumer }, i) => {
      if (i === 1 || i === 3) {
        assert.deepEqual(transport.sent, [], `consumer ${i} (disconnected or paused) was sent a packet`);
        return;
      }
      assert.deepEqual(transport.sent.map((h) => [h.ssrc, h.sequenceNumber]), [7, 8, 9].map((s) => [consumer.ssrc, s]));
      // Each consumer's own MID, and the packet's own audio level (the header object is reused).
      assert.deepEqual(transport.sent.map((h) => h.extensions.map((e) => [e.id, [...e.payload]])), [7, 8, 9].map((s) => [[1, [...Buffer.from(String(i + 1))]], [10, [0x80 | (s * 2)]]]));
      assert.equal(consumer.packetsSent, 3);
    });
  });

  test('closing a producer closes its consumers with the reason', () => {
    const { producer, consumer } = setup('audio', chromeOpus);
    const reasons: string[] = [];
    consumer.on('close', (r) => reasons.push(r));
    producer.close();
    assert.deepEqual(reasons, ['producer-closed']);
    assert.equal(producer.consumers.size, 0);
  });
});

/**
 * A WebRtcTransport past ICE and DTLS, without sockets: its DTLS transport is a stand-in holding
 * a real SRTP session, and its nominated pair's send path records what it is given (copied, as
 * the kernel copies a datagram). Only the members the send path reads are set.
 */
function connectedTransport(profile: number): { transport: WebRtcTransport; sent: Buffer[]; receiver: SrtpSession } {
  const saltLength = profile === ProtectionProfileAeadAes128Gcm ? 12 : 14;
  const a = { key: randomBytes(16), salt: randomBytes(saltLength) };
  const b = { key: randomBytes(16), salt: randomBytes(saltLength) };
  const srtp = new SrtpSession({ keys: { localMasterKey: a.key, localMasterSalt: a.salt, remoteMasterKey: b.key, remoteMasterSalt: b.salt }, profile });
  const receiver = new SrtpSession({ keys: { localMasterKey: b.key, localMasterSalt: b.salt, remoteMasterKey: a.key, remoteMasterSalt: a.salt }, profile });
  const sent: Buffer[] = [];
  const pair = { protocol: {}, remoteAddr: ['127.0.0.1', 9] };
  const transport = Object.create(WebRtcTransport.prototype) as WebRtcTransport;
  Object.assign(transport, {
    closed: false,
    dtls: { state: 'connected', srtpStarted: true, srtp },
    ice: { connection: { nominated: pair } },
    pathPair: pair,
    path: {
      send: (packet: Buffer): boolean => {
        sent.push(Buffer.from(packet));
        return false;
      },
    },
    ssrcStates: [],
    rtpPacketsSent: 0,
    rtpBytesSent: 0,
  });
  return { transport, sent, receiver };
}

describe('the send path (WebRtcTransport.queueRtp / sendRtp)', () => {
  for (const [name, profile] of [
    ['AEAD_AES_128_GCM', ProtectionProfileAeadAes128Gcm],
    ['AES_CM_128_HMAC_SHA1_80', ProtectionProfileAes128CmHmacSha1_80],
  ] as const) {
    test(`${name}: a fan-out's packets and a retransmission decrypt at the receiver across the sequence wrap`, () => {
      const mapping = mapProducerRtpParameters('audio', chromeOpus);
      const producer = new Producer('audio', chromeOpus, mapping, undefined, { peerId: 'pub' });
      const subscribers = [0, 1, 2].map((n) => {
        const t = connectedTransport(profile);
        const rtpParameters = consumerRtpParameters({ kind: 'audio', mapping, caps: routerRtpCapabilities, mid: String(n), ssrc: (0xfffffff0 - n) >>> 0, cname: 'c' });
        const consumer = new Consumer(producer, t.transport, rtpParameters, { peerId: `sub${n}` });
        producer.consumers.add(consumer);
        return { ...t, consumer };
      });
      const payloadOf = (s: number): Buffer => Buffer.alloc(40 + (s % 7), s & 0xff);
      const seqs: number[] = [];
      for (let s = 65_530; s < 65_536 + 6; s++) seqs.push(s & 0xffff);
      for (const s of seqs) {
        producer.receive(new RtpPacket(new RtpHeader({ sequenceNumber: s, timestamp: s * 960, ssrc: 2222, payloadType: 111, extensionProfile: 0xbede, extension: true, extensions: [{ id: 1, payload: Buffer.from([0x80 | 20]) }] }), payloadOf(s)));
      }
      for (const { transport, sent, receiver, consumer } of subscribers) {
        assert.equal(sent.length, seqs.length);
        // Each packet on its own after the wrap (the rollover counter is 1 there): as a NACK answer would be.
        transport.sendRtp(payloadOf(3), new RtpHeader({ sequenceNumber: 3, timestamp: 3 * 960, ssrc: consumer.ssrc, payloadType: consumer.payloadType }));
        assert.equal(sent.length, seqs.length + 1);
        sent.forEach((datagram, i) => {
          const plain = receiver.decrypt(datagram);
          const header = RtpHeader.deSerialize(plain);
          const s = i < seqs.length ? seqs[i]! : 3;
          assert.equal(header.sequenceNumber, s);
          assert.equal(header.ssrc, consumer.ssrc);
          assert.deepEqual(plain.subarray(header.payloadOffset), payloadOf(s), `packet ${i} (seq ${s}) did not decrypt to its payload`);
        });
        assert.equal(transport.rtpPacketsSent, seqs.length + 1);
      }
    });
  }

  test('a transport that is not connected queues nothing', () => {
    const { transport, sent } = connectedTransport(ProtectionProfileAeadAes128Gcm);
    (transport as unknown as { closed: boolean }).closed = true;
    const batch = new SendBatch();
    transport.queueRtp(Buffer.alloc(10), new RtpHeader({ sequenceNumber: 1, ssrc: 5, payloadType: 100 }), batch);
    assert.equal(batch.pending, 0);
    batch.flush();
    assert.deepEqual(sent, []);
  });
});
