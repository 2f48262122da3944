/**
 * The SFU's own SRTCP encryption (src/sfu/srtcpEncrypter.ts), used for each consumer's sender
 * reports and for PLIs, must make exactly the packets werift's SRTCP session makes, keep the
 * SRTCP index in werift's context (so packets sent by either never share an index), and be
 * decryptable by the peer. Its sender report must be werift's `RtcpSrPacket.serialize`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  PictureLossIndication,
  ProtectionProfileAeadAes128Gcm,
  ProtectionProfileAes128CmHmacSha1_80,
  RtcpPacketConverter,
  RtcpPayloadSpecificFeedback,
  RtcpSenderInfo,
  RtcpSrPacket,
  SrtcpSession,
} from 'werift';
import { senderReport, srtcpEncrypterFor, type SrtcpLocalContextLike } from '../src/sfu/srtcpEncrypter.js';

function sessions(profile: number): { sfu: SrtcpSession; reference: SrtcpSession; peer: SrtcpSession } {
  const saltLength = profile === ProtectionProfileAeadAes128Gcm ? 12 : 14;
  const a = { key: randomBytes(16), salt: randomBytes(saltLength) };
  const b = { key: randomBytes(16), salt: randomBytes(saltLength) };
  const local = { localMasterKey: a.key, localMasterSalt: a.salt, remoteMasterKey: b.key, remoteMasterSalt: b.salt };
  const remote = { localMasterKey: b.key, localMasterSalt: b.salt, remoteMasterKey: a.key, remoteMasterSalt: a.salt };
  return { sfu: new SrtcpSession({ keys: local, profile }), reference: new SrtcpSession({ keys: local, profile }), peer: new SrtcpSession({ keys: remote, profile }) };
}
const localContext = (s: SrtcpSession): SrtcpLocalContextLike => (s as unknown as { localContext: SrtcpLocalContextLike }).localContext;

const sr = (ssrc: number, n: number): RtcpSrPacket =>
  new RtcpSrPacket({ ssrc, senderInfo: new RtcpSenderInfo({ ntpTimestamp: 0xe9a1b2c3_d4e5f607n + BigInt(n) * 0x1_0000_0000n, rtpTimestamp: (n * 960 + 0xfffff000) >>> 0, packetCount: n * 50, octetCount: n * 4000 }) });

describe('a sender report written directly', () => {
  test("is werift's RtcpSrPacket.serialize (full 32-bit counters, a 64-bit NTP time)", () => {
    for (const n of [0, 1, 77, 1_000_000]) {
      const p = sr(0x80000001 + n, n);
      const mine = senderReport(p.ssrc, p.senderInfo.ntpTimestamp, p.senderInfo.rtpTimestamp, p.senderInfo.packetCount, p.senderInfo.octetCount);
      assert.equal(mine.toString('hex'), p.serialize().toString('hex'), `report ${n}`);
    }
  });
});

for (const [name, profile] of [
  ['AEAD_AES_128_GCM', ProtectionProfileAeadAes128Gcm],
  ['AES_CM_128_HMAC_SHA1_80', ProtectionProfileAes128CmHmacSha1_80],
] as const) {
  describe(`SRTCP encryption, ${name}`, () => {
    test("the same bytes as werift's, for two SSRCs, a PLI and a 1,700-byte compound; the peer decrypts them", () => {
      const { sfu, reference, peer } = sessions(profile);
      const ours = srtcpEncrypterFor(localContext(sfu));
      assert.ok(ours);
      const big = Buffer.concat([sr(7, 1).serialize(), ...Array.from({ length: 60 }, () => new RtcpPayloadSpecificFeedback({ feedback: new PictureLossIndication({ senderSsrc: 7, mediaSsrc: 9 }) }).serialize())]);
      for (let n = 0; n < 40; n++) {
        const rtcp = n % 5 === 4 ? big : n % 3 === 2 ? new RtcpPayloadSpecificFeedback({ feedback: new PictureLossIndication({ senderSsrc: 1, mediaSsrc: 0x1234 }) }).serialize() : sr(n % 2 === 0 ? 0x0a0a0a0a : 0x0b0b0b0b, n).serialize();
        const mine: Buffer = ours.encrypt(rtcp);
        const theirs = reference.encrypt(rtcp);
        assert.equal(mine.toString('hex'), theirs.toString('hex'), `packet ${n} (${rtcp.length} bytes) differs from werift's`);
        assert.equal(peer.decrypt(mine).toString('hex'), rtcp.toString('hex'), `packet ${n} did not decrypt`);
      }
    });

    test("keeps the index in werift's context: werift's own next packet does not reuse one", () => {
      const { sfu, reference, peer } = sessions(profile);
      const ours = srtcpEncrypterFor(localContext(sfu));
      assert.ok(ours);
      const rtcp = sr(0x0c0c0c0c, 3).serialize();
      const first = ours.encrypt(rtcp);
      const second = sfu.encrypt(rtcp); // werift's path on the same session
      assert.notEqual(first.toString('hex'), second.toString('hex'));
      assert.equal(reference.encrypt(rtcp).toString('hex'), first.toString('hex'));
      assert.equal(reference.encrypt(rtcp).toString('hex'), second.toString('hex'));
      assert.deepEqual(RtcpPacketConverter.deSerialize(peer.decrypt(second)).map((p) => p.type), [200]);
    });
  });
}
