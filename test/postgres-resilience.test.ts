/**
 * PostgreSQL faults under a running Parley (issue 9, item 4): every backend of Parley's pool
 * killed with pg_terminate_backend mid-call (and the statements that draw their connections before the pool
 * hears of it), and a network partition made by a loopback TCP
 * proxy that stops forwarding. The process must live, /health must say what is going on
 * within a second, DB-backed requests must answer 503 rather than hang, and service must
 * come back by itself.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { connect } from './support/sockets.js';
import { request, startParley, type RunningParley } from './support/parleyServer.js';
import { postgresUrl } from './support/storageEngines.js';
import { waitFor } from './support/polling.js';


async function withAdminClient<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresUrl() });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

function testSchema(): string {
  return `t_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
}

async function dropSchema(schema: string): Promise<void> {
  await withAdminClient((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
}

/** Counts every uncaught exception while a test runs (a crashed pool would be one). */
function watchUncaught(): { count(): number; stop(): void } {
  let n = 0;
  const listener = () => (n += 1);
  process.on('uncaughtExceptionMonitor', listener);
  return { count: () => n, stop: () => process.off('uncaughtExceptionMonitor', listener) };
}

describe('PostgreSQL: every backend terminated mid-call', () => {
  const schema = testSchema();
  const applicationName = `parley-${schema}`;
  let srv: RunningParley;
  before(async () => {
    const url = new URL(postgresUrl());
    url.searchParams.set('application_name', applicationName);
    srv = await startParley({}, { storage: { kind: 'postgres', url: url.href, schema } });
  });
  after(async () => {
    await srv?.close();
    await dropSchema(schema);
  });

  test('the process lives, the live call continues (its next REST call works), /health stays truthful', { timeout: 30_000 }, async () => {
    const uncaught = watchUncaught();
    try {
      const created = await request(`${srv.url}/api/v1/calls`, { body: { callerNumber: '01012345678' } });
      assert.equal(created.status, 201);
      const id = created.body.data.call.id as string;
      assert.equal((await request(`${srv.url}/api/v1/calls/${id}/connect`, { method: 'POST' })).body.data.call.status, 'IN_PROGRESS');
      // Several queries at once, so the pool holds several idle connections to kill.
      await Promise.all(Array.from({ length: 5 }, () => request(`${srv.url}/api/v1/calls/${id}`)));

      // Terminated by psql in a child process that this one waits for without turning its event loop, and each
      // backend waited for until it has exited (the timeout argument). The backends are gone, but this process has
      // not yet read their last words, so the pool still holds their connections as idle: a PostgreSQL restart,
      // failover or idle reaper as a busy server sees it. Idle ones only: a connection busy with a query at that
      // instant (a heartbeat, the webhook poller) reports its loss to that query.
      const terminated = spawnSync(
        'psql',
        [postgresUrl(), '-Atc', `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = '${applicationName}' AND state = 'idle'`],
        { encoding: 'utf8', timeout: 10_000 },
      );
      assert.equal(terminated.status, 0, terminated.stderr);
      const killed = terminated.stdout.split('\n').filter((line) => line === 't').length;
      assert.ok(killed >= 1, 'Parley had idle connections to terminate');
      // Statements drawn now get those dead connections; each must run on a live one instead of failing (before the
      // fix, each answered 57P01 "terminating connection due to administrator command", and its request 503).
      const drawn = await Promise.allSettled(
        Array.from({ length: killed }, () => srv.parley.storage.db.selectFrom('calls').select('status').where('id', '=', id).executeTakeFirst()),
      );
      assert.deepEqual(
        drawn.map((r) => (r.status === 'fulfilled' ? r.value?.status : String(r.reason))),
        Array.from({ length: killed }, () => 'IN_PROGRESS'),
      );
      // The pool hears of dropped idle connections (before the fix: an uncaught 'error', and the process died). One
      // that a background query picked up between the SELECT and its termination reports to that query instead.
      await waitFor('the pool to see the dropped connections', async () => srv.parley.storage.health().poolErrors >= 1);

      const health = await request(`${srv.url}/health`);
      assert.equal(health.status, 200, JSON.stringify(health.body));
      assert.equal(health.body.storage, 'ok');
      const ended = await request(`${srv.url}/api/v1/calls/${id}/end`, { method: 'POST' });
      assert.equal(ended.status, 200, JSON.stringify(ended.body));
      assert.equal(ended.body.data.call.status, 'ENDED');
      assert.equal(uncaught.count(), 0, 'no uncaught exception');
    } finally {
      uncaught.stop();
    }
  });
});

