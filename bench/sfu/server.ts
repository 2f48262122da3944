/**
 * Parley for the SFU fan-out benchmark, as its own process. It is src/main.ts (same
 * `loadConfig` from the environment, same `createParley`, media workers warmed up), plus one
 * IPC hook so the benchmark can read a room's router stats (each consumer's packetsSent) to
 * cross-check the packet counts seen at the subscribers. SIGTERM closes Parley gracefully,
 * so that `--cpu-prof` profiles (main and worker threads) are written.
 *
 * Started by bench/sfu-fanout.ts: `node --import tsx bench/sfu/server.ts` with an IPC channel.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createParley, randomSecret } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { AudioPipeline } from '../../src/media/audio/audioPipeline.js';
import type { PortAudioTrack } from '../../src/media/audio/audioPipeline.js';
import type { DirectConsumerHandle } from '../../src/sfu/roomMedia.js';
import { createLogger } from '../../src/log/logger.js';
import type { FromServer, ToServer } from './protocol.js';

const send = (m: FromServer): void => {
  process.send?.(m);
};

async function main(): Promise<void> {
  const config = loadConfig(process.env, randomSecret);
  const parley = await createParley(config, createLogger(config.logLevel));
  const url = (await parley.listen()).replace('localhost', '127.0.0.1');
  parley.media.warmUp();
  // Sampled as often as Parley samples its own gauge (METRICS_EVENT_LOOP_RESOLUTION_MS): each
  // sample wakes the main thread, and the benchmark should not add wake-ups Parley does not have.
  const loop = monitorEventLoopDelay({ resolution: config.metrics.eventLoopResolutionMs });
  loop.enable();

  let closing = false;
  const close = (): void => {
    if (closing) return;
    closing = true;
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    parley.close('benchmark finished').finally(() => {
      // Let the media workers exit on their own terms first (their CPU profiles are written then).
      setTimeout(() => process.exit(0), 200);
    });
  };
  process.once('SIGTERM', close);
  process.once('SIGINT', close);
  process.on('disconnect', close);

  // --direct: one direct consumer per producer, decoded to 16 kHz in the audio pipeline worker.
  let pipeline: AudioPipeline | undefined;
  const direct = new Map<string, { consumer: DirectConsumerHandle; track: PortAudioTrack; frames: number }>();
  const setDirect = async (roomId: string, producerId: string, on: boolean): Promise<number> => {
    const held = direct.get(producerId);
    if (!on) {
      if (!held) return 0;
      direct.delete(producerId);
      await held.consumer.close();
      held.track.close();
      return held.frames;
    }
    if (held) return held.frames;
    pipeline ??= new AudioPipeline();
    const consumer = await (await parley.media.room(roomId)).createDirectConsumer(producerId);
    const entry = { consumer, track: pipeline.read(consumer, { sampleRate: 16000 }), frames: 0 };
    direct.set(producerId, entry);
    void (async () => {
      for await (const item of entry.track) if (!('kind' in item)) entry.frames++;
    })();
    return 0;
  };

  process.on('message', (m: ToServer) => {
    if (m.type === 'direct') {
      setDirect(m.roomId, m.producerId, m.on).then(
        (frames) => send({ type: 'direct-done', frames }),
        (err: unknown) => send({ type: 'direct-done', frames: 0, error: String(err) }),
      );
    } else if (m.type === 'router-stats') {
      parley.media
        .room(m.roomId)
        .then((room) => room.stats())
        .then(
          (stats) => send({ type: 'router-stats', seq: m.seq, stats }),
          (err: unknown) => send({ type: 'router-stats', seq: m.seq, stats: null, error: String(err) }),
        );
    } else if (m.type === 'gc') {
      (globalThis as { gc?: () => void }).gc?.();
      send({ type: 'gc-done' });
    } else if (m.type === 'loop') {
      send({ type: 'loop', p99Ms: loop.percentile(99) / 1e6, maxMs: loop.max / 1e6 });
      loop.reset();
    } else if (m.type === 'dump') {
      void Promise.all(
        parley.media.workers.map((w) =>
          w.request('worker.dump', {}).catch((err: unknown) => ({ error: String(err) })),
        ),
      ).then((workers) => send({ type: 'dump', workers }));
    } else if (m.type === 'close') {
      close();
    }
  });
  send({ type: 'ready', url, pid: process.pid });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench server failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
