/**
 * The video track file a recording keeps must be decodable from its first frame: a recorder
 * that starts between key frames, or loses a packet of the first key frame, would otherwise
 * write a file of delta frames only, which every player shows as black. The file is read back
 * with ffprobe, as a player would demux it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { RtpHeader, RtpPacket } from 'werift';
import { TrackWriter } from '../src/recording/trackWriter.js';

const run = promisify(execFile);

/** One VP8 RTP packet: payload descriptor (S bit on the first packet of a frame), then the frame's bytes. */
function vp8Packet(seq: number, timestamp: number, opts: { first: boolean; last: boolean; key: boolean }): Uint8Array {
  const descriptor = opts.first ? 0x10 : 0x00;
  // The first byte of a VP8 frame: bit 0 is the inverse key frame flag (0 = key frame).
  const body = Buffer.alloc(200, 0x5a);
  body[0] = opts.key ? 0x00 : 0x01;
  const header = new RtpHeader({ payloadType: 96, sequenceNumber: seq & 0xffff, timestamp, ssrc: 1234, marker: opts.last });
  return new Uint8Array(new RtpPacket(header, Buffer.concat([Buffer.from([descriptor]), body])).serialize());
}

/** Frames of two packets each, 30 per second; `key(frame)` says which are key frames; `lose(seq)` drops packets. */
function feed(writer: TrackWriter, frames: number, key: (frame: number) => boolean, lose: (seq: number) => boolean = () => false): void {
  let seq = 100;
  writer.handle({ type: 'start', consumerId: 'c', producerId: 'p', peerId: 'ann', kind: 'video', mimeType: 'video/VP8', payloadType: 96, clockRate: 90_000, channels: 1, ssrc: 1234, roomStartedAtMs: 1_000, producerAppData: {} });
  for (let f = 0; f < frames; f++) {
    const ts = 3000 * f;
    for (let part = 0; part < 2; part++) {
      const s = seq++;
      if (lose(s)) continue;
      writer.handle({ type: 'rtp', packet: vp8Packet(s, ts, { first: part === 0, last: part === 1, key: key(f) }), receivedAtMs: 2_000 + f * 33 });
    }
  }
}

async function keyFlags(path: string): Promise<string[]> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=flags', '-of', 'csv=p=0', path]);
  return stdout.trim().split('\n').filter(Boolean).map((f) => (f.startsWith('K') ? 'K' : '.'));
}

describe('a video track file starts at a whole key frame', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-track-writer-'));

  test('delta frames before the first key frame are dropped and a key frame is asked for', async () => {
    let requests = 0;
    const writer = new TrackWriter(join(dir, 'late.webm'), () => undefined, 'video', () => requests++);
    await writer.open();
    // The recorder joins mid-stream: frames 0-9 are delta frames, frame 10 is the answer to its request.
    feed(writer, 20, (f) => f === 10);
    const summary = await writer.finish();
    assert.ok(requests >= 1, 'the sender was asked for a key frame');
    assert.equal(summary.packets, 10, 'frames 10-19 are written');
    const flags = await keyFlags(join(dir, 'late.webm'));
    assert.equal(flags.length, 10);
    assert.equal(flags[0], 'K', `the file starts at the key frame: ${flags.join('')}`);
  });

  test('a first key frame that lost a packet does not count: the file waits for the next one', async () => {
    let requests = 0;
    const writer = new TrackWriter(join(dir, 'broken.webm'), () => undefined, 'video', () => requests++);
    await writer.open();
    // Frame 0 is a key frame whose second packet (seq 101) is lost; frame 15 is the next key frame.
    feed(writer, 30, (f) => f === 0 || f === 15, (seq) => seq === 101);
    const summary = await writer.finish();
    assert.ok(requests >= 1, 'the loss made the writer ask for a key frame');
    const flags = await keyFlags(join(dir, 'broken.webm'));
    assert.equal(flags[0], 'K', `the file starts at a whole key frame: ${flags.join('')}`);
    assert.equal(summary.packets, 15, 'frames 15-29 are written');
  });
});
