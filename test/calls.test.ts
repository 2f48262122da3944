/**
 * Seed 001's call API: the state machine through REST (every legal and illegal move), phone
 * validation, the envelope and status codes, both storage engines, and a restart that closes
 * the calls it interrupted.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request, startParley, type RunningParley } from './support/parleyServer.js';
import { engines } from './support/storageEngines.js';

type Call = { id: string; status: string; sessionId: string; failureCause: string | null; connectedAt: string | null; endedAt: string | null; durationSeconds: number | null };

for (const make of engines()) {
  const engine = make();
  describe(`calls API (${engine.name})`, () => {
    let srv: RunningParley;
    before(async () => {
      srv = await startParley({}, { storage: engine.options });
    });
    after(async () => {
      await srv?.close();
      await engine.dispose();
    });

    const create = async (body: unknown = { callerNumber: '01012345678' }) => request(`${srv.url}/api/v1/calls`, { body });
    const act = async (id: string, action: 'connect' | 'end') => request(`${srv.url}/api/v1/calls/${id}/${action}`, { method: 'POST' });
    const get = async (id: string) => request(`${srv.url}/api/v1/calls/${id}`);

    test('POST / creates a ringing call in the seed envelope, numbers normalised', async () => {
      const r = await create({ callerNumber: '010-1234-5678', receiverNumber: '01087654321' });
      assert.equal(r.status, 201);
      assert.equal(r.body.success, true);
      const call = r.body.data.call;
      assert.equal(call.status, 'RINGING');
      assert.equal(call.callerNumber, '+821012345678');
      assert.equal(call.receiverNumber, '+821087654321');
      assert.match(call.id, /^[0-9a-f-]{36}$/);
      assert.ok(call.sessionId && call.sessionId !== call.id);
      assert.ok(!Number.isNaN(Date.parse(call.createdAt)));
    });

    test('legal path: RINGING → CONNECTING → IN_PROGRESS → ENDED, each move stored with time and cause', async () => {
      const { id } = (await create()).body.data.call as Call;
      const connected = await act(id, 'connect');
      assert.equal(connected.status, 200);
      assert.equal(connected.body.data.call.status, 'IN_PROGRESS');
      assert.ok(connected.body.data.call.connectedAt);
      const ended = await act(id, 'end');
      assert.equal(ended.body.data.call.status, 'ENDED');
      assert.ok(ended.body.data.call.endedAt);
      assert.equal(typeof ended.body.data.call.durationSeconds, 'number');
      const { transitions } = (await get(id)).body.data.call as { transitions: Array<{ from: string | null; to: string; cause: string; at: string }> };
      assert.deepEqual(
        transitions.map((t) => [t.from, t.to, t.cause]),
        [
          [null, 'INITIATING', 'created'],
          ['INITIATING', 'RINGING', 'ringing'],
          ['RINGING', 'CONNECTING', 'answered'],
          ['CONNECTING', 'IN_PROGRESS', 'connected'],
          ['IN_PROGRESS', 'ENDED', 'hung-up'],
        ],
      );
      for (const t of transitions) assert.ok(!Number.isNaN(Date.parse(t.at)));
    });

    test('hanging up before connecting → FAILED with the cause', async () => {
      const { id } = (await create()).body.data.call as Call;
      const r = await act(id, 'end');
      assert.equal(r.body.data.call.status, 'FAILED');
      assert.equal(r.body.data.call.failureCause, 'hung-up-before-connect');
    });

    test('illegal moves are 409 with the current status', async () => {
      const { id } = (await create()).body.data.call as Call;
      await act(id, 'connect');
      const again = await act(id, 'connect');
      assert.equal(again.status, 409);
      assert.equal(again.body.success, false);
      assert.equal(again.body.error.code, 'CONFLICT');
      assert.equal(again.body.error.currentStatus, 'IN_PROGRESS');
      assert.match(again.body.error.message, /IN_PROGRESS; it cannot move to IN_PROGRESS \(only to ENDED\)/);
      await act(id, 'end');
      for (const action of ['connect', 'end'] as const) {
        const r = await act(id, action);
        assert.equal(r.status, 409);
        assert.equal(r.body.error.currentStatus, 'ENDED');
        assert.match(r.body.error.message, /it is over/);
      }
      const failed = (await create()).body.data.call as Call;
      await act(failed.id, 'end');
      const r = await act(failed.id, 'connect');
      assert.equal(r.status, 409);
      assert.equal(r.body.error.currentStatus, 'FAILED');
    });

    test('two racing connects: one wins, the other gets 409', async () => {
      const { id } = (await create()).body.data.call as Call;
      const results = await Promise.all([act(id, 'connect'), act(id, 'connect'), act(id, 'connect')]);
      assert.deepEqual(results.map((r) => r.status).sort(), [200, 409, 409]);
      assert.equal((await get(id)).body.data.call.transitions.length, 4);
    });

    test('bad input: invalid numbers, missing fields, unknown and malformed ids', async () => {
      for (const body of [{}, { callerNumber: '123' }, { callerNumber: 'call me' }, { callerNumber: 1012345678 }, { callerNumber: '01012345678', receiverNumber: '42' }]) {
        const r = await create(body);
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.equal(r.body.success, false);
        assert.equal(r.body.error.code, 'INVALID_PAYLOAD');
      }
      assert.match((await create({ callerNumber: '123' })).body.error.message, /callerNumber: "123" is not a valid phone number/);
      const unknown = await get('00000000-0000-4000-8000-000000000000');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'NOT_FOUND');
      assert.equal((await get('not-a-uuid')).status, 400);
      assert.equal((await act('00000000-0000-4000-8000-000000000000', 'connect')).status, 404);
    });
  });
}

describe('restart', () => {
  test('calls live at a clean stop are closed as FAILED (server-shutdown); finished ones are kept as they were', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'parley-restart-')), 'parley.sqlite');
    const first = await startParley({ SQLITE_PATH: path });
    const mk = async () => (await request(`${first.url}/api/v1/calls`, { body: { callerNumber: '01012345678' } })).body.data.call.id as string;
    const ringing = await mk();
    const inProgress = await mk();
    await request(`${first.url}/api/v1/calls/${inProgress}/connect`, { method: 'POST' });
    const ended = await mk();
    await request(`${first.url}/api/v1/calls/${ended}/connect`, { method: 'POST' });
    await request(`${first.url}/api/v1/calls/${ended}/end`, { method: 'POST' });
    await first.close();

    const second = await startParley({ SQLITE_PATH: path });
    try {
      const get = async (id: string) => (await request(`${second.url}/api/v1/calls/${id}`)).body.data.call;
      for (const id of [ringing, inProgress]) {
        const call = await get(id);
        assert.equal(call.status, 'FAILED');
        assert.equal(call.failureCause, 'server-shutdown');
        assert.equal(call.transitions.at(-1).cause, 'server-shutdown');
      }
      const done = await get(ended);
      assert.equal(done.status, 'ENDED');
      assert.equal(done.transitions.length, 5);
    } finally {
      await second.close();
    }
  });
});
