/**
 * The SFU's own encryption of outgoing RTP (src/sfu/srtpEncrypter.ts: AES_CM_128_HMAC_SHA1_80,
 * and AEAD_AES_128_GCM with its GHASH in WebAssembly or, as the fallback, in JavaScript) must
 * produce exactly the packets werift's per-packet cipher produces, and the receiving side
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
  for (const [name, profile, options] of [
    ['AES_CM_128_HMAC_SHA1_80', ProtectionProfileAes128CmHmacSha1_80, {}],
    ['AEAD_AES_128_GCM (wasm GHASH)', ProtectionProfileAeadAes128Gcm, { ghash: 'wasm' }],
    ['AEAD_AES_128_GCM (wasm GHASH, 8-bit table)', ProtectionProfileAeadAes128Gcm, { ghash: 'wasm8' }],
    ['AEAD_AES_128_GCM (JavaScript GHASH)', ProtectionProfileAeadAes128Gcm, { ghash: 'js' }],
  ] as const) {
  test(`${name}: the same bytes as werift, decryptable by the receiver, across a rollover`, () => {
    const { sender, reference, receiver } = sessions(profile);
    assert.equal(installRtpEncrypter(sender, options), true);
    const ssrc = 0x1234abcd;
    let seq = 65_500;
    for (let n = 0; n < 120; n++, seq = (seq + 1) & 0xffff) {
      const payloadLength = n === 7 ? 3_000 : n === 8 ? 0 : n === 9 ? 1_500 : n === 10 ? 70_000 : 1 + ((n * 37) % 200);
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

  test(`${name}: the same bytes as werift for two interleaved streams with retransmissions, jumps and a wrap`, () => {
    // The SFU makes audio keystream 16 packets ahead per SSRC; packets behind, past or across
    // a batch, and a second SSRC on the same transport, must still be encrypted exactly.
    const { sender, reference } = sessions(profile);
    assert.equal(installRtpEncrypter(sender, options), true);
    const a: number[] = [];
    for (let s = 100; s < 140; s++) a.push(s);
    a.splice(20, 0, 105, 103); // NACKed packets sent again
    a.push(1000, 1001, 130, 1002, 1020, 1019); // a jump, an old one, a jump inside a batch, one behind
    const b: number[] = [];
    for (let s = 65_525; s < 65_536 + 20; s++) b.push(s & 0xffff); // a wrap: the rollover counter moves
    b.splice(15, 0, 65_534); // behind, across the wrap
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      for (const [ssrc, seqs] of [[0x0a0a0a0a, a], [0x0b0b0b0b, b]] as const) {
        const seq = seqs[i];
        if (seq === undefined) continue;
        const payload = randomBytes(i % 4 === 0 ? 144 : i % 4 === 1 ? 145 : 40 + (i % 60));
        const header = new RtpHeader({ payloadType: 111, sequenceNumber: seq, timestamp: i * 960, ssrc, extension: true, extensionProfile: 0xbede, extensions: [{ id: 1, payload: Buffer.from('0') }] });
        assert.equal(sender.encrypt(payload, header).toString('hex'), reference.encrypt(payload, header).toString('hex'), `ssrc ${ssrc.toString(16)} packet ${i} (seq ${seq}, ${payload.length} bytes) differs from werift's`);
      }
    }
  });

  test(`${name}: a tampered packet fails authentication at the receiver`, () => {
    const { sender, receiver } = sessions(profile);
    assert.equal(installRtpEncrypter(sender, options), true);
    const packet = sender.encrypt(randomBytes(80), new RtpHeader({ payloadType: 111, sequenceNumber: 1, timestamp: 0, ssrc: 7 }));
    // A flipped bit in the header (authenticated, not encrypted), the payload, or the tag.
    for (const at of [1, 20, packet.length - 1]) {
      const tampered = Buffer.from(packet);
      tampered[at] = tampered[at]! ^ 1;
      assert.throws(() => receiver.decrypt(tampered), /authenticate/, `a flipped bit at byte ${at} was accepted`);
    }
    assert.equal(receiver.decrypt(packet).length, 12 + 80);
  });
  }
});
