/**
 * AES-GCM's GHASH and the counter-mode XOR of one SRTP packet in WebAssembly, with 64-bit words.
 *
 * Why WebAssembly: GHASH on Shoup's tables needs 128-bit shifts and table loads per step. In
 * JavaScript a 128-bit value is four int32 words (four shifts and four loads per step, each
 * load bounds-checked, each word read with `readInt32BE`); in wasm it is two i64 words and the
 * loads are plain memory accesses. The whole packet (header as AAD, ciphertext, lengths block,
 * tag) is done in one call.
 *
 * Why the module is assembled here, from the instruction lists below, and not compiled from a
 * .wat file by a tool: the module is three small functions; a tiny encoder keeps the source and
 * the bytes the same thing (nothing generated to commit, nothing to regenerate and compare, no
 * devDependency, no build step: `npm install && npm start` needs nothing new and no network).
 * The bytes are built once per thread at first use; `test/sfu-ghash-wasm.test.ts` checks the
 * result against node:crypto's AES-GCM, test/sfu-srtp-encrypter.test.ts against werift's.
 *
 * Two tables: Shoup's 8-bit one (256 entries, 4 KiB per key) and his 4-bit one (16 entries,
 * 256 bytes per key). Hot in a micro-benchmark the 8-bit one is about twice as fast per block,
 * but in the SFU the fan-out encrypts each packet for 100–300 keys in turn between kernel sends
 * and the subscriber processes, so a key's table is cold every time: the 8-bit table's 64 cache
 * lines missed on nearly every lookup (bench:sfu --profile=100 at N = 100: 157 ms of wasm GHASH
 * in 10 s), the 4-bit table's 4 lines do not (24 ms in the same kind of run). The 4-bit table
 * is the default; the 8-bit one stays for the benchmark's comparison. (Either way the lookups
 * depend on the data and the key, as in the JavaScript GHASH before; the 4-bit table's four
 * cache lines leave less for a cache-timing observer on the same core to tell apart.)
 *
 * Representation, 8-bit table: a GCM field element is its 16 bytes in GCM's order (byte 0 holds
 * x^0..x^7, bit-reflected), read as two little-endian i64 words: lo = bytes 0..7, hi = bytes
 * 8..15. GCM's multiplication by x^8 moves every byte one place up, so it is `hi = hi << 8 |
 * lo >>> 56`, `lo = lo << 8 ^ R[hi >>> 56]`: no byte swaps, entries and packet bytes are used as
 * they lie in memory. 4-bit table: x^4 splits bytes, so there Y is kept as two big-endian
 * numbers (each block byte-swapped once as it is loaded) and x^4 is a plain 128-bit shift.
 *
 * Memory (one instance per thread, shared by every context of the thread):
 *   [PAD, +16)        zero-padded last partial block
 *   [LENGTHS, +16)    GCM's lengths block, written by `seal`
 *   [32, +16)         A = Y ⊕ X of the block in hand (8-bit variant: one byte load per step)
 *   [RED, +512)       the reduction table: what the bits shifted out past x^127 reduce to
 *   [DATA, +DATA_SIZE)  one packet: header ‖ payload, then the tag written after it
 *   [KS, +KS_SIZE)      its keystream: E(J0) ‖ E(J0 + 1) ‖ …
 *   [TABLES, …)       one table per context (4-bit: 256 bytes, entry n = (element with byte 0 = n << 4) · H
 *                     as big-endian words; 8-bit: 4 KiB, entry b = (element with byte 0 = b) · H as stored)
 * Tables are handed out and taken back by `GhashWasm.allocate` / `release`; the memory grows a
 * page at a time and never shrinks (a freed table is reused by the next context).
 */

const PAD = 0;
const LENGTHS = 16;
const RED = 64;
/** Where the packet is assembled: enough for any UDP datagram (65,507 bytes) plus a tag and slack. */
export const DATA = 1024;
export const DATA_SIZE = 65_536;
export const KS = DATA + DATA_SIZE + 64;
export const KS_SIZE = 65_536 + 64;
const TABLES = Math.ceil((KS + KS_SIZE) / 65_536) * 65_536;
/** Which table the thread's module uses (see the file's comment and BENCHMARKS.md). */
const DEFAULT_TABLE_BITS: TableBits = 4;
const PAGE = 65_536;

