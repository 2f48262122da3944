/**
 * Child process that hosts the server under test: `parley` (a real Parley from
 * test/support/parleyServer.ts) or `bare` (bench/lib/bareServer.ts). It listens on
 * 127.0.0.1, reports its URL, measures its own CPU and event-loop delay between
 * `measure-start` and `measure-stop`, and closes everything on `close`.
 *
 * argv: <target> [JSON env for Parley]
 *
 * With BENCH_SERVER_PROFILE=<dir>, the V8 CPU profile of the measured window is written to
 * <dir>/<target>-<pid>.cpuprofile (open it in Chrome DevTools or speedscope).
 */
import { mkdirSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startBareServer } from './bareServer.js';
import { LOOP_RESOLUTION_MS, loopDelay } from './loopDelay.js';
import type { FromServer, ServerStats, Target, ToServer } from './protocol.js';
import { startParley, type RunningParley } from '../../test/support/parleyServer.js';

const send = (m: FromServer): void => {
  process.send?.(m);
};

interface Hosted {
  url: string;
  relayed(): Promise<number>;
  outcomes(): Promise<Record<string, number>>;
  /** Longest consultation queue since the last `resetWindow` (Parley only). */
  queueMax?(): number;
  resetWindow?(): void;
  close(): Promise<void>;
}

async function host(target: Target, env: Record<string, string>): Promise<Hosted> {
  if (target === 'bare') {
    const bare = await startBareServer();
    return { url: bare.url, relayed: async () => bare.relayed(), outcomes: async () => ({}), close: () => bare.close() };
  }
  // startParley makes a parley-test-* folder for its SQLite file; the benchmark runs on an
  // in-memory database instead (SQLITE_PATH=:memory:), so that folder stays empty and is removed.
  const scratch = () => new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('parley-test-')));
  const before = scratch();
  const running: RunningParley = await startParley({ SQLITE_PATH: ':memory:', ...env });
  for (const name of scratch()) {
    if (before.has(name)) continue;
    try {
      rmdirSync(join(tmpdir(), name)); // only succeeds when empty: never touches anyone else's data
    } catch {
      /* not ours or not empty: leave it */
    }
  }
  const { metrics, consultations } = running.parley;
  // The queue view Parley pushes to the agents' consoles carries the queue's full length.
  let queueMax = 0;
  consultations.on('queue', (q) => {
    if (q.length > queueMax) queueMax = q.length;
  });
  return {
    url: running.url,
    relayed: async () => (await metrics.relayedMessages.get()).values.reduce((s, v) => s + v.value, 0),
    outcomes: async () => {
      const out: Record<string, number> = {};
      for (const v of (await metrics.socketEvents.get()).values) {
        const key = `${String(v.labels.event)}:${String(v.labels.outcome)}`;
        out[key] = (out[key] ?? 0) + v.value;
      }
      return out;
    },
    queueMax: () => queueMax,
    resetWindow: () => {
      queueMax = 0;
    },
    close: () => running.close(),
  };
}

async function main(): Promise<void> {
  const target = process.argv[2] as Target;
  if (target !== 'bare' && target !== 'parley') throw new Error(`unknown target "${String(target)}"`);
  const env = JSON.parse(process.argv[3] ?? '{}') as Record<string, string>;
  const server = await host(target, env);

  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  let cpuAtStart = process.cpuUsage();
  let wallAtStart = performance.now();

  const profileDir = process.env.BENCH_SERVER_PROFILE;
  const profiler = profileDir ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
  }

  // If the orchestrator dies, do not linger.
  process.on('disconnect', () => {
    void server.close().finally(() => process.exit(0));
  });
  process.on('message', (raw) => {
    const m = raw as ToServer;
    void (async () => {
      if (m.type === 'measure-start') {
        cpuAtStart = process.cpuUsage();
        wallAtStart = performance.now();
        server.resetWindow?.();
        loop.reset();
        loop.enable();
        await profiler?.post('Profiler.start');
      } else if (m.type === 'measure-stop') {
        const cpu = process.cpuUsage(cpuAtStart);
        loop.disable();
        if (profiler && profileDir) {
          const { profile } = await profiler.post('Profiler.stop');
          mkdirSync(profileDir, { recursive: true });
          writeFileSync(join(profileDir, `${target}-${process.pid}.cpuprofile`), JSON.stringify(profile));
        }
        const stats: ServerStats = {
          cpuMs: (cpu.user + cpu.system) / 1000,
          wallMs: performance.now() - wallAtStart,
          loopDelayP50Ms: loopDelay(loop, 50),
          loopDelayP99Ms: loopDelay(loop, 99),
          loopDelayMaxMs: loopDelay(loop, 100),
          rssMb: process.memoryUsage().rss / 2 ** 20,
          relayed: await server.relayed(),
          outcomes: await server.outcomes(),
          queueMax: server.queueMax?.(),
        };
        send({ type: 'measured', stats });
      } else if (m.type === 'close') {
        await server.close();
        send({ type: 'closed' });
        process.disconnect?.();
        // Anything still holding the loop open (timers of a library) must not keep us alive.
        setTimeout(() => process.exit(0), 200).unref();
      }
    })().catch((err: unknown) => send({ type: 'fatal', message: err instanceof Error ? err.stack ?? err.message : String(err) }));
  });
  send({ type: 'ready', url: server.url, target });
}

main().catch((err: unknown) => {
  send({ type: 'fatal', message: err instanceof Error ? err.stack ?? err.message : String(err) });
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100).unref();
});
