/** A `PacedWriterHandle` over an in-process PacedWriter, for stand-in rooms (no media worker). */
import { EventEmitter } from 'node:events';
import { PacedWriter } from '../../src/media/audio/pacedWriter.js';
import type { PacedWriterHandle, PacedWriterHandleEvents } from '../../src/sfu/pacedWriterHandle.js';

export function localPacedWriter(ssrc: number, sink: (packet: Uint8Array) => void): PacedWriterHandle {
  const w = new PacedWriter({ ssrc, sink });
  const h = new EventEmitter<PacedWriterHandleEvents>();
  w.on('playout-start', () => h.emit('playout-start', { atMs: performance.timeOrigin + performance.now() }));
  w.on('playout-end', (e) => h.emit('playout-end', e));
  return Object.assign(h, {
    get playing() {
      return w.playing;
    },
    get queuedMs() {
      return w.queuedMs;
    },
    push: (samples: Int16Array, rate: number) => w.push(samples, rate),
    flush: () => w.flush(),
    clearQueue: async () => {
      const droppedMs = w.clearQueue();
      return { droppedMs, lastPacketAtMs: w.lastSentAt === undefined ? null : performance.timeOrigin + w.lastSentAt };
    },
    close: async () => w.close(),
  });
}
