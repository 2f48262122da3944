/**
 * The SFU's own SRTCP decryption (src/sfu/srtpDecrypter.ts) must give exactly what werift's
 * SRTCP session gives for every packet a peer's werift (or browser) session sends, reject
 * exactly what werift rejects (a flipped bit anywhere, a truncated packet, the wrong key), and
 * also reject a replayed packet, which werift accepts. And what the transport hands on to the
 * router after authentication (`rtcpHasRoutedPacket`) must keep every packet type the router
 * acts on.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  GenericNack,
  PictureLossIndication,
  ProtectionProfileAeadAes128Gcm,
  ProtectionProfileAes128CmHmacSha1_80,
  ReceiverEstimatedMaxBitrate,
  RtcpPayloadSpecificFeedback,
  RtcpReceiverInfo,
  RtcpRrPacket,
  RtcpSenderInfo,
  RtcpSourceDescriptionPacket,
  RtcpSrPacket,
  RtcpTransportLayerFeedback,
  RtpHeader,
  SourceDescriptionChunk,
  SourceDescriptionItem,
  SrtcpSession,
  SrtpAuthenticationError,
  SrtpSession,
  type RtcpPacket,
} from 'werift';
import { MAX_REPLAY_SSRCS, REPLAY_WINDOW, rtcpHasRoutedPacket, srtcpDecrypterFor, srtpDecrypterFor, type SrtcpContextLike, type SrtpContextLike } from '../src/sfu/srtpDecrypter.js';

interface Pair {
  /** The peer's session (encrypts what the SFU receives). */
  peer: SrtcpSession;
  /** werift's own decryption on the SFU's side. */
  reference: SrtcpSession;
  /** The SFU's decrypter, built from a third session with the SFU's keys. */
  ours: ReturnType<typeof srtcpDecrypterFor>;
}

function pair(profile: number, wrongKey = false): Pair {
  const saltLength = profile === ProtectionProfileAeadAes128Gcm ? 12 : 14;
  const a = { key: randomBytes(16), salt: randomBytes(saltLength) };
  const b = { key: randomBytes(16), salt: randomBytes(saltLength) };
  const peerKeys = { localMasterKey: a.key, localMasterSalt: a.salt, remoteMasterKey: b.key, remoteMasterSalt: b.salt };
  const sfuA = wrongKey ? { key: randomBytes(16), salt: a.salt } : a;
  const sfuKeys = { localMasterKey: b.key, localMasterSalt: b.salt, remoteMasterKey: sfuA.key, remoteMasterSalt: sfuA.salt };
  const sfu = new SrtcpSession({ keys: sfuKeys, profile });
  return {
    peer: new SrtcpSession({ keys: peerKeys, profile }),
    reference: new SrtcpSession({ keys: sfuKeys, profile }),
    ours: srtcpDecrypterFor((sfu as unknown as { remoteContext: SrtcpContextLike }).remoteContext),
  };
}

function compound(...packets: RtcpPacket[]): Buffer {
  return Buffer.concat(packets.map((p) => p.serialize()));
}

const rr = (ssrc: number, n: number): RtcpRrPacket =>
  new RtcpRrPacket({ ssrc, reports: [new RtcpReceiverInfo({ ssrc: 0x51525354, fractionLost: n & 0xff, packetsLost: n, highestSequence: 1000 + n, jitter: n * 3, lsr: n * 7, dlsr: n * 11 })] });
const sdes = (ssrc: number): RtcpSourceDescriptionPacket =>
  new RtcpSourceDescriptionPacket({ chunks: [new SourceDescriptionChunk({ source: ssrc, items: [new SourceDescriptionItem({ type: 1, text: 'peer-cname-0123' })] })] });
const sr = (ssrc: number, n: number): RtcpSrPacket =>
  new RtcpSrPacket({ ssrc, senderInfo: new RtcpSenderInfo({ ntpTimestamp: 0x83aa7e80_00000000n + BigInt(n), rtpTimestamp: n * 960, packetCount: n, octetCount: n * 80 }) });
