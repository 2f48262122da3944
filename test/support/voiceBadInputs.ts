/**
 * Bad requests for every `/voice` event, for a socket that has joined `roomId` and holds a
 * real transport (`transportId`) and a real producer id from the room (`producerId`).
 */
export interface VoiceBadInput {
  event: string;
  payload: unknown;
  code: string;
  /** What the message must mention. */
  says?: RegExp;
}

const fingerprint = { algorithm: 'sha-256', value: 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89' };
const opus = { mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 };

export function voiceBadInputs(roomId: string, transportId: string, producerId: string): VoiceBadInput[] {
  const unknownTransport = '00000000-0000-4000-8000-000000000000';
  return [
    { event: 'join-room', payload: {}, code: 'INVALID_PAYLOAD' },
    { event: 'join-room', payload: { roomId: { $gt: '' } }, code: 'INVALID_PAYLOAD' },
    { event: 'join-room', payload: 'room', code: 'INVALID_PAYLOAD' },
    { event: 'create-transport', payload: { roomId: 'not-joined-room' }, code: 'NOT_IN_ROOM' },
    { event: 'create-transport', payload: { roomId, direction: 'sideways' }, code: 'INVALID_PAYLOAD' },
    { event: 'connect-transport', payload: { roomId, transportId: unknownTransport, dtlsParameters: { role: 'client', fingerprints: [fingerprint] } }, code: 'NOT_FOUND', says: /unknown transport/ },
    { event: 'connect-transport', payload: { roomId, transportId, dtlsParameters: { role: 'auto', fingerprints: [fingerprint] } }, code: 'INVALID_PAYLOAD', says: /role must be 'client' or 'server'/ },
    { event: 'connect-transport', payload: { roomId, transportId, dtlsParameters: { role: 'client', fingerprints: [] } }, code: 'INVALID_PAYLOAD', says: /fingerprint/ },
    { event: 'connect-transport', payload: { roomId, transportId, dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'md5', value: 'zz' }] } }, code: 'INVALID_PAYLOAD' },
    { event: 'connect-transport', payload: { roomId, transportId }, code: 'INVALID_PAYLOAD' },
    { event: 'produce', payload: { roomId, transportId: unknownTransport, kind: 'audio', rtpParameters: { codecs: [opus], encodings: [{ ssrc: 1 }] } }, code: 'NOT_FOUND' },
    { event: 'produce', payload: { roomId, transportId, kind: 'video', rtpParameters: { codecs: [{ mimeType: 'video/H265', payloadType: 100, clockRate: 90000 }], encodings: [{ ssrc: 5 }] } }, code: 'INVALID_PAYLOAD', says: /cannot accept video\/H265/ },
    { event: 'produce', payload: { roomId, transportId, kind: 'audio', rtpParameters: { codecs: [opus] } }, code: 'INVALID_PAYLOAD', says: /ssrc is required/ },
    { event: 'produce', payload: { roomId, transportId, kind: 'data', rtpParameters: { codecs: [opus] } }, code: 'INVALID_PAYLOAD' },
    { event: 'produce', payload: { roomId, transportId, kind: 'audio', rtpParameters: { codecs: [] } }, code: 'INVALID_PAYLOAD', says: /at least one codec/ },
    { event: 'consume', payload: { roomId, transportId, producerId }, code: 'INVALID_PAYLOAD', says: /rtpCapabilities/ },
    { event: 'consume', payload: { roomId, transportId, producerId, rtpCapabilities: { codecs: [{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 }] } }, code: 'INVALID_PAYLOAD', says: /cannot receive audio\/opus/ },
    { event: 'consume', payload: { roomId, transportId, producerId: 'no-such-producer', rtpCapabilities: { codecs: [] } }, code: 'NOT_FOUND' },
    { event: 'pause-producer', payload: { roomId, producerId }, code: 'NOT_FOUND', says: /you have no producer/ },
    { event: 'resume-consumer', payload: { roomId, consumerId: 'nope' }, code: 'NOT_FOUND' },
    { event: 'close-producer', payload: { roomId }, code: 'INVALID_PAYLOAD' },
    { event: 'leave-room', payload: { roomId: 'not-joined-room' }, code: 'NOT_IN_ROOM' },
    { event: 'no-such-voice-event', payload: {}, code: 'INVALID_PAYLOAD' },
  ];
}
