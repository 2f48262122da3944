/**
 * Decryption of what peers send: SRTP (RTP, AEAD_AES_128_GCM) and SRTCP, with the key schedule
 * and scratch state kept per context, plus the replay protection of RFC 3711 §3.3.2 that werift
 * (0.24.4) does not have.
 *
 * SRTCP, AEAD_AES_128_GCM (RFC 7714 §9) and AES_CM_128_HMAC_SHA1_80 (RFC 3711 §3.4). Every
 * subscriber sends its receiver reports (a werift client one a second, browsers about as
 * often), so at N subscribers the media thread decrypts ≈ N SRTCP packets a second. werift's
 * `decryptRTCP` builds each packet's IV with a generic buffer writer, two `Buffer.concat`s for
 * the AAD, a bit-reader header parse and a `createDecipheriv` (GCM) or `createDecipheriv`
 * + `createHmac` (AES-CM), all in code that runs too rarely to be optimised. Here:
 * - GCM: Node cannot re-key a GCM decipher with a new IV, so `GcmOpener` does GCM itself with
 *   what can be kept: the counter-mode keystream from one AES-128-ECB cipher per context, the
 *   tag checked first with the GHASH of srtpEncrypter.ts (a 4 KiB table per context), the IV and
 *   AAD written into buffers kept by the context. Only an authenticated-only packet (E = 0,
 *   which peers do not send unless configured to) gets a `createDecipheriv`.
 * - AES-CM: the HMAC-SHA1 tag is checked first (one `createHmac`, `timingSafeEqual`), then the
 *   keystream is made by one AES-128-ECB cipher object kept per context.
 *
 * SRTP, AEAD_AES_128_GCM (RFC 7714 §8), for what publishers send (50 packets a second per
 * Opus stream, each then forwarded N times): werift parses each header twice (once with a
 * bit reader), copies the state object, and makes a GCM decipher (a key schedule) per packet.
 * Here the header's length is read from its first bytes and `GcmOpener` checks the tag and
 * decrypts (only publishers' transports make one: it is built on their first packet). The rollover counter
 * is guessed as RFC 3711 Appendix A says, from the highest authenticated index of the SSRC.
 * (AES_CM_128_HMAC_SHA1_80 RTP stays with werift, without replay protection: browsers and the
 * stock clients negotiate GCM with Parley.)
 *
 * The bytes returned, and which packets are accepted, are werift's (test/sfu-srtp-decrypter.test.ts),
 * except that a packet whose index was already accepted, or is more than REPLAY_WINDOW behind
 * the highest accepted one of its SSRC, is rejected (as libsrtp, and so mediasoup, does). The
 * window moves only for authenticated packets.
 * Failures throw werift's `SrtpAuthenticationError`, which its transport catches and drops.
 */
import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual, type Cipher } from 'node:crypto';
import { ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80, SrtpAuthenticationError } from 'werift';
import { RTCP_HEADER_SIZE, SrtcpCounterKeystream, writeSrtcpGcmIv } from './srtcpCipher.js';
import { Ghash, writeSrtpGcmIv } from './srtpEncrypter.js';

const INDEX_SIZE = 4;
const GCM_TAG_LENGTH = 16;
const CM_TAG_LENGTH = 10;
/** libsrtp's SRTCP replay window (srtp_rdb_t: 128 indices). */
export const REPLAY_WINDOW = 128;
/** SSRCs with a replay window per context; a packet of one more SSRC is rejected, never a window forgotten. */
export const MAX_REPLAY_SSRCS = 64;
const FAILED = 'Failed to authenticate SRTCP packet';

/**
 * Which SRTCP indices of one SSRC were accepted: `seen[i % REPLAY_WINDOW]` is 1 when index i,
 * within REPLAY_WINDOW of `highest`, was accepted (slots are cleared as `highest` moves on).
 */
class ReplayWindow {
  private highest = -1;
  private readonly seen = new Uint8Array(REPLAY_WINDOW);

  /** The highest accepted index, or -1 before the first. */
  get highestIndex(): number {
    return this.highest;
  }