const nack = (ssrc: number, media: number): RtcpTransportLayerFeedback =>
  new RtcpTransportLayerFeedback({ feedback: new GenericNack({ senderSsrc: ssrc, mediaSourceSsrc: media, lost: [10, 11, 40] }) });
const pli = (ssrc: number, media: number): RtcpPayloadSpecificFeedback =>
  new RtcpPayloadSpecificFeedback({ feedback: new PictureLossIndication({ senderSsrc: ssrc, mediaSsrc: media }) });
const remb = (ssrc: number): RtcpPayloadSpecificFeedback =>
  new RtcpPayloadSpecificFeedback({ feedback: new ReceiverEstimatedMaxBitrate({ senderSsrc: ssrc, mediaSsrc: 0, bitrate: 300_000n, ssrcFeedbacks: [0x61626364] }) });

function decryptOrError(f: () => Buffer): Buffer | 'rejected' {
  try {
    return f();
  } catch (err) {
    assert.ok(err instanceof SrtpAuthenticationError, `expected an SrtpAuthenticationError, got ${String(err)}`);
    return 'rejected';
  }
}

for (const [name, profile] of [
  ['AEAD_AES_128_GCM', ProtectionProfileAeadAes128Gcm],
  ['AES_CM_128_HMAC_SHA1_80', ProtectionProfileAes128CmHmacSha1_80],
] as const) {
  describe(`SRTCP decryption, ${name}`, () => {
    test('gives the bytes werift gives, for receiver reports, SR + SDES, feedback and a 1,700-byte compound', () => {
      const { peer, reference, ours } = pair(profile);
      assert.ok(ours);
      const ssrc = 0x0a0b0c0d;
      const big = compound(rr(ssrc, 1), ...Array.from({ length: 60 }, () => sdes(ssrc)));
      assert.ok(big.length > 1536, 'longer than one scratch buffer of counter blocks');
      const plain = [compound(rr(ssrc, 3)), compound(sr(ssrc, 5), sdes(ssrc)), compound(nack(ssrc, 0x11)), compound(pli(ssrc, 0x12)), compound(remb(ssrc)), big];
      for (let n = 0; n < 60; n++) {
        const p = plain[n % plain.length]!;
        const packet = peer.encrypt(p);
        const theirs = reference.decrypt(packet);
        const mine: Buffer = ours.decrypt(packet);
        assert.equal(mine.toString('hex'), theirs.toString('hex'), `packet ${n} (${p.length} bytes) differs from werift's`);
        assert.equal(mine.toString('hex'), p.toString('hex'), `packet ${n} did not decrypt to what was sent`);
      }
    });

    test('rejects what werift rejects: every flipped byte, truncation, a wrong key', () => {
      const { peer, reference, ours } = pair(profile);
      assert.ok(ours);
      const ssrc = 0x01020304;
      for (let n = 0; n < 3; n++) {
        const packet = peer.encrypt(compound(rr(ssrc, n), sdes(ssrc)));
        for (let i = 0; i < packet.length; i++) {
          const tampered = Buffer.from(packet);
          tampered[i] = tampered[i]! ^ (1 << (i % 8));
          const theirs = decryptOrError(() => reference.decrypt(tampered));
          const mine = decryptOrError(() => ours.decrypt(tampered));
          assert.equal(mine, 'rejected', `a flipped bit in byte ${i} of ${packet.length} was accepted`);
          assert.equal(theirs, 'rejected', `werift accepted a flipped bit in byte ${i}`);
        }
        for (const cut of [1, 4, packet.length - 8, packet.length - 1]) {
          const short = packet.subarray(0, packet.length - cut);
          assert.equal(decryptOrError(() => ours.decrypt(short)), 'rejected', `cut by ${cut} accepted`);
          assert.equal(decryptOrError(() => reference.decrypt(short)), 'rejected');
        }
        // Tampering did not move the replay window: the genuine packet is still accepted.
        assert.notEqual(decryptOrError(() => ours.decrypt(packet)), 'rejected');
      }
      const wrong = pair(profile, true);
      const packet = wrong.peer.encrypt(compound(rr(ssrc, 9)));
      assert.equal(decryptOrError(() => wrong.ours!.decrypt(packet)), 'rejected');
      assert.equal(decryptOrError(() => wrong.reference.decrypt(packet)), 'rejected');
    });

    test('rejects a replayed packet (werift accepts it), keeps packets reordered within the window', () => {
      const { peer, reference, ours } = pair(profile);
      assert.ok(ours);
      const ssrc = 0x0badf00d;
      const packets = Array.from({ length: REPLAY_WINDOW + 20 }, (_, n) => peer.encrypt(compound(rr(ssrc, n))));
      // In order, except that packet 5 comes after packet 9 (reordered): all accepted.
      const order = [...packets.keys()].filter((i) => i !== 5);
      order.splice(9, 0, 5);
      for (const i of order.slice(0, 12)) assert.notEqual(decryptOrError(() => ours.decrypt(packets[i]!)), 'rejected', `packet ${i}`);
      // The same packet again: werift takes it, the SFU does not.
      assert.notEqual(decryptOrError(() => reference.decrypt(packets[3]!)), 'rejected');
      assert.notEqual(decryptOrError(() => reference.decrypt(packets[3]!)), 'rejected');
      assert.equal(decryptOrError(() => ours.decrypt(packets[3]!)), 'rejected', 'a replay was accepted');
      assert.equal(decryptOrError(() => ours.decrypt(packets[5]!)), 'rejected', 'a replay of the reordered packet was accepted');
      for (const i of order.slice(12)) assert.notEqual(decryptOrError(() => ours.decrypt(packets[i]!)), 'rejected', `packet ${i}`);
      // Packet 10 was accepted; now it is more than the window behind the newest: rejected.
      assert.equal(decryptOrError(() => ours.decrypt(packets[10]!)), 'rejected');
      // A second SSRC has its own window.
      assert.notEqual(decryptOrError(() => ours.decrypt(peer.encrypt(compound(rr(ssrc + 1, 0))))), 'rejected');
    });

    test('holds a bounded number of replay windows: a packet of one SSRC too many is rejected', () => {
      const { peer, ours } = pair(profile);
      assert.ok(ours);
      for (let s = 0; s < MAX_REPLAY_SSRCS; s++) assert.notEqual(decryptOrError(() => ours.decrypt(peer.encrypt(compound(rr(1000 + s, 0))))), 'rejected');
      assert.equal(decryptOrError(() => ours.decrypt(peer.encrypt(compound(rr(5000, 0))))), 'rejected');
      // Known SSRCs go on.
      assert.notEqual(decryptOrError(() => ours.decrypt(peer.encrypt(compound(rr(1000, 1))))), 'rejected');
    });
  });
}

