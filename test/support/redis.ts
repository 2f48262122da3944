/**
 * The machine's Redis (127.0.0.1:6379, or PARLEY_TEST_REDIS_URL) for cluster tests: every
 * test run gets a key prefix of its own, so parallel runs never see each other's streams
 * and channels, and its keys are deleted afterwards.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';

export function testRedisUrl(): string {
  return process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
}

export function uniquePrefix(): string {
  return `parley-test:${randomUUID().slice(0, 8)}:`;
}

/** Deletes every key under `prefix` (SCAN, bounded to 10 000 keys). */
export async function dropPrefix(prefix: string, url = testRedisUrl()): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  try {
    let n = 0;
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      if (keys.length > 0) await client.del(keys);
      n += keys.length;
      if (n > 10_000) break;
    }
  } finally {
    await client.close();
  }
}