// --- A minimal WebAssembly encoder ------------------------------------------------------------

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function sleb64(n: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asIntN(64, n);
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const I32 = 0x7f;
const I64 = 0x7e;
type Code = number[];

const get = (i: number): Code => [0x20, ...uleb(i)];
const set = (i: number): Code => [0x21, ...uleb(i)];
const gget = (i: number): Code => [0x23, ...uleb(i)];
const gset = (i: number): Code => [0x24, ...uleb(i)];
const i32 = (v: number): Code => [0x41, ...sleb(v)];
const i64 = (v: number): Code => [0x42, ...sleb(v)];
const call = (f: number): Code => [0x10, ...uleb(f)];
const mem = (op: number, align: number, offset: number): Code => [op, align, ...uleb(offset)];
const i64load = (offset = 0): Code => mem(0x29, 3, offset);
const i64load16u = (offset = 0): Code => mem(0x33, 1, offset);
const i32load8u = (offset = 0): Code => mem(0x2d, 0, offset);
const i64store = (offset = 0): Code => mem(0x37, 3, offset);
const i32store8 = (offset = 0): Code => mem(0x3a, 0, offset);
const op = {
  i32eqz: 0x45, i32geu: 0x4f, i32add: 0x6a, i32and: 0x71, i32shl: 0x74, i32shru: 0x76,
  i64and: 0x83, i64or: 0x84, i64xor: 0x85, i64shl: 0x86, i64shru: 0x88, i32wrap: 0xa7,
  i32sub: 0x6b, i32gts: 0x4a, i64rotl: 0x89, i64sub: 0x7d, i64extendi32u: 0xad, select: 0x1b,
} as const;
const BLOCK_VOID = [0x02, 0x40];
const LOOP_VOID = [0x03, 0x40];
const IF_VOID = [0x04, 0x40];
const END = 0x0b;
const br = (depth: number): Code => [0x0c, ...uleb(depth)];
const brIf = (depth: number): Code => [0x0d, ...uleb(depth)];

function section(id: number, body: Code): Code {
  return [id, ...uleb(body.length), ...body];
}
function vec(items: Code[]): Code {
  return [...uleb(items.length), ...items.flat()];
}
function name(s: string): Code {
  const b = [...Buffer.from(s, 'utf8')];
  return [...uleb(b.length), ...b];
}
function funcBody(locals: Array<[number, number]>, code: Code): Code {
  const body = [...vec(locals.map(([n, t]) => [...uleb(n), t])), ...code, END];
  return [...uleb(body.length), ...body];
}

// Globals: 0 = Y.lo, 1 = Y.hi (the GHASH state between `blocks` calls).
const Y_LO = 0;
const Y_HI = 1;

/**
 * blocks(tbl, q, n): Y = (Y ⊕ X) · H for the n 16-byte blocks X at q, H's table at tbl.
 * Locals: 0 tbl, 1 q, 2 n (params); 3 zl, 4 zh (i64: Y, then Z); 5 a (i32: scratch).
 */
function blocksCode(): Code {
  const [tbl, q, n, zl, zh, a] = [0, 1, 2, 3, 4, 5];
  // A = Y ⊕ X, stored at PAD + 32 (16 bytes) so each byte is one load.
  const A = 32;
  const entry = (byteIndex: number): Code => [
    ...i32(0), ...i32load8u(A + byteIndex), ...i32(4), op.i32shl, ...get(tbl), op.i32add, ...set(a),
  ];
  const code: Code = [...gget(Y_LO), ...set(zl), ...gget(Y_HI), ...set(zh)];
  code.push(...BLOCK_VOID, ...get(n), op.i32eqz, ...brIf(0), ...LOOP_VOID);
  code.push(...i32(0), ...get(q), ...i64load(0), ...get(zl), op.i64xor, ...i64store(A));
  code.push(...i32(0), ...get(q), ...i64load(8), ...get(zh), op.i64xor, ...i64store(A + 8));
  // Horner from byte 15: Z = M[a15]; then Z = Z · x^8 ⊕ M[a_i] for i = 14 … 0.
  code.push(...entry(15), ...get(a), ...i64load(0), ...set(zl), ...get(a), ...i64load(8), ...set(zh));
  for (let i = 14; i >= 0; i--) {
    code.push(
      // a = R[zh >>> 56] offset (u16 entries)
      ...get(zh), ...i64(56), op.i64shru, op.i32wrap, ...i32(1), op.i32shl, ...set(a),
      // zh = zh << 8 | zl >>> 56
      ...get(zh), ...i64(8), op.i64shl, ...get(zl), ...i64(56), op.i64shru, op.i64or, ...set(zh),
      // zl = zl << 8 ^ R[…]
      ...get(zl), ...i64(8), op.i64shl, ...get(a), ...i64load16u(RED), op.i64xor, ...set(zl),
      ...entry(i),
      ...get(zl), ...get(a), ...i64load(0), op.i64xor, ...set(zl),
      ...get(zh), ...get(a), ...i64load(8), op.i64xor, ...set(zh),
    );
  }
  code.push(...get(q), ...i32(16), op.i32add, ...set(q));
  code.push(...get(n), ...i32(1), op.i32sub, ...set(n));
  code.push(...get(n), ...brIf(0), END, END);
  code.push(...get(zl), ...gset(Y_LO), ...get(zh), ...gset(Y_HI));
  return code;
}

/** bswap64 of the i64 on the stack (wasm has no byte-swap instruction). Uses local t (i64). */
function bswap64(t: number): Code {
  const m8 = [0x42, ...sleb64(0x00ff00ff00ff00ffn)];
  const m16 = [0x42, ...sleb64(0x0000ffff0000ffffn)];
  return [
    ...set(t),
    ...get(t), ...i64(8), op.i64shru, ...m8, op.i64and, ...get(t), ...m8, op.i64and, ...i64(8), op.i64shl, op.i64or, ...set(t),
    ...get(t), ...i64(16), op.i64shru, ...m16, op.i64and, ...get(t), ...m16, op.i64and, ...i64(16), op.i64shl, op.i64or,
    ...i64(32), op.i64rotl,
  ];
}

/**
 * The 4-bit variant of `blocks` (Shoup's 4-bit table: 16 entries, 256 bytes per key, so a
 * key's table is 4 cache lines instead of 64). Here Y and the table entries are big-endian
 * words (hi = bytes 0..7): GCM's x^4 step is then a plain 128-bit shift right by 4, and each
 * block is byte-swapped once when it is loaded. Horner over the 32 nibbles from the last
 * (byte 15's low nibble): Z = Z · x^4 ⊕ M[nibble].
 * Locals: 0 tbl, 1 q, 2 n (params); 3 zl, 4 zh, 5 al, 6 ah, 7 t (i64); 8 m (i32).
 */
function blocks4Code(): Code {
  const [tbl, q, n, zl, zh, al, ah, t, m] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const code: Code = [...gget(Y_LO), ...set(zl), ...gget(Y_HI), ...set(zh)];
  code.push(...BLOCK_VOID, ...get(n), op.i32eqz, ...brIf(0), ...LOOP_VOID);
  // a = Y ⊕ X (X's bytes 0..7 → ah, 8..15 → al, as big-endian numbers)
  code.push(...get(q), ...i64load(0), ...bswap64(t), ...get(zh), op.i64xor, ...set(ah));
  code.push(...get(q), ...i64load(8), ...bswap64(t), ...get(zl), op.i64xor, ...set(al));
  for (let k = 0; k < 32; k++) {
    const word = k < 16 ? al : ah;
    const shift = (k % 16) * 4;
    // m = tbl + 16 · nibble k
    code.push(...get(word));
    if (shift > 0) code.push(...i64(shift), op.i64shru);
    code.push(op.i32wrap, ...i32(15), op.i32and, ...i32(4), op.i32shl, ...get(tbl), op.i32add, ...set(m));
    if (k === 0) {
      code.push(...get(m), ...i64load(0), ...set(zh), ...get(m), ...i64load(8), ...set(zl));
      continue;
    }
    code.push(
      // t = R[zl & 15]; zl = zl >>> 4 | zh << 60; zh = zh >>> 4 ^ t ^ M.hi; zl ^= M.lo
      ...get(zl), op.i32wrap, ...i32(15), op.i32and, ...i32(3), op.i32shl, ...i64load(RED), ...set(t),
      ...get(zl), ...i64(4), op.i64shru, ...get(zh), ...i64(60), op.i64shl, op.i64or, ...get(m), ...i64load(8), op.i64xor, ...set(zl),
      ...get(zh), ...i64(4), op.i64shru, ...get(t), op.i64xor, ...get(m), ...i64load(0), op.i64xor, ...set(zh),
    );
  }
  code.push(...get(q), ...i32(16), op.i32add, ...set(q));
  code.push(...get(n), ...i32(1), op.i32sub, ...set(n));
  code.push(...get(n), ...brIf(0), END, END);
  code.push(...get(zl), ...gset(Y_LO), ...get(zh), ...gset(Y_HI));
  return code;
}

/**
 * absorb(tbl, s, len): GHASH over len bytes at s, the last block zero-padded. The last partial
 * block is read as two whole words (up to 15 bytes past the end: still inside DATA or KS), masked
 * to its length and stored at PAD (cheaper than memory.fill + memory.copy, which V8 calls out for).
 * Locals: 3 full, 4 rem (i32); 5 m (i64).
 */
function absorbCode(blocksFn: number): Code {
  const [tbl, s, len, full, rem, m] = [0, 1, 2, 3, 4, 5];
  // mask of the low k bytes, 0 ≤ k < 8: (1 << 8k) − 1
  const lowBytes = (k: Code): Code => [...i64(1), ...k, op.i64extendi32u, ...i64(3), op.i64shl, op.i64shl, ...i64(1), op.i64sub];
  return [
    ...get(len), ...i32(-16), op.i32and, ...set(full),
    ...get(tbl), ...get(s), ...get(full), ...i32(4), op.i32shru, ...call(blocksFn),
    ...get(len), ...i32(15), op.i32and, ...set(rem),
    ...get(rem), ...IF_VOID,
    // PAD.lo = word ∧ (rem ≥ 8 ? all ones : lowBytes(rem)); PAD.hi = word ∧ (rem > 8 ? lowBytes(rem − 8) : 0)
    ...get(s), ...get(full), op.i32add, ...set(full),
    ...i64(-1), ...lowBytes(get(rem)), ...get(rem), ...i32(8), op.i32geu, op.select, ...set(m),
    ...i32(PAD), ...get(full), ...i64load(0), ...get(m), op.i64and, ...i64store(0),
    ...get(rem), ...i32(8), op.i32sub, ...set(rem),
    ...lowBytes(get(rem)), ...i64(0), ...get(rem), ...i32(0), op.i32gts, op.select, ...set(m),
    ...i32(PAD), ...get(full), ...i64load(8), ...get(m), op.i64and, ...i64store(8),
    ...get(tbl), ...i32(PAD), ...i32(1), ...call(blocksFn),
    END,
  ];
}

/**
 * seal(tbl, p, aadLen, textLen, ks): the text at p + aadLen is XORed with the keystream at
 * ks + 16 (8 bytes at a time: up to 7 bytes past the text are overwritten, then the tag goes
 * there), then GHASH over AAD, ciphertext and lengths, and the tag S ⊕ E(J0) (E(J0) at ks)
 * is written at p + aadLen + textLen.
 * Locals: 0 tbl, 1 p, 2 aadLen, 3 textLen, 4 ks (params); 5 c, 6 i, 7 lengthBits (i32); 8 t (i64).
 */
function sealCode(blocksFn: number, absorbFn: number, bits: TableBits): Code {
  const [tbl, p, aadLen, textLen, ks, c, i, lengthBits, t] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const be32 = (at: number): Code => [
    ...i32(0), ...get(lengthBits), ...i32(24), op.i32shru, ...i32store8(at),
    ...i32(0), ...get(lengthBits), ...i32(16), op.i32shru, ...i32store8(at + 1),
    ...i32(0), ...get(lengthBits), ...i32(8), op.i32shru, ...i32store8(at + 2),
    ...i32(0), ...get(lengthBits), ...i32store8(at + 3),
  ];
  return [
    ...get(p), ...get(aadLen), op.i32add, ...set(c),
    ...i32(0), ...set(i),
    ...BLOCK_VOID, ...LOOP_VOID,
    ...get(i), ...get(textLen), op.i32geu, ...brIf(1),
    ...get(c), ...get(i), op.i32add,
    ...get(c), ...get(i), op.i32add, ...i64load(0),
    ...get(ks), ...get(i), op.i32add, ...i64load(16),
    op.i64xor, ...i64store(0),
    ...get(i), ...i32(8), op.i32add, ...set(i),
    ...br(0), END, END,
    ...i64(0), ...gset(Y_LO), ...i64(0), ...gset(Y_HI),
    ...get(tbl), ...get(p), ...get(aadLen), ...call(absorbFn),
    ...get(tbl), ...get(c), ...get(textLen), ...call(absorbFn),
    // Lengths block: 64-bit big-endian bit counts of AAD and text (both < 2^32 bits here).
    ...get(aadLen), ...i32(3), op.i32shl, ...set(lengthBits), ...be32(LENGTHS + 4),
    ...get(textLen), ...i32(3), op.i32shl, ...set(lengthBits), ...be32(LENGTHS + 12),
    ...get(tbl), ...i32(LENGTHS), ...i32(1), ...call(blocksFn),
    // The tag: Y's bytes 0..15 XOR E(J0). The 8-bit variant keeps Y as it lies in memory
    // (little-endian words), the 4-bit one as big-endian numbers.
    ...(bits === 8
      ? [
          ...get(c), ...get(textLen), op.i32add, ...gget(Y_LO), ...get(ks), ...i64load(0), op.i64xor, ...i64store(0),
          ...get(c), ...get(textLen), op.i32add, ...gget(Y_HI), ...get(ks), ...i64load(8), op.i64xor, ...i64store(8),
        ]
      : [
          ...get(c), ...get(textLen), op.i32add, ...gget(Y_HI), ...bswap64(t), ...get(ks), ...i64load(0), op.i64xor, ...i64store(0),
          ...get(c), ...get(textLen), op.i32add, ...gget(Y_LO), ...bswap64(t), ...get(ks), ...i64load(8), op.i64xor, ...i64store(8),
        ]),
  ];
}

/** The module's bytes (deterministic). Exports: memory, seal, blocks (for tests). */
export type TableBits = 4 | 8;

export function ghashModuleBytes(initialPages: number, bits: TableBits): Uint8Array<ArrayBuffer> {
  const types = vec([
    [0x60, ...vec([[I32], [I32], [I32]]), ...vec([])], // 0: (i32, i32, i32) → ()
    [0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), ...vec([])], // 1: seal
  ]);
  const BLOCKS = 0;
  const ABSORB = 1;
  const SEAL = 2;
  const funcs = vec([uleb(0), uleb(0), uleb(1)]);
  const memory = vec([[0x00, ...uleb(initialPages)]]);
  const globals = vec([
    [I64, 0x01, ...i64(0), END],
    [I64, 0x01, ...i64(0), END],
  ]);
  const exports = vec([
    [...name('memory'), 0x02, ...uleb(0)],
    [...name('blocks'), 0x00, ...uleb(BLOCKS)],
    [...name('seal'), 0x00, ...uleb(SEAL)],
  ]);
  const code = vec([
    bits === 8 ? funcBody([[2, I64], [1, I32]], blocksCode()) : funcBody([[5, I64], [1, I32]], blocks4Code()),
    funcBody([[2, I32], [1, I64]], absorbCode(BLOCKS)),
    funcBody([[3, I32], [1, I64]], sealCode(BLOCKS, ABSORB, bits)),
  ]);
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    ...section(3, funcs),
    ...section(5, memory),
    ...section(6, globals),
    ...section(7, exports),
    ...section(10, code),
  ]);
}

