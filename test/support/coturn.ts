/**
 * A real coturn (Debian `turnserver`) on 127.0.0.1 for one test file, with TURN REST API
 * credentials (`use-auth-secret`), the scheme Parley's IceServerProvider mints.
 * Started on a free port, ready once it answers a STUN Binding request, stopped afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunningCoturn {
  host: string;
  port: number;
  secret: string;
  realm: string;
  /** Lines coturn printed (stdout and stderr), for failure messages. */
  output: string[];
  stop(): Promise<void>;
}

export interface CoturnOptions {
  secret?: string;
  realm?: string;
  /** Relay port range (UDP). */
  minPort?: number;
  maxPort?: number;
  startTimeoutMs?: number;
}

/** A port free for both TCP and UDP on 127.0.0.1 (coturn listens on both). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        const p = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const sock = createSocket('udp4');
      sock.once('error', () => resolve(false));
      sock.bind(port, '127.0.0.1', () => sock.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no port free for both TCP and UDP on 127.0.0.1');
}

/** Sends a STUN Binding request; resolves true when a Binding success response comes back. */
export function stunBindingAnswers(host: string, port: number, timeoutMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const txId = randomBytes(12);
    const req = Buffer.alloc(20);
    req.writeUInt16BE(0x0001, 0); // Binding request
    req.writeUInt16BE(0, 2); // no attributes
    req.writeUInt32BE(0x2112a442, 4); // magic cookie
    txId.copy(req, 8);
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('message', (msg) => finish(msg.length >= 20 && msg.readUInt16BE(0) === 0x0101 && msg.subarray(8, 20).equals(txId)));
    sock.on('error', () => finish(false));
    sock.send(req, port, host, (err) => {
      if (err) finish(false);
    });
  });
}

export async function startCoturn(options: CoturnOptions = {}): Promise<RunningCoturn> {
  const host = '127.0.0.1';
  const secret = options.secret ?? randomBytes(16).toString('hex');
  const realm = options.realm ?? 'parley.test';
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'parley-coturn-'));
  const args = [
    '-n',
    `--listening-ip=${host}`,
    `--relay-ip=${host}`,
    `--listening-port=${port}`,
    `--min-port=${options.minPort ?? 49152}`,
    `--max-port=${options.maxPort ?? 65535}`,
    '--use-auth-secret',
    `--static-auth-secret=${secret}`,
    `--realm=${realm}`,
    '--allow-loopback-peers',
    '--no-cli',
    '--no-tls',
    '--no-dtls',
    '--no-rfc5780',
    '--fingerprint',
    '--log-file=stdout',
    '--simple-log',
    '--verbose',
    `--pidfile=${join(dir, 'turnserver.pid')}`,
    `--userdb=${join(dir, 'turndb')}`,
  ];
  const child: ChildProcess = spawn('turnserver', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) output.push(line);
    if (output.length > 2000) output.splice(0, output.length - 2000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
  });
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });

  const stop = async (): Promise<void> => {
    if (exited === undefined && child.exitCode === null) {
      child.kill('SIGTERM');
      const killed = await Promise.race([exitPromise.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
      if (!killed) {
        child.kill('SIGKILL');
        await Promise.race([exitPromise, new Promise((r) => setTimeout(r, 2000))]);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  for (;;) {
    if (spawnError) {
      await stop();
      throw new Error(`could not start turnserver: ${spawnError.message}`);
    }
    if (exited) {
      await stop();
      throw new Error(`turnserver exited (code ${exited.code}, signal ${exited.signal}) before it listened:\n${output.slice(-30).join('\n')}`);
    }
    if (await stunBindingAnswers(host, port)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`turnserver did not answer STUN on ${host}:${port} in time:\n${output.slice(-30).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { host, port, secret, realm, output, stop };
}