/** A publisher's werift SRTP session, werift's decryption on the SFU's side, and the SFU's own. */
function rtpPair(wrongKey = false): { peer: SrtpSession; reference: SrtpSession; ours: NonNullable<ReturnType<typeof srtpDecrypterFor>> } {
  const a = { key: randomBytes(16), salt: randomBytes(12) };
  const b = { key: randomBytes(16), salt: randomBytes(12) };
  const profile = ProtectionProfileAeadAes128Gcm;
  const sfuA = wrongKey ? { key: randomBytes(16), salt: a.salt } : a;
  const sfuKeys = { localMasterKey: b.key, localMasterSalt: b.salt, remoteMasterKey: sfuA.key, remoteMasterSalt: sfuA.salt };
  const ours = srtpDecrypterFor((new SrtpSession({ keys: sfuKeys, profile }) as unknown as { remoteContext: SrtpContextLike }).remoteContext);
  assert.ok(ours, 'GCM has the SFU decrypter');
  return {
    peer: new SrtpSession({ keys: { localMasterKey: a.key, localMasterSalt: a.salt, remoteMasterKey: b.key, remoteMasterSalt: b.salt }, profile }),
    reference: new SrtpSession({ keys: sfuKeys, profile }),
    ours,
  };
}

/** Headers as publishers send them: plain, with the one-byte extensions of audio level and mid, with CSRCs. */
function rtpHeader(seq: number, ssrc: number, kind: number): RtpHeader {
  const h = new RtpHeader({ payloadType: 111, sequenceNumber: seq & 0xffff, timestamp: (seq * 960) >>> 0, ssrc, marker: kind === 3 });
  if (kind === 1) {
    h.extension = true;
    h.extensionProfile = 0xbede;
    h.extensions = [
      { id: 1, payload: Buffer.from([0x80 | (seq % 127)]) },
      { id: 4, payload: Buffer.from('0') },
    ];
  }
  if (kind === 2) {
    h.csrc = [0x11111111, 0x22222222];
    h.csrcLength = 2;
  }
  return h;
}

