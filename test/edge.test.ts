/**
 * The HTTP edge (issue 9, items 7, 8, 10, 11): whose X-Forwarded-For is believed, password
 * guessing, the first admin, open sign-up, security headers, secrets in config errors, and the
 * page routes without their trailing slash.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, mock, test } from 'node:test';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Server as SocketServer } from 'socket.io';
import { SignInThrottle } from '../src/auth/signInThrottle.js';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { clientAddress, parseTrustProxy, trustFunction } from '../src/http/clientAddress.js';
import { createAgent, createEntryPoint, firstAdmin, PASSWORD, signIn } from './support/consultation.js';
import { request, startParley, type RunningParley } from './support/parleyServer.js';
import { spawnServer, waitForListening } from './support/serverProcess.js';
import { connect } from './support/sockets.js';
import { engines } from './support/storageEngines.js';

const secret = 'test-secret-test-secret-test-secret-0123';

/** Starts 40 consultations, each claiming another client address in X-Forwarded-For. */
async function startFromForgedAddresses(srv: RunningParley, entryToken: string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < 40; i++) {
    const r = await request(`${srv.url}/api/v1/consultations`, {
      body: { entryToken, name: `Caller ${i}`, phone: '01012345678', recordingConsent: true },
      headers: { 'x-forwarded-for': `203.0.113.${i + 1}` },
    });
    statuses.push(r.status);
  }
  return statuses;
}

