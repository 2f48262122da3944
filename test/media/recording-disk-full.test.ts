/**
 * A disk that fills up in the middle of a recording (a 1 MiB tmpfs as RECORDINGS_PATH, filled
 * while a Chromium page speaks): the recording is marked failed with a sentence saying what to
 * do, the call goes on (the page keeps sending, a new reader of its producer gets packets),
 * stop answers 409 naming the failure, and once space is back the next recording works.
 * Needs root (mount); the mount is undone in teardown.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { DirectConsumerMessage } from '../../src/sfu/directPort.js';
import { launchChromium } from '../support/browser.js';
import { request, startParley, type RunningParley } from '../support/parleyServer.js';
import { waitFor } from '../support/polling.js';
import { openVoicePage } from '../support/voicePage.js';

/** Writes zeros into `path` until the file system is full. */
function fillDisk(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(16 * 1024);
  try {
    for (let i = 0; i < 100_000; i++) writeSync(fd, chunk);
    throw new Error('the tmpfs never filled up');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

describe('a disk that fills up mid-recording (tmpfs, needs root)', { timeout: 90_000 }, () => {
  let srv: RunningParley;
  const mount = mkdtempSync(join(tmpdir(), 'parley-rec-full-'));
  let mounted = false;
  let browser: Browser;
  const room = `full-${process.pid}`;

  before(async () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount]);
    mounted = true;
    srv = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', RECORDINGS_PATH: mount, MEDIA_WORKERS: '1' });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
    if (mounted) execFileSync('umount', ['-l', mount]);
    rmSync(mount, { recursive: true, force: true });
  });

  test('the recording is marked failed, the call goes on, and the next one works once space is back', async () => {
    const ann = await openVoicePage(browser, srv.url, room, 'ann');
    const media = await srv.parley.media.room(room);
    const mic = await waitFor('ann producing', async () => (await media.producers())[0]);

    const started = await request(`${srv.url}/recordings/start`, { body: { roomName: room } });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const work = join(mount, '.work');
    // Packets are being written (the file grows past its header) before the disk fills.
    const trackFile = () => readdirSync(work, { recursive: true }).map(String).find((f) => f.endsWith('.webm'));
    await waitFor('a track file growing', async () => {
      const f = trackFile();
      return f !== undefined && statSync(join(work, f)).size > 2000;
    });

    fillDisk(join(mount, 'filler'));
    const failed = await waitFor('the recording marked failed', async () => {
      const r = (await request(`${srv.url}/recordings?roomName=${room}`)).body.recordings[0];
      return r?.status === 'failed' ? r : undefined;
    });
    assert.match(failed.failure, /ENOSPC/);
    assert.match(failed.failure, /free disk space/);

    // The call goes on: the listener is still connected, the producer still sends, and a new
    // reader of it gets packets.
    assert.equal(await ann.page.evaluate(() => (window as unknown as { voice: { joined: boolean } }).voice.joined), true);
    const producers = await media.producers();
    assert.ok(producers.some((p) => p.producerId === mic.producerId));
    const reader = await media.createDirectConsumer(mic.producerId);
    let rtp = 0;
    reader.port.on('message', (m: DirectConsumerMessage) => {
      if (m.type === 'rtp') rtp++;
    });
    await waitFor('packets still flowing', async () => rtp >= 10);
    await reader.close();
    reader.port.close();
    assert.equal((await request(`${srv.url}/health`)).body.status, 'ok');

    const stop = await request(`${srv.url}/recordings/stop`, { body: { roomName: room } });
    assert.equal(stop.status, 409);
    assert.match(stop.body.error.message, /failed/);

    // Space back: a new recording works.
    rmSync(join(mount, 'filler'));
    const again = await request(`${srv.url}/recordings/start`, { body: { roomName: room } });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    await waitFor('a track file being written', async () => readdirSync(work, { recursive: true }).some((f) => String(f).endsWith('.webm')));
    await new Promise((r) => setTimeout(r, 1500));
    const stopped = await request(`${srv.url}/recordings/stop`, { body: { roomName: room } });
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    assert.equal(stopped.body.recording.status, 'ready');
    assert.ok(stopped.body.recording.size > 0);
  });
});
