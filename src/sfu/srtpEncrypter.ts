/**
 * SRTP encryption of outgoing RTP with the key schedule kept per SRTP context instead of
 * rebuilt per packet: AEAD_AES_128_GCM (RFC 7714) and AES_CM_128_HMAC_SHA1_80 (RFC 3711).
 *
 * werift's ciphers call `createCipheriv` (a fresh AES key schedule, ≈ 3 µs in Node 20) for
 * every packet, then `Buffer.concat` header, payload and tag. Node cannot re-key a GCM cipher
 * with a new IV, so here one AES-128-ECB cipher object per context makes the counter-mode
 * keystream (both profiles are AES of counter blocks XORed with the payload) in a single
 * `update` per packet (per 16 packets for forwarded audio), and GCM's GHASH uses a table of
 * multiples of H built once per context (Shoup's 8-bit method): in WebAssembly with 64-bit
 * words (ghashWasm.ts, which also does the payload XOR and the tag in the same call), or in
 * JavaScript where wasm cannot be instantiated. AES-CM's HMAC-SHA1 stays one `createHmac` per
 * packet (copying pre-keyed SHA-1 states measured dearer). The packet is written into one buffer.
 *
 * Only the encryption of outgoing RTP is replaced: rollover counting stays in werift's
 * context (which calls `encryptRtp(header, payload, rolloverCounter)`), as do SRTCP and
 * decryption. test/sfu-srtp-encrypter.test.ts checks the bytes against werift's ciphers.
 */
import { createCipheriv, createHmac, type Cipher } from 'node:crypto';
import { ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80, type RtpHeader } from 'werift';
import { DATA as WASM_DATA, DATA_SIZE as WASM_DATA_SIZE, KS as WASM_KS, KS_SIZE as WASM_KS_SIZE, ghashWasm, type GhashWasm } from './ghashWasm.js';

const AUTH_TAG_LENGTH = 10;
const ONE_BYTE_PROFILE = 0xbede;
const TWO_BYTE_PROFILE = 0x1000;

/**
 * Writes the RTP header into `out` at `at` (`size` = `header.serializeSize`), the bytes
 * werift's `RtpHeader.serialize` makes, without its zero-filled buffer of its own, its two bit
 * writers per packet and the copy into the packet. Unknown extension profiles go through werift.
 */
export function writeRtpHeader(header: RtpHeader, size: number, out: Buffer, at = 0): void {
  const { extensions, csrc } = header;
  const extension = extensions.length > 0 || header.extension;
  const profile = header.extensionProfile;
  if (extension && profile !== ONE_BYTE_PROFILE && profile !== TWO_BYTE_PROFILE) {
    header.serialize(size).copy(out, at);
    return;
  }
  out[at] = 0x80 | (header.padding ? 0x20 : 0) | (extension ? 0x10 : 0) | (csrc.length & 0x0f);
  out[at + 1] = (header.marker ? 0x80 : 0) | (header.payloadType & 0x7f);
  out.writeUInt16BE(header.sequenceNumber & 0xffff, at + 2);
  out.writeUInt32BE(header.timestamp >>> 0, at + 4);
  out.writeUInt32BE(header.ssrc >>> 0, at + 8);
  let o = at + 12;
  for (let i = 0; i < csrc.length; i++, o += 4) out.writeUInt32BE(csrc[i]! >>> 0, o);
  if (!extension) return;
  const lengthAt = o + 2;
  out.writeUInt16BE(profile, o);
  o += 4;
  const start = o;
  for (let i = 0; i < extensions.length; i++) {
    const e = extensions[i]!;
    if (profile === ONE_BYTE_PROFILE) out[o++] = ((e.id << 4) | (e.payload.length - 1)) & 0xff;
    else {
      out[o++] = e.id & 0xff;
      out[o++] = e.payload.length & 0xff;
    }
    // Extension payloads are a few bytes (MID, audio level): a loop is cheaper than Buffer.copy's
    // argument checks and native call.
    const payload = e.payload;
    for (let k = 0; k < payload.length; k++) out[o + k] = payload[k]!;
    o += payload.length;
  }
  const words = Math.trunc((o - start + 3) / 4);
  out.writeUInt16BE(words, lengthAt);
  out.fill(0, o, start + words * 4);
}
const BLOCK = 16;
/** Counter blocks for up to 1,536 payload bytes are built in one scratch buffer. */
const MAX_SCRATCH_BLOCKS = 96;

/** Where an encrypter writes the next packet (default: a new Buffer per packet). */
export type PacketOutput = (size: number) => Buffer;

