/**
 * Codec and header-extension negotiation, after mediasoup's ortc.ts:
 *  - a producer's codecs are the browser's (its own payload types and extension ids); each
 *    is mapped to the router codec with the same mime type and clock rate;
 *  - a consumer can receive a producer when its capabilities hold that router codec;
 *  - the consumer's rtpParameters use the payload type and extension ids from its own
 *    capabilities, a fresh SSRC, and only the feedback and extensions the SFU really serves.
 */
import { ParleyError } from '../errors.js';
import { EXT, routerRtpCapabilities } from './routerCapabilities.js';
import type { MediaKind, RtpCapabilities, RtpCodecCapability, RtpCodecParameters, RtpHeaderExtensionParameters, RtpParameters } from './rtpTypes.js';

const isRtx = (mime: string) => /\/rtx$/i.test(mime);

function sameCodec(a: { mimeType: string; clockRate: number; channels?: number }, b: { mimeType: string; clockRate: number; channels?: number }): boolean {
  if (a.mimeType.toLowerCase() !== b.mimeType.toLowerCase() || a.clockRate !== b.clockRate) return false;
  if (a.mimeType.toLowerCase().startsWith('audio/')) return (a.channels ?? 1) === (b.channels ?? 1);
  return true;
}

export interface ProducerCodecMapping {
  /** The producer's codec (browser payload type). */
  codec: RtpCodecParameters;
  /** The matching router codec. */
  routerCodec: RtpCodecCapability;
  ssrc: number;
  /** The producer's own extension ids for the URIs the SFU reads. */
  extensionIds: { mid?: number; audioLevel?: number; videoOrientation?: number };
}

/** Checks that the router can take these rtpParameters; throws INVALID_PAYLOAD saying why not. */
export function mapProducerRtpParameters(kind: MediaKind, params: RtpParameters): ProducerCodecMapping {
  const media = params.codecs.filter((c) => !isRtx(c.mimeType));
  for (const c of media) {
    if (!c.mimeType.toLowerCase().startsWith(`${kind}/`)) throw new ParleyError('INVALID_PAYLOAD', `codec ${c.mimeType} is not ${kind}`);
  }
  const codec = media[0];
  if (!codec) throw new ParleyError('INVALID_PAYLOAD', 'rtpParameters carry no media codec');
  const routerCodec = routerRtpCapabilities.codecs!.find((rc) => rc.kind === kind && sameCodec(rc, codec));
  if (!routerCodec) {
    const offered = routerRtpCapabilities.codecs!.filter((rc) => rc.kind === kind).map((rc) => rc.mimeType);
    throw new ParleyError('INVALID_PAYLOAD', `the room cannot accept ${codec.mimeType}/${codec.clockRate}; it supports ${offered.join(', ')}`);
  }
  const encodings = params.encodings ?? [];
  if (encodings.length > 1) throw new ParleyError('INVALID_PAYLOAD', 'simulcast (several encodings) is not supported yet; produce a single encoding');
  const ssrc = encodings[0]?.ssrc;
  if (ssrc === undefined) throw new ParleyError('INVALID_PAYLOAD', 'rtpParameters.encodings[0].ssrc is required');
  const id = (uri: string) => params.headerExtensions?.find((h) => h.uri === uri)?.id;
  return { codec, routerCodec, ssrc, extensionIds: { mid: id(EXT.mid), audioLevel: id(EXT.audioLevel), videoOrientation: id(EXT.videoOrientation) } };
}

function capsCodecFor(caps: RtpCapabilities, routerCodec: RtpCodecCapability): RtpCodecCapability | undefined {
  return caps.codecs?.find((c) => c.kind === routerCodec.kind && sameCodec(c, routerCodec));
}

export function canConsume(routerCodec: RtpCodecCapability, caps: RtpCapabilities): boolean {
  return capsCodecFor(caps, routerCodec) !== undefined;
}

/** Feedback the SFU answers: NACK from its packet buffer, PLI/FIR forwarded to the producer. */
const servedFeedback = (fb: { type: string; parameter?: string }) =>
  (fb.type === 'nack' && (!fb.parameter || fb.parameter === 'pli')) || (fb.type === 'ccm' && fb.parameter === 'fir');

/** Extensions the SFU writes on consumer packets (copied from the producer's packet). */
const writtenExtensions = new Set<string>([EXT.mid, EXT.audioLevel, EXT.videoOrientation]);

export function consumerRtpParameters(input: {
  kind: MediaKind;
  mapping: ProducerCodecMapping;
  caps: RtpCapabilities;
  mid: string;
  ssrc: number;
  cname: string;
}): RtpParameters {
  const { kind, mapping, caps } = input;
  const capsCodec = capsCodecFor(caps, mapping.routerCodec);
  if (!capsCodec) throw new ParleyError('INVALID_PAYLOAD', `these rtpCapabilities cannot receive ${mapping.routerCodec.mimeType}`);
  const headerExtensions: RtpHeaderExtensionParameters[] = (caps.headerExtensions ?? [])
    .filter((h) => h.kind === kind && writtenExtensions.has(h.uri) && h.direction !== 'sendonly' && h.direction !== 'inactive')
    .map((h) => ({ uri: h.uri, id: h.preferredId, encrypt: false, parameters: {} }));
  return {
    mid: input.mid,
    codecs: [
      {
        mimeType: mapping.routerCodec.mimeType,
        payloadType: capsCodec.preferredPayloadType ?? mapping.routerCodec.preferredPayloadType ?? mapping.codec.payloadType,
        clockRate: mapping.routerCodec.clockRate,
        ...(mapping.routerCodec.channels ? { channels: mapping.routerCodec.channels } : {}),
        parameters: mapping.codec.parameters ?? {},
        rtcpFeedback: (capsCodec.rtcpFeedback ?? []).filter(servedFeedback).map((f) => ({ type: f.type, parameter: f.parameter ?? '' })),
      },
    ],
    headerExtensions,
    encodings: [{ ssrc: input.ssrc }],
    rtcp: { cname: input.cname, reducedSize: true, mux: true },
  };
}
