/**
 * CPU per outgoing SRTP packet, one Opus-sized payload (default 120 bytes) at a time, in one
 * process and one run: werift's AEAD_AES_128_GCM and AES_CM_128_HMAC_SHA1_80 ciphers (a key
 * schedule per packet) against Parley's encrypters of both (src/sfu/srtpEncrypter.ts, key
 * schedule per context). Prints µs per packet and the ratios against werift's GCM, the
 * profile browsers negotiate with the SFU.
 *
 *   npx tsx bench/sfu/srtpCost.ts [--packets=200000] [--payload=120] [--rounds=3]
 */
import { randomBytes } from 'node:crypto';
import { ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80, RtpHeader, SrtpSession } from 'werift';
import { installRtpEncrypter } from '../../src/sfu/srtpEncrypter.js';

function arg(name: string, fallback: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  const value = hit ? Number(hit.split('=')[1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

const packets = arg('packets', 200_000);
const payloadLength = arg('payload', 120);
const rounds = arg('rounds', 3);

function session(profile: number): SrtpSession {
  const salt = profile === ProtectionProfileAeadAes128Gcm ? 12 : 14;
  return new SrtpSession({
    keys: { localMasterKey: randomBytes(16), localMasterSalt: randomBytes(salt), remoteMasterKey: randomBytes(16), remoteMasterSalt: randomBytes(salt) },
    profile,
  });
}

const targets: Record<string, SrtpSession> = {
  'werift AES-GCM': session(ProtectionProfileAeadAes128Gcm),
  'werift AES-CM+HMAC': session(ProtectionProfileAes128CmHmacSha1_80),
  'Parley AES-CM+HMAC': session(ProtectionProfileAes128CmHmacSha1_80),
  'Parley AES-GCM': session(ProtectionProfileAeadAes128Gcm),
};
installRtpEncrypter(targets['Parley AES-CM+HMAC']!);
installRtpEncrypter(targets['Parley AES-GCM']!);

const payload = randomBytes(payloadLength);
const header = new RtpHeader({ payloadType: 111, sequenceNumber: 0, timestamp: 0, ssrc: 0x11223344, extension: true, extensionProfile: 0xbede, extensions: [{ id: 1, payload: Buffer.from([0x30]) }] });

const best: Record<string, number> = {};
for (let r = 0; r < rounds; r++) {
  for (const [name, s] of Object.entries(targets)) {
    const start = process.cpuUsage();
    for (let i = 0; i < packets; i++) {
      header.sequenceNumber = i & 0xffff;
      s.encrypt(payload, header);
    }
    const used = process.cpuUsage(start);
    const us = (used.user + used.system) / packets;
    best[name] = Math.min(best[name] ?? Infinity, us);
  }
}
const gcm = best['werift AES-GCM']!;
const ours = best['Parley AES-GCM']!;
console.log(`SRTP encrypt, ${payloadLength}-byte payload, ${packets} packets × ${rounds} rounds (best round, process CPU)`);
for (const [name, us] of Object.entries(best)) console.log(`  ${name.padEnd(20)} ${us.toFixed(2)} µs/packet   ×${(us / gcm).toFixed(2)} of werift's GCM`);
console.log(JSON.stringify({ payloadLength, packets, rounds, usPerPacket: best, parleyGcmOverWeriftGcm: ours / gcm }));