describe('TRUST_PROXY: whose X-Forwarded-For is believed', () => {
  test('by default a forged X-Forwarded-For does not lift the 10-per-minute consultation limit', async () => {
    const srv = await startParley();
    try {
      const ep = await createEntryPoint(srv.url, await firstAdmin(srv.url));
      const statuses = await startFromForgedAddresses(srv, ep.entryToken);
      assert.equal(statuses.filter((s) => s === 201).length, 10, statuses.join(','));
      assert.equal(statuses.filter((s) => s === 429).length, 30, statuses.join(','));
      assert.ok(statuses.slice(0, 10).every((s) => s === 201) && statuses.slice(10).every((s) => s === 429), statuses.join(','));
    } finally {
      await srv.close();
    }
  });

  test('with TRUST_PROXY=127.0.0.1 the proxy’s X-Forwarded-For names the client', async () => {
    const srv = await startParley({ TRUST_PROXY: '127.0.0.1' });
    try {
      const ep = await createEntryPoint(srv.url, await firstAdmin(srv.url));
      const statuses = await startFromForgedAddresses(srv, ep.entryToken);
      assert.deepEqual(statuses, Array(40).fill(201));
      // One address is still held to its ten.
      const same: number[] = [];
      for (let i = 0; i < 11; i++) {
        same.push(
          (await request(`${srv.url}/api/v1/consultations`, { body: { entryToken: ep.entryToken, name: 'Same', phone: '01012345678', recordingConsent: true }, headers: { 'x-forwarded-for': '198.51.100.7' } }))
            .status,
        );
      }
      assert.deepEqual(same, [...Array(10).fill(201), 429]);
    } finally {
      await srv.close();
    }
  });

  test('a Socket.IO handshake gets the same client address as HTTP under each rule', async () => {
    const forged = '198.51.100.23';
    for (const [setting, expected] of [
      [undefined, '127.0.0.1'],
      ['10.0.0.0/8', '127.0.0.1'],
      ['127.0.0.1', forged],
      ['loopback', forged],
      ['1', forged],
    ] as const) {
      const trust = trustFunction(parseTrustProxy(setting));
      const http = createServer((req, res) => res.end(clientAddress(req, trust)));
      const io = new SocketServer(http);
      const seen: string[] = [];
      io.on('connection', (socket) => seen.push(clientAddress(socket.request, trust)));
      await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
      try {
        const viaHttp = await (await fetch(url, { headers: { 'x-forwarded-for': forged } })).text();
        const socket = await connect(url, { extraHeaders: { 'x-forwarded-for': forged } });
        socket.close();
        assert.equal(viaHttp, expected, `TRUST_PROXY=${setting ?? '(unset)'} over HTTP`);
        assert.deepEqual(seen, [expected], `TRUST_PROXY=${setting ?? '(unset)'} over Socket.IO`);
      } finally {
        await io.close();
      }
    }
  });

  test('TRUST_PROXY=true and malformed ranges are refused with what to set instead', () => {
    const problems = (value: string) => {
      try {
        loadConfig({ JWT_SECRET: secret, TRUST_PROXY: value }, () => secret);
        return '';
      } catch (err) {
        assert.ok(err instanceof ConfigError);
        return err.message;
      }
    };
    assert.match(problems('true'), /TRUST_PROXY: .*forged X-Forwarded-For.*give the proxy's address/);
    assert.match(problems('10.0.0.0/99'), /TRUST_PROXY: "10.0.0.0\/99" is not an IP address or CIDR range/);
    assert.equal(problems('127.0.0.1, 10.0.0.0/8'), '');
    assert.deepEqual(loadConfig({ JWT_SECRET: secret }, () => secret).edge.trustProxy, { kind: 'off' });
  });
});

describe('sign-in is throttled per account and address, and the lockout ends by itself', () => {
  let srv: RunningParley;
  let admin: Awaited<ReturnType<typeof firstAdmin>>;
  before(async () => {
    srv = await startParley({ SIGNIN_MAX_FAILURES: '3', SIGNIN_MAX_FAILURES_PER_ADDRESS: '100', SIGNIN_LOCKOUT_SECONDS: '1' });
    admin = await firstAdmin(srv.url);
    await createAgent(srv.url, admin, 'Guessed Agent');
  });
  after(() => srv?.close());
  const signin = (email: string, password: string, address?: string) =>
    request(`${srv.url}/api/v1/auth/signin`, { body: { email, password }, headers: address ? { 'x-forwarded-for': address } : {} });

  test('after N wrong passwords even the right one is refused with 429 and retry-after, then accepted once the lockout passes', async () => {
    const email = 'guessed.agent@example.com';
    const wrong: number[] = [];
    for (let i = 0; i < 3; i++) wrong.push((await signin(email, `guess-${i}`)).status);
    assert.deepEqual(wrong, [401, 401, 401]);
    const locked = await signin(email, PASSWORD);
    assert.equal(locked.status, 429);
    assert.equal(locked.body.error.code, 'RATE_LIMITED');
    assert.match(locked.body.error.message, /Too many failed sign-in attempts.*try again/);
    assert.ok(!locked.body.error.message.includes(email));
    const retryAfter = Number(locked.headers.get('retry-after'));
    assert.equal(retryAfter, 1);

    // An email with no account is locked the same way, with the same sentence.
    for (let i = 0; i < 3; i++) assert.equal((await signin('nobody@example.com', `guess-${i}`)).status, 401);
    const ghost = await signin('nobody@example.com', PASSWORD);
    assert.equal(ghost.status, 429);
    assert.equal(ghost.body.error.message, locked.body.error.message);

    await new Promise((r) => setTimeout(r, 1100));
    const ok = await signin(email, PASSWORD);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    // The success reset the run: three more wrong passwords before the next lockout.
    for (let i = 0; i < 2; i++) assert.equal((await signin(email, `again-${i}`)).status, 401);
    assert.equal((await signin(email, PASSWORD)).status, 200);
  });

  test('guesses sent all at once are cut off at the limit too', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => signin('parallel@example.com', `guess-${i}`)));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 401).length, 3, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 17, statuses.join(','));
  });

  test('the global HTTP rate limit and X-Forwarded-For do not open a way around it (TRUST_PROXY unset)', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await signin('forger@example.com', `guess-${i}`, `203.0.113.${i + 1}`)).status);
    assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
  });

  test('one address trying many emails is locked after SIGNIN_MAX_FAILURES_PER_ADDRESS', async () => {
    const spray = await startParley({ SIGNIN_MAX_FAILURES_PER_ADDRESS: '8' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await request(`${spray.url}/api/v1/auth/signin`, { body: { email: `spray-${i}@example.com`, password: 'guess' } })).status);
      assert.deepEqual(statuses, [...Array(8).fill(401), 429, 429]);
    } finally {
      await spray.close();
    }
  });
});

