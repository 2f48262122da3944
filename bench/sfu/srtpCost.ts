/**
 * CPU per outgoing SRTP packet, one Opus-sized payload (default 120 bytes) at a time, in one
 * process and one run: werift's AEAD_AES_128_GCM and AES_CM_128_HMAC_SHA1_80 ciphers (a key
 * schedule per packet) against Parley's encrypters of both (src/sfu/srtpEncrypter.ts, key
 * schedule per context; AES-GCM with its GHASH in WebAssembly on its default 4-bit table and,
 * for comparison, on the 8-bit table and in JavaScript). Prints µs per packet and the ratios against werift's GCM, the profile browsers
 * negotiate with the SFU.
 *
 * `--contexts=N` encrypts each packet for N sessions in turn (N keys, as the SFU's fan-out does
 * for N subscribers), so per-key tables compete for the caches as they do in the SFU; the
 * default, 1, measures one key kept hot.
 *
 *   npx tsx bench/sfu/srtpCost.ts [--packets=200000] [--payload=120] [--rounds=3] [--contexts=1]
 */
import { randomBytes } from 'node:crypto';
import { ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80, RtpHeader, SrtpSession } from 'werift';
import { installRtpEncrypter, type EncrypterOptions } from '../../src/sfu/srtpEncrypter.js';

function arg(name: string, fallback: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  const value = hit ? Number(hit.split('=')[1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

const packets = arg('packets', 200_000);
const payloadLength = arg('payload', 120);
const rounds = arg('rounds', 3);
const contexts = arg('contexts', 1);

function session(profile: number): SrtpSession {
  const salt = profile === ProtectionProfileAeadAes128Gcm ? 12 : 14;
  return new SrtpSession({
    keys: { localMasterKey: randomBytes(16), localMasterSalt: randomBytes(salt), remoteMasterKey: randomBytes(16), remoteMasterSalt: randomBytes(salt) },
    profile,
  });
}

function sessions(profile: number, install?: EncrypterOptions): SrtpSession[] {
  const list: SrtpSession[] = [];
  for (let i = 0; i < contexts; i++) {
    const s = session(profile);
    if (install && !installRtpEncrypter(s, install)) throw new Error('encrypter not installed');
    list.push(s);
  }
  return list;
}

const targets: Record<string, SrtpSession[]> = {
  'werift AES-GCM': sessions(ProtectionProfileAeadAes128Gcm),
  'werift AES-CM+HMAC': sessions(ProtectionProfileAes128CmHmacSha1_80),
  'Parley AES-CM+HMAC': sessions(ProtectionProfileAes128CmHmacSha1_80, { ghash: 'wasm' }),
  'Parley AES-GCM (JS GHASH)': sessions(ProtectionProfileAeadAes128Gcm, { ghash: 'js' }),
  'Parley AES-GCM (wasm 8-bit)': sessions(ProtectionProfileAeadAes128Gcm, { ghash: 'wasm8' }),
  'Parley AES-GCM': sessions(ProtectionProfileAeadAes128Gcm, { ghash: 'wasm' }),
};

const payload = randomBytes(payloadLength);
const header = new RtpHeader({ payloadType: 111, sequenceNumber: 0, timestamp: 0, ssrc: 0x11223344, extension: true, extensionProfile: 0xbede, extensions: [{ id: 1, payload: Buffer.from([0x30]) }] });

const best: Record<string, number> = {};
const perContext = Math.max(1, Math.round(packets / contexts));
for (let r = 0; r < rounds; r++) {
  for (const [name, list] of Object.entries(targets)) {
    const start = process.cpuUsage();
    for (let i = 0; i < perContext; i++) {
      header.sequenceNumber = i & 0xffff;
      for (let c = 0; c < list.length; c++) list[c]!.encrypt(payload, header);
    }
    const used = process.cpuUsage(start);
    const us = (used.user + used.system) / (perContext * list.length);
    best[name] = Math.min(best[name] ?? Infinity, us);
  }
}
const gcm = best['werift AES-GCM']!;
const ours = best['Parley AES-GCM']!;
const oursJs = best['Parley AES-GCM (JS GHASH)']!;
console.log(`SRTP encrypt, ${payloadLength}-byte payload, ${perContext * contexts} packets over ${contexts} key(s) × ${rounds} rounds (best round, process CPU)`);
for (const [name, us] of Object.entries(best)) console.log(`  ${name.padEnd(26)} ${us.toFixed(2)} µs/packet   ×${(us / gcm).toFixed(2)} of werift's GCM`);
console.log(JSON.stringify({ payloadLength, packets: perContext * contexts, contexts, rounds, usPerPacket: best, parleyGcmOverWeriftGcm: ours / gcm, parleyGcmOverJsGhash: ours / oursJs }));