  /** Whether index `i` (31 bits for SRTCP, 48 for SRTP) would be fresh. */
  fresh(i: number): boolean {
    if (i > this.highest) return true;
    if (this.highest - i >= REPLAY_WINDOW) return false;
    return this.seen[i % REPLAY_WINDOW] === 0;
  }

  /** Marks `i` accepted (call only after `fresh(i)` and authentication). */
  accept(i: number): void {
    if (i > this.highest) {
      if (this.highest < 0 || i - this.highest >= REPLAY_WINDOW) this.seen.fill(0);
      else for (let j = this.highest + 1; j < i; j++) this.seen[j % REPLAY_WINDOW] = 0;
      this.highest = i;
    }
    this.seen[i % REPLAY_WINDOW] = 1;
  }
}

/** The part of werift's SRTCP context (`SrtcpSession.remoteContext`) the decrypter is built from. */
export interface SrtcpContextLike {
  profile: number;
  srtcpSessionKey: Buffer;
  srtcpSessionSalt: Buffer;
  srtcpSessionAuthTag: Buffer;
}

export interface SrtcpDecrypter {
  /** The RTCP compound packet (header and payload, index and tag removed), or throws SrtpAuthenticationError. */
  decrypt(packet: Buffer): Buffer;
}

abstract class ReplayProtected implements SrtcpDecrypter {
  private readonly windows = new Map<number, ReplayWindow>();

  abstract decrypt(packet: Buffer): Buffer;

  /** The window of `ssrc` if index `i` is fresh there; throws for a replay or one SSRC too many. */
  protected windowFor(ssrc: number, i: number): ReplayWindow {
    let w = this.windows.get(ssrc);
    if (!w) {
      if (this.windows.size >= MAX_REPLAY_SSRCS) throw new SrtpAuthenticationError(FAILED);
      w = new ReplayWindow();
      // Not stored until the packet is authenticated (see `remember`).
    }
    if (!w.fresh(i)) throw new SrtpAuthenticationError(FAILED);
    return w;
  }

  protected remember(ssrc: number, w: ReplayWindow, i: number): void {
    w.accept(i);
    if (!this.windows.has(ssrc)) this.windows.set(ssrc, w);
  }
}

const BLOCK = 16;
/** Counter blocks for up to 1,520 bytes of text in the kept scratch; larger packets get their own. */
const SCRATCH_BLOCKS = 96;

/**
 * AES-128-GCM decryption with one key schedule kept per key: GCM encrypts in counter mode, so
 * the keystream E(J0) ‖ E(J0 + 1) ‖ … comes from one AES-128-ECB cipher object, and the tag is
 * GHASH (srtpEncrypter.ts) over AAD ‖ ciphertext XOR E(J0), compared in constant time before
 * anything is decrypted. A `createDecipheriv` per packet made a key schedule (and an OpenSSL
 * context) every time.
 */
class GcmOpener {
  private readonly ecb: Cipher;
  private readonly ghash: Ghash;
  private readonly counters = Buffer.alloc(SCRATCH_BLOCKS * BLOCK);
  private readonly expected = Buffer.alloc(GCM_TAG_LENGTH);
  /** The keystream of the packet authenticated last: E(J0), then the text's blocks. */
  private keystream: Buffer = Buffer.alloc(0);

  constructor(key: Buffer) {
    this.ecb = createCipheriv('aes-128-ecb', key, null);
    this.ecb.setAutoPadding(false);
    this.ghash = new Ghash(this.ecb.update(Buffer.alloc(BLOCK)));
  }

