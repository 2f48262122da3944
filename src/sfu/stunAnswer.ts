/**
 * The Binding success response an ICE-lite agent sends to a consent check (RFC 7675, RFC 8445
 * §7.3): XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY (HMAC-SHA1 with the local ICE password) and
 * FINGERPRINT, for an IPv4 peer, in one 64-byte Buffer.
 *
 * werift builds the same answer as a `Message` whose `bytes` getter re-serialises every
 * attribute each time it is read (four times per answer: twice for the integrity, once for
 * the fingerprint, once to send), with a table-driven CRC32 in JavaScript. Every subscriber's
 * browser sends a consent check every few seconds, on the same thread that forwards media.
 * The bytes are werift's (test/sfu-stun-answer.test.ts).
 */
import { createHmac } from 'node:crypto';
import { isIPv4 } from 'node:net';
import * as zlib from 'node:zlib';

const COOKIE = 0x2112a442;
const FINGERPRINT_XOR = 0x5354554e;
const BINDING_SUCCESS = 0x0101;
const XOR_MAPPED_ADDRESS = 0x0020;
const MESSAGE_INTEGRITY = 0x0008;
const FINGERPRINT = 0x8028;
/** Header 20, XOR-MAPPED-ADDRESS 4 + 8, MESSAGE-INTEGRITY 4 + 20, FINGERPRINT 4 + 4. */
export const BINDING_SUCCESS_LENGTH = 64;

const crc32 = (zlib as unknown as { crc32?: (data: Buffer) => number }).crc32;

/** Whether `bindingSuccess` can answer a check from this address (IPv4, and a zlib with crc32: Node ≥ 20.15). */
export function canAnswer(address: string): boolean {
  return typeof crc32 === 'function' && isIPv4(address);
}

/** The 8-byte XOR-MAPPED-ADDRESS value for an IPv4 address and port (RFC 8489 §14.2). */
export function xorMappedIpv4(address: string, port: number): Buffer {
  const out = Buffer.alloc(8);
  out[1] = 0x01;
  out.writeUInt16BE((port ^ (COOKIE >>> 16)) & 0xffff, 2);
  const [a, b, c, d] = address.split('.').map(Number) as [number, number, number, number];
  out.writeUInt32BE((((a << 24) | (b << 16) | (c << 8) | d) ^ COOKIE) >>> 0, 4);
  return out;
}

/**
 * The Binding success response to the request with this transaction id (12 bytes), with the
 * XOR-MAPPED-ADDRESS value from `xorMappedIpv4` and the local ICE password as HMAC key.
 * Call only when `canAnswer(address)`.
 */
export function bindingSuccess(transactionId: Buffer, xorMapped: Buffer, password: Buffer): Buffer {
  const out = Buffer.allocUnsafe(BINDING_SUCCESS_LENGTH);
  out.writeUInt16BE(BINDING_SUCCESS, 0);
  out.writeUInt32BE(COOKIE, 4);
  transactionId.copy(out, 8, 0, 12);
  out.writeUInt16BE(XOR_MAPPED_ADDRESS, 20);
  out.writeUInt16BE(8, 22);
  xorMapped.copy(out, 24, 0, 8);
  // MESSAGE-INTEGRITY covers the message up to itself, with the length field counting it.
  out.writeUInt16BE(12 + 24, 2);
  out.writeUInt16BE(MESSAGE_INTEGRITY, 32);
  out.writeUInt16BE(20, 34);
  createHmac('sha1', password).update(out.subarray(0, 32)).digest().copy(out, 36);
  // FINGERPRINT: CRC-32 of everything before it, the length field counting it, XOR 0x5354554e.
  out.writeUInt16BE(12 + 24 + 8, 2);
  out.writeUInt16BE(FINGERPRINT, 56);
  out.writeUInt16BE(4, 58);
  out.writeUInt32BE((crc32!(out.subarray(0, 56)) ^ FINGERPRINT_XOR) >>> 0, 60);
  return out;
}
