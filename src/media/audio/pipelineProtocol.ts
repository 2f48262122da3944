/** Messages of the audio pipeline worker: main → worker (`read`), worker → track port. */
import type { MessagePort } from 'node:worker_threads';
import type { AudioFrame, AudioGap } from './audioFrame.js';
import type { TrackClock, TrackInfo } from './audioTrack.js';
import type { RtpAudioDecoderOptions } from './rtpAudioDecoder.js';

export interface PipelineRead {
  type: 'read';
  /** A direct consumer's port (RTP in). */
  input: MessagePort;
  /** Where the track's audio goes (`TrackPortMessage`s): the main thread or another worker. */
  output: MessagePort;
  options: RtpAudioDecoderOptions;
}

export type TrackPortMessage =
  | { type: 'start'; info: TrackInfo }
  | { type: 'clock'; clock: TrackClock }
  | { type: 'frame'; frame: AudioFrame }
  | { type: 'gap'; gap: AudioGap }
  | { type: 'end'; reason: string };