export class AesCmRtpEncrypter {
  /** Set around one `encryptRtp` call to have the packet written there (see `rtpEncrypterOf`). */
  output: PacketOutput | undefined;
  private readonly ecb: Cipher;
  private readonly authKey: Buffer;
  private readonly salt: Buffer;
  private readonly counters = Buffer.alloc(MAX_SCRATCH_BLOCKS * BLOCK);
  private readonly roc = Buffer.alloc(4);

  /** `sessionKey` (16 bytes), `sessionSalt` (14 bytes), `authKey` (20 bytes): RFC 3711 §4.3 session keys. */
  constructor(sessionKey: Buffer, sessionSalt: Buffer, authKey: Buffer) {
    this.ecb = createCipheriv('aes-128-ecb', sessionKey, null);
    this.ecb.setAutoPadding(false);
    this.salt = Buffer.from(sessionSalt.subarray(0, 14));
    this.authKey = Buffer.from(authKey);
  }

  /** The SRTP packet for this header and payload: header ‖ AES-CM(payload) ‖ tag. */
  encryptRtp(header: RtpHeader, payload: Buffer, rolloverCounter: number): Buffer {
    const headerSize = header.serializeSize;
    const authEnd = headerSize + payload.length;
    const out = this.output ? this.output(authEnd + AUTH_TAG_LENGTH) : Buffer.allocUnsafe(authEnd + AUTH_TAG_LENGTH);
    writeRtpHeader(header, headerSize, out);
    this.xorKeystream(out, headerSize, payload, header.ssrc, rolloverCounter, header.sequenceNumber);
    this.roc.writeUInt32BE(rolloverCounter >>> 0, 0);
    // createHmac per packet: measured cheaper in Node 20 than copying pre-keyed SHA-1 states.
    const tag = createHmac('sha1', this.authKey).update(out.subarray(0, authEnd)).update(this.roc).digest();
    tag.copy(out, authEnd, 0, AUTH_TAG_LENGTH);
    return out;
  }

  /**
   * RFC 3711 §4.1.1: IV = (k_s · 2^16) XOR (SSRC · 2^64) XOR (i · 2^16), i = ROC · 2^16 + SEQ;
   * block j of the keystream is AES(IV + j).
   */
  private xorKeystream(out: Buffer, offset: number, payload: Buffer, ssrc: number, roc: number, seq: number): void {
    let done = 0;
    let blockIndex = 0;
    while (done < payload.length) {
      const bytes = Math.min(payload.length - done, MAX_SCRATCH_BLOCKS * BLOCK);
      const blocks = Math.ceil(bytes / BLOCK);
      const counters = this.counters;
      for (let b = 0; b < blocks; b++, blockIndex++) {
        const o = b * BLOCK;
        counters.fill(0, o, o + BLOCK);
        counters.writeUInt32BE(ssrc >>> 0, o + 4);
        counters.writeUInt32BE(roc >>> 0, o + 8);
        counters.writeUInt16BE(seq & 0xffff, o + 12);
        counters.writeUInt16BE(blockIndex & 0xffff, o + 14);
        for (let i = 0; i < 14; i++) counters[o + i] = counters[o + i]! ^ this.salt[i]!;
      }
      const keystream = this.ecb.update(counters.subarray(0, blocks * BLOCK));
      for (let i = 0; i < bytes; i++) out[offset + done + i] = payload[done + i]! ^ keystream[i]!;
      done += bytes;
    }
  }
}


/**
 * The first word of x^8 · (an element whose last byte is b), for the byte that a shift by 8
 * pushes out of the 128-bit string (GCM's bit-reflected order: byte 0's most significant bit is x^0). Words are
 * kept as int32 (Int32Array) so V8 never boxes them as doubles.
 */
const REDUCE = (() => {
  const table = new Int32Array(256);
  for (let b = 0; b < 256; b++) {
    let v0 = 0;
    let v1 = 0;
    let v2 = 0;
    let v3 = b;
    for (let k = 0; k < 8; k++) {
      const carry = v3 & 1;
      v3 = (v3 >>> 1) | (v2 << 31);
      v2 = (v2 >>> 1) | (v1 << 31);
      v1 = (v1 >>> 1) | (v0 << 31);
      v0 = (v0 >>> 1) ^ (carry ? 0xe1000000 : 0);
    }
    // x^128..x^135 reduce to degree ≤ 14: only the first word is touched
    if (v1 !== 0 || v2 !== 0 || v3 !== 0) throw new Error('GHASH reduction table: unexpected carry');
    table[b] = v0;
  }
  return table;
})();

