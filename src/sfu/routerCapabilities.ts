/**
 * The codecs and RTP header extensions every Parley room offers, with mediasoup's own
 * preferred payload types and extension ids, so that `routerRtpCapabilities` looks like a
 * mediasoup router's to mediasoup-client.
 */
import type { RtpCapabilities } from './rtpTypes.js';

export const EXT = {
  mid: 'urn:ietf:params:rtp-hdrext:sdes:mid',
  absSendTime: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  transportCc: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  audioLevel: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  videoOrientation: 'urn:3gpp:video-orientation',
} as const;

export const routerRtpCapabilities: RtpCapabilities = {
  codecs: [
    {
      kind: 'audio',
      mimeType: 'audio/opus',
      preferredPayloadType: 100,
      clockRate: 48000,
      channels: 2,
      parameters: { minptime: 10, useinbandfec: 1 },
      rtcpFeedback: [],
    },
    {
      kind: 'video',
      mimeType: 'video/VP8',
      preferredPayloadType: 101,
      clockRate: 90000,
      parameters: {},
      rtcpFeedback: [
        { type: 'nack', parameter: '' },
        { type: 'nack', parameter: 'pli' },
        { type: 'ccm', parameter: 'fir' },
      ],
    },
  ],
  headerExtensions: [
    { kind: 'audio', uri: EXT.mid, preferredId: 1, preferredEncrypt: false, direction: 'sendrecv' },
    { kind: 'video', uri: EXT.mid, preferredId: 1, preferredEncrypt: false, direction: 'sendrecv' },
    { kind: 'audio', uri: EXT.absSendTime, preferredId: 4, preferredEncrypt: false, direction: 'sendrecv' },
    { kind: 'video', uri: EXT.absSendTime, preferredId: 4, preferredEncrypt: false, direction: 'sendrecv' },
    { kind: 'audio', uri: EXT.audioLevel, preferredId: 10, preferredEncrypt: false, direction: 'sendrecv' },
    { kind: 'video', uri: EXT.videoOrientation, preferredId: 11, preferredEncrypt: false, direction: 'sendrecv' },
  ],
};
