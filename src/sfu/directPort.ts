/**
 * What a direct consumer writes on its MessagePort (media worker → whoever holds the port,
 * typically an audio pipeline worker). The port is the only path: RTP read this way never
 * passes through the main thread or the forwarding code's event loop beyond one postMessage.
 *
 * Order on the port: one `start`, then `rtp` / `sender-report` / `pause` / `resume` in the
 * order they happened, then one `close` with the reason (mediasoup's close reasons).
 */
import type { MediaKind } from './rtpTypes.js';

export type DirectConsumerCloseReason = 'closed' | 'producer-closed' | 'router-closed';

export interface DirectConsumerStart {
  type: 'start';
  consumerId: string;
  producerId: string;
  peerId: string;
  kind: MediaKind;
  mimeType: string;
  payloadType: number;
  clockRate: number;
  channels: number;
  ssrc: number;
  /** Wall clock (Unix ms) at which the room's media started: media time 0. */
  roomStartedAtMs: number;
  /** The producer's appData as its client gave it (e.g. `{ source: 'mic' }`), plus `peerId`. */
  producerAppData: Record<string, unknown>;
  /** The producer's last sender report, if one arrived before this consumer opened. */
  senderReport?: SenderReport;
}

/** A sender report's NTP↔RTP mapping: `rtpTimestamp` was sampled at wall clock `ntpMs`. */
export interface SenderReport {
  /** The sender's NTP timestamp as Unix milliseconds. */
  ntpMs: number;
  rtpTimestamp: number;
  /** Server wall clock (Unix ms) when the report arrived. */
  receivedAtMs: number;
}

export type DirectConsumerMessage =
  | DirectConsumerStart
  | { type: 'rtp'; /** One serialized RTP packet, as the producer sent it. */ packet: Uint8Array; /** Server wall clock, Unix ms. */ receivedAtMs: number }
  | ({ type: 'sender-report' } & SenderReport)
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'close'; reason: DirectConsumerCloseReason };

/**
 * What the reader may write back on the same port: a video reader (the recorder) that lost the
 * start of a frame, or has not seen a key frame yet, asks the sender for one.
 */
export type DirectConsumerRequest = { type: 'request-key-frame' };

const NTP_UNIX_OFFSET_S = 2_208_988_800;

/** A 64-bit NTP timestamp (RFC 3550) as Unix milliseconds. */
export function ntpToUnixMs(ntp: bigint): number {
  const seconds = Number(ntp >> 32n) - NTP_UNIX_OFFSET_S;
  const fraction = Number(ntp & 0xffffffffn) / 0x1_0000_0000;
  return (seconds + fraction) * 1000;
}