/**
 * The 12-byte IV of RFC 7714 §8.1 at buf[offset, offset + 12):
 * (0x0000 ‖ SSRC ‖ ROC ‖ SEQ) XOR salt. The encrypter and srtpDecrypter.ts write it.
 */
export function writeSrtpGcmIv(buf: Buffer, offset: number, salt: Buffer, ssrc: number, roc: number, seq: number): void {
  buf[offset] = salt[0]!;
  buf[offset + 1] = salt[1]!;
  buf[offset + 2] = salt[2]! ^ (ssrc >>> 24);
  buf[offset + 3] = salt[3]! ^ ((ssrc >>> 16) & 0xff);
  buf[offset + 4] = salt[4]! ^ ((ssrc >>> 8) & 0xff);
  buf[offset + 5] = salt[5]! ^ (ssrc & 0xff);
  buf[offset + 6] = salt[6]! ^ (roc >>> 24);
  buf[offset + 7] = salt[7]! ^ ((roc >>> 16) & 0xff);
  buf[offset + 8] = salt[8]! ^ ((roc >>> 8) & 0xff);
  buf[offset + 9] = salt[9]! ^ (roc & 0xff);
  buf[offset + 10] = salt[10]! ^ (seq >>> 8);
  buf[offset + 11] = salt[11]! ^ (seq & 0xff);
}

/** GHASH (NIST SP 800-38D §6.4) with H's 256 byte multiples precomputed (4 KiB per key). */
export class Ghash {
  /** table[4b..4b+3] = (the element whose first byte is b) · H. */
  private readonly table = new Int32Array(256 * 4);
  private y0 = 0;
  private y1 = 0;
  private y2 = 0;
  private y3 = 0;

  constructor(h: Buffer) {
    const t = this.table;
    let v0 = h.readInt32BE(0);
    let v1 = h.readInt32BE(4);
    let v2 = h.readInt32BE(8);
    let v3 = h.readInt32BE(12);
    // M[0x80 >> k] = H · x^k
    for (let k = 0; k < 8; k++) {
      const i = (0x80 >>> k) * 4;
      t[i] = v0;
      t[i + 1] = v1;
      t[i + 2] = v2;
      t[i + 3] = v3;
      const carry = v3 & 1;
      v3 = (v3 >>> 1) | (v2 << 31);
      v2 = (v2 >>> 1) | (v1 << 31);
      v1 = (v1 >>> 1) | (v0 << 31);
      v0 = (v0 >>> 1) ^ (carry ? 0xe1000000 : 0);
    }
    for (let b = 2; b < 256; b <<= 1) {
      for (let low = 1; low < b; low++) {
        for (let w = 0; w < 4; w++) t[(b + low) * 4 + w] = t[b * 4 + w]! ^ t[low * 4 + w]!;
      }
    }
  }

  reset(): void {
    this.y0 = this.y1 = this.y2 = this.y3 = 0;
  }

  /** Y = (Y ⊕ X) · H for each 16-byte block of buf[start, end), the last one zero-padded. */
  update(buf: Buffer, start: number, end: number): void {
    let o = start;
    for (; o + 16 <= end; o += 16) this.block(buf.readInt32BE(o), buf.readInt32BE(o + 4), buf.readInt32BE(o + 8), buf.readInt32BE(o + 12));
    if (o < end) {
      const w = [0, 0, 0, 0];
      for (let i = o; i < end; i++) w[(i - o) >> 2] = w[(i - o) >> 2]! | (buf[i]! << (24 - 8 * ((i - o) & 3)));
      this.block(w[0]!, w[1]!, w[2]!, w[3]!);
    }
  }

  /** The lengths block (bits of A and of C), then S XOR mask into out[offset, offset + 16). */
  finish(aadBytes: number, textBytes: number, mask: Buffer, maskOffset: number, out: Buffer, offset: number): void {
    this.block(0, aadBytes * 8, 0, textBytes * 8);
    out.writeInt32BE(this.y0 ^ mask.readInt32BE(maskOffset), offset);
    out.writeInt32BE(this.y1 ^ mask.readInt32BE(maskOffset + 4), offset + 4);
    out.writeInt32BE(this.y2 ^ mask.readInt32BE(maskOffset + 8), offset + 8);
    out.writeInt32BE(this.y3 ^ mask.readInt32BE(maskOffset + 12), offset + 12);
  }