  /**
   * Whether tag[tagAt, +16) is the tag of aad[aadStart, aadEnd) ‖ text[textStart, textEnd)
   * under the 12-byte `iv`. The keystream is kept for `decryptInto`.
   */
  authenticate(iv: Buffer, aad: Buffer, aadStart: number, aadEnd: number, text: Buffer, textStart: number, textEnd: number, tag: Buffer, tagAt: number): boolean {
    const blocks = 1 + Math.ceil((textEnd - textStart) / BLOCK);
    const counters = blocks <= SCRATCH_BLOCKS ? this.counters : Buffer.alloc(blocks * BLOCK);
    for (let b = 0; b < blocks; b++) {
      const o = b * BLOCK;
      iv.copy(counters, o, 0, 12);
      counters.writeUInt32BE(b + 1, o + 12); // J0 = IV ‖ 0x00000001
    }
    const keystream = this.ecb.update(counters.subarray(0, blocks * BLOCK));
    this.keystream = keystream;
    const ghash = this.ghash;
    ghash.reset();
    ghash.update(aad, aadStart, aadEnd);
    ghash.update(text, textStart, textEnd);
    const expected = this.expected;
    ghash.finish(aadEnd - aadStart, textEnd - textStart, keystream, 0, expected, 0);
    let diff = 0;
    for (let i = 0; i < GCM_TAG_LENGTH; i++) diff |= expected[i]! ^ tag[tagAt + i]!;
    return diff === 0;
  }

  /** Decrypts text[textStart, textEnd), the text `authenticate` accepted last, into out[at, …). */
  decryptInto(text: Buffer, textStart: number, textEnd: number, out: Buffer, at: number): void {
    const keystream = this.keystream;
    for (let i = 0; i < textEnd - textStart; i++) out[at + i] = text[textStart + i]! ^ keystream[BLOCK + i]!;
  }
}

/** RFC 7714 §9: header ‖ GCM(payload) ‖ tag(16) ‖ E·index(4); AAD = header ‖ E·index (or everything before the tag when E = 0). */
export class AesGcmSrtcpDecrypter extends ReplayProtected {
  private readonly key: Buffer;
  private readonly salt: Buffer;
  private readonly iv = Buffer.alloc(12);
  private readonly aad = Buffer.alloc(RTCP_HEADER_SIZE + INDEX_SIZE);
  private readonly gcm: GcmOpener;

  constructor(sessionKey: Buffer, sessionSalt: Buffer) {
    super();
    this.key = Buffer.from(sessionKey);
    this.salt = Buffer.from(sessionSalt.subarray(0, 12));
    this.gcm = new GcmOpener(this.key);
  }

  decrypt(packet: Buffer): Buffer {
    const length = packet.length;
    if (length < RTCP_HEADER_SIZE + GCM_TAG_LENGTH + INDEX_SIZE) throw new SrtpAuthenticationError(FAILED);
    const indexOffset = length - INDEX_SIZE;
    const tagOffset = indexOffset - GCM_TAG_LENGTH;
    const ssrc = packet.readUInt32BE(4);
    const encoded = packet.readUInt32BE(indexOffset);
    const encrypted = encoded >>> 31 === 1;
    const index = encoded & 0x7fffffff;
    const window = this.windowFor(ssrc, index);
    // IV = (0x0000 ‖ SSRC ‖ 0x0000 ‖ index) XOR salt (RFC 7714 §9.1)
    const iv = this.iv;
    writeSrtcpGcmIv(iv, this.salt, ssrc, index);
    let out: Buffer;
    if (encrypted) {
      // What every peer sends: the kept key schedule, no decipher per packet.
      const aad = this.aad;
      packet.copy(aad, 0, 0, RTCP_HEADER_SIZE);
      packet.copy(aad, RTCP_HEADER_SIZE, indexOffset, length);
      if (!this.gcm.authenticate(iv, aad, 0, aad.length, packet, RTCP_HEADER_SIZE, tagOffset, packet, tagOffset)) throw new SrtpAuthenticationError(FAILED);
      out = Buffer.allocUnsafe(tagOffset);
      packet.copy(out, 0, 0, RTCP_HEADER_SIZE);
      this.gcm.decryptInto(packet, RTCP_HEADER_SIZE, tagOffset, out, RTCP_HEADER_SIZE);
    } else {
      // Authenticated only (E = 0, rare): the AAD is the whole packet before the tag, then E·index.
      try {
        const decipher = createDecipheriv('aes-128-gcm', this.key, iv);
        decipher.setAAD(Buffer.concat([packet.subarray(0, tagOffset), packet.subarray(indexOffset)]));
        decipher.setAuthTag(packet.subarray(tagOffset, indexOffset));
        decipher.final();
      } catch {
        throw new SrtpAuthenticationError(FAILED);
      }
      out = Buffer.from(packet.subarray(0, tagOffset));
    }
    this.remember(ssrc, window, index);
    return out;
  }
}

