/**
 * Retention (issue 9, "What to build": calls and webhook deliveries pruned after a retention
 * period): ended seed-001 calls, ended consultations (a longer period) and finished webhook
 * deliveries older than their retention are deleted with their child rows, in bounded
 * batches; live calls, pending deliveries and young rows stay; 0 days keeps forever. Rows
 * are back-dated in the database, on both engines; and a real Parley prunes on its interval.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { createLogger } from '../src/log/logger.js';
import { RetentionPruner } from '../src/retention/retentionPruner.js';
import { openStorage, type Storage } from '../src/storage/database.js';
import type { CallsTable, Database } from '../src/storage/schema.js';
import { request, startParley } from './support/parleyServer.js';
import { engines } from './support/storageEngines.js';

const logger = createLogger(process.env.PARLEY_TEST_LOG_LEVEL ?? 'silent');
const DAY = 24 * 60 * 60 * 1000;
const now = new Date('2030-06-01T12:00:00.000Z');
const daysAgo = (d: number) => new Date(now.getTime() - d * DAY).toISOString();

/** One call row, `ageDays` since its last change, with one row in each child table. */
async function seedCall(db: Kysely<Database>, channel: 'api' | 'consultation', status: CallsTable['status'], ageDays: number): Promise<string> {
  const id = randomUUID();
  const at = daysAgo(ageDays);
  await db
    .insertInto('calls')
    .values({
      id,
      session_id: randomUUID(),
      caller_number: '+821012345678',
      receiver_number: null,
      status,
      failure_cause: null,
      created_at: at,
      updated_at: at,
      connected_at: null,
      ended_at: status === 'ENDED' || status === 'FAILED' ? at : null,
      channel,
      entry_point_id: null,
      customer_name: channel === 'consultation' ? 'Kim' : null,
      inquiry: channel === 'consultation' ? 'billing' : null,
      recording_consent: 0,
      agent_id: null,
      room_id: null,
      disposition: null,
      answered_at: null,
    })
    .execute();
  await db.insertInto('call_transitions').values({ id: randomUUID(), call_id: id, from_status: null, to_status: status, cause: 'seed', at }).execute();
  await db.insertInto('call_events').values({ id: randomUUID(), call_id: id, type: 'seeded', actor_id: null, detail: null, at }).execute();
  await db.insertInto('call_participants').values({ id: randomUUID(), call_id: id, role: 'customer', user_id: null, name: 'Kim', joined_at: at, left_at: at }).execute();
  await db.insertInto('call_notes').values({ id: randomUUID(), call_id: id, author_id: 'agent', body: 'note', disposition: null, created_at: at }).execute();
  return id;
}

async function seedDelivery(db: Kysely<Database>, endpointId: string, status: 'pending' | 'delivered' | 'failed', ageDays: number): Promise<string> {
  const id = randomUUID();
  const at = daysAgo(ageDays);
  await db
    .insertInto('webhook_deliveries')
    .values({
      id,
      endpoint_id: endpointId,
      event_id: randomUUID(),
      event_type: 'call.status_changed',
      payload: '{}',
      status,
      attempts: 1,
      next_attempt_at: status === 'pending' ? at : null,
      last_status_code: null,
      last_error: null,
      created_at: at,
      updated_at: at,
      delivered_at: status === 'delivered' ? at : null,
    })
    .execute();
  return id;
}

async function remaining(db: Kysely<Database>, table: 'calls' | 'webhook_deliveries', ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  return (await db.selectFrom(table).select('id').where('id', 'in', ids).execute()).map((r) => r.id).sort();
}

async function childRows(db: Kysely<Database>, callIds: string[]): Promise<number> {
  let n = 0;
  for (const t of ['call_transitions', 'call_events', 'call_participants', 'call_notes'] as const) {
    n += (await db.selectFrom(t).select('id').where('call_id', 'in', callIds).execute()).length;
  }
  return n;
}