// --- GF(2^128) tables, built in JavaScript once per key --------------------------------------

/** x · v for a GCM element in its 16 bytes (bit-reflected: a right shift of the 128-bit string). */
function timesX(v: Uint8Array): void {
  const carry = v[15]! & 1;
  for (let i = 15; i > 0; i--) v[i] = (v[i]! >>> 1) | ((v[i - 1]! & 1) << 7);
  v[0] = v[0]! >>> 1;
  if (carry) v[0] ^= 0xe1;
}

/** R[b]: bytes 0 and 1 of x^8 · (the element whose byte 15 is b), as a little-endian u16. */
function reductionTable(): Uint16Array {
  const red = new Uint16Array(256);
  const v = new Uint8Array(16);
  for (let b = 0; b < 256; b++) {
    v.fill(0);
    v[15] = b;
    for (let k = 0; k < 8; k++) timesX(v);
    // x^128 … x^135 reduce to degree ≤ 14: only bytes 0 and 1 remain (checked, not assumed)
    for (let i = 2; i < 16; i++) if (v[i] !== 0) throw new Error('GHASH reduction table: unexpected carry');
    red[b] = v[0]! | (v[1]! << 8);
  }
  return red;
}

/** The 256 × 16-byte table of H's byte multiples, written at dst[offset, offset + 4096). */
function writeTable(h: Uint8Array, dst: Uint8Array, offset: number): void {
  const v = Uint8Array.from(h.subarray(0, 16));
  // entry 0x80 >> k = H · x^k
  for (let k = 0; k < 8; k++) {
    dst.set(v, offset + (0x80 >>> k) * 16);
    timesX(v);
  }
  dst.fill(0, offset, offset + 16);
  for (let b = 2; b < 256; b <<= 1) {
    for (let low = 1; low < b; low++) {
      const o = offset + (b + low) * 16;
      for (let i = 0; i < 16; i++) dst[o + i] = dst[offset + b * 16 + i]! ^ dst[offset + low * 16 + i]!;
    }
  }
}

