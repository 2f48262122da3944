/**
 * Recording files in any S3-compatible service (seed 004's S3_ENDPOINT, S3_BUCKET,
 * S3_ACCESS_KEY, S3_SECRET_KEY, AWS_REGION): multipart upload (@aws-sdk/lib-storage), path-style
 * addressing for MinIO-like servers, and byte ranges read straight from the service.
 */
import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ByteRange, RecordingObjects } from '../domain/recordings/recording.js';

export interface S3Settings {
  endpoint?: string;
  bucket: string;
  accessKey: string;
  secretKey: string;
  region: string;
  /** Prefix of every key (seed 004's RECORDINGS_PATH, e.g. `recordings/`). */
  prefix: string;
  /** Bytes per multipart part (S3's minimum is 5 MiB). */
  partSize: number;
  /** Path-style URLs (`endpoint/bucket/key`), which MinIO-like servers need. */
  forcePathStyle: boolean;
}

function notFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}

export class S3RecordingObjects implements RecordingObjects {
  readonly client: S3Client;
  /** Parts of the last upload (1 when it fit in one part): what a test checks. */
  lastUploadParts = 0;

  constructor(private readonly s: S3Settings) {
    this.client = new S3Client({
      region: s.region,
      ...(s.endpoint ? { endpoint: s.endpoint } : {}),
      forcePathStyle: s.forcePathStyle,
      credentials: { accessKeyId: s.accessKey, secretAccessKey: s.secretKey },
      maxAttempts: 3,
    });
  }

  get label(): string {
    return `s3://${this.s.bucket}/${this.s.prefix}${this.s.endpoint ? ` at ${this.s.endpoint}` : ''}`;
  }

  private key(key: string): string {
    return `${this.s.prefix}${key}`;
  }

  async put(key: string, localPath: string, contentType: string): Promise<number> {
    let size = 0;
    let parts = 0;
    const body = createReadStream(localPath);
    body.on('data', (c) => (size += c.length));
    const upload = new Upload({ client: this.client, params: { Bucket: this.s.bucket, Key: this.key(key), Body: body, ContentType: contentType }, partSize: this.s.partSize, queueSize: 2, leavePartsOnError: false });
    upload.on('httpUploadProgress', (p) => {
      if (p.part !== undefined) parts = Math.max(parts, p.part);
    });
    await upload.done();
    this.lastUploadParts = parts;
    await unlink(localPath).catch(() => undefined);
    return size;
  }

  async size(key: string): Promise<number | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.s.bucket, Key: this.key(key) }));
      return head.ContentLength;
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.s.bucket, Key: this.key(key), ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }));
    const body = out.Body;
    if (!body) throw new Error(`S3 returned no body for ${key}`);
    return body instanceof Readable ? body : Readable.fromWeb(body.transformToWebStream() as import('node:stream/web').ReadableStream);
  }

  async remove(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.s.bucket, Key: this.key(key) }));
  }
}