describe('SRTP (RTP) decryption, AEAD_AES_128_GCM', () => {
  test('gives the bytes werift gives through a sequence-number wrap, for every header shape and payload size', () => {
    const { peer, reference, ours } = rtpPair();
    const ssrc = 0x1234abcd;
    const sizes = [0, 1, 15, 16, 17, 80, 160, 1200, 1600];
    for (let n = 0; n < 1200; n++) {
      const seq = 65_000 + n; // wraps at n = 536: rollover counter 1 from there
      const payload = randomBytes(sizes[n % sizes.length]!);
      const packet = peer.encrypt(payload, rtpHeader(seq, ssrc, n % 4));
      const theirs = reference.decrypt(packet);
      const mine = ours.decrypt(packet);
      assert.equal(mine.toString('hex'), theirs.toString('hex'), `packet ${n} (seq ${seq & 0xffff}, ${payload.length} bytes) differs from werift's`);
      assert.equal(mine.subarray(mine.length - payload.length).toString('hex'), payload.toString('hex'));
    }
  });

  test('a packet reordered across the wrap is decrypted with the rollover counter it was sent with', () => {
    const { peer, ours } = rtpPair();
    const ssrc = 0x0c0ffee0;
    const sent = [65_533, 65_534, 65_535, 65_536, 65_537].map((seq): { seq: number; payload: Buffer; packet: Buffer } => ({ seq, payload: randomBytes(40), packet: Buffer.alloc(0) }));
    for (const p of sent) p.packet = peer.encrypt(p.payload, rtpHeader(p.seq, ssrc, 0));
    // Arrival: 65533, 0 (ROC 1), 65534 and 65535 late (ROC 0), 1.
    for (const i of [0, 3, 1, 2, 4]) {
      const mine = ours.decrypt(sent[i]!.packet);
      assert.equal(mine.subarray(12).toString('hex'), sent[i]!.payload.toString('hex'), `seq ${sent[i]!.seq}`);
    }
  });

  test('rejects every flipped byte, truncation, a wrong key and a malformed header, as werift does', () => {
    const { peer, reference, ours } = rtpPair();
    const ssrc = 0x01020304;
    for (let n = 0; n < 4; n++) {
      const packet = peer.encrypt(randomBytes(60), rtpHeader(100 + n, ssrc, n));
      for (let i = 0; i < packet.length; i++) {
        const tampered = Buffer.from(packet);
        tampered[i] = tampered[i]! ^ (1 << (i % 8));
        assert.equal(decryptOrError(() => ours.decrypt(tampered)), 'rejected', `a flipped bit in byte ${i} of ${packet.length} (header kind ${n}) was accepted`);
      }
      for (const cut of [1, 16, packet.length - 12, packet.length - 1]) {
        assert.equal(decryptOrError(() => ours.decrypt(packet.subarray(0, packet.length - cut))), 'rejected', `cut by ${cut} accepted`);
        assert.equal(decryptOrError(() => reference.decrypt(packet.subarray(0, packet.length - cut))), 'rejected');
      }
      // Tampering did not move the replay window: the genuine packet is still accepted.
      assert.notEqual(decryptOrError(() => ours.decrypt(packet)), 'rejected');
    }
    const wrong = rtpPair(true);
    const packet = wrong.peer.encrypt(randomBytes(60), rtpHeader(1, ssrc, 0));
    assert.equal(decryptOrError(() => wrong.ours.decrypt(packet)), 'rejected');
    assert.equal(decryptOrError(() => wrong.reference.decrypt(packet)), 'rejected');
    // An extension length past the end of the packet.
    const bad = peer.encrypt(randomBytes(20), rtpHeader(2, ssrc, 1));
    bad.writeUInt16BE(0xffff, 14);
    assert.equal(decryptOrError(() => ours.decrypt(bad)), 'rejected');
  });

  test('rejects a replayed packet (werift accepts it) and one more than the window behind, keeps reordered ones', () => {
    const { peer, reference, ours } = rtpPair();
    const ssrc = 0x0badf00d;
    const packets = Array.from({ length: REPLAY_WINDOW + 20 }, (_, n) => peer.encrypt(randomBytes(80), rtpHeader(5000 + n, ssrc, 1)));
    const order = [...packets.keys()].filter((i) => i !== 5);
    order.splice(9, 0, 5);
    for (const i of order.slice(0, 12)) assert.notEqual(decryptOrError(() => ours.decrypt(packets[i]!)), 'rejected', `packet ${i}`);
    assert.notEqual(decryptOrError(() => reference.decrypt(packets[3]!)), 'rejected');
    assert.notEqual(decryptOrError(() => reference.decrypt(packets[3]!)), 'rejected', 'werift takes a replay');
    assert.equal(decryptOrError(() => ours.decrypt(packets[3]!)), 'rejected', 'a replay was accepted');
    assert.equal(decryptOrError(() => ours.decrypt(packets[5]!)), 'rejected', 'a replay of the reordered packet was accepted');
    for (const i of order.slice(12)) assert.notEqual(decryptOrError(() => ours.decrypt(packets[i]!)), 'rejected', `packet ${i}`);
    assert.equal(decryptOrError(() => ours.decrypt(packets[10]!)), 'rejected', 'more than the window behind');
    // SSRCs are bounded: one too many is rejected, known ones go on.
    for (let s = 1; s < MAX_REPLAY_SSRCS; s++) assert.notEqual(decryptOrError(() => ours.decrypt(peer.encrypt(randomBytes(10), rtpHeader(1, 9000 + s, 0)))), 'rejected');
    assert.equal(decryptOrError(() => ours.decrypt(peer.encrypt(randomBytes(10), rtpHeader(1, 99_999, 0)))), 'rejected');
    assert.notEqual(decryptOrError(() => ours.decrypt(peer.encrypt(randomBytes(80), rtpHeader(5000 + packets.length, ssrc, 1)))), 'rejected');
  });
});