  /** Y = (Y ⊕ X) · H by Horner from the last byte: Z = Z · x^8 ⊕ M[byte], unrolled. */
  private block(x0: number, x1: number, x2: number, x3: number): void {
    const t = this.table;
    const red = REDUCE;
    const a0 = this.y0 ^ x0;
    const a1 = this.y1 ^ x1;
    const a2 = this.y2 ^ x2;
    const a3 = this.y3 ^ x3;
    let z0: number, z1: number, z2: number, z3: number, m: number, r: number;
    m = (a3 & 0xff) << 2;
    z0 = t[m]!;
    z1 = t[m + 1]!;
    z2 = t[m + 2]!;
    z3 = t[m + 3]!;
    r = z3 & 0xff;
    m = ((a3 >>> 8) & 0xff) << 2;
    z3 = (z3 >>> 8) | (z2 << 24);
    z2 = (z2 >>> 8) | (z1 << 24);
    z1 = (z1 >>> 8) | (z0 << 24);
    z0 = z0 >>> 8;
    z0 ^= red[r]! ^ t[m]!;
    z1 ^= t[m + 1]!;
    z2 ^= t[m + 2]!;
    z3 ^= t[m + 3]!;
    r = z3 & 0xff;
    m = ((a3 >>> 16) & 0xff) << 2;
    z3 = (z3 >>> 8) | (z2 << 24);
    z2 = (z2 >>> 8) | (z1 << 24);
    z1 = (z1 >>> 8) | (z0 << 24);
    z0 = z0 >>> 8;
    z0 ^= red[r]! ^ t[m]!;
    z1 ^= t[m + 1]!;
    z2 ^= t[m + 2]!;
    z3 ^= t[m + 3]!;
    r = z3 & 0xff;
    m = (a3 >>> 24) << 2;
    z3 = (z3 >>> 8) | (z2 << 24);
    z2 = (z2 >>> 8) | (z1 << 24);
    z1 = (z1 >>> 8) | (z0 << 24);
    z0 = z0 >>> 8;
    z0 ^= red[r]! ^ t[m]!;
    z1 ^= t[m + 1]!;
    z2 ^= t[m + 2]!;
    z3 ^= t[m + 3]!;
    r = z3 & 0xff;
    m = (a2 & 0xff) << 2;
    z3 = (z3 >>> 8) | (z2 << 24);
    z2 = (z2 >>> 8) | (z1 << 24);
    z1 = (z1 >>> 8) | (z0 << 24);
    z0 = z0 >>> 8;
    z0 ^= red[r]! ^ t[m]!;
    z1 ^= t[m + 1]!;
    z2 ^= t[m + 2]!;
    z3 ^= t[m + 3]!;
    r = z3 & 0xff;
    m = ((a2 >>> 8) & 0xff) << 2;
    z3 = (z3 >>> 8) | (z2 << 24);
    z2 = (z2 >>> 8) | (z1 << 24);
    z1 = (z1 >>> 8) | (z0 << 24);
    z0 = z0 >>> 8;
    z0 ^= red[r]! ^ t[m]!;
    z1 ^= t[m + 1]!;
    z2 ^= t[m + 2]!;
    z3 ^= t[m + 3]!;
    r = z3 & 0xff;
    m = ((a2 >>> 16) & 0xff) << 2;
    z3 = (z3 >>> 8) | (z2 << 24);
    z2 = (z2 >>> 8) | (z1 << 24);
    z1 = (z1 >>> 8) | (z0 << 24);
    z0 = z0 >>> 8;
    z0 ^= red[r]! ^ t[m]!;
    z1 ^= t[m + 1]!;
    z2 ^= t[m + 2]!;
    z3 ^= t[m + 3]!;
    r = z3 & 0xff;
    m = (a2 >>> 24) << 2;
    z3 = (z3 >>> 8) | (z2 << 24);
    z2 = (z2 >>> 8) | (z1 << 24);
    z1 = (z1 >>> 8) | (z0 << 24);
    z0 = z0 >>> 8;
    z0 ^= red[r]! ^ t[m]!;
    z1 ^= t[m + 1]!;
    z2 ^= t[m + 2]!;
    z3 ^= t[m + 3]!;
    r = z3 & 0xff;
    m = (a1 & 0xff) << 2;
    z3 = (z3 >>> 8) | (z2 << 24);
    z2 = (z2 >>> 8) | (z1 << 24);
    z1 = (z1 >>> 8) | (z0 << 24);
    z0 = z0 >>> 8;
    z0 ^= red[r]! ^ t[m]!;
    z1 ^= t[m + 1]!;
    z2 ^= t[m + 2]!;
    z3 ^= t[m + 3]!;
    r = z3 & 0xff;
    m = ((a1 >>> 8) & 0xff) << 2;
    z3 = (z3 >>> 8) | (z2 << 24);
    z2 = (z2 >>> 8) | (z1 << 24);
    z1 = (z1 >>> 8) | (z0 << 24);
    z0 = z0 >>> 8;
    z0 ^= red[r]! ^ t[m]!;
    z1 ^= t[m + 1]!;
    z2 ^= t[m + 2]!;
    z3 ^= t[m + 3]!;
    r = z3 & 0xff;
    m = ((a1 >>> 16) & 0xff) << 2;
    z3 = (z3 >>> 8) | (z2 << 24);
    z2 = (z2 >>> 8) | (z1 << 24);
    z1 = (z1 >>> 8) | (z0 << 24);
    z0 = z0 >>> 8;
    z0 ^= red[r]! ^ t[m]!;
    z1 ^= t[m + 1]!;
    z2 ^= t[m + 2]!;
    z3 ^= t[m + 3]!;
    r = z3 & 0xff;
    m = (a1 >>> 24) << 2;
    z3 = (z3 >>> 8) | (z2 << 24);
    z2 = (z2 >>> 8) | (z1 << 24);
    z1 = (z1 >>> 8) | (z0 << 24);
    z0 = z0 >>> 8;
    z0 ^= red[r]! ^ t[m]!;
    z1 ^= t[m + 1]!;
    z2 ^= t[m + 2]!;
    z3 ^= t[m + 3]!;
    r = z3 & 0xff;
    m = (a0 & 0xff) << 2;
    z3 = (z3 >>> 8) | (z2 << 24);
    z2 = (z2 >>> 8) | (z1 << 24);
    z1 = (z1 >>> 8) | (z0 << 24);
    z0 = z0 >>> 8;
    z0 ^= red[r]! ^ t[m]!;
    z1 ^= t[m + 1]!;
    z2 ^= t[m + 2]!;
    z3 ^= t[m + 3]!;
    r = z3 & 0xff;
    m = ((a0 >>> 8) & 0xff) << 2;
    z3 = (z3 >>> 8) | (z2 << 24);
    z2 = (z2 >>> 8) | (z1 << 24);
    z1 = (z1 >>> 8) | (z0 << 24);
    z0 = z0 >>> 8;
    z0 ^= red[r]! ^ t[m]!;
    z1 ^= t[m + 1]!;
    z2 ^= t[m + 2]!;
    z3 ^= t[m + 3]!;
    r = z3 & 0xff;
    m = ((a0 >>> 16) & 0xff) << 2;
    z3 = (z3 >>> 8) | (z2 << 24);
    z2 = (z2 >>> 8) | (z1 << 24);
    z1 = (z1 >>> 8) | (z0 << 24);
    z0 = z0 >>> 8;
    z0 ^= red[r]! ^ t[m]!;
    z1 ^= t[m + 1]!;
    z2 ^= t[m + 2]!;
    z3 ^= t[m + 3]!;
    r = z3 & 0xff;
    m = (a0 >>> 24) << 2;
    z3 = (z3 >>> 8) | (z2 << 24);
    z2 = (z2 >>> 8) | (z1 << 24);
    z1 = (z1 >>> 8) | (z0 << 24);
    z0 = z0 >>> 8;
    z0 ^= red[r]! ^ t[m]!;
    z1 ^= t[m + 1]!;
    z2 ^= t[m + 2]!;
    z3 ^= t[m + 3]!;
    this.y0 = z0;
    this.y1 = z1;
    this.y2 = z2;
    this.y3 = z3;
  }
}

