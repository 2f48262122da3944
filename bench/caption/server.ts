/**
 * Parley for the caption-cost benchmark, as its own process: src/main.ts's `createParley`, plus the
 * real caption path built the way src/app.ts builds it (AudioPipeline worker → Silero VAD →
 * pocketsphinx → masking → CaptionService), switched on and off per room by IPC so the benchmark
 * can measure the same room with and without captioning in one run. Each final caption is reported
 * with its monotonic time (comparable across processes on one machine).
 *
 * Started by bench/caption-cost.ts: `node --import tsx bench/caption/server.ts` with an IPC channel.
 */
import { createParley, randomSecret } from '../../src/app.js';
import { createSpeech } from '../../src/ai/createSpeech.js';
import { CaptionService } from '../../src/captions/captionService.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log/logger.js';
import { AudioPipeline } from '../../src/media/audio/audioPipeline.js';
import { monoMs } from '../sfu/protocol.js';

export type ToCaptionServer = { type: 'captions'; roomId: string; on: boolean } | { type: 'close' };
export type FromCaptionServer =
  | { type: 'ready'; url: string; pid: number }
  | { type: 'captions-done'; error?: string }
  | { type: 'final'; atMono: number; startMs: number; endMs: number; text: string };

const send = (m: FromCaptionServer): void => {
  process.send?.(m);
};

async function main(): Promise<void> {
  // The app itself captions nothing (STT_ENGINE=none); the benchmark's caption service is the only one.
  const config = loadConfig({ ...process.env, STT_ENGINE: 'none' }, randomSecret);
  const logger = createLogger(config.logLevel);
  const parley = await createParley(config, logger);
  const url = (await parley.listen()).replace('localhost', '127.0.0.1');
  parley.media.warmUp();
  const speech = await createSpeech({ ...config.speech, engines: ['pocketsphinx'] }, logger.child({ module: 'speech' }));
  if (!speech.speech) throw new Error(`pocketsphinx did not start: ${speech.problems.map((p) => p.message).join('; ')}`);
  const pipeline = new AudioPipeline();
  const captions = new CaptionService({
    rooms: parley.media,
    tracks: { read: (consumer, options) => pipeline.read(consumer, options) },
    stt: speech.speech.stt,
    masker: parley.moderation,
    language: 'en',
    speakerOf: () => ({ userId: 'bench-publisher', role: 'participant', name: 'Publisher' }),
    publish: (_roomId, c) => {
      if (process.env.BENCH_DEBUG) process.stderr.write(`caption ${c.isFinal ? 'final' : 'interim'}: ${c.text}\n`);
      if (c.isFinal) send({ type: 'final', atMono: monoMs(), startMs: c.startMs, endMs: c.endMs, text: c.text });
    },
    announce: () => undefined,
    record: async () => undefined,
    logger: logger.child({ module: 'captions' }),
  });

  let closing = false;
  const close = (): void => {
    if (closing) return;
    closing = true;
    setTimeout(() => process.exit(1), 10_000).unref();
    captions.close();
    void speech.speech?.close();
    void pipeline.close();
    parley.close('benchmark finished').finally(() => setTimeout(() => process.exit(0), 200));
  };
  process.once('SIGTERM', close);
  process.on('disconnect', close);
  process.on('message', (m: ToCaptionServer) => {
    if (m.type === 'captions') {
      if (!m.on) {
        captions.disable(m.roomId);
        send({ type: 'captions-done' });
      } else captions.enable(m.roomId, null).then(() => send({ type: 'captions-done' }), (err: unknown) => send({ type: 'captions-done', error: String(err) }));
    } else if (m.type === 'close') close();
  });
  send({ type: 'ready', url, pid: process.pid });
}

main().catch((err: unknown) => {
  process.stderr.write(`caption bench server failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