/** R4[n]: x^4 · (the element whose byte 15 is n < 16), as the big-endian word of bytes 0..7 (only 0, 1 are set). */
function reductionTable4(): BigUint64Array {
  const red = new BigUint64Array(16);
  const v = new Uint8Array(16);
  for (let n = 0; n < 16; n++) {
    v.fill(0);
    v[15] = n;
    for (let k = 0; k < 4; k++) timesX(v);
    for (let i = 2; i < 16; i++) if (v[i] !== 0) throw new Error('GHASH reduction table: unexpected carry');
    red[n] = (BigInt(v[0]!) << 56n) | (BigInt(v[1]!) << 48n);
  }
  return red;
}

/**
 * The 16 × 16-byte table of H's nibble multiples for the 4-bit variant: entry n = (the element
 * whose byte 0 is n << 4) · H, as two big-endian numbers stored as i64 (bytes 0..7, then 8..15).
 */
function writeTable4(h: Uint8Array, dst: Buffer, offset: number): void {
  const entries: Uint8Array[] = Array.from({ length: 16 }, () => new Uint8Array(16));
  const v = Uint8Array.from(h.subarray(0, 16));
  // entry 8 >> k = H · x^k
  for (let k = 0; k < 4; k++) {
    entries[8 >>> k]!.set(v);
    timesX(v);
  }
  for (let b = 2; b < 16; b <<= 1) {
    for (let low = 1; low < b; low++) for (let i = 0; i < 16; i++) entries[b + low]![i] = entries[b]![i]! ^ entries[low]![i]!;
  }
  for (let n = 0; n < 16; n++) {
    const e = entries[n]!;
    for (let i = 0; i < 8; i++) {
      dst[offset + n * 16 + i] = e[7 - i]!;
      dst[offset + n * 16 + 8 + i] = e[15 - i]!;
    }
  }
}