describe('SignInThrottle on a fake clock', () => {
  test('a 15-minute lockout holds at 14:59 and is gone at 15:00, without anyone clearing it', async () => {
    mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 0 });
    try {
      const throttle = new SignInThrottle({ maxFailures: 5, maxFailuresPerAddress: 50, lockoutSeconds: 900 });
      for (let i = 0; i < 5; i++) await (await throttle.begin('a@example.com', '192.0.2.1')).failed();
      await assert.rejects(throttle.begin('a@example.com', '192.0.2.1'), (err: { code?: string; details?: { retryAfterSeconds?: number } }) => {
        assert.equal(err.code, 'RATE_LIMITED');
        assert.equal(err.details?.retryAfterSeconds, 900);
        return true;
      });
      // Another address, or another email from this address, is not locked by it.
      await throttle.begin('a@example.com', '192.0.2.2');
      await throttle.begin('b@example.com', '192.0.2.1');
      mock.timers.tick(899_000);
      await assert.rejects(throttle.begin('a@example.com', '192.0.2.1'), /Too many failed sign-in attempts/);
      mock.timers.tick(1_000);
      await (await throttle.begin('a@example.com', '192.0.2.1')).succeeded();
    } finally {
      mock.timers.reset();
    }
  });
});

for (const make of engines()) {
  const engine = make();
  describe(`the first admin is made once (${engine.name})`, () => {
    after(() => engine.dispose());

    test('six concurrent first sign-ups produce exactly one admin; the others wait for approval', async () => {
      const srv = await startParley({}, { storage: engine.options });
      try {
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) => request(`${srv.url}/api/v1/auth/signup`, { body: { email: `racer${i}@example.com`, password: PASSWORD, name: `Racer ${i}` } })),
        );
        assert.deepEqual(
          results.map((r) => r.status),
          Array(6).fill(201),
        );
        const users = results.map((r) => r.body.user as { role: string; status: string; email: string });
        assert.equal(users.filter((u) => u.role === 'admin').length, 1, JSON.stringify(users));
        assert.equal(users.filter((u) => u.status === 'pending').length, 5, JSON.stringify(users));
        const admin = users.find((u) => u.role === 'admin')!;
        const listed = await request(`${srv.url}/api/v1/users`, { token: (await signIn(srv.url, admin.email)).token });
        assert.equal(listed.body.users.filter((u: { role: string }) => u.role === 'admin').length, 1);
      } finally {
        await srv.close();
      }
    });

    test('an install that had accounts before migration 0004 keeps its first admin', async () => {
      // Undo 0004 and the migrations after it on the database of the test above (admin + five
      // pending), as if it predated them; migrations run in name order, so every later one is undone too.
      const undo = [
        'DROP TABLE first_admin',
        'DROP TABLE agent_turns',
        'DROP TABLE transcripts',
        ...(engine.options.kind === 'sqlite' ? ['DROP TABLE transcripts_fts'] : []),
        'DROP TABLE storage_probe',
        'DROP TABLE recordings',
        'DROP INDEX calls_status_updated_idx',
        'DROP INDEX webhook_deliveries_status_updated_idx',
        'ALTER TABLE calls DROP COLUMN callback_phone',
        'ALTER TABLE calls DROP COLUMN callback_requested_at',
        'ALTER TABLE entry_points DROP COLUMN captions',
        'ALTER TABLE entry_points DROP COLUMN recording',
        'DROP TABLE nodes',
        'DROP INDEX calls_node_status_idx',
        'ALTER TABLE calls DROP COLUMN node_id',
        'ALTER TABLE entry_points DROP COLUMN routing',
        'ALTER TABLE entry_points DROP COLUMN overflow_after_seconds',
        'ALTER TABLE entry_points DROP COLUMN system_prompt',
        'ALTER TABLE calls DROP COLUMN ai_outcome',
        "DELETE FROM kysely_migration WHERE name >= '0004'",
      ];
      if (engine.options.kind === 'sqlite') {
        const db = new SQLite(engine.options.path);
        for (const q of undo) db.exec(q);
        db.close();
      } else {
        const client = new pg.Client({ connectionString: engine.options.url, options: `-c search_path=${engine.options.schema}` });
        await client.connect();
        for (const q of undo) await client.query(q);
        await client.end();
      }
      const srv = await startParley({}, { storage: engine.options });
      try {
        const next = await request(`${srv.url}/api/v1/auth/signup`, { body: { email: 'after-upgrade@example.com', password: PASSWORD, name: 'After Upgrade' } });
        assert.equal(next.status, 201);
        assert.equal(next.body.user.role, 'agent');
        assert.equal(next.body.user.status, 'pending');
      } finally {
        await srv.close();
      }
    });

    test('ADMIN_EMAIL/ADMIN_PASSWORD add an admin at start only when no active admin exists', async () => {
      // The database of the test above: it has an admin, so nothing is created.
      const again = await startParley({ ADMIN_EMAIL: 'ops@example.com', ADMIN_PASSWORD: 'ops-password-1' }, { storage: engine.options });
      try {
        assert.equal((await request(`${again.url}/api/v1/auth/signin`, { body: { email: 'ops@example.com', password: 'ops-password-1' } })).status, 401);
      } finally {
        await again.close();
      }
    });
  });
}