/** RFC 3711 §3.4: header ‖ AES-CM(payload) ‖ E·index(4) ‖ HMAC-SHA1-80 over all before the tag. */
export class AesCmSrtcpDecrypter extends ReplayProtected {
  private readonly keystream: SrtcpCounterKeystream;
  private readonly authKey: Buffer;

  constructor(sessionKey: Buffer, sessionSalt: Buffer, authKey: Buffer) {
    super();
    this.keystream = new SrtcpCounterKeystream(sessionKey, sessionSalt);
    this.authKey = Buffer.from(authKey);
  }

  decrypt(packet: Buffer): Buffer {
    const length = packet.length;
    if (length < RTCP_HEADER_SIZE + CM_TAG_LENGTH + INDEX_SIZE) throw new SrtpAuthenticationError(FAILED);
    const tagOffset = length - CM_TAG_LENGTH;
    const indexOffset = tagOffset - INDEX_SIZE;
    const ssrc = packet.readUInt32BE(4);
    const encoded = packet.readUInt32BE(indexOffset);
    const index = encoded & 0x7fffffff;
    const window = this.windowFor(ssrc, index);
    const expected = createHmac('sha1', this.authKey).update(packet.subarray(0, tagOffset)).digest();
    if (!timingSafeEqual(expected.subarray(0, CM_TAG_LENGTH), packet.subarray(tagOffset))) throw new SrtpAuthenticationError(FAILED);
    const out = Buffer.from(packet.subarray(0, indexOffset));
    if (encoded >>> 31 === 1) this.keystream.xor(out, out.length, ssrc, index);
    this.remember(ssrc, window, index);
    return out;
  }
}

const RTP_HEADER_SIZE = 12;
const SRTP_FAILED = 'Failed to authenticate SRTP packet';

/** The length of an RTP packet's header (fixed part, CSRCs, extension), or -1 when it is malformed. */
function rtpHeaderLength(packet: Buffer): number {
  if (packet.length < RTP_HEADER_SIZE) return -1;
  const first = packet[0]!;
  if (first >>> 6 !== 2) return -1;
  let size = RTP_HEADER_SIZE + 4 * (first & 0x0f);
  if (first & 0x10) {
    if (packet.length < size + 4) return -1;
    size += 4 + 4 * packet.readUInt16BE(size + 2);
  }
  return packet.length < size ? -1 : size;
}

/**
 * RFC 3711 Appendix A: the rollover counter `seq` was most likely sent with, from the SSRC's
 * highest accepted index (its ROC and s_l).
 */
function guessRoc(highestIndex: number, seq: number): number {
  const roc = Math.floor(highestIndex / 0x10000);
  const highestSeq = highestIndex % 0x10000;
  if (highestSeq < 0x8000) return seq - highestSeq > 0x8000 ? roc - 1 : roc;
  return highestSeq - 0x8000 > seq ? roc + 1 : roc;
}

/** RFC 7714 §8: header ‖ GCM(payload) ‖ tag(16); AAD = the header; IV = (0x0000 ‖ SSRC ‖ ROC ‖ SEQ) XOR salt. */
export class AesGcmRtpDecrypter {
  private readonly gcm: GcmOpener;
  private readonly salt: Buffer;
  private readonly iv = Buffer.alloc(12);
  /** Per SSRC: its replay window, whose highest index also gives the rollover counter. */
  private readonly sources = new Map<number, ReplayWindow>();

  constructor(sessionKey: Buffer, sessionSalt: Buffer) {
    this.gcm = new GcmOpener(sessionKey);
    this.salt = Buffer.from(sessionSalt.subarray(0, 12));
  }

