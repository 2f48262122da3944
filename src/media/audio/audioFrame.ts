/**
 * PCM as it flows between Parley's media readers and its speech providers (modelled on
 * LiveKit's `AudioFrame`): interleaved signed 16-bit samples with their rate, channel count and
 * media time. Lost packets are not papered over with silence: a reader emits an `AudioGap` for
 * the time it could not decode, so engines and transcripts see that audio is missing.
 */
export interface AudioFrame {
  /** Interleaved signed 16-bit PCM, `samplesPerChannel * channels` long. */
  readonly data: Int16Array;
  readonly sampleRate: number;
  readonly channels: number;
  readonly samplesPerChannel: number;
  /**
   * Media time of the first sample, in milliseconds since the stream (room) started; aligned to
   * the wall clock through the sender's RTCP reports when they are known.
   */
  readonly timestampMs: number;
}

/** Audio that should have been there and is not (packet loss, a paused producer). */
export interface AudioGap {
  readonly kind: 'gap';
  readonly timestampMs: number;
  readonly durationMs: number;
}

export function frameDurationMs(frame: AudioFrame): number {
  return (frame.samplesPerChannel / frame.sampleRate) * 1000;
}

export function createFrame(data: Int16Array, sampleRate: number, channels: number, timestampMs: number): AudioFrame {
  if (data.length % channels !== 0) throw new RangeError(`frame of ${data.length} samples is not a whole number of ${channels}-channel samples`);
  return { data, sampleRate, channels, samplesPerChannel: data.length / channels, timestampMs };
}
