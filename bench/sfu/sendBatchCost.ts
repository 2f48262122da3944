/**
 * What one fan-out costs the sending thread, one phase against two (src/sfu/udpSend.ts
 * `SendBatch`), in one process so that both run under the same machine load:
 *
 * - `each`: every consumer's packet is encrypted into the thread's scratch and sent at once
 *   (the forwarding path before the batch);
 * - `batch`: every consumer's packet is encrypted into the arena, then all are sent in one loop.
 *
 * The SRTP (AES-GCM, this repository's encrypter on werift's session), the UDP send path and the
 * packets (an 80-byte Opus payload, the MID and audio-level extensions) are the SFU's own. The
 * receivers are real sockets in other processes (by default 4, as bench:sfu's subscriber hosts),
 * so every send wakes a receiving process as it does on loopback in the SFU. One fan-out every
 * 20 ms (one publisher at 50 packets/s); the modes alternate in rounds.
 *
 *   npx tsx bench/sfu/sendBatchCost.ts --n=200 --seconds=4 --rounds=3 [--hosts=4]
 *
 * Prints, per mode and round, CPU of this process (user / system, µs per sent packet) and the
 * fan-out's wall time (p50 / p99 ms).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { ProtectionProfileAeadAes128Gcm, RtpHeader, SrtpSession } from 'werift';
import { installRtpEncrypter, rtpEncrypterOf } from '../../src/sfu/srtpEncrypter.js';
import { SendBatch, scratchPacket, sendNow, udpSender, type UdpSend } from '../../src/sfu/udpSend.js';

function arg(name: string, fallback: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.slice(name.length + 3)) : fallback;
}
const N = arg('n', 200);
const SECONDS = arg('seconds', 4);
const ROUNDS = arg('rounds', 3);
const HOSTS = arg('hosts', 4);
const INTERVAL_MS = 20;

/** A receiver process: binds `count` sockets, prints their ports, counts what arrives. */
const RECEIVER = `
const dgram = require('node:dgram');
const count = Number(process.argv[1]);
let got = 0, bound = 0; const ports = [];
for (let i = 0; i < count; i++) {
  const s = dgram.createSocket('udp4');
  s.on('message', () => { got++; });
  s.bind(0, '127.0.0.1', () => { ports[i] = s.address().port; if (++bound === count) process.stdout.write(JSON.stringify(ports) + '\\n'); });
}
process.stdin.on('data', () => process.stdout.write(JSON.stringify({ got }) + '\\n'));
`;