const GCM_TAG_LENGTH = 16;
/** Packets of one SSRC whose GCM keystream is made in one ECB call, ahead of their sequence numbers. */
const AHEAD_PACKETS = 16;
/** Keystream blocks made ahead per packet: E(J0), the tag's mask, then 9 blocks (payloads ≤ 144 bytes: an Opus frame up to ≈ 57 kbit/s). */
const AHEAD_BLOCKS = 10;
/** SSRCs of one context with a keystream made ahead (a transport's consumers); the oldest is forgotten. */
const AHEAD_SSRCS = 8;

/** Bytes 12–15 of a counter block (0, 0, 0, counter ≤ 255) as a 32-bit word in this machine's byte order. */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;
function counterWord(counter: number): number {
  return LITTLE_ENDIAN ? counter << 24 : counter;
}

/** Keystream for packets seq … seq + count − 1 of one SSRC and rollover counter, AHEAD_BLOCKS blocks each. */
interface Ahead {
  roc: number;
  seq: number;
  count: number;
  keystream: Buffer;
}

/** Which GHASH an AES-GCM encrypter uses: wasm with the default table (4-bit), wasm with the 8-bit table, or JavaScript. */
export interface EncrypterOptions {
  ghash?: 'wasm' | 'wasm8' | 'js';
}