// --- The thread's instance and its table slots ------------------------------------------------

interface Exports {
  memory: WebAssembly.Memory;
  blocks(tbl: number, q: number, n: number): void;
  seal(tbl: number, p: number, aadLen: number, textLen: number, ks: number): void;
}

export class GhashWasm {
  readonly seal: Exports['seal'];
  readonly blocks: Exports['blocks'];
  private readonly memory: WebAssembly.Memory;
  /** A Buffer over the whole memory; replaced when the memory grows (growing detaches the old one). */
  heap: Buffer;
  private slots = 0;
  private readonly free: number[] = [];
  readonly tableBits: TableBits;
  private readonly tableSize: number;

  constructor(tableBits: TableBits = DEFAULT_TABLE_BITS) {
    this.tableBits = tableBits;
    this.tableSize = tableBits === 8 ? 4096 : 256;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(ghashModuleBytes(TABLES / PAGE, tableBits)));
    const e = instance.exports as unknown as Exports;
    this.memory = e.memory;
    this.seal = e.seal;
    this.blocks = e.blocks;
    this.heap = Buffer.from(this.memory.buffer);
    if (tableBits === 8) {
      const red = reductionTable();
      for (let b = 0; b < 256; b++) this.heap.writeUInt16LE(red[b]!, RED + 2 * b);
    } else {
      const red = reductionTable4();
      for (let n = 0; n < 16; n++) this.heap.writeBigUInt64LE(red[n]!, RED + 8 * n);
    }
  }

  /** A table for hash key h (16 bytes); returns its offset. */
  allocate(h: Uint8Array): number {
    let offset = this.free.pop();
    if (offset === undefined) {
      offset = TABLES + this.slots * this.tableSize;
      if (offset + this.tableSize > this.memory.buffer.byteLength) {
        this.memory.grow(1);
        this.heap = Buffer.from(this.memory.buffer);
      }
      this.slots++;
    }
    if (this.tableBits === 8) writeTable(h, this.heap, offset);
    else writeTable4(h, this.heap, offset);
    return offset;
  }

  /** Gives a table back (its key material is wiped). */
  release(offset: number): void {
    this.heap.fill(0, offset, offset + this.tableSize);
    this.free.push(offset);
  }

  /** Tables in use and tables made (for tests and diagnostics). */
  stats(): { inUse: number; allocated: number; memoryBytes: number } {
    return { inUse: this.slots - this.free.length, allocated: this.slots, memoryBytes: this.memory.buffer.byteLength };
  }
}

const instances = new Map<TableBits, GhashWasm | null>();
let instanceError: unknown;

/**
 * The thread's GHASH module (one per table width; the SFU uses the default), or null where
 * WebAssembly cannot be compiled or instantiated (Node run with `--jitless` has no
 * WebAssembly; its 192 KiB memory could not be had): the callers then use the JavaScript GHASH,
 * the same bytes at about twice the cost. Tried once per thread; `ghashWasmError()` says why
 * it failed.
 */
export function ghashWasm(tableBits: TableBits = DEFAULT_TABLE_BITS): GhashWasm | null {
  let instance = instances.get(tableBits);
  if (instance !== undefined) return instance;
  try {
    instance = disabled ? null : new GhashWasm(tableBits);
  } catch (err) {
    instanceError = err;
    instance = null;
  }
  instances.set(tableBits, instance);
  return instance;
}

let disabled = false;

/** For tests: make the next `ghashWasm()` calls answer null (or the module again). */
export function disableGhashWasmForTests(value: boolean): void {
  disabled = value;
  instances.clear();
}

/** Why the module could not be used, if it could not. */
export function ghashWasmError(): unknown {
  return instanceError;
}
