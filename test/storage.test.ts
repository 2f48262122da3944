/** The data-access layer on both engines: migrations on start, accounts, sign-in sessions, persistence. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { createLogger } from '../src/log/logger.js';
import { AuthSessionRepository } from '../src/storage/authSessionRepository.js';
import { sql } from 'kysely';
import { openStorage, type Storage } from '../src/storage/database.js';
import { migrationNames } from '../src/storage/migrations.js';
import { UserRepository } from '../src/storage/userRepository.js';
import { ParleyError } from '../src/errors.js';
import { engines } from './support/storageEngines.js';

const logger = createLogger('silent');

for (const make of engines()) {
  const engine = make();
  describe(`storage on ${engine.name}`, () => {
    after(() => engine.dispose());

    test('migrations run on start and are idempotent on the next start', async () => {
      const applied = async (storage: Storage) =>
        (await sql<{ name: string; timestamp: string | Date }>`SELECT name, timestamp FROM kysely_migration ORDER BY name`.execute(storage.db)).rows.map((r) => ({
          name: r.name,
          at: new Date(r.timestamp).toISOString(),
        }));
      const first = await openStorage(engine.options, logger);
      await first.ping();
      const afterFirst = await applied(first);
      await first.close();
      // Every migration is recorded once, in order.
      assert.deepEqual(afterFirst.map((m) => m.name), migrationNames());
      const second = await openStorage(engine.options, logger);
      await second.ping();
      const afterSecond = await applied(second);
      await second.close();
      // The second start applied nothing again: the same rows with the same times.
      assert.deepEqual(afterSecond, afterFirst);
    });

    test('accounts: create, find by email (case-insensitive) and id, unique email, update, list', async () => {
      const storage = await openStorage(engine.options, logger);
      try {
        const users = new UserRepository(storage.db);
        const email = `Agent.${randomUUID().slice(0, 8)}@Example.com`;
        const created = await users.create({ email, name: 'Agent One', passwordHash: 'h', role: 'agent' });
        assert.equal(created.email, email.toLowerCase());
        assert.equal(created.status, 'active');
        assert.ok(created.createdAt instanceof Date && !Number.isNaN(created.createdAt.getTime()));

        const byEmail = await users.findByEmail(email.toUpperCase());
        assert.equal(byEmail?.id, created.id);
        assert.equal(byEmail?.passwordHash, 'h');
        assert.equal((await users.findById(created.id))?.name, 'Agent One');

        await assert.rejects(
          users.create({ email, name: 'Dup', passwordHash: 'h', role: 'agent' }),
          (e: unknown) => e instanceof ParleyError && e.code === 'CONFLICT',
        );

        const updated = await users.update(created.id, { role: 'admin', status: 'disabled' });
        assert.equal(updated.role, 'admin');
        assert.equal(updated.status, 'disabled');
        assert.ok(updated.updatedAt.getTime() >= created.updatedAt.getTime());
        assert.ok((await users.list()).some((u) => u.id === created.id));
        assert.equal(await users.count(), (await users.list()).length);
      } finally {
        await storage.close();
      }
    });

    test('sign-in sessions: active until revoked or expired', async () => {
      const storage = await openStorage(engine.options, logger);
      try {
        const users = new UserRepository(storage.db);
        const sessions = new AuthSessionRepository(storage.db);
        const u = await users.create({ email: `s-${randomUUID()}@example.com`, name: 'S', passwordHash: 'h', role: 'agent' });
        const live = randomUUID();
        const expired = randomUUID();
        await sessions.create(live, u.id, new Date(Date.now() + 60_000));
        await sessions.create(expired, u.id, new Date(Date.now() - 1000));
        assert.equal(await sessions.isActive(live), true);
        assert.equal(await sessions.isActive(expired), false);
        assert.equal(await sessions.isActive(randomUUID()), false);
        await sessions.revoke(live);
        assert.equal(await sessions.isActive(live), false);

        const a = randomUUID();
        const b = randomUUID();
        await sessions.create(a, u.id, new Date(Date.now() + 60_000));
        await sessions.create(b, u.id, new Date(Date.now() + 60_000));
        await sessions.revokeAllForUser(u.id);
        assert.deepEqual([await sessions.isActive(a), await sessions.isActive(b)], [false, false]);
      } finally {
        await storage.close();
      }
    });

    test('data survives closing and reopening the database', async () => {
      const email = `persist-${randomUUID()}@example.com`;
      const s1 = await openStorage(engine.options, logger);
      const id = (await new UserRepository(s1.db).create({ email, name: 'Persisted', passwordHash: 'h', role: 'agent' })).id;
      await s1.close();
      const s2 = await openStorage(engine.options, logger);
      try {
        const again = await new UserRepository(s2.db).findByEmail(email);
        assert.equal(again?.id, id);
        assert.equal(again?.name, 'Persisted');
      } finally {
        await s2.close();
      }
    });
  });
}

describe('storage errors name what to do', () => {
  test('an unreachable PostgreSQL fails with a message about DATABASE_URL', async () => {
    await assert.rejects(
      openStorage({ kind: 'postgres', url: 'postgres://postgres@127.0.0.1:1/none', schema: 'x' }, logger),
      /cannot reach PostgreSQL at DATABASE_URL/,
    );
  });
});
