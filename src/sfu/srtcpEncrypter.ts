/**
 * SRTCP encryption of the RTCP the SFU sends (a sender report per consumer for each report its
 * producer receives, PLIs to producers), with the key schedule and scratch kept per context:
 * AEAD_AES_128_GCM (RFC 7714 §9) and AES_CM_128_HMAC_SHA1_80 (RFC 3711 §3.4).
 *
 * A publisher's sender report (one a second) becomes N sender reports, one per consumer. werift's
 * `sendRtcp` serialises through bit writers, `Buffer.concat`s, builds the IV and AAD with
 * generic writers and a `createCipheriv`, and then sends through four promise-returning layers.
 * Here the packet is made in one Buffer (GCM still needs one `createCipheriv` per packet: Node
 * cannot re-key a GCM cipher with a new IV; AES-CM's keystream comes from one ECB cipher object
 * per context) and the caller writes it to the UDP socket directly.
 *
 * The SRTCP index per SSRC stays in werift's context (`getSrtcpSsrcState`), advanced exactly as
 * werift's `SrtcpContext.encryptRTCP` does, so packets sent either way never reuse an index.
 * The bytes are werift's (test/sfu-srtcp-encrypter.test.ts).
 */
import { createCipheriv, createHmac } from 'node:crypto';
import { ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80 } from 'werift';
import { RTCP_HEADER_SIZE, SrtcpCounterKeystream, writeSrtcpGcmIv } from './srtcpCipher.js';

const INDEX_SIZE = 4;
const GCM_TAG_LENGTH = 16;
const CM_TAG_LENGTH = 10;
const E_FLAG = 0x80000000;

/** The part of werift's local SRTCP context (`SrtcpSession.localContext`) used here. */
export interface SrtcpLocalContextLike {
  profile: number;
  srtcpSessionKey: Buffer;
  srtcpSessionSalt: Buffer;
  srtcpSessionAuthTag: Buffer;
  getSrtcpSsrcState(ssrc: number): { srtcpIndex: number };
}

export interface SrtcpEncrypter {
  /** The SRTCP packet for this (compound) RTCP packet, with the next index of its first SSRC. */
  encrypt(rtcp: Buffer): Buffer;
}

/** werift's `SrtcpContext.encryptRTCP`: the index is incremented first and wraps to 0 at 2^31. */
function nextIndex(context: SrtcpLocalContextLike, ssrc: number): number {
  const s = context.getSrtcpSsrcState(ssrc);
  s.srtcpIndex++;
  if (s.srtcpIndex >> 31) s.srtcpIndex = 0;
  return s.srtcpIndex;
}

export class AesGcmSrtcpEncrypter implements SrtcpEncrypter {
  private readonly key: Buffer;
  private readonly salt: Buffer;
  private readonly iv = Buffer.alloc(12);
  private readonly aad = Buffer.alloc(RTCP_HEADER_SIZE + INDEX_SIZE);

  constructor(private readonly context: SrtcpLocalContextLike) {
    this.key = Buffer.from(context.srtcpSessionKey);
    this.salt = Buffer.from(context.srtcpSessionSalt.subarray(0, 12));
  }

  encrypt(rtcp: Buffer): Buffer {
    const ssrc = rtcp.readUInt32BE(4);
    const index = nextIndex(this.context, ssrc);
    const iv = this.iv;
    writeSrtcpGcmIv(iv, this.salt, ssrc, index);
    const aad = this.aad;
    rtcp.copy(aad, 0, 0, RTCP_HEADER_SIZE);
    aad.writeUInt32BE((index | E_FLAG) >>> 0, RTCP_HEADER_SIZE);
    const cipher = createCipheriv('aes-128-gcm', this.key, iv);
    cipher.setAAD(aad);
    const textLength = rtcp.length - RTCP_HEADER_SIZE;
    const out = Buffer.allocUnsafe(rtcp.length + GCM_TAG_LENGTH + INDEX_SIZE);
    rtcp.copy(out, 0, 0, RTCP_HEADER_SIZE);
    cipher.update(rtcp.subarray(RTCP_HEADER_SIZE)).copy(out, RTCP_HEADER_SIZE);
    cipher.final();
    cipher.getAuthTag().copy(out, RTCP_HEADER_SIZE + textLength);
    aad.copy(out, rtcp.length + GCM_TAG_LENGTH, RTCP_HEADER_SIZE);
    return out;
  }
}

export class AesCmSrtcpEncrypter implements SrtcpEncrypter {
  private readonly keystream: SrtcpCounterKeystream;
  private readonly authKey: Buffer;

  constructor(private readonly context: SrtcpLocalContextLike) {
    this.keystream = new SrtcpCounterKeystream(context.srtcpSessionKey, context.srtcpSessionSalt);
    this.authKey = Buffer.from(context.srtcpSessionAuthTag);
  }

  encrypt(rtcp: Buffer): Buffer {
    const ssrc = rtcp.readUInt32BE(4);
    const index = nextIndex(this.context, ssrc);
    const authEnd = rtcp.length + INDEX_SIZE;
    const out = Buffer.allocUnsafe(authEnd + CM_TAG_LENGTH);
    rtcp.copy(out, 0);
    this.keystream.xor(out, rtcp.length, ssrc, index);
    out.writeUInt32BE((index | E_FLAG) >>> 0, rtcp.length);
    createHmac('sha1', this.authKey).update(out.subarray(0, authEnd)).digest().copy(out, authEnd, 0, CM_TAG_LENGTH);
    return out;
  }
}

/** The encrypter for a werift local SRTCP context's profile (undefined for one it does not know). */
export function srtcpEncrypterFor(context: SrtcpLocalContextLike): SrtcpEncrypter | undefined {
  if (typeof context.getSrtcpSsrcState !== 'function') return undefined;
  if (context.profile === ProtectionProfileAeadAes128Gcm) return new AesGcmSrtcpEncrypter(context);
  if (context.profile === ProtectionProfileAes128CmHmacSha1_80) return new AesCmSrtcpEncrypter(context);
  return undefined;
}

/**
 * A sender report with no report blocks (RFC 3550 §6.4.1), 28 bytes, the bytes werift's
 * `RtcpSrPacket.serialize` makes for one without reports.
 */
export function senderReport(ssrc: number, ntpTimestamp: bigint, rtpTimestamp: number, packetCount: number, octetCount: number): Buffer {
  const out = Buffer.allocUnsafe(28);
  out[0] = 0x80;
  out[1] = 200;
  out.writeUInt16BE(6, 2);
  out.writeUInt32BE(ssrc >>> 0, 4);
  out.writeBigUInt64BE(BigInt.asUintN(64, ntpTimestamp), 8);
  out.writeUInt32BE(rtpTimestamp >>> 0, 16);
  out.writeUInt32BE(packetCount >>> 0, 20);
  out.writeUInt32BE(octetCount >>> 0, 24);
  return out;
}
