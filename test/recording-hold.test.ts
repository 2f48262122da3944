/**
 * A recording outlives its room's media while the call goes on (a lone customer's reload empties
 * the room for a moment): RecordingService keeps it open for `holdMs`, captures the re-created
 * room when someone joins (`resume`), finalizes at once when the call is over (`release`, or a
 * hold of 0), and by itself when nobody came back in time. A recording finalized after a hold ends
 * where its media did, not when the wait ran out. The room and its capture are stand-ins; the
 * service is the real one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { RecordingService } from '../src/domain/recordings/recordingService.js';
import { createLogger } from '../src/log/logger.js';
import { memoryStore, nullObjects } from './support/recordingFakes.js';
import { waitFor } from './support/polling.js';


function setUp(holdMs: number) {
  let clock = 1_000_000;
  let closeRoom: () => void = () => undefined;
  const store = memoryStore();
  const calls = { reattach: 0, holdAsked: 0 };
  const service = new RecordingService({
    store,
    objects: nullObjects,
    capture: async (_roomName, dir, _onFailed, onRoomClosed) => {
      closeRoom = onRoomClosed;
      return {
        roomId: 'RM_test',
        peerIds: [],
        stop: async () => [{ id: 't1', peerId: 'p1', kind: 'audio' as const, path: join(dir, 't1.webm'), startedAtMs: 1_000_000, durationMs: 1000 }],
        reattach: async () => {
          calls.reattach++;
          return true;
        },
      };
    },
    bleepTrack: async () => undefined,
    keepUnbleeped: false,
    mix: async () => undefined,
    speakerOf: () => undefined,
    consultationAgent: async () => ({ agentId: null }),
    consultationsOf: async () => [],
    allowAnonymous: true,
    holdMs: async () => {
      calls.holdAsked++;
      return holdMs;
    },
    workDir: mkdtempSync(join(tmpdir(), 'parley-rec-hold-')),
    retentionDays: 30,
    logger: createLogger('silent'),
    now: () => clock,
  });
  return {
    service,
    store,
    calls,
    advance: (ms: number) => (clock += ms),
    closeRoom: () => closeRoom(),
    status: () => [...store.rows.values()][0]!,
  };
}

const ROOM = 'call-00000000-0000-4000-8000-000000000001';

describe('a recording held across its room closing', () => {
  test('the call goes on: it stays open, and the rejoined room is captured into it', async () => {
    const s = setUp(60_000);
    await s.service.start({ kind: 'consultation' }, ROOM);
    s.advance(5000);
    s.closeRoom();
    await waitFor('the hold decided', async () => s.calls.holdAsked === 1);
    await new Promise((r) => setImmediate(r));
    assert.equal(s.status().status, 'recording', 'still recording while the room is empty');
    assert.equal(s.service.isRecording(ROOM), true);
    s.advance(2000);
    await s.service.resume(ROOM);
    assert.equal(s.calls.reattach, 1, 'the new room is captured');
    await s.service.resume(ROOM);
    assert.equal(s.calls.reattach, 1, 'a second join while captured does nothing');
    s.advance(3000);
    const done = await s.service.stop({ kind: 'api-key' }, ROOM);
    assert.equal(done.status, 'ready');
    assert.equal(done.durationMs, 10_000, 'to the stop, across the gap');
  });

  test('the call ends while it waits: finalized at once, ending where the media did', async () => {
    const s = setUp(60_000);
    await s.service.start({ kind: 'consultation' }, ROOM);
    s.advance(4000);
    s.closeRoom();
    await waitFor('the hold decided', async () => s.calls.holdAsked === 1);
    await new Promise((r) => setImmediate(r));
    s.advance(20_000);
    s.service.release(ROOM);
    await waitFor('finalized', async () => s.status().status === 'ready');
    assert.equal(s.status().durationMs, 4000);
    assert.equal(s.service.isRecording(ROOM), false);
  });

  test('nobody comes back within the hold: finalized by itself', async () => {
    const s = setUp(150);
    await s.service.start({ kind: 'consultation' }, ROOM);
    s.advance(3000);
    s.closeRoom();
    await waitFor('finalized after the hold', async () => s.status().status === 'ready', 5000);
    assert.equal(s.status().durationMs, 3000);
    assert.equal(s.calls.reattach, 0);
  });

  test('the call is over when the room closes (hold 0): finalized at once', async () => {
    const s = setUp(0);
    await s.service.start({ kind: 'consultation' }, ROOM);
    s.advance(2500);
    s.closeRoom();
    await waitFor('finalized', async () => s.status().status === 'ready', 5000);
    assert.equal(s.status().durationMs, 2500);
    await s.service.resume(ROOM);
    assert.equal(s.calls.reattach, 0, 'a join after the end captures nothing');
  });
});
