/**
 * HAProxy from Debian in front of test nodes, with the operators' own deploy/haproxy.cfg:
 * only the bind address and the server lines are replaced by loopback ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './polling.js';

export interface RunningHaproxy {
  url: string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

export async function startHaproxy(servers: Array<{ name: string; port: number }>): Promise<RunningHaproxy> {
  const source = readFileSync(new URL('../../deploy/haproxy.cfg', import.meta.url), 'utf8');
  const port = await freePort();
  const lines = source.split('\n');
  const at = lines.findIndex((l) => l.trim() === '# servers');
  if (at < 0) throw new Error('deploy/haproxy.cfg has no "# servers" line to put the test servers after');
  const head = lines.slice(0, at + 1).filter((l) => !/^\s*server\s/.test(l)).map((l) => l.replace(/^\s*bind\s+\S+/, `  bind 127.0.0.1:${port}`));
  // Checks every 300 ms here: the tests wait for the servers to be seen up.
  const cfg = [...head, ...servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port} cookie ${s.name} inter 300ms`), ''].join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'parley-haproxy-'));
  const path = join(dir, 'haproxy.cfg');
  writeFileSync(path, cfg);
  let out = '';
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((r) => child.once('exit', r));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`HAProxy to answer on ${url}`, async () => {
    if (child.exitCode !== null) throw new Error(`haproxy exited (is it installed? scripts/install-system-deps.sh):\n${out}`);
    return (await fetch(`${url}/health`).catch(() => undefined))?.status === 200;
  }, 15_000);
  return {
    url,
    async close() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
