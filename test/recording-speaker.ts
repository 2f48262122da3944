/**
 * A participant without a browser, for the recording tests and bench: a /voice socket that
 * joins the room (so the room is live) and a direct producer that sends Opus RTP of a tone
 * (libopus via opusscript), paced in real time, 20 ms a packet.
 */
import { createRequire } from 'node:module';
import { RtpHeader, RtpPacket } from 'werift';
import type { RoomMedia } from '../src/sfu/roomMedia.js';

type Encoder = { encode(pcm: Buffer, frameSize: number): Buffer; delete(): void };
const OpusScript = createRequire(import.meta.url)('opusscript') as { new (rate: number, channels: number, app: number): Encoder; Application: { AUDIO: number } };

/** Opus packets of a `freq` Hz tone (amplitude 0.3), `seconds` long, 20 ms each. */
export function opusTone(freq: number, seconds: number): Buffer[] {
  const enc = new OpusScript(48_000, 1, OpusScript.Application.AUDIO);
  const frame = 960;
  const out: Buffer[] = [];
  for (let f = 0; f < Math.round(seconds * 50); f++) {
    const pcm = Buffer.alloc(frame * 2);
    for (let i = 0; i < frame; i++) pcm.writeInt16LE(Math.round(0.3 * 32767 * Math.sin((2 * Math.PI * freq * (f * frame + i)) / 48_000)), i * 2);
    out.push(Buffer.from(enc.encode(pcm, frame)));
  }
  enc.delete();
  return out;
}

export interface ToneSpeaker {
  readonly producerId: string;
  sent: number;
  stop(): Promise<void>;
}

/** Sends `packets` (looped) into the room as `peerId`'s microphone until stopped. */
export async function toneSpeaker(room: RoomMedia, peerId: string, packets: Buffer[], ssrc: number): Promise<ToneSpeaker> {
  const producer = await room.createDirectProducer(peerId, {
    kind: 'audio',
    rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc }] },
    appData: { source: 'mic' },
  });
  let seq = 1;
  let ts = 1000;
  const began = Date.now();
  const speaker: ToneSpeaker = {
    producerId: producer.id,
    sent: 0,
    stop: async () => {
      clearInterval(timer);
      await producer.close();
    },
  };
  // Catch up on the wall clock each tick, so a busy machine does not stretch the tone.
  const timer = setInterval(() => {
    const due = Math.floor((Date.now() - began) / 20);
    while (speaker.sent < due) {
      const payload = packets[speaker.sent % packets.length]!;
      const header = new RtpHeader({ payloadType: 111, sequenceNumber: seq & 0xffff, timestamp: ts >>> 0, ssrc, marker: false });
      producer.send(new RtpPacket(header, payload).serialize());
      seq++;
      ts += 960;
      speaker.sent++;
    }
  }, 10);
  return speaker;
}
