/**
 * Entry of an audio pipeline worker thread: hosts one `RtpAudioTrack` per `read` request,
 * reading the direct consumer's port (written by the media worker) and writing decoded,
 * resampled frames to the track's output port. Neither the forwarding loop nor the main
 * thread's event loop does any of this work.
 */
import { parentPort } from 'node:worker_threads';
import { isGap } from './audioTrack.js';
import type { PipelineRead, TrackPortMessage } from './pipelineProtocol.js';
import { RtpAudioTrack } from './rtpAudioTrack.js';

const port = parentPort;
if (!port) throw new Error('pipelineWorkerMain must run in a worker thread');

port.on('message', (msg: PipelineRead) => {
  if (msg.type !== 'read') return;
  const { output } = msg;
  const post = (m: TrackPortMessage, transfer: ArrayBuffer[] = []): void => output.postMessage(m, transfer);
  const track = new RtpAudioTrack(msg.input, msg.options);
  track.on('start', (info) => post({ type: 'start', info }));
  track.on('clock', (clock) => post({ type: 'clock', clock }));
  // The reader of the output went away: stop decoding.
  output.once('close', () => track.close());
  void (async () => {
    for await (const item of track) {
      if (isGap(item)) post({ type: 'gap', gap: item });
      else post({ type: 'frame', frame: item }, [item.data.buffer as ArrayBuffer]);
    }
    post({ type: 'end', reason: track.endReason ?? 'closed' });
    output.close();
  })();
});
