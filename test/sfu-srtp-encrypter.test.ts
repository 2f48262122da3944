/**
 * The SFU's own AES_CM_128_HMAC_SHA1_80 encryption of outgoing RTP (src/sfu/srtpEncrypter.ts)
 * must produce exactly the packets werift's per-packet cipher produces, and the receiving side
 * (werift's SRTP session with the mirrored keys, as a browser's would be) must decrypt them:
 * across a sequence-number rollover, with header extensions, and for payloads longer than one
 * scratch buffer.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80, RtpHeader, SrtpSession } from 'werift';
import { installRtpEncrypter } from '../src/sfu/srtpEncrypter.js';

function sessions(profile: number): { sender: SrtpSession; reference: SrtpSession; receiver: SrtpSession } {
  const keyLength = 16;
  const saltLength = profile === ProtectionProfileAeadAes128Gcm ? 12 : 14;
  const a = { key: randomBytes(keyLength), salt: randomBytes(saltLength) };
  const b = { key: randomBytes(keyLength), salt: randomBytes(saltLength) };
  const local = { localMasterKey: a.key, localMasterSalt: a.salt, remoteMasterKey: b.key, remoteMasterSalt: b.salt };
  const remote = { localMasterKey: b.key, localMasterSalt: b.salt, remoteMasterKey: a.key, remoteMasterSalt: a.salt };
  return {
    sender: new SrtpSession({ keys: local, profile }),
    reference: new SrtpSession({ keys: local, profile }),
    receiver: new SrtpSession({ keys: remote, profile }),
  };
}

describe('SRTP encryption with a key schedule per context', () => {
  for (const [name, profile] of [
    ['AES_CM_128_HMAC_SHA1_80', ProtectionProfileAes128CmHmacSha1_80],
    ['AEAD_AES_128_GCM', ProtectionProfileAeadAes128Gcm],
  ] as const) {
  test(`${name}: the same bytes as werift, decryptable by the receiver, across a rollover`, () => {
    const { sender, reference, receiver } = sessions(profile);
    assert.equal(installRtpEncrypter(sender), true);
    const ssrc = 0x1234abcd;
    let seq = 65_500;
    for (let n = 0; n < 120; n++, seq = (seq + 1) & 0xffff) {
      const payloadLength = n === 7 ? 3_000 : n === 8 ? 0 : 1 + ((n * 37) % 200);
      const payload = randomBytes(payloadLength);
      const header = new RtpHeader({
        payloadType: 111,
        sequenceNumber: seq,
        timestamp: n * 960,
        ssrc,
        marker: n % 10 === 0,
        ...(n % 3 === 0 ? { extension: true, extensionProfile: 0xbede, extensions: [{ id: 1, payload: Buffer.from([n & 0xff]) }] } : {}),
        // Two one-byte extensions (mid and audio level, as a consumer writes them), a two-byte profile, CSRCs, padding flag.
        ...(n % 3 === 1 ? { extension: true, extensionProfile: 0xbede, extensions: [{ id: 4, payload: Buffer.from(String(n % 13)) }, { id: 10, payload: Buffer.from([0x80 | n % 127]) }] } : {}),
        ...(n % 9 === 2 ? { extension: true, extensionProfile: 0x1000, extensions: [{ id: 20, payload: randomBytes(n % 5) }] } : {}),
        ...(n % 11 === 5 ? { csrc: [0xdeadbeef, n] } : {}),
      });
      const ours = sender.encrypt(payload, header);
      const theirs = reference.encrypt(payload, header);
      assert.equal(ours.toString('hex'), theirs.toString('hex'), `packet ${n} (seq ${seq}, ${payloadLength} bytes) differs from werift's`);
      const plain = receiver.decrypt(ours);
      assert.equal(plain.subarray(plain.length - payloadLength).toString('hex'), payload.toString('hex'), `packet ${n} did not decrypt`);
    }
  });

  test(`${name}: a tampered packet fails authentication at the receiver`, () => {
    const { sender, receiver } = sessions(profile);
    assert.equal(installRtpEncrypter(sender), true);
    const packet = sender.encrypt(randomBytes(80), new RtpHeader({ payloadType: 111, sequenceNumber: 1, timestamp: 0, ssrc: 7 }));
    packet[20] = packet[20]! ^ 1;
    assert.throws(() => receiver.decrypt(packet), /authenticate/);
  });
  }
});
