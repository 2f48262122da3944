/**
 * An `AudioTrack` read from a direct consumer's MessagePort in the current thread: each
 * message goes through an `RtpAudioDecoder`. Run it in a pipeline worker (audioPipeline.ts),
 * not on the main thread.
 */
import type { MessagePort } from 'node:worker_threads';
import type { DirectConsumerMessage } from '../../sfu/directPort.js';
import { AudioTrack } from './audioTrack.js';
import { RtpAudioDecoder, type RtpAudioDecoderOptions } from './rtpAudioDecoder.js';

export class RtpAudioTrack extends AudioTrack {
  readonly decoder: RtpAudioDecoder;

  constructor(
    private readonly port: MessagePort,
    options: RtpAudioDecoderOptions = {},
  ) {
    super();
    this.decoder = new RtpAudioDecoder(options);
    this.decoder.onClockChange((clock) => this.setClock(clock));
    port.on('message', (msg: DirectConsumerMessage) => {
      let items;
      try {
        items = this.decoder.push(msg);
      } catch (err) {
        items = this.decoder.end(`error: ${(err as Error).message}`);
      }
      if (msg.type === 'start' && this.decoder.info) {
        const { type: _t, senderReport: _s, ...info } = this.decoder.info;
        this.setInfo(info);
      }
      for (const item of items) this.enqueue(item);
      if (this.decoder.endReason !== undefined) this.stop(this.decoder.endReason);
    });
    // The media worker went away (crash) without a close message.
    port.once('close', () => {
      for (const item of this.decoder.end('room-closed')) this.enqueue(item);
      this.stop(this.decoder.endReason ?? 'room-closed');
    });
  }

  /** Stops reading (the direct consumer itself is closed by its handle's owner). */
  close(): void {
    for (const item of this.decoder.end('closed')) this.enqueue(item);
    this.stop('closed');
  }

  private stop(reason: string): void {
    this.port.removeAllListeners('message');
    this.port.close();
    this.finish(reason);
  }
}
