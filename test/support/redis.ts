/**
 * The machine's Redis (127.0.0.1:6379, or PARLEY_TEST_REDIS_URL) for cluster tests: every
 * test run gets a key prefix of its own, so parallel runs never see each other's streams
 * and channels, and its keys are deleted afterwards.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';

export function testRedisUrl(): string {
  return process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
}

export function uniquePrefix(): string {
  return `parley-test:${randomUUID().slice(0, 8)}:`;
}

/** Deletes every key under `prefix` (SCAN, bounded to 10 000 keys). */
export async function dropPrefix(prefix: string, url = testRedisUrl()): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  try {
    let n = 0;
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      if (keys.length > 0) await client.del(keys);
      n += keys.length;
      if (n > 10_000) break;
    }
  } finally {
    await client.close();
  }
}

/** A Redis server of the test's own (to stop and start it), on a loopback port; no persistence. */
export interface OwnRedis {
  url: string;
  port: number;
  stop(signal?: NodeJS.Signals): Promise<void>;
  start(): Promise<void>;
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const { spawn } = await import('node:child_process');
  const { createServer } = await import('node:net');
  const port = await new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  let child: ReturnType<typeof spawn> | undefined;
  const url = `redis://127.0.0.1:${port}`;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 500 } });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        await probe.ping();
        await probe.close();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start (is redis-server installed? scripts/install-system-deps.sh)`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const stop = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await gone;
  };
  await start();
  return { url, port, stop, start };
}
