/** Recording files on local disk under RECORDINGS_PATH (the default store). */
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { ByteRange, RecordingObjects } from '../domain/recordings/recording.js';

export class LocalRecordingObjects implements RecordingObjects {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  get label(): string {
    return this.root;
  }

  /** The file of a key; keys are Parley's own (never a client's), checked anyway. */
  private path(key: string): string {
    const p = resolve(join(this.root, key));
    if (!p.startsWith(this.root + sep)) throw new Error(`recording key outside the store: ${key}`);
    return p;
  }

  async put(key: string, localPath: string): Promise<number> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    try {
      await rename(localPath, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      await copyFile(localPath, target);
      await unlink(localPath);
    }
    return (await stat(target)).size;
  }

  async size(key: string): Promise<number | undefined> {
    try {
      return (await stat(this.path(key))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const path = this.path(key);
    await stat(path);
    return createReadStream(path, range ? { start: range.start, end: range.end } : {});
  }

  async remove(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }
}