  /** The RTP packet (header and payload, tag removed), or throws SrtpAuthenticationError. */
  decrypt(packet: Buffer): Buffer {
    const headerSize = rtpHeaderLength(packet);
    const textEnd = packet.length - GCM_TAG_LENGTH;
    if (headerSize < 0 || textEnd < headerSize) throw new SrtpAuthenticationError(SRTP_FAILED);
    const seq = packet.readUInt16BE(2);
    const ssrc = packet.readUInt32BE(8);
    const source = this.sources.get(ssrc);
    if (!source && this.sources.size >= MAX_REPLAY_SSRCS) throw new SrtpAuthenticationError(SRTP_FAILED);
    const roc = source ? guessRoc(source.highestIndex, seq) : 0;
    if (roc < 0 || roc > 0xffffffff) throw new SrtpAuthenticationError(SRTP_FAILED);
    const index = roc * 0x10000 + seq;
    if (source && !source.fresh(index)) throw new SrtpAuthenticationError(SRTP_FAILED);

    const iv = this.iv;
    writeSrtpGcmIv(iv, 0, this.salt, ssrc, roc, seq);
    // The tag first: nothing of a packet that fails is decrypted or remembered.
    if (!this.gcm.authenticate(iv, packet, 0, headerSize, packet, headerSize, textEnd, packet, textEnd)) throw new SrtpAuthenticationError(SRTP_FAILED);
    const out = Buffer.allocUnsafe(textEnd);
    packet.copy(out, 0, 0, headerSize);
    this.gcm.decryptInto(packet, headerSize, textEnd, out, headerSize);

    if (source) source.accept(index);
    else {
      const window = new ReplayWindow();
      window.accept(index);
      this.sources.set(ssrc, window);
    }
    return out;
  }
}

/** The part of werift's SRTP context (`SrtpSession.remoteContext`) the RTP decrypter is built from. */
export interface SrtpContextLike {
  profile: number;
  srtpSessionKey: Buffer;
  srtpSessionSalt: Buffer;
}

/** Whether `srtpDecrypterFor` has a decrypter for this context's profile (AEAD_AES_128_GCM). */
export function srtpDecrypterKnows(context: SrtpContextLike): boolean {
  return context.profile === ProtectionProfileAeadAes128Gcm;
}

/** The RTP decrypter for a werift SRTP context's profile (undefined: werift's own, AES-CM). */
export function srtpDecrypterFor(context: SrtpContextLike): AesGcmRtpDecrypter | undefined {
  return srtpDecrypterKnows(context) ? new AesGcmRtpDecrypter(context.srtpSessionKey, context.srtpSessionSalt) : undefined;
}

/** The decrypter for a werift SRTCP context's negotiated profile (undefined for one it does not know). */
export function srtcpDecrypterFor(context: SrtcpContextLike): SrtcpDecrypter | undefined {
  if (context.profile === ProtectionProfileAeadAes128Gcm) return new AesGcmSrtcpDecrypter(context.srtcpSessionKey, context.srtcpSessionSalt);
  if (context.profile === ProtectionProfileAes128CmHmacSha1_80) {
    return new AesCmSrtcpDecrypter(context.srtcpSessionKey, context.srtcpSessionSalt, context.srtcpSessionAuthTag);
  }
  return undefined;
}

/** RTCP packet types (RFC 3550, RFC 4585). */
const SR = 200;
const RTPFB = 205;
const PSFB = 206;
const FMT_NACK = 1;
const FMT_PLI = 1;
const FMT_FIR = 4;

/**
 * Whether a decrypted compound packet holds anything the router acts on (Router.onRtcp):
 * a sender report, a generic NACK, a PLI or a FIR. Receiver reports, SDES, BYE, REMB,
 * transport-cc and XR are not used by Parley; a compound of only those need not be parsed.
 * A malformed length is handed on (werift's parser drops it as before).
 */
export function rtcpHasRoutedPacket(compound: Buffer): boolean {
  let pos = 0;
  while (pos + 4 <= compound.length) {
    const first = compound[pos]!;
    const type = compound[pos + 1]!;
    const fmt = first & 0x1f;
    if (type === SR || (type === RTPFB && fmt === FMT_NACK) || (type === PSFB && (fmt === FMT_PLI || fmt === FMT_FIR))) return true;
    pos += (compound.readUInt16BE(pos + 2) + 1) * 4;
  }
  return pos !== compound.length;
}
