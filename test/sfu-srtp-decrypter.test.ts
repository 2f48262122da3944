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
  SourceDescriptionChunk,
  SourceDescriptionItem,
  SrtcpSession,
  SrtpAuthenticationError,
  type RtcpPacket,
} from 'werift';
import { MAX_REPLAY_SSRCS, REPLAY_WINDOW, rtcpHasRoutedPacket, srtcpDecrypterFor, type SrtcpContextLike } from '../src/sfu/srtpDecrypter.js';

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