/**
 * A loopback TCP proxy in front of PostgreSQL. `freeze()` stops forwarding in both directions
 * (and holds new connections) as a partition would; `thaw()` lets everything flow again.
 */
class PartitionProxy {
  private readonly server: Server;
  private readonly pairs = new Set<[Socket, Socket | undefined]>();
  private frozen = false;
  private readonly held: Socket[] = [];
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => {
      client.on('error', () => client.destroy());
      if (this.frozen) {
        client.pause();
        this.held.push(client);
        return;
      }
      this.pipe(client);
    });
  }

  private pipe(client: Socket): void {
    const upstream = createConnection(this.target);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  freeze(): void {
    this.frozen = true;
    for (const [a, b] of this.pairs) {
      a.pause();
      b?.pause();
    }
  }

  thaw(): void {
    this.frozen = false;
    for (const [a, b] of this.pairs) {
      a.resume();
      b?.resume();
    }
    for (const client of this.held.splice(0)) {
      this.pipe(client);
      client.resume();
    }
  }

  async close(): Promise<void> {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b?.destroy();
    }
    for (const c of this.held.splice(0)) c.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('PostgreSQL: a network partition', () => {
  const schema = testSchema();
  let proxy: PartitionProxy;
  let srv: RunningParley;
  before(async () => {
    const target = new URL(postgresUrl());
    proxy = new PartitionProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.start();
    const viaProxy = new URL(postgresUrl());
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    srv = await startParley(
      {},
      { storage: { kind: 'postgres', url: viaProxy.href, schema, timeouts: { connectMs: 500, statementMs: 700 } } },
    );
  });
  after(async () => {
    proxy?.thaw();
    await srv?.close();
    await proxy?.close();
    await dropSchema(schema);
  });

  test('/health answers 503 in under a second, DB-backed requests answer 503 instead of hanging, and service recovers without a restart', { timeout: 30_000 }, async (t) => {
    const created = await request(`${srv.url}/api/v1/calls`, { body: { callerNumber: '01012345678' } });
    assert.equal(created.status, 201);
    const id = created.body.data.call.id as string;

    const voice = await connect(`${srv.url}/voice`);
    proxy.freeze();
    let started = Date.now();
    const health = await request(`${srv.url}/health`);
    const healthMs = Date.now() - started;
    assert.equal(health.status, 503, JSON.stringify(health.body));
    assert.ok(healthMs < 1_000, `/health answered in ${healthMs} ms`);
    assert.equal(health.body.status, 'error');
    assert.equal(health.body.storage, 'unreachable');
    assert.equal(typeof health.body.uptime, 'number', "seed 002's fields stay");

    started = Date.now();
    const during = await request(`${srv.url}/api/v1/calls`, { body: { callerNumber: '01012345678' } });
    const duringMs = Date.now() - started;
    assert.equal(during.status, 503, JSON.stringify(during.body));
    assert.equal(during.body.success, false);
    assert.equal(during.body.error.code, 'STORAGE_UNAVAILABLE');
    // The client gives up at statement timeout + 1 s (1.7 s here); connect waits at most 0.5 s more.
    assert.ok(duringMs < 5_000, `a DB-backed request answered in ${duringMs} ms`);
    t.diagnostic(`partition: /health 503 in ${healthMs} ms, POST /api/v1/calls 503 in ${duringMs} ms`);
    // A socket event that needs storage says so too, instead of INTERNAL (a consultation room's check reads the call).
    const joined = await voice.timeout(8_000).emitWithAck('join-room', { roomId: `call-${randomUUID()}` });
    assert.equal(joined.error?.code, 'STORAGE_UNAVAILABLE', JSON.stringify(joined));
    voice.close();

    proxy.thaw();
    await waitFor('/health to be ok again', async () => (await request(`${srv.url}/health`)).status === 200);
    const again = await request(`${srv.url}/api/v1/calls`, { body: { callerNumber: '01012345678' } });
    assert.equal(again.status, 201, JSON.stringify(again.body));
    const ended = await request(`${srv.url}/api/v1/calls/${id}/end`, { method: 'POST' });
    assert.equal(ended.status, 200, JSON.stringify(ended.body));
  });
});
