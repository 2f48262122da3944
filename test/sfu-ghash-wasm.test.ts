/**
 * AES-GCM's GHASH in WebAssembly (src/sfu/ghashWasm.ts), as the SFU's SRTP encrypter uses it:
 * the module is built and instantiated in this process, its tags equal node:crypto's AES-GCM
 * for every AAD and text length around the block boundaries, a context's table in wasm memory
 * goes back when its transport releases it or when the encrypter is collected, and without
 * WebAssembly the JavaScript GHASH produces the same packets.
 */
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ProtectionProfileAeadAes128Gcm, RtpHeader, SrtpSession } from 'werift';
import { DATA, KS, disableGhashWasmForTests, ghashWasm } from '../src/sfu/ghashWasm.js';
import { AesGcmRtpEncrypter, installRtpEncrypter, releaseRtpEncrypter } from '../src/sfu/srtpEncrypter.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function gcmSessions(): { sender: SrtpSession; reference: SrtpSession } {
  const keys = { localMasterKey: randomBytes(16), localMasterSalt: randomBytes(12), remoteMasterKey: randomBytes(16), remoteMasterSalt: randomBytes(12) };
  return { sender: new SrtpSession({ keys, profile: ProtectionProfileAeadAes128Gcm }), reference: new SrtpSession({ keys, profile: ProtectionProfileAeadAes128Gcm }) };
}

function header(seq: number): RtpHeader {
  return new RtpHeader({ payloadType: 111, sequenceNumber: seq, timestamp: seq * 960, ssrc: 0x5eed, extension: true, extensionProfile: 0xbede, extensions: [{ id: 1, payload: Buffer.from([seq & 0xff]) }] });
}

function sessionKeys(s: SrtpSession): { key: Buffer; salt: Buffer } {
  const context = s.localContext as unknown as { srtpSessionKey: Buffer; srtpSessionSalt: Buffer };
  return { key: context.srtpSessionKey, salt: context.srtpSessionSalt };
}

describe('GHASH in WebAssembly', () => {
  test('the module is built and instantiated here, and a new AES-GCM context uses it', () => {
    const wasm = ghashWasm();
    assert.ok(wasm, 'WebAssembly GHASH could not be instantiated');
    const { key, salt } = sessionKeys(gcmSessions().sender);
    const encrypter = new AesGcmRtpEncrypter(key, salt);
    assert.equal(encrypter.ghashBackend, 'wasm');
    encrypter.release();
  });

  for (const bits of [4, 8] as const) test(`${bits}-bit table: seal gives node:crypto's AES-GCM ciphertext and tag for AAD 0–40 and text 0–100 bytes, and long texts`, () => {
    const wasm = ghashWasm(bits)!;
    assert.equal(wasm.tableBits, bits);
    const lengths: Array<[number, number]> = [];
    for (let aad = 0; aad <= 40; aad++) for (let text = 0; text <= 100; text += aad % 3 === 0 ? 1 : 7) lengths.push([aad, text]);
    lengths.push([12, 1_500], [72, 9_000], [16, 65_000]);
    for (const [aadLength, textLength] of lengths) {
      const key = randomBytes(16);
      const iv = randomBytes(12);
      const aad = randomBytes(aadLength);
      const text = randomBytes(textLength);
      const gcm = createCipheriv('aes-128-gcm', key, iv);
      gcm.setAAD(aad);
      const expected = Buffer.concat([gcm.update(text), gcm.final(), gcm.getAuthTag()]);
      // The keystream E(J0) ‖ E(J0 + 1) ‖ …, as the encrypter makes it with AES-ECB.
      const ecb = createCipheriv('aes-128-ecb', key, null);
      ecb.setAutoPadding(false);
      const blocks = Math.ceil(textLength / 16) + 1;
      const counters = Buffer.alloc(blocks * 16);
      for (let b = 0; b < blocks; b++) {
        iv.copy(counters, b * 16);
        counters.writeUInt32BE(b + 1, b * 16 + 12);
      }
      const table = wasm.allocate(ecb.update(Buffer.alloc(16)));
      const heap = wasm.heap;
      aad.copy(heap, DATA);
      text.copy(heap, DATA + aadLength);
      ecb.update(counters).copy(heap, KS);
      wasm.seal(table, DATA, aadLength, textLength, KS);
      wasm.release(table);
      const got = heap.subarray(DATA + aadLength, DATA + aadLength + textLength + 16);
      assert.equal(got.toString('hex'), expected.toString('hex'), `AAD ${aadLength} bytes, text ${textLength} bytes`);
    }
  });

  test('a released table goes back and is reused, and the released context still encrypts exactly', () => {
    const wasm = ghashWasm()!;
    const before = wasm.stats().inUse;
    const pairs = Array.from({ length: 20 }, () => gcmSessions());
    for (const { sender } of pairs) assert.equal(installRtpEncrypter(sender), true);
    assert.equal(wasm.stats().inUse, before + 20);
    const payload = randomBytes(100);
    for (const { sender, reference } of pairs) assert.deepEqual(sender.encrypt(payload, header(1)), reference.encrypt(payload, header(1)));
    for (const { sender } of pairs) releaseRtpEncrypter(sender);
    releaseRtpEncrypter(pairs[0]!.sender); // twice: no double free
    assert.equal(wasm.stats().inUse, before);
    const allocated = wasm.stats().allocated;
    const more = Array.from({ length: 20 }, () => gcmSessions());
    for (const { sender } of more) installRtpEncrypter(sender);
    assert.equal(wasm.stats().allocated, allocated, 'freed tables were not reused');
    // Packets after release (other contexts now hold those tables) are still werift's bytes.
    for (const { sender, reference } of [...pairs, ...more]) {
      for (let seq = 2; seq < 5; seq++) assert.deepEqual(sender.encrypt(payload, header(seq)), reference.encrypt(payload, header(seq)));
    }
    for (const { sender } of more) releaseRtpEncrypter(sender);
  });

  test('tables of encrypters dropped without release go back when they are collected', async () => {
    const wasm = ghashWasm()!;
    const before = wasm.stats().inUse;
    (() => {
      for (let i = 0; i < 30; i++) {
        const { key, salt } = sessionKeys(gcmSessions().sender);
        new AesGcmRtpEncrypter(key, salt).encryptRtp(header(i), randomBytes(50), 0);
      }
    })();
    assert.equal(wasm.stats().inUse, before + 30);
    // FinalizationRegistry callbacks run after a GC, from a later task.
    for (let round = 0; round < 50 && wasm.stats().inUse > before; round++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(wasm.stats().inUse, before);
  });

  test('without WebAssembly, AES-GCM contexts use the JavaScript GHASH and give the same packets', () => {
    disableGhashWasmForTests(true);
    try {
      assert.equal(ghashWasm(), null);
      const { sender, reference } = gcmSessions();
      const { key, salt } = sessionKeys(sender);
      assert.equal(new AesGcmRtpEncrypter(key, salt).ghashBackend, 'js');
      assert.equal(installRtpEncrypter(sender), true);
      for (let seq = 65_530, n = 0; n < 40; n++, seq = (seq + 1) & 0xffff) {
        const payload = randomBytes(n === 3 ? 2_000 : 20 + n * 3);
        assert.deepEqual(sender.encrypt(payload, header(seq)), reference.encrypt(payload, header(seq)), `packet ${n}`);
      }
    } finally {
      disableGhashWasmForTests(false);
    }
    assert.ok(ghashWasm());
  });
});