/** Contexts whose encrypter became unreachable without `release`: their wasm table goes back. */
const tableRegistry = new FinalizationRegistry<{ ghash: GhashWasm; table: number }>(({ ghash, table }) => ghash.release(table));

export class AesGcmRtpEncrypter {
  /** Set around one `encryptRtp` call to have the packet written there (see `rtpEncrypterOf`). */
  output: PacketOutput | undefined;
  private readonly ecb: Cipher;
  private readonly h: Buffer;
  /** The JavaScript GHASH: made when wasm is not available, released, or the packet too large for its memory. */
  private jsGhash: Ghash | undefined;
  /** The thread's wasm GHASH and this context's table in it, until `release`. */
  private wasm: GhashWasm | undefined;
  private table = 0;
  private readonly salt: Buffer;
  private readonly counters = Buffer.alloc((MAX_SCRATCH_BLOCKS + 1) * BLOCK);
  private readonly aheadCounters = Buffer.alloc(AHEAD_PACKETS * AHEAD_BLOCKS * BLOCK);
  private readonly aheadWords = new Uint32Array(this.aheadCounters.buffer, this.aheadCounters.byteOffset, this.aheadCounters.length >>> 2);
  private readonly ahead = new Map<number, Ahead>();
  /** Where keystreamAhead's packet starts in the buffer it returned. */
  private aheadOffset = 0;

  /**
   * `sessionKey` (16 bytes), `sessionSalt` (≥ 12 bytes): RFC 7714 §11 session keys.
   * `ghash: 'js'` skips the wasm GHASH, `'wasm8'` uses its 8-bit table (tests and benchmarks).
   */
  constructor(sessionKey: Buffer, sessionSalt: Buffer, options: EncrypterOptions = {}) {
    this.ecb = createCipheriv('aes-128-ecb', sessionKey, null);
    this.ecb.setAutoPadding(false);
    this.salt = Buffer.from(sessionSalt.subarray(0, 12));
    this.h = this.ecb.update(Buffer.alloc(BLOCK));
    const wasm = options.ghash === 'js' ? null : options.ghash === 'wasm8' ? ghashWasm(8) : ghashWasm();
    if (wasm) {
      this.wasm = wasm;
      this.table = wasm.allocate(this.h);
      tableRegistry.register(this, { ghash: wasm, table: this.table }, this);
    } else {
      this.jsGhash = new Ghash(this.h);
    }
  }

  /** Which GHASH the next packet uses. */
  get ghashBackend(): 'wasm' | 'js' {
    return this.wasm ? 'wasm' : 'js';
  }

  /**
   * Gives this context's wasm table back now (its transport closed), instead of when the
   * encrypter is collected. A packet encrypted afterwards still comes out right (JS GHASH).
   */
  release(): void {
    if (!this.wasm) return;
    tableRegistry.unregister(this);
    this.wasm.release(this.table);
    this.wasm = undefined;
  }