async function receiver(count: number): Promise<{ child: ChildProcess; ports: number[] }> {
  const child = spawn(process.execPath, ['-e', RECEIVER, String(count)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return { child, ports: JSON.parse(line.toString()) as number[] };
}

interface Path {
  session: SrtpSession;
  encrypter: { output: ((size: number) => Buffer) | undefined };
  header: RtpHeader;
  send: UdpSend;
  roc: { rolloverCounter: number };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const hosts = await Promise.all(Array.from({ length: HOSTS }, () => receiver(Math.ceil(N / HOSTS))));
  const ports = hosts.flatMap((h) => h.ports).slice(0, N);
  // The SFU has one socket per transport; so does this (each send from its own socket).
  const sockets: Socket[] = [];
  const paths: Path[] = [];
  for (let i = 0; i < ports.length; i++) {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1');
    await once(s, 'listening');
    sockets.push(s);
    const keys = { localMasterKey: randomBytes(16), localMasterSalt: randomBytes(12), remoteMasterKey: randomBytes(16), remoteMasterSalt: randomBytes(12) };
    const session = new SrtpSession({ keys, profile: ProtectionProfileAeadAes128Gcm });
    installRtpEncrypter(session);
    const encrypter = rtpEncrypterOf(session)!;
    const mid = { id: 1, payload: Buffer.from(String(i % 10)) };
    const level = { id: 10, payload: Buffer.from([0x80 | 30]) };
    const header = new RtpHeader({ payloadType: 100, ssrc: (0x10000000 + i * 7919) >>> 0, extensionProfile: 0xbede, extension: true, extensions: [mid, level] });
    paths.push({ session, encrypter, header, send: udpSender(s, '127.0.0.1', ports[i]!), roc: session.localContext.getSrtpSsrcState(header.ssrc) });
  }
  const payload = randomBytes(80);
  const batch = new SendBatch();
  let seq = 1000;

  const fanOut = (mode: 'each' | 'batch'): void => {
    seq = (seq + 1) & 0xffff;
    for (let i = 0; i < paths.length; i++) {
      const p = paths[i]!;
      const h = p.header;
      h.sequenceNumber = seq;
      h.timestamp = (seq * 960) >>> 0;
      const context = p.session.localContext;
      context.updateRolloverCount(seq, p.roc as Parameters<typeof context.updateRolloverCount>[1]);
      if (mode === 'each') {
        p.encrypter.output = scratchPacket;
        const packet = context.cipher.encryptRtp(h, payload, p.roc.rolloverCounter);
        p.encrypter.output = undefined;
        sendNow(p.send, packet);
      } else {
        p.encrypter.output = batch.output;
        const packet = context.cipher.encryptRtp(h, payload, p.roc.rolloverCounter);
        p.encrypter.output = undefined;
        batch.add(p.send, packet);
      }
    }
    if (mode === 'batch') batch.flush();
  };

  const run = async (mode: 'each' | 'batch', seconds: number): Promise<{ userUs: number; sysUs: number; p50: number; p99: number; fanOuts: number }> => {
    const walls: number[] = [];
    const fanOuts = Math.round((seconds * 1000) / INTERVAL_MS);
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    for (let k = 0; k < fanOuts; k++) {
      // A self-correcting 20 ms schedule, as the publisher's.
      const due = start + k * INTERVAL_MS;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const t0 = performance.now();
      fanOut(mode);
      walls.push(performance.now() - t0);
    }
    const cpu = process.cpuUsage(cpu0);
    walls.sort((a, b) => a - b);
    const packets = fanOuts * paths.length;
    return { userUs: cpu.user / packets, sysUs: cpu.system / packets, p50: percentile(walls, 50), p99: percentile(walls, 99), fanOuts };
  };

  console.log(`send-batch cost: N=${paths.length} receivers in ${HOSTS} processes, one fan-out per ${INTERVAL_MS} ms, ${SECONDS} s per mode and round, load ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  await run('each', 1);
  await run('batch', 1);
  const totals = { each: [] as number[], batch: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    const order: Array<'each' | 'batch'> = r % 2 === 0 ? ['each', 'batch'] : ['batch', 'each'];
    for (const mode of order) {
      const m = await run(mode, SECONDS);
      totals[mode].push(m.userUs + m.sysUs);
      console.log(`round ${r + 1} ${mode.padEnd(5)}  CPU ${(m.userUs + m.sysUs).toFixed(2)} µs/pkt (user ${m.userUs.toFixed(2)}, sys ${m.sysUs.toFixed(2)})  fan-out p50 / p99 ${m.p50.toFixed(2)} / ${m.p99.toFixed(2)} ms`);
    }
  }
  const mean = (a: number[]): number => a.reduce((x, y) => x + y, 0) / a.length;
  console.log(`mean CPU µs/pkt: each ${mean(totals.each).toFixed(2)}, batch ${mean(totals.batch).toFixed(2)} (batch ÷ each ×${(mean(totals.batch) / mean(totals.each)).toFixed(2)})`);
  const counts = await Promise.all(
    hosts.map(async (h) => {
      h.child.stdin!.write('?');
      const [line] = (await once(h.child.stdout!, 'data')) as [Buffer];
      return (JSON.parse(line.toString()) as { got: number }).got;
    }),
  );
  console.log(`receivers got ${counts.reduce((a, b) => a + b, 0)} datagrams`);
  for (const h of hosts) h.child.kill();
  for (const s of sockets) s.close();
}

await main();
