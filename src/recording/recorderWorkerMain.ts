/**
 * Entry of the recorder thread: one TrackWriter (Opus or VP8 into WebM) per recorded producer, fed straight from
 * the direct consumer's port (the media worker writes it). Neither the forwarding loop nor the
 * main thread touches a recorded packet.
 */
import { parentPort } from 'node:worker_threads';
import type { DirectConsumerMessage, DirectConsumerRequest } from '../sfu/directPort.js';
import { TrackWriter } from './trackWriter.js';
import type { RecorderEvent, RecorderRequest } from './recorderProtocol.js';

const parent = parentPort;
if (!parent) throw new Error('recorderWorkerMain must run in a worker thread');
const post = (e: RecorderEvent): void => parent.postMessage(e);
const writers = new Map<string, TrackWriter>();

parent.on('message', (msg: RecorderRequest) => {
  if (msg.type === 'finish') {
    writers.get(msg.trackId)?.finish('stopped');
    return;
  }
  const { trackId, port } = msg;
  const writer = new TrackWriter(msg.path, (error) => {
    // A failed write (disk full): stop reading this consumer at once.
    port.removeAllListeners('message');
    port.close();
    post({ type: 'failed', trackId, error });
    writer.finish('failed');
  }, msg.kind, () => port.postMessage({ type: 'request-key-frame' } satisfies DirectConsumerRequest));
  writers.set(trackId, writer);
  void writer.finished.then((summary) => {
    writers.delete(trackId);
    port.close();
    post({ type: 'finished', trackId, summary });
  });
  const pending: DirectConsumerMessage[] = [];
  let opened = false;
  port.on('message', (m: DirectConsumerMessage) => {
    if (opened) writer.handle(m);
    else pending.push(m);
  });
  port.once('close', () => writer.finish('closed'));
  writer.open().then(
    () => {
      opened = true;
      for (const m of pending.splice(0)) writer.handle(m);
    },
    (err: unknown) => {
      const error = err instanceof Error ? `${(err as NodeJS.ErrnoException).code ?? 'EIO'}: ${err.message}` : String(err);
      port.close();
      post({ type: 'failed', trackId, error });
      writer.finish('failed');
    },
  );
});