  /** header ‖ AES-GCM(payload) ‖ 16-byte tag, the header as additional authenticated data. */
  encryptRtp(header: RtpHeader, payload: Buffer, rolloverCounter: number): Buffer {
    const headerSize = header.serializeSize;
    const textEnd = headerSize + payload.length;
    const out = this.output ? this.output(textEnd + GCM_TAG_LENGTH) : Buffer.allocUnsafe(textEnd + GCM_TAG_LENGTH);
    const seq = header.sequenceNumber & 0xffff;
    const roc = rolloverCounter >>> 0;
    const ssrc = header.ssrc >>> 0;
    const wasm = this.wasm;
    if (wasm && textEnd + GCM_TAG_LENGTH + 8 <= WASM_DATA_SIZE && payload.length + 2 * BLOCK <= WASM_KS_SIZE) {
      // The packet is assembled in wasm memory (header written there, payload and keystream
      // copied in), sealed in one call (XOR, GHASH, tag), and copied out once.
      const heap = wasm.heap;
      writeRtpHeader(header, headerSize, heap, WASM_DATA);
      payload.copy(heap, WASM_DATA + headerSize);
      this.keystreamInto(heap, WASM_KS, ssrc, roc, seq, payload.length);
      wasm.seal(this.table, WASM_DATA, headerSize, payload.length, WASM_KS);
      heap.copy(out, 0, WASM_DATA, WASM_DATA + textEnd + GCM_TAG_LENGTH);
      return out;
    }
    const ghash = (this.jsGhash ??= new Ghash(this.h));
    writeRtpHeader(header, headerSize, out);
    ghash.reset();
    ghash.update(out, 0, headerSize);
    // A forwarded audio packet: its keystream was made with the next AHEAD_PACKETS − 1 (one
    // ECB call and one allocation per 16 packets instead of per packet). The keystream does not
    // depend on the payload, only on the key, SSRC, ROC, sequence number and block counter.
    const keystream = Math.ceil(payload.length / BLOCK) + 1 <= AHEAD_BLOCKS ? this.keystreamAhead(ssrc, roc, seq) : undefined;
    if (keystream) {
      const offset = this.aheadOffset;
      const k0 = offset + BLOCK;
      for (let i = 0; i < payload.length; i++) out[headerSize + i] = payload[i]! ^ keystream[k0 + i]!;
      ghash.update(out, headerSize, textEnd);
      ghash.finish(headerSize, payload.length, keystream, offset, out, textEnd);
      return out;
    }
    const mask = this.keystreamInto(this.counters, 0, ssrc, roc, seq, payload.length, out, headerSize, payload);
    ghash.update(out, headerSize, textEnd);
    ghash.finish(headerSize, payload.length, mask, 0, out, textEnd);
    return out;
  }

  /**
   * The keystream of packet (ssrc, roc, seq) for `length` payload bytes: E(J0) ‖ E(J0 + 1) ‖ …
   * With `into` (wasm memory) it is copied to into[at, …). Without it (the JS path), each batch
   * is XORed with `payload` into out[textAt, …) as it comes and E(J0) is returned.
   */
  private keystreamInto(into: Buffer, at: number, ssrc: number, roc: number, seq: number, length: number): Buffer;
  private keystreamInto(into: Buffer, at: number, ssrc: number, roc: number, seq: number, length: number, out: Buffer, textAt: number, payload: Buffer): Buffer;
  private keystreamInto(into: Buffer, at: number, ssrc: number, roc: number, seq: number, length: number, out?: Buffer, textAt = 0, payload?: Buffer): Buffer {
    if (!out && Math.ceil(length / BLOCK) + 1 <= AHEAD_BLOCKS) {
      const keystream = this.keystreamAhead(ssrc, roc, seq);
      if (keystream) {
        const offset = this.aheadOffset;
        keystream.copy(into, at, offset, offset + BLOCK + length);
        return keystream;
      }
    }
    // RFC 7714 §8.1: IV = (0x0000 ‖ SSRC ‖ ROC ‖ SEQ) XOR salt; J0 = IV ‖ 0x00000001.
    const counters = this.counters;
    writeSrtpGcmIv(counters, 0, this.salt, ssrc, roc, seq);
    let done = 0;
    let counter = 1;
    let mask: Buffer | undefined;
    let written = at;
    do {
      const bytes = Math.min(length - done, MAX_SCRATCH_BLOCKS * BLOCK);
      const first = mask ? 0 : 1; // the first batch also makes E(J0), the tag's mask
      const blocks = Math.ceil(bytes / BLOCK) + first;
      for (let b = 0; b < blocks; b++, counter++) {
        const o = b * BLOCK;
        if (o > 0) for (let i = 0; i < 12; i++) counters[o + i] = counters[i]!;
        counters[o + 12] = counter >>> 24;
        counters[o + 13] = (counter >>> 16) & 0xff;
        counters[o + 14] = (counter >>> 8) & 0xff;
        counters[o + 15] = counter & 0xff;
      }
      const keystream = this.ecb.update(counters.subarray(0, blocks * BLOCK));
      if (!mask) mask = keystream;
      if (out && payload) {
        const k0 = first * BLOCK;
        for (let i = 0; i < bytes; i++) out[textAt + done + i] = payload[done + i]! ^ keystream[k0 + i]!;
      } else {
        written += keystream.copy(into, written, 0, first * BLOCK + bytes);
      }
      done += bytes;
    } while (done < length);
    return mask;
  }


