/**
 * Recordings in an S3-compatible service: s3rver (@20minutes/s3rver, the maintained fork of
 * the npm S3 stand-in; no S3-compatible server is packaged in Debian 12) started here on
 * 127.0.0.1, with signature checks on: a file larger than one part goes up as a multipart
 * upload and byte ranges come back exact. The REST flow in S3 mode, with Chromium speaking, is
 * test/media/recording-s3-rest.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { S3RecordingObjects } from '../src/recording/s3RecordingObjects.js';

type S3rverCtor = new (o: Record<string, unknown>) => { run(): Promise<{ port: number }>; close(): Promise<void> };
const S3rver = createRequire(import.meta.url)('@20minutes/s3rver') as S3rverCtor;

const BUCKET = 'parley-recordings';
const ACCESS = 'S3RVER';
const SECRET = 'S3RVER';

describe('recordings in an S3-compatible service (s3rver on loopback)', { timeout: 90_000 }, () => {
  let s3: InstanceType<S3rverCtor>;
  let endpoint: string;
  const dir = mkdtempSync(join(tmpdir(), 'parley-rec-s3-'));

  before(async () => {
    s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: join(dir, 'bucket-data'), configureBuckets: [{ name: BUCKET }] });
    const { port } = await s3.run();
    endpoint = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    await s3?.close();
  });

  const objects = () => new S3RecordingObjects({ endpoint, bucket: BUCKET, accessKey: ACCESS, secretKey: SECRET, region: 'us-east-1', prefix: 'check/', partSize: 5 * 1024 * 1024, forcePathStyle: true });

  test('a file larger than one part is a multipart upload; ranges come back exact', async () => {
    const store = objects();
    const big = randomBytes(12 * 1024 * 1024 + 123);
    const path = join(dir, 'big.bin');
    writeFileSync(path, big);
    assert.equal(await store.put('big.mp4', path, 'video/mp4'), big.length);
    assert.equal(store.lastUploadParts, 3, 'three parts of 5 MiB');
    assert.equal(await store.size('big.mp4'), big.length);
    const chunks: Buffer[] = [];
    for await (const c of await store.read('big.mp4', { start: 6_000_000, end: 6_000_999 })) chunks.push(c as Buffer);
    assert.ok(Buffer.concat(chunks).equals(big.subarray(6_000_000, 6_001_000)));
    await store.remove('big.mp4');
    assert.equal(await store.size('big.mp4'), undefined);
  });

});
