/**
 * Per-participant audio levels and the active speaker of one room, from the
 * `ssrc-audio-level` header extension, reported at most every `intervalMs`.
 */
import { EventEmitter } from 'node:events';
import type { Producer } from './producer.js';

export interface AudioLevel {
  producerId: string;
  peerId: string;
  /** dBov: 0 is the loudest, -127 silence (mediasoup's `volume`). */
  volume: number;
}

export interface AudioLevelObserverEvents {
  volumes: [levels: AudioLevel[]];
  'active-speaker': [speaker: AudioLevel];
}

export interface AudioLevelObserverOptions {
  intervalMs: number;
  /** Levels below this are silence and never make a speaker active. */
  thresholdDb: number;
}

export class AudioLevelObserver extends EventEmitter<AudioLevelObserverEvents> {
  private readonly producers = new Set<Producer>();
  private readonly timer: NodeJS.Timeout;
  private activeProducerId?: string;

  constructor(private readonly options: AudioLevelObserverOptions = { intervalMs: 250, thresholdDb: -60 }) {
    super();
    this.timer = setInterval(() => this.tick(), options.intervalMs);
    this.timer.unref();
  }

  add(producer: Producer): void {
    if (producer.kind === 'audio') this.producers.add(producer);
  }

  remove(producer: Producer): void {
    this.producers.delete(producer);
    if (this.activeProducerId === producer.id) this.activeProducerId = undefined;
  }

  private tick(): void {
    const levels: AudioLevel[] = [];
    for (const p of this.producers) {
      const volume = p.takeAudioLevel();
      if (volume === undefined || p.paused) continue;
      levels.push({ producerId: p.id, peerId: p.appData.peerId, volume });
    }
    if (levels.length === 0) return;
    levels.sort((a, b) => b.volume - a.volume);
    this.emit('volumes', levels);
    const loudest = levels[0]!;
    if (loudest.volume >= this.options.thresholdDb && loudest.producerId !== this.activeProducerId) {
      this.activeProducerId = loudest.producerId;
      this.emit('active-speaker', loudest);
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.producers.clear();
    this.removeAllListeners();
  }
}