  /**
   * The keystream of packet (ssrc, roc, seq) made ahead: E(J0) at `offset`, then the payload's
   * blocks (`aheadOffset` says where). A packet behind the batch (a retransmission) gets
   * undefined (made alone); one past it starts a new batch at its sequence number. A batch
   * never crosses a sequence wrap.
   */
  private keystreamAhead(ssrc: number, roc: number, seq: number): Buffer | undefined {
    let a = this.ahead.get(ssrc);
    if (a && a.roc === roc && seq >= a.seq && seq < a.seq + a.count) {
      this.aheadOffset = (seq - a.seq) * AHEAD_BLOCKS * BLOCK;
      return a.keystream;
    }
    if (a && a.roc === roc && seq < a.seq) return undefined;
    if (a && a.roc > roc) return undefined;
    const count = Math.min(AHEAD_PACKETS, 0x10000 - seq);
    const counters = this.aheadCounters;
    // The counter blocks as 32-bit words (the buffer is its own ArrayBuffer, so aligned): the
    // IV's three words copied into each block and the counter as the fourth. A Buffer.copy per
    // block (its argument checks and native call, 160 per batch) cost more than the AES itself.
    const words = this.aheadWords;
    for (let p = 0; p < count; p++) {
      const base = p * AHEAD_BLOCKS * BLOCK;
      writeSrtpGcmIv(counters, base, this.salt, ssrc, roc, seq + p);
      const w = base >>> 2;
      const w0 = words[w]!;
      const w1 = words[w + 1]!;
      const w2 = words[w + 2]!;
      for (let b = 0; b < AHEAD_BLOCKS; b++) {
        const o = w + b * 4;
        words[o] = w0;
        words[o + 1] = w1;
        words[o + 2] = w2;
        words[o + 3] = counterWord(b + 1);
      }
    }
    const keystream = this.ecb.update(counters.subarray(0, count * AHEAD_BLOCKS * BLOCK));
    if (!a) {
      if (this.ahead.size >= AHEAD_SSRCS) this.ahead.delete(this.ahead.keys().next().value!);
      a = { roc, seq, count, keystream };
      this.ahead.set(ssrc, a);
    } else {
      a.roc = roc;
      a.seq = seq;
      a.count = count;
      a.keystream = keystream;
    }
    this.aheadOffset = 0;
    return keystream;
  }
}

/** The parts of werift's SRTP session this module touches (pinned werift 0.24.4). */
interface SrtpSessionLike {
  localContext: {
    profile: number;
    srtpSessionKey: Buffer;
    srtpSessionSalt: Buffer;
    srtpSessionAuthTag: Buffer;
    cipher: { encryptRtp(header: RtpHeader, payload: Buffer, rolloverCounter: number): Buffer };
  };
}

const installed = new WeakMap<object, AesCmRtpEncrypter | AesGcmRtpEncrypter>();

/**
 * The encrypter `installRtpEncrypter` put on this session, to set its `output` for one call:
 * a caller that sends the packet before anything else is encrypted can have it written into a
 * reused buffer. Every other caller (werift's own send path) gets a new Buffer per packet.
 */
export function rtpEncrypterOf(session: SrtpSessionLike): { output: PacketOutput | undefined } | undefined {
  return installed.get(session.localContext);
}

/**
 * Gives back what the session's encrypter holds outside the JavaScript heap (its AES-GCM
 * GHASH table in the thread's wasm memory) when its transport closes. Without this call the
 * table goes back when the encrypter is garbage-collected. Later packets still encrypt.
 */
export function releaseRtpEncrypter(session: SrtpSessionLike | undefined): void {
  const context = session?.localContext;
  const encrypter = context ? installed.get(context) : undefined;
  if (encrypter instanceof AesGcmRtpEncrypter) encrypter.release();
}

/**
 * Swap the outgoing RTP cipher of a started SRTP session for this module's encrypter of the
 * negotiated profile. Returns whether it did (false for a profile it does not know).
 */
export function installRtpEncrypter(session: SrtpSessionLike, options: EncrypterOptions = {}): boolean {
  const context = session.localContext;
  if (installed.has(context)) return true;
  let encrypter: AesCmRtpEncrypter | AesGcmRtpEncrypter;
  if (context.profile === ProtectionProfileAes128CmHmacSha1_80) {
    encrypter = new AesCmRtpEncrypter(context.srtpSessionKey, context.srtpSessionSalt, context.srtpSessionAuthTag);
  } else if (context.profile === ProtectionProfileAeadAes128Gcm) {
    encrypter = new AesGcmRtpEncrypter(context.srtpSessionKey, context.srtpSessionSalt, options);
  } else {
    return false;
  }
  context.cipher.encryptRtp = (header, payload, roc) => encrypter.encryptRtp(header, payload, roc);
  installed.set(context, encrypter);
  return true;
}
