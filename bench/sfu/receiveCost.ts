/**
 * CPU per incoming SRTCP receiver report, the RTCP every subscriber sends (a werift client one
 * a second: one RR with one report block, 52 bytes with AES-GCM), in one process and one run:
 * werift's SRTCP session decrypting it and parsing it into packet objects (what the transport
 * did before) against Parley's decrypter (src/sfu/srtpDecrypter.ts: key schedule and scratch
 * per context, replay window) followed by the check that drops, after authentication, a
 * compound holding nothing the router uses. Both AEAD_AES_128_GCM and AES_CM_128_HMAC_SHA1_80.
 * Then the sender reports the SFU sends, one per consumer for each one its producer receives:
 * werift's serialize + SRTCP encrypt against src/sfu/srtcpEncrypter.ts. And the STUN consent
 * answer: werift's Message against src/sfu/stunAnswer.ts.
 *
 * In a hot loop everything is optimised; in the SFU these run ≈ N times a second between
 * thousands of sends, colder, so their cost there differs (the fan-out benchmark measures it).
 *
 *   npx tsx bench/sfu/receiveCost.ts [--packets=100000] [--rounds=3]
 */
import { randomBytes } from 'node:crypto';
import { Message, ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80, RtcpPacketConverter, RtcpReceiverInfo, RtcpRrPacket, RtcpSenderInfo, RtcpSrPacket, SrtcpSession } from 'werift';
import { bindingSuccess, xorMappedIpv4 } from '../../src/sfu/stunAnswer.js';
import { senderReport, srtcpEncrypterFor, type SrtcpLocalContextLike } from '../../src/sfu/srtcpEncrypter.js';
import { rtcpHasRoutedPacket, srtcpDecrypterFor, type SrtcpContextLike } from '../../src/sfu/srtpDecrypter.js';