for (const make of engines()) {
  const engine = make();
  describe(`retention pruning (${engine.name})`, () => {
    let storage: Storage;
    let endpointId: string;
    before(async () => {
      storage = await openStorage(engine.options, logger);
      endpointId = randomUUID();
      await storage.db
        .insertInto('webhook_endpoints')
        .values({ id: endpointId, url: 'https://example.com/h', secret: 's', events: '["*"]', description: null, created_by: 'a', created_at: daysAgo(400), disabled_at: null })
        .execute();
    });
    after(async () => {
      await storage?.close();
      await engine.dispose();
    });

    test('old ended calls, old ended consultations and old finished deliveries go with their child rows; the rest stays', async () => {
      const db = storage.db;
      const oldApi = [await seedCall(db, 'api', 'ENDED', 31), await seedCall(db, 'api', 'FAILED', 45)];
      const youngApi = await seedCall(db, 'api', 'ENDED', 29);
      const liveOldApi = await seedCall(db, 'api', 'IN_PROGRESS', 90);
      const oldConsultation = await seedCall(db, 'consultation', 'ENDED', 366);
      const keptConsultation = await seedCall(db, 'consultation', 'ENDED', 200); // older than the call retention, younger than its own
      const oldDone = [await seedDelivery(db, endpointId, 'delivered', 31), await seedDelivery(db, endpointId, 'failed', 60)];
      const youngDone = await seedDelivery(db, endpointId, 'delivered', 1);
      const oldPending = await seedDelivery(db, endpointId, 'pending', 90);

      const pruner = new RetentionPruner(db, { callDays: 30, consultationDays: 365, webhookDeliveryDays: 30, intervalMs: 60_000 }, logger);
      const counts = await pruner.pruneOnce(now);
      assert.deepEqual(counts, { calls: 2, consultations: 1, webhookDeliveries: 2 });

      const allCalls = [...oldApi, youngApi, liveOldApi, oldConsultation, keptConsultation];
      assert.deepEqual(await remaining(db, 'calls', allCalls), [youngApi, liveOldApi, keptConsultation].sort());
      assert.equal(await childRows(db, [...oldApi, oldConsultation]), 0, 'child rows went with their calls');
      assert.equal(await childRows(db, [youngApi, liveOldApi, keptConsultation]), 12, 'the kept calls keep theirs');
      assert.deepEqual(await remaining(db, 'webhook_deliveries', [...oldDone, youngDone, oldPending]), [youngDone, oldPending].sort());

      // A second run finds nothing more.
      assert.deepEqual(await pruner.pruneOnce(now), { calls: 0, consultations: 0, webhookDeliveries: 0 });
    });

    test('0 days keeps that kind forever', async () => {
      const db = storage.db;
      const call = await seedCall(db, 'api', 'ENDED', 3650);
      const delivery = await seedDelivery(db, endpointId, 'delivered', 3650);
      const pruner = new RetentionPruner(db, { callDays: 0, consultationDays: 0, webhookDeliveryDays: 0, intervalMs: 60_000 }, logger);
      assert.deepEqual(await pruner.pruneOnce(now), { calls: 0, consultations: 0, webhookDeliveries: 0 });
      assert.deepEqual(await remaining(db, 'calls', [call]), [call]);
      assert.deepEqual(await remaining(db, 'webhook_deliveries', [delivery]), [delivery]);
      // Clean up, so the next test counts only its own rows.
      await new RetentionPruner(db, { callDays: 30, consultationDays: 0, webhookDeliveryDays: 30, intervalMs: 60_000 }, logger).pruneOnce(now);
    });

    test('a backlog is deleted in bounded batches: one run deletes at most batchSize × maxBatchesPerRun', async () => {
      const db = storage.db;
      const ids: string[] = [];
      for (let i = 0; i < 25; i++) ids.push(await seedCall(db, 'api', 'ENDED', 40));
      const pruner = new RetentionPruner(db, { callDays: 30, consultationDays: 0, webhookDeliveryDays: 0, intervalMs: 60_000, batchSize: 4, maxBatchesPerRun: 3 }, logger);
      assert.equal((await pruner.pruneOnce(now)).calls, 12);
      assert.equal((await remaining(db, 'calls', ids)).length, 13);
      assert.equal((await pruner.pruneOnce(now)).calls, 12);
      assert.equal((await pruner.pruneOnce(now)).calls, 1);
      assert.deepEqual(await remaining(db, 'calls', ids), []);
    });
  });
}

describe('a running Parley prunes on its interval', () => {
  test('an ended seed-001 call back-dated past CALL_RETENTION_DAYS disappears without a restart', { timeout: 30_000 }, async () => {
    const srv = await startParley({ CALL_RETENTION_DAYS: '1', RETENTION_PRUNE_INTERVAL_MS: '100' });
    try {
      const id = (await request(`${srv.url}/api/v1/calls`, { body: { callerNumber: '01012345678' } })).body.data.call.id as string;
      assert.equal((await request(`${srv.url}/api/v1/calls/${id}/end`, { method: 'POST' })).status, 200);
      const live = (await request(`${srv.url}/api/v1/calls`, { body: { callerNumber: '01012345678' } })).body.data.call.id as string;
      const old = new Date(Date.now() - 2 * DAY).toISOString();
      await srv.parley.storage.db.updateTable('calls').set({ updated_at: old }).where('id', 'in', [id, live]).execute();
      const deadline = Date.now() + 10_000;
      while ((await request(`${srv.url}/api/v1/calls/${id}`)).status !== 404) {
        assert.ok(Date.now() < deadline, 'the ended call was pruned within 10 s');
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal((await request(`${srv.url}/api/v1/calls/${live}`)).status, 200, 'a live call is never pruned');
    } finally {
      await srv.close();
    }
  });
});
