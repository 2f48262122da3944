/**
 * MEDIA_WORKER_NICE: the media worker thread runs at the nice value asked for, and only that
 * thread: the main thread (Socket.IO, HTTP) keeps the process's priority. Read back from
 * /proc (Linux, where nice is per thread). Nice 7 is used so the test needs no privilege.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/log/logger.js';
import { MediaWorkerPool } from '../src/sfu/mediaWorkerPool.js';

/** nice of each thread of this process, by thread id (field 19 of /proc/self/task/<tid>/stat). */
function threadNice(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(tid), Number(fields[16]));
  }
  return out;
}

test('the media thread runs at MEDIA_WORKER_NICE; the main thread keeps its priority', { timeout: 30_000 }, async () => {
  const lines: Array<{ msg?: string; nice?: number }> = [];
  let heard: (() => void) | undefined;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { msg?: string; nice?: number });
      heard?.();
      done();
    },
  });
  const before = threadNice();
  const mainNice = before.get(process.pid);
  const pool = new MediaWorkerPool(1, { transport: { listenIp: '127.0.0.1' }, audioLevelIntervalMs: 250, nice: 7 }, createLogger('info', sink));
  try {
    pool.warmUp();
    const set = (): { msg?: string; nice?: number } | undefined => lines.find((l) => l.msg === 'media worker thread priority set' || l.msg?.startsWith('media worker thread priority not set'));
    while (!set()) await new Promise<void>((r) => (heard = r));
    assert.equal(set()!.msg, 'media worker thread priority set', `the pool logged: ${JSON.stringify(set())}`);
    assert.equal(set()!.nice, 7);
    const after = threadNice();
    const niced = [...after].filter(([tid, n]) => n === 7 && before.get(tid) !== 7);
    assert.equal(niced.length, 1, `exactly one new thread must run at nice 7; threads now: ${JSON.stringify([...after])}`);
    assert.equal(after.get(process.pid), mainNice, 'the main thread keeps the process priority');
  } finally {
    await pool.close();
  }
});

test('MEDIA_WORKER_NICE: an integer from -20 to 19, unset by default; anything else is refused by name', () => {
  const secret = 'worker-priority-test-secret-0123456789abcdef';
  const load = (value?: string) => loadConfig({ JWT_SECRET: secret, ...(value !== undefined ? { MEDIA_WORKER_NICE: value } : {}) }, () => secret);
  assert.equal(load().media.workerNice, undefined);
  assert.equal(load('-10').media.workerNice, -10);
  assert.equal(load('19').media.workerNice, 19);
  for (const bad of ['-21', '20', '1.5', 'high']) {
    assert.throws(() => load(bad), (err: unknown) => err instanceof ConfigError && /MEDIA_WORKER_NICE/.test(err.message), `MEDIA_WORKER_NICE=${bad} must be refused`);
  }
});
