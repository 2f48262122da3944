/**
 * Nodes sharing one database (issue 13 §node identity): a node that starts, stops or dies
 * touches only its own calls; a survivor fails a dead node's calls once its heartbeat is
 * older than NODE_TTL_MS.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { request, startParley } from './support/parleyServer.js';
import { waitFor } from './support/polling.js';
import { listeningUrl, spawnServer, stopServer, waitForListening } from './support/serverProcess.js';

const JWT_SECRET = 'test-secret-test-secret-test-secret-0123';

async function newCall(url: string, connect: boolean): Promise<string> {
  const created = await request(`${url}/api/v1/calls`, { body: { callerNumber: '01012345678' } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.data.call.id as string;
  if (connect) assert.equal((await request(`${url}/api/v1/calls/${id}/connect`, { method: 'POST' })).status, 200);
  return id;
}

async function callOn(url: string, id: string): Promise<{ status: string; failureCause: string | null; transitions: Array<{ to: string; cause: string }> }> {
  const r = await request(`${url}/api/v1/calls/${id}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  // durationSeconds of a live call grows by itself; everything else is stored state.
  const { durationSeconds: _running, ...stored } = r.body.data.call;
  return stored;
}

function sharedSqlite(): string {
  return join(mkdtempSync(join(tmpdir(), 'parley-nodes-')), 'parley.sqlite');
}

describe('two nodes on one database', () => {
  test("restarting one node changes no call on the other; the restarted node's own calls get a final state", { timeout: 60_000 }, async () => {
    const SQLITE_PATH = sharedSqlite();
    const b = await startParley({ SQLITE_PATH, NODE_ID: 'node-b' });
    let a = await startParley({ SQLITE_PATH, NODE_ID: 'node-a' });
    try {
      const onB = [await newCall(b.url, false), await newCall(b.url, true)];
      const onA = await newCall(a.url, true);
      const before = await Promise.all(onB.map((id) => callOn(b.url, id)));
      assert.deepEqual(before.map((c) => c.status), ['RINGING', 'IN_PROGRESS']);

      await a.close();
      // A clean stop ends A's call (it cannot go on without its media) and nothing else.
      const stopped = await callOn(b.url, onA);
      assert.equal(stopped.status, 'FAILED');
      assert.equal(stopped.failureCause, 'server-shutdown');
      a = await startParley({ SQLITE_PATH, NODE_ID: 'node-a' });

      const after = await Promise.all(onB.map((id) => callOn(a.url, id)));
      assert.deepEqual(after, before, "node B's calls are exactly as they were, transitions and all");
      // B's calls go on as usual: the ringing one connects, the connected one ends.
      assert.equal((await request(`${b.url}/api/v1/calls/${onB[0]}/connect`, { method: 'POST' })).status, 200);
      assert.equal((await request(`${b.url}/api/v1/calls/${onB[1]}/end`, { method: 'POST' })).status, 200);
      const health = await request(`${a.url}/health`);
      assert.equal(health.body.node.id, 'node-a');
      assert.equal(health.body.node.heartbeat, 'ok');
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("kill -9 a node: the survivor fails its calls once its heartbeat expires, and keeps its own", { timeout: 60_000 }, async () => {
    const SQLITE_PATH = sharedSqlite();
    const timing = { NODE_HEARTBEAT_MS: '200', NODE_TTL_MS: '1500' };
    const survivor = await startParley({ SQLITE_PATH, NODE_ID: 'survivor', ...timing });
    const doomed = spawnServer({ PORT: '0', SQLITE_PATH, JWT_SECRET, NODE_ID: 'doomed', MEDIA_WORKERS: '1', ...timing });
    try {
      await waitForListening(doomed);
      const url = listeningUrl(doomed);
      const lost = [await newCall(url, true), await newCall(url, false)];
      const kept = await newCall(survivor.url, true);
      // Still heartbeating: a few sweeps later its calls are untouched.
      for (let i = 0; i < 3; i++) await survivor.parley.nodeLiveness.beat();
      assert.deepEqual((await Promise.all(lost.map((id) => callOn(survivor.url, id)))).map((c) => c.status), ['IN_PROGRESS', 'RINGING']);

      const killedAt = Date.now();
      doomed.child.kill('SIGKILL');
      await doomed.exited;
      const failed = await waitFor('the survivor to fail the dead node\'s calls', async () => {
        const calls = await Promise.all(lost.map((id) => callOn(survivor.url, id)));
        return calls.every((c) => c.status === 'FAILED') ? calls : undefined;
      }, 20_000);
      // Not before the TTL: the node might only have been slow.
      assert.ok(Date.now() - killedAt >= 1500 - 250, `failed ${Date.now() - killedAt} ms after the kill, before NODE_TTL_MS`);
      for (const c of failed) {
        assert.equal(c.failureCause, 'node-lost');
        assert.equal(c.transitions.at(-1)!.cause, 'node-lost');
      }
      assert.equal((await callOn(survivor.url, kept)).status, 'IN_PROGRESS');
    } finally {
      doomed.child.kill('SIGKILL');
      await survivor.close();
    }
  });

  test('a node killed and started again with its id fails what its previous run left (server-restarted) at once', { timeout: 60_000 }, async () => {
    const SQLITE_PATH = sharedSqlite();
    // The other node's TTL is long: only the restarted node itself can close these calls.
    const other = await startParley({ SQLITE_PATH, NODE_ID: 'other', NODE_HEARTBEAT_MS: '30000', NODE_TTL_MS: '60000' });
    let first = spawnServer({ PORT: '0', SQLITE_PATH, JWT_SECRET, NODE_ID: 'phoenix', MEDIA_WORKERS: '1' });
    try {
      await waitForListening(first);
      const left = await newCall(listeningUrl(first), true);
      const others = await newCall(other.url, true);
      first.child.kill('SIGKILL');
      await first.exited;
      first = spawnServer({ PORT: '0', SQLITE_PATH, JWT_SECRET, NODE_ID: 'phoenix', MEDIA_WORKERS: '1' });
      await waitForListening(first);
      const call = await callOn(other.url, left);
      assert.equal(call.status, 'FAILED');
      assert.equal(call.failureCause, 'server-restarted');
      assert.equal((await callOn(other.url, others)).status, 'IN_PROGRESS');
    } finally {
      await stopServer(first);
      await other.close();
    }
  });
});