function arg(name: string, fallback: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  const value = hit ? Number(hit.split('=')[1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

const packets = arg('packets', 100_000);
const rounds = arg('rounds', 3);

function sessions(profile: number): { peer: SrtcpSession; sfu: () => SrtcpSession } {
  const salt = profile === ProtectionProfileAeadAes128Gcm ? 12 : 14;
  const a = { key: randomBytes(16), salt: randomBytes(salt) };
  const b = { key: randomBytes(16), salt: randomBytes(salt) };
  return {
    peer: new SrtcpSession({ keys: { localMasterKey: a.key, localMasterSalt: a.salt, remoteMasterKey: b.key, remoteMasterSalt: b.salt }, profile }),
    sfu: () => new SrtcpSession({ keys: { localMasterKey: b.key, localMasterSalt: b.salt, remoteMasterKey: a.key, remoteMasterSalt: a.salt }, profile }),
  };
}

const results: string[] = [];
for (const [name, profile] of [
  ['AES-GCM', ProtectionProfileAeadAes128Gcm],
  ['AES-CM+HMAC', ProtectionProfileAes128CmHmacSha1_80],
] as const) {
  const { peer, sfu } = sessions(profile);
  const encrypted: Buffer[] = [];
  for (let i = 0; i < packets; i++) {
    const rr = new RtcpRrPacket({ ssrc: 0x0a0b0c0d, reports: [new RtcpReceiverInfo({ ssrc: 0x11223344, fractionLost: 0, packetsLost: 0, highestSequence: i, jitter: 3, lsr: i, dlsr: 1 })] });
    encrypted.push(peer.encrypt(rr.serialize()));
  }
  const best = { werift: Infinity, parley: Infinity };
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    const reference = sfu();
    let start = process.cpuUsage();
    for (let i = 0; i < packets; i++) sink += RtcpPacketConverter.deSerialize(reference.decrypt(encrypted[i]!)).length;
    let used = process.cpuUsage(start);
    best.werift = Math.min(best.werift, (used.user + used.system) / packets);
    // A fresh decrypter per round: the packets' indices start again (replay window).
    const ours = srtcpDecrypterFor((sfu() as unknown as { remoteContext: SrtcpContextLike }).remoteContext)!;
    start = process.cpuUsage();
    for (let i = 0; i < packets; i++) if (rtcpHasRoutedPacket(ours.decrypt(encrypted[i]!))) sink++;
    used = process.cpuUsage(start);
    best.parley = Math.min(best.parley, (used.user + used.system) / packets);
  }
  if (sink !== rounds * packets) throw new Error(`expected ${rounds * packets} receiver reports parsed by werift and none routed, got ${sink}`);
  results.push(`${name.padEnd(12)} werift decrypt + parse ${best.werift.toFixed(2)} µs   Parley decrypt + drop ${best.parley.toFixed(2)} µs   ×${(best.parley / best.werift).toFixed(2)}`);
}
console.log(`SRTCP receiver report (${packets} packets × ${rounds} rounds, best round, process CPU per packet)`);
for (const line of results) console.log(line);

// The other half of RTCP per subscriber: each publisher sender report (one a second) becomes a
// sender report per consumer. werift: RtcpSrPacket.serialize + SrtcpSession.encrypt; Parley:
// senderReport + its SRTCP encrypter (src/sfu/srtcpEncrypter.ts). Encryption only: the send is
// the same datagram either way (werift's went through its promise-returning ICE send).
const srResults: string[] = [];
for (const [name, profile] of [
  ['AES-GCM', ProtectionProfileAeadAes128Gcm],
  ['AES-CM+HMAC', ProtectionProfileAes128CmHmacSha1_80],
] as const) {
  const { peer } = sessions(profile);
  const werift = sessions(profile).peer;
  const ours = srtcpEncrypterFor((peer as unknown as { localContext: SrtcpLocalContextLike }).localContext)!;
  const best = { werift: Infinity, parley: Infinity };
  let bytes = 0;
  for (let r = 0; r < rounds; r++) {
    let start = process.cpuUsage();
    for (let i = 0; i < packets; i++) {
      const sr = new RtcpSrPacket({ ssrc: 0x0a0b0c0d, senderInfo: new RtcpSenderInfo({ ntpTimestamp: 0xe9a1b2c3_00000000n + BigInt(i), rtpTimestamp: i * 960, packetCount: i, octetCount: i * 80 }) });
      bytes += werift.encrypt(sr.serialize()).length;
    }
    let used = process.cpuUsage(start);
    best.werift = Math.min(best.werift, (used.user + used.system) / packets);
    start = process.cpuUsage();
    for (let i = 0; i < packets; i++) {
      // As the transport does it: the consumer's RtcpSrPacket object is still made, then written directly.
      const sr = new RtcpSrPacket({ ssrc: 0x0a0b0c0d, senderInfo: new RtcpSenderInfo({ ntpTimestamp: 0xe9a1b2c3_00000000n + BigInt(i), rtpTimestamp: i * 960, packetCount: i, octetCount: i * 80 }) });
      const info = sr.senderInfo;
      bytes += ours.encrypt(senderReport(sr.ssrc, info.ntpTimestamp, info.rtpTimestamp, info.packetCount, info.octetCount)).length;
    }
    used = process.cpuUsage(start);
    best.parley = Math.min(best.parley, (used.user + used.system) / packets);
  }
  if (bytes === 0) throw new Error('nothing encrypted');
  srResults.push(`${name.padEnd(12)} werift serialize + encrypt ${best.werift.toFixed(2)} µs   Parley ${best.parley.toFixed(2)} µs   ×${(best.parley / best.werift).toFixed(2)}`);
}
console.log(`SRTCP sender report out (${packets} packets × ${rounds} rounds, best round, process CPU per packet)`);
for (const line of srResults) console.log(line);

// The consent check answer (each subscriber's browser sends a check every few seconds): werift
// builds a Message and reads its `bytes` four times; Parley writes the 64 bytes once
// (src/sfu/stunAnswer.ts). Building only; the request's integrity check is the same either way.
{
  const password = Buffer.from('0123456789abcdef01234567', 'utf8');
  const transactionId = randomBytes(12);
  const best = { werift: Infinity, parley: Infinity };
  let bytes = 0;
  for (let r = 0; r < rounds; r++) {
    let start = process.cpuUsage();
    for (let i = 0; i < packets; i++) bytes += new Message(1, 256, transactionId).setAttribute('XOR-MAPPED-ADDRESS', ['127.0.0.1', 40000 + (i & 1023)]).addMessageIntegrity(password).addFingerprint().bytes.length;
    let used = process.cpuUsage(start);
    best.werift = Math.min(best.werift, (used.user + used.system) / packets);
    start = process.cpuUsage();
    // xorMappedIpv4 is made once per nominated pair in the SFU; made per answer here, to be conservative.
    for (let i = 0; i < packets; i++) bytes += bindingSuccess(transactionId, xorMappedIpv4('127.0.0.1', 40000 + (i & 1023)), password).length;
    used = process.cpuUsage(start);
    best.parley = Math.min(best.parley, (used.user + used.system) / packets);
  }
  if (bytes === 0) throw new Error('nothing built');
  console.log(`STUN consent answer (${packets} × ${rounds} rounds, best round, process CPU per answer)`);
  console.log(`werift Message ${best.werift.toFixed(2)} µs   Parley ${best.parley.toFixed(2)} µs   ×${(best.parley / best.werift).toFixed(2)}`);
}
