/**
 * The audio pipeline: a worker thread that turns direct consumers into `AudioTrack`s
 * (jitter buffer, Opus decode, resample, gaps). The media worker writes RTP straight to the
 * pipeline worker; only decoded frames come out, on a port of the caller's choosing.
 *
 *   const pipeline = new AudioPipeline();
 *   const consumer = await room.createDirectConsumer(producerId);
 *   const track = pipeline.read(consumer, { sampleRate: 16000 });   // AudioTrack in this thread
 *   for await (const item of track) ...                            // AudioFrame | AudioGap
 *   // or: pipeline.readInto(consumer, sttWorkerPort)  — frames go to another thread
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { DirectConsumerHandle } from '../../sfu/roomMedia.js';
import { AudioTrack } from './audioTrack.js';
import type { PipelineRead, TrackPortMessage } from './pipelineProtocol.js';
import type { RtpAudioDecoderOptions } from './rtpAudioDecoder.js';

function spawnThread(): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const entry = new URL('./pipelineWorkerMain.ts', here).href;
    return new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`, { eval: true });
  }
  return new Worker(new URL('./pipelineWorkerMain.js', here));
}

/** An AudioTrack fed by a track port (`TrackPortMessage`s), in whatever thread holds the port. */
export class PortAudioTrack extends AudioTrack {
  constructor(private readonly port: MessagePort) {
    super();
    port.on('message', (msg: TrackPortMessage) => {
      switch (msg.type) {
        case 'start':
          this.setInfo(msg.info);
          break;
        case 'clock':
          this.setClock(msg.clock);
          break;
        case 'frame':
          this.enqueue(msg.frame);
          break;
        case 'gap':
          this.enqueue(msg.gap);
          break;
        case 'end':
          this.stop(msg.reason);
          break;
      }
    });
    port.once('close', () => this.stop('room-closed'));
  }

  /** Stops reading; the pipeline worker stops decoding this track. */
  close(): void {
    this.stop('closed');
  }

  private stop(reason: string): void {
    this.port.removeAllListeners('message');
    this.port.close();
    this.finish(reason);
  }
}

export class AudioPipeline {
  private readonly thread: Worker;
  private closed = false;

  constructor() {
    this.thread = spawnThread();
    this.thread.unref();
  }

  /** Decodes the consumer's audio in the pipeline worker; the track is read in this thread. */
  read(source: DirectConsumerHandle | MessagePort, options: RtpAudioDecoderOptions = {}): PortAudioTrack {
    const { port1, port2 } = new MessageChannel();
    this.readInto(source, port1, options);
    return new PortAudioTrack(port2);
  }

  /** Decodes the consumer's audio in the pipeline worker and writes it to `output` (TrackPortMessages). */
  readInto(source: DirectConsumerHandle | MessagePort, output: MessagePort, options: RtpAudioDecoderOptions = {}): void {
    if (this.closed) throw new Error('the audio pipeline is closed');
    const input = 'port' in source ? source.port : source;
    const msg: PipelineRead = { type: 'read', input, output, options };
    this.thread.postMessage(msg, [input, output]);
  }

  get threadId(): number {
    return this.thread.threadId;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.thread.terminate();
  }
}
