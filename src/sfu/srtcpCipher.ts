/**
 * The two pieces of SRTCP's ciphers that encryption (srtcpEncrypter.ts) and decryption
 * (srtpDecrypter.ts) share: AEAD_AES_128_GCM's IV (RFC 7714 §9.1) and AES_CM_128's keystream
 * with the SRTCP index as packet index (RFC 3711 §4.1.1). Both are XOR operations, so the same
 * code encrypts and decrypts.
 */
import { createCipheriv, type Cipher } from 'node:crypto';

/** An RTCP packet's fixed header: the part before the encrypted payload. */
export const RTCP_HEADER_SIZE = 8;
const BLOCK = 16;
/** Counter blocks of up to 1,536 bytes of SRTCP payload are made in one scratch buffer. */
const MAX_SCRATCH_BLOCKS = 96;

/** iv = (0x0000 ‖ SSRC ‖ 0x0000 ‖ index) XOR salt, written into the 12-byte `iv`. */
export function writeSrtcpGcmIv(iv: Buffer, salt: Buffer, ssrc: number, index: number): void {
  iv.writeUInt32BE(ssrc >>> 0, 2);
  iv.writeUInt32BE(index >>> 0, 8);
  iv[0] = salt[0]!;
  iv[1] = salt[1]!;
  for (let i = 2; i < 6; i++) iv[i] = iv[i]! ^ salt[i]!;
  iv[6] = salt[6]!;
  iv[7] = salt[7]!;
  for (let i = 8; i < 12; i++) iv[i] = iv[i]! ^ salt[i]!;
}

/** AES-CM's keystream for SRTCP, with one AES-128-ECB key schedule kept per context. */
export class SrtcpCounterKeystream {
  private readonly ecb: Cipher;
  private readonly salt: Buffer;
  private readonly counters = Buffer.alloc(MAX_SCRATCH_BLOCKS * BLOCK);

  constructor(sessionKey: Buffer, sessionSalt: Buffer) {
    this.ecb = createCipheriv('aes-128-ecb', sessionKey, null);
    this.ecb.setAutoPadding(false);
    this.salt = Buffer.from(sessionSalt.subarray(0, 14));
  }

  /**
   * XORs the keystream into out[8, end): block j is AES((k_s · 2^16) XOR (SSRC · 2^64) XOR
   * (index · 2^16) + j).
   */
  xor(out: Buffer, end: number, ssrc: number, index: number): void {
    const salt = this.salt;
    const counters = this.counters;
    let done = RTCP_HEADER_SIZE;
    let blockIndex = 0;
    while (done < end) {
      const bytes = Math.min(end - done, MAX_SCRATCH_BLOCKS * BLOCK);
      const blocks = Math.ceil(bytes / BLOCK);
      for (let b = 0; b < blocks; b++, blockIndex++) {
        const o = b * BLOCK;
        counters.fill(0, o, o + BLOCK);
        counters.writeUInt32BE(ssrc >>> 0, o + 4);
        counters.writeUInt32BE(index >>> 16, o + 8);
        counters.writeUInt16BE(index & 0xffff, o + 12);
        for (let i = 0; i < 14; i++) counters[o + i] = counters[o + i]! ^ salt[i]!;
        counters.writeUInt16BE(blockIndex & 0xffff, o + 14);
      }
      const keystream = this.ecb.update(counters.subarray(0, blocks * BLOCK));
      for (let i = 0; i < bytes; i++) out[done + i] = out[done + i]! ^ keystream[i]!;
      done += bytes;
    }
  }
}