describe('what reaches the router after authentication', () => {
  test('a compound with a sender report, a NACK, a PLI or a FIR is handed on; receiver reports, SDES and REMB alone are not', () => {
    const s = 0x22;
    assert.equal(rtcpHasRoutedPacket(compound(sr(s, 1), sdes(s))), true);
    assert.equal(rtcpHasRoutedPacket(compound(rr(s, 1), nack(s, 7))), true);
    assert.equal(rtcpHasRoutedPacket(compound(rr(s, 1), sdes(s), pli(s, 7))), true);
    // FIR (PSFB, FMT 4), as a browser sends it: header, sender SSRC, media SSRC 0, one entry.
    const fir = Buffer.from([0x84, 206, 0, 4, 0, 0, 0, s, 0, 0, 0, 0, 0, 0, 0, 7, 1, 0, 0, 0]);
    assert.equal(rtcpHasRoutedPacket(Buffer.concat([compound(rr(s, 1)), fir])), true);
    assert.equal(rtcpHasRoutedPacket(compound(rr(s, 1))), false);
    assert.equal(rtcpHasRoutedPacket(compound(rr(s, 1), sdes(s))), false);
    assert.equal(rtcpHasRoutedPacket(compound(rr(s, 1), remb(s))), false);
    // A length running past the end is not judged here: werift's parser drops what it cannot read.
    const broken = compound(rr(s, 1));
    broken.writeUInt16BE(40, 2);
    assert.equal(rtcpHasRoutedPacket(broken), true);
  });
});
