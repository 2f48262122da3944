/**
 * Seed 004's REST flow with recordings in an S3-compatible service (s3rver on 127.0.0.1, see
 * test/recording-s3.test.ts for why that one): a Chromium page speaks in a /voice room, the
 * recording lands in the bucket under RECORDINGS_PATH (mix and track), is streamed back with
 * byte ranges read from S3, and DELETE removes every object of it from the bucket.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { Browser } from 'playwright-core';
import { S3RecordingObjects } from '../../src/recording/s3RecordingObjects.js';
import { launchChromium } from '../support/browser.js';
import { request, startParley, type RunningParley } from '../support/parleyServer.js';
import { waitFor } from '../support/polling.js';
import { openVoicePage } from '../support/voicePage.js';
import { probeDuration } from '../recording-audio.js';

type S3rverCtor = new (o: Record<string, unknown>) => { run(): Promise<{ port: number }>; close(): Promise<void> };
const S3rver = createRequire(import.meta.url)('@20minutes/s3rver') as S3rverCtor;

const BUCKET = 'parley-recordings';
const ACCESS = 'S3RVER';
const SECRET = 'S3RVER';

describe('seed 004 recordings stored in S3 (s3rver on loopback)', { timeout: 120_000 }, () => {
  let s3: InstanceType<S3rverCtor>;
  let endpoint: string;
  let srv: RunningParley;
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), 'parley-rec-s3-rest-'));

  before(async () => {
    s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: join(dir, 'bucket-data'), configureBuckets: [{ name: BUCKET }] });
    const { port } = await s3.run();
    endpoint = `http://127.0.0.1:${port}`;
    srv = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', S3_ENDPOINT: endpoint, S3_BUCKET: BUCKET, S3_ACCESS_KEY: ACCESS, S3_SECRET_KEY: SECRET, AWS_REGION: 'us-east-1', RECORDINGS_PATH: join(dir, 'scratch'), MEDIA_WORKERS: '1' });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
    await s3?.close();
  });

  const objects = () => new S3RecordingObjects({ endpoint, bucket: BUCKET, accessKey: ACCESS, secretKey: SECRET, region: 'us-east-1', prefix: 'check/', partSize: 5 * 1024 * 1024, forcePathStyle: true });

  test("seed 004's REST flow stores in the bucket, streams ranges from it, and deletes from it", async () => {
    const room = `s3-${process.pid}`;
    await openVoicePage(browser, srv.url, room, 'ann');
    await waitFor('ann producing', async () => (await (await srv.parley.media.room(room)).producers()).length > 0);
    const started = await request(`${srv.url}/recordings/start`, { body: { roomName: room } });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    await new Promise((r) => setTimeout(r, 2500));
    const stopped = await request(`${srv.url}/recordings/stop`, { body: { roomName: room } });
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    assert.equal(stopped.body.recording.status, 'ready', JSON.stringify(stopped.body));
    const name = stopped.body.recording.name as string;

    const client = objects().client;
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${join(dir, 'scratch').replace(/^\/+/, '')}/${name}` }));
    assert.equal(head.ContentLength, stopped.body.recording.size, 'the mix is in the bucket under RECORDINGS_PATH');
    assert.equal(head.ContentType, 'video/mp4');

    const whole = Buffer.from(await (await fetch(`${srv.url}/recordings/${name}`)).arrayBuffer());
    assert.equal(whole.length, stopped.body.recording.size);
    const mixPath = join(dir, name);
    writeFileSync(mixPath, whole);
    assert.ok(Math.abs((await probeDuration(mixPath)) - 2.5) < 0.6, 'a playable MP4 as long as the recording');
    const part = await fetch(`${srv.url}/recordings/${name}`, { headers: { range: 'bytes=10-209' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 10-209/${whole.length}`);
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(whole.subarray(10, 210)));

    const item = (await request(`${srv.url}/recordings?roomName=${room}`)).body.recordings[0];
    assert.equal(item.tracks.length, 1, JSON.stringify(item));
    const prefix = `${join(dir, 'scratch').replace(/^\/+/, '')}/`;
    const keys = [`${prefix}${name}`, ...item.tracks.map((t: { id: string }) => `${prefix}${name.replace(/\.mp4$/, '')}/${t.id}.webm`)];
    for (const Key of keys) assert.ok((await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key }))).ContentLength! > 0, Key);
    const del = await request(`${srv.url}/recordings/${name}`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    assert.equal((await request(`${srv.url}/recordings/${name}`)).status, 404);
    for (const Key of keys) {
      const gone = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key })).then(() => false, (err: { name?: string }) => err.name === 'NotFound');
      assert.ok(gone, `${Key} is gone from the bucket`);
    }
  });

});