describe('ADMIN_EMAIL on a fresh install', () => {
  test('creates the admin once, idempotently, and never prints the password', async () => {
    const fresh = await startParley({ ADMIN_EMAIL: 'root@example.com', ADMIN_PASSWORD: 'root-password-1', ADMIN_NAME: 'Root' });
    try {
      const r = await request(`${fresh.url}/api/v1/auth/signin`, { body: { email: 'root@example.com', password: 'root-password-1' } });
      assert.equal(r.status, 200);
      assert.equal(r.body.user.role, 'admin');
      assert.equal(r.body.user.name, 'Root');
      // The first sign-up afterwards is not an admin: the first admin was made.
      const next = await request(`${fresh.url}/api/v1/auth/signup`, { body: { email: 'late@example.com', password: PASSWORD, name: 'Late' } });
      assert.equal(next.body.user.role, 'agent');
      assert.equal(next.body.user.status, 'pending');
    } finally {
      await fresh.close();
    }

    const password = 'never-in-the-log-7Qx';
    const p = spawnServer({ PORT: '0', JWT_SECRET: secret, ADMIN_EMAIL: 'logged@example.com', ADMIN_PASSWORD: password });
    try {
      await waitForListening(p);
      assert.match(p.output(), /ADMIN_EMAIL: created the first admin/);
      assert.ok(!p.output().includes(password), 'the admin password appeared in the log');
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });
});

describe('open sign-up: later accounts wait for an administrator', () => {
  let srv: RunningParley;
  before(async () => {
    srv = await startParley();
  });
  after(() => srv?.close());

  test('a self-signed-up agent cannot sign in until an admin approves it', async () => {
    const admin = await firstAdmin(srv.url);
    const up = await request(`${srv.url}/api/v1/auth/signup`, { body: { email: 'eager@example.com', password: PASSWORD, name: 'Eager' } });
    assert.equal(up.status, 201);
    assert.equal(up.body.user.status, 'pending');

    const refused = await request(`${srv.url}/api/v1/auth/signin`, { body: { email: 'eager@example.com', password: PASSWORD } });
    assert.equal(refused.status, 403);
    assert.match(refused.body.error.message, /waiting for an administrator to approve this account/);
    assert.equal(refused.body.accessToken, undefined);
    // A wrong password does not tell that the account exists and waits.
    const wrong = await request(`${srv.url}/api/v1/auth/signin`, { body: { email: 'eager@example.com', password: 'not the password' } });
    assert.equal(wrong.status, 401);

    const listed = await request(`${srv.url}/api/v1/users`, { token: admin.token });
    assert.equal(listed.body.users.find((u: { email: string }) => u.email === 'eager@example.com').status, 'pending');
    const approved = await request(`${srv.url}/api/v1/users/${up.body.user.id}`, { method: 'PATCH', token: admin.token, body: { status: 'active' } });
    assert.equal(approved.body.user.status, 'active');
    const agent = await signIn(srv.url, 'eager@example.com');
    assert.equal((await request(`${srv.url}/api/v1/consultations`, { token: agent.token })).status, 200);
  });

  test('accounts an admin creates are active at once', async () => {
    const admin = await signIn(srv.url, 'admin@example.com');
    const agent = await createAgent(srv.url, admin, 'Made By Admin');
    assert.ok(agent.token);
  });

  test('SIGNUP_OPEN defaults to true in development and false in production', () => {
    assert.equal(loadConfig({ JWT_SECRET: secret }, () => secret).auth.signupOpen, true);
    assert.equal(loadConfig({ JWT_SECRET: secret, NODE_ENV: 'production' }, () => secret).auth.signupOpen, false);
    assert.equal(loadConfig({ JWT_SECRET: secret, NODE_ENV: 'production', SIGNUP_OPEN: 'true' }, () => secret).auth.signupOpen, true);
  });
});

describe('security headers', () => {
  let srv: RunningParley;
  before(async () => {
    srv = await startParley();
  });
  after(() => srv?.close());

  for (const path of ['/agent/', '/api/v1/auth/me', '/health', '/api/docs']) {
    test(`${path} carries CSP, frame-ancestors/X-Frame-Options, HSTS, nosniff and Referrer-Policy`, async () => {
      const r = await fetch(`${srv.url}${path}`);
      const csp = r.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.match(csp, /connect-src 'self'/);
      assert.equal(r.headers.get('x-frame-options'), 'DENY');
      assert.match(r.headers.get('strict-transport-security') ?? '', /max-age=\d{7,}/);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
    });
  }
});

describe('secrets are never printed in config errors', () => {
  test('a too-short JWT_SECRET, an ADMIN_PASSWORD and a DATABASE_URL password are described, not shown', () => {
    let message = '';
    try {
      loadConfig({ JWT_SECRET: 'my-short-secret-42', ADMIN_EMAIL: 'a@example.com', ADMIN_PASSWORD: 'pw42x', DATABASE_URL: 'mysql://parley:hunter2hunter@db:3306/parley' }, () => secret);
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      message = err.message;
    }
    assert.match(message, /JWT_SECRET: must be at least 32 characters .*\(got a value of 18 characters, not shown\)/);
    assert.match(message, /ADMIN_PASSWORD: must be at least 8 characters/);
    assert.match(message, /DATABASE_URL: must start with postgres:\/\/ .*\(got "mysql:\/\/parley:\*\*\*@db:3306\/parley"\)/);
    for (const leaked of ['my-short-secret-42', 'pw42x', 'hunter2hunter']) assert.ok(!message.includes(leaked), `${leaked} appeared in: ${message}`);
  });

  test('npm start with a short JWT_SECRET exits 78 without printing it', async () => {
    const p = spawnServer({ JWT_SECRET: 'printed-in-full-before' });
    assert.equal(await p.exited, 78);
    assert.match(p.output(), /JWT_SECRET: must be at least 32 characters/);
    assert.ok(!p.output().includes('printed-in-full-before'));
  });
});

describe('page routes without the trailing slash', () => {
  let srv: RunningParley;
  before(async () => {
    srv = await startParley();
  });
  after(() => srv?.close());

  for (const [from, to] of [
    ['/agent', '/agent/'],
    ['/admin', '/admin/'],
    ['/c?e=abc.def&x=1', '/c/?e=abc.def&x=1'],
    ['/voice?room=r1', '/voice/?room=r1'],
    ['/demo', '/demo/p2p.html'],
  ] as const) {
    test(`${from} → 308 ${to}`, async () => {
      const r = await fetch(`${srv.url}${from}`, { redirect: 'manual' });
      assert.equal(r.status, 308);
      assert.equal(r.headers.get('location'), to);
    });
  }

  test('the sign-in forms post, and their password fields have no name to submit', async () => {
    for (const page of ['/agent/', '/admin/']) {
      const html = await (await fetch(`${srv.url}${page}`)).text();
      assert.match(html, /<form id="signin-form" method="post"/, page);
      assert.match(html, /<input id="password" type="password"/, page);
      assert.doesNotMatch(html, /name="password"/, page);
    }
  });
});
