/**
 * mediasoup's parameter shapes (the ones stock mediasoup-client sends and expects), as zod
 * schemas: they validate what arrives on `/voice` and give the types the SFU works with.
 */
import { z } from 'zod';

export const mediaKind = z.enum(['audio', 'video']);
export type MediaKind = z.infer<typeof mediaKind>;

const parameters = z.record(z.string(), z.unknown());
const rtcpFeedback = z.object({ type: z.string().max(32), parameter: z.string().max(32).optional() });

export const rtpCodecCapability = z.object({
  kind: mediaKind,
  mimeType: z.string().regex(/^(audio|video)\/[\w.+-]+$/i, 'must look like audio/opus or video/VP8'),
  preferredPayloadType: z.number().int().min(0).max(127).optional(),
  clockRate: z.number().int().positive(),
  channels: z.number().int().positive().optional(),
  parameters: parameters.optional(),
  rtcpFeedback: z.array(rtcpFeedback).max(32).optional(),
});

export const rtpHeaderExtension = z.object({
  kind: mediaKind,
  uri: z.string().max(256),
  preferredId: z.number().int().min(1).max(255),
  preferredEncrypt: z.boolean().optional(),
  direction: z.enum(['sendrecv', 'sendonly', 'recvonly', 'inactive']).optional(),
});

export const rtpCapabilities = z.object({
  codecs: z.array(rtpCodecCapability).max(64).optional(),
  headerExtensions: z.array(rtpHeaderExtension).max(64).optional(),
});
export type RtpCapabilities = z.infer<typeof rtpCapabilities>;
export type RtpCodecCapability = z.infer<typeof rtpCodecCapability>;
export type RtpHeaderExtension = z.infer<typeof rtpHeaderExtension>;

export const rtpCodecParameters = z.object({
  mimeType: z.string().regex(/^(audio|video)\/[\w.+-]+$/i, 'must look like audio/opus or video/VP8'),
  payloadType: z.number().int().min(0).max(127),
  clockRate: z.number().int().positive(),
  channels: z.number().int().positive().optional(),
  parameters: parameters.optional(),
  rtcpFeedback: z.array(rtcpFeedback).max(32).optional(),
});
export type RtpCodecParameters = z.infer<typeof rtpCodecParameters>;

export const rtpHeaderExtensionParameters = z.object({
  uri: z.string().max(256),
  id: z.number().int().min(1).max(255),
  encrypt: z.boolean().optional(),
  parameters: parameters.optional(),
});
export type RtpHeaderExtensionParameters = z.infer<typeof rtpHeaderExtensionParameters>;

export const rtpEncodingParameters = z
  .object({
    ssrc: z.number().int().min(0).max(0xffffffff).optional(),
    rid: z.string().max(32).optional(),
    codecPayloadType: z.number().int().optional(),
    rtx: z.object({ ssrc: z.number().int().min(0).max(0xffffffff) }).optional(),
    dtx: z.boolean().optional(),
    scalabilityMode: z.string().max(16).optional(),
    maxBitrate: z.number().optional(),
  })
  .loose();
export type RtpEncodingParameters = z.infer<typeof rtpEncodingParameters>;

export const rtpParameters = z.object({
  mid: z.string().max(32).optional(),
  codecs: z.array(rtpCodecParameters).min(1, 'needs at least one codec').max(16),
  headerExtensions: z.array(rtpHeaderExtensionParameters).max(32).optional(),
  encodings: z.array(rtpEncodingParameters).max(8).optional(),
  rtcp: z.object({ cname: z.string().max(256).optional(), reducedSize: z.boolean().optional(), mux: z.boolean().optional() }).optional(),
  msid: z.string().max(256).optional(),
});
export type RtpParameters = z.infer<typeof rtpParameters>;

export const dtlsParameters = z.object({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z
    .array(z.object({ algorithm: z.enum(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']), value: z.string().regex(/^([0-9A-Fa-f]{2}:)+[0-9A-Fa-f]{2}$/, 'must be colon-separated hex') }))
    .min(1, 'needs at least one fingerprint')
    .max(8),
});
export type DtlsParameters = z.infer<typeof dtlsParameters>;

export interface IceParameters {
  usernameFragment: string;
  password: string;
  iceLite: true;
}

export interface IceCandidate {
  foundation: string;
  priority: number;
  /** mediasoup ≥ 3.13 says `address`; older clients read `ip`. Both are sent. */
  address: string;
  ip: string;
  port: number;
  protocol: 'udp';
  type: 'host';
}

/** What `create-transport` answers: mediasoup's WebRtcTransport parameters. */
export interface WebRtcTransportParameters {
  id: string;
  iceParameters: IceParameters;
  iceCandidates: IceCandidate[];
  dtlsParameters: { role: 'auto'; fingerprints: Array<{ algorithm: string; value: string }> };
}

/** What `consume` answers: enough for mediasoup-client's `transport.consume()`. */
export interface ConsumerParameters {
  id: string;
  producerId: string;
  kind: MediaKind;
  rtpParameters: RtpParameters;
  type: 'simple';
  producerPaused: boolean;
}
