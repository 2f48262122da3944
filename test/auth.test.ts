/**
 * Accounts, JWTs and roles on REST and sockets (seed 003), room tokens (seed 004), and the
 * external verify flow (seed 002's NEXTJS_URL). The REST flows run on both storage engines.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, SignJWT } from 'jose';
import { request, startParley, testJwtSecret, type RunningParley } from './support/parleyServer.js';
import { connect, once } from './support/sockets.js';
import { engines } from './support/storageEngines.js';

const pw = 'correct horse battery';

for (const make of engines()) {
  const engine = make();
  describe(`accounts and roles over REST (${engine.name})`, () => {
    let srv: RunningParley;
    let adminToken: string;
    let agentToken: string;
    let agentId: string;
    before(async () => {
      srv = await startParley({}, { storage: engine.options });
    });
    after(async () => {
      await srv?.close();
      await engine.dispose();
    });

    test('the first sign-up becomes admin, the next ones agents waiting for approval; duplicates are 409', async () => {
      const a = await request(`${srv.url}/api/v1/auth/signup`, { body: { email: 'admin@example.com', password: pw, name: 'Ada Admin' } });
      assert.equal(a.status, 201);
      assert.equal(a.body.user.role, 'admin');
      assert.equal(a.body.user.passwordHash, undefined);
      const b = await request(`${srv.url}/api/v1/auth/signup`, { body: { email: 'agent@example.com', password: pw, name: 'Agnes Agent' } });
      assert.equal(b.status, 201);
      assert.equal(b.body.user.role, 'agent');
      assert.equal(b.body.user.status, 'pending');
      agentId = b.body.user.id;
      const dup = await request(`${srv.url}/api/v1/auth/signup`, { body: { email: 'AGENT@example.com', password: pw, name: 'Again' } });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.error.code, 'CONFLICT');
    });

    test('sign-in: wrong password is 401, right one gives a bearer token that /me accepts', async () => {
      const wrong = await request(`${srv.url}/api/v1/auth/signin`, { body: { email: 'agent@example.com', password: 'nope-nope' } });
      assert.equal(wrong.status, 401);
      const unknown = await request(`${srv.url}/api/v1/auth/signin`, { body: { email: 'ghost@example.com', password: pw } });
      assert.equal(unknown.status, 401);
      assert.equal(unknown.body.error.message, wrong.body.error.message);

      const admin = await request(`${srv.url}/api/v1/auth/signin`, { body: { email: 'admin@example.com', password: pw } });
      assert.equal(admin.status, 200);
      adminToken = admin.body.accessToken;
      await request(`${srv.url}/api/v1/users/${agentId}`, { method: 'PATCH', token: adminToken, body: { status: 'active' } });
      const agent = await request(`${srv.url}/api/v1/auth/signin`, { body: { email: 'agent@example.com', password: pw } });
      agentToken = agent.body.accessToken;
      assert.equal(agent.body.tokenType, 'Bearer');
      const me = await request(`${srv.url}/api/v1/auth/me`, { token: agentToken });
      assert.equal(me.status, 200);
      assert.equal(me.body.user.email, 'agent@example.com');
    });

    test('roles are enforced: no token 401, agent 403 on admin routes, admin 200', async () => {
      assert.equal((await request(`${srv.url}/api/v1/users`)).status, 401);
      const asAgent = await request(`${srv.url}/api/v1/users`, { token: agentToken });
      assert.equal(asAgent.status, 403);
      assert.equal(asAgent.body.error.code, 'FORBIDDEN');
      const asAdmin = await request(`${srv.url}/api/v1/users`, { token: adminToken });
      assert.equal(asAdmin.status, 200);
      assert.deepEqual(asAdmin.body.users.map((u: { email: string }) => u.email).sort(), ['admin@example.com', 'agent@example.com']);
      const roomToken = (await request(`${srv.url}/token`, { body: { roomName: 'r', participantName: 'p' } })).body.token;
      assert.equal((await request(`${srv.url}/api/v1/auth/me`, { token: roomToken })).status, 401, 'a room token is not a sign-in');
    });

    test('admins create, disable and reset agents; a disabled agent is locked out at once', async () => {
      const created = await request(`${srv.url}/api/v1/users`, { token: adminToken, body: { email: 'new@example.com', password: pw, name: 'New Agent' } });
      assert.equal(created.status, 201);
      assert.equal(created.body.user.role, 'agent');

      const disabled = await request(`${srv.url}/api/v1/users/${agentId}`, { method: 'PATCH', token: adminToken, body: { status: 'disabled' } });
      assert.equal(disabled.status, 200);
      assert.equal(disabled.body.user.status, 'disabled');
      assert.equal((await request(`${srv.url}/api/v1/auth/me`, { token: agentToken })).status, 401);
      assert.equal((await request(`${srv.url}/api/v1/auth/signin`, { body: { email: 'agent@example.com', password: pw } })).status, 403);

      await request(`${srv.url}/api/v1/users/${agentId}`, { method: 'PATCH', token: adminToken, body: { status: 'active' } });
      const reset = await request(`${srv.url}/api/v1/users/${agentId}/password`, { token: adminToken, body: { password: 'a brand new password' } });
      assert.equal(reset.status, 200);
      const signin = await request(`${srv.url}/api/v1/auth/signin`, { body: { email: 'agent@example.com', password: 'a brand new password' } });
      assert.equal(signin.status, 200);
      agentToken = signin.body.accessToken;

      const self = await request(`${srv.url}/api/v1/users/${(await request(`${srv.url}/api/v1/auth/me`, { token: adminToken })).body.user.id}`, {
        method: 'PATCH',
        token: adminToken,
        body: { status: 'disabled' },
      });
      assert.equal(self.status, 409);
    });

    test('sign-out revokes the token; withdrawal closes the account and frees the email', async () => {
      assert.equal((await request(`${srv.url}/api/v1/auth/signout`, { method: 'POST', token: agentToken })).status, 204);
      assert.equal((await request(`${srv.url}/api/v1/auth/me`, { token: agentToken })).status, 401);

      const t = (await request(`${srv.url}/api/v1/auth/signin`, { body: { email: 'new@example.com', password: pw } })).body.accessToken;
      const wrong = await request(`${srv.url}/api/v1/auth/me`, { method: 'DELETE', token: t, body: { password: 'not it at all' } });
      assert.equal(wrong.status, 401);
      assert.equal((await request(`${srv.url}/api/v1/auth/me`, { method: 'DELETE', token: t, body: { password: pw } })).status, 204);
      assert.equal((await request(`${srv.url}/api/v1/auth/me`, { token: t })).status, 401);
      assert.equal((await request(`${srv.url}/api/v1/auth/signin`, { body: { email: 'new@example.com', password: pw } })).status, 401);
      const again = await request(`${srv.url}/api/v1/auth/signup`, { body: { email: 'new@example.com', password: pw, name: 'Back Again' } });
      assert.equal(again.status, 201);
    });
  });
}

describe('tokens on sockets (local auth)', () => {
  let srv: RunningParley;
  let agentToken: string;
  let adminToken: string;
  before(async () => {
    srv = await startParley();
    await request(`${srv.url}/api/v1/auth/signup`, { body: { email: 'boss@example.com', password: pw, name: 'Boss' } });
    const ag = await request(`${srv.url}/api/v1/auth/signup`, { body: { email: 'ag@example.com', password: pw, name: 'Agent Smith' } });
    adminToken = (await request(`${srv.url}/api/v1/auth/signin`, { body: { email: 'boss@example.com', password: pw } })).body.accessToken;
    await request(`${srv.url}/api/v1/users/${ag.body.user.id}`, { method: 'PATCH', token: adminToken, body: { status: 'active' } });
    agentToken = (await request(`${srv.url}/api/v1/auth/signin`, { body: { email: 'ag@example.com', password: pw } })).body.accessToken;
  });
  after(() => srv?.close());

  test('an access token in auth.token or ?token= names the agent to peers', async () => {
    for (const opts of [{ auth: { token: agentToken } }, { query: { token: agentToken } }]) {
      const s = await connect(srv.url, opts);
      const peer = await connect(srv.url, { auth: { userId: 'cust' } });
      try {
        s.emit('video:join-room', { roomId: 'tok-room' });
        await once(s, 'video:room-state');
        const joined = once(s, 'video:user-joined');
        const state = once(peer, 'video:room-state');
        peer.emit('video:join-room', { roomId: 'tok-room' });
        const { participants } = await state;
        assert.equal(participants[0].user.name, 'Agent Smith');
        assert.equal(participants[0].user.role, 'agent');
        assert.equal((await joined).userId, 'cust');
      } finally {
        s.close();
        peer.close();
      }
    }
  });

  test('a bad token is refused at the handshake with a code', async () => {
    await assert.rejects(connect(srv.url, { auth: { token: 'not.a.jwt' } }), (e: Error & { data?: { code: string } }) => e.data?.code === 'UNAUTHORIZED');
    await assert.rejects(connect(`${srv.url}/signaling`, { auth: { token: agentToken.slice(0, -3) + 'abc' } }), /invalid token/);
  });

  test('POST /token issues a room token that admits its holder to that room only', async () => {
    const { status, body } = await request(`${srv.url}/token`, { body: { roomName: 'consult-7', participantName: 'Kim' } });
    assert.equal(status, 200);
    const claims = JSON.parse(Buffer.from(body.token.split('.')[1], 'base64url').toString());
    assert.equal(claims.sub, 'Kim');
    assert.deepEqual(claims.video, { room: 'consult-7', roomJoin: true });
    assert.ok(claims.exp > Date.now() / 1000);

    const s = await connect(srv.url, { auth: { token: body.token } });
    try {
      const ok = await s.emitWithAck('video:join-room', { roomId: 'consult-7' });
      assert.equal(ok.ok, true);
      const denied = await s.emitWithAck('video:join-room', { roomId: 'another-room' });
      assert.equal(denied.error.code, 'FORBIDDEN');
      assert.match(denied.error.message, /consult-7/);
    } finally {
      s.close();
    }
    const sig = await connect(`${srv.url}/signaling`, { query: { token: body.token } });
    try {
      assert.equal((await sig.emitWithAck('join-session', { sessionId: 'consult-7', peerId: 'kim' })).ok, true);
      assert.equal((await sig.emitWithAck('join-session', { sessionId: 'x', peerId: 'kim' })).error.code, 'FORBIDDEN');
    } finally {
      sig.close();
    }
  });

  test('an expired room token is refused and says how to get a new one', async () => {
    // ROOM_TOKEN_TTL_SECONDS sets the lifetime /token grants…
    const short = await startParley({ ROOM_TOKEN_TTL_SECONDS: '1' });
    try {
      const { token } = (await request(`${short.url}/token`, { body: { roomName: 'r', participantName: 'p' } })).body;
      const claims = decodeJwt(token);
      assert.equal(Number(claims.exp) - Number(claims.iat), 1);
    } finally {
      await short.close();
    }
    // …and a token past its `exp` is refused. The same grant, signed by the server's secret with an `exp` a
    // minute ago, rather than a wait for a 1 s token to run out (which a loaded machine can cross before the
    // first connect).
    const { token } = (await request(`${srv.url}/token`, { body: { roomName: 'r', participantName: 'p' } })).body;
    (await connect(srv.url, { auth: { token } })).close();
    const { iat: _iat, exp: _exp, ...grant } = decodeJwt(token);
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT(grant)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(now - 120)
      .setExpirationTime(now - 60)
      .sign(new TextEncoder().encode(testJwtSecret));
    await assert.rejects(connect(srv.url, { auth: { token: expired } }), /expired; sign in again or request a new room token/);
  });

  test('the /admin namespace admits admins only', async () => {
    await assert.rejects(connect(`${srv.url}/admin`, { auth: { token: agentToken } }), (e: Error & { data?: { code: string } }) => e.data?.code === 'FORBIDDEN');
    await assert.rejects(connect(`${srv.url}/admin`), (e: Error & { data?: { code: string } }) => e.data?.code === 'FORBIDDEN');
    const admin = await connect(`${srv.url}/admin`, { auth: { token: adminToken } });
    try {
      const r = await admin.emitWithAck('rooms:list', {});
      assert.equal(typeof r.connections, 'number');
      assert.ok(Array.isArray(r.rooms));
    } finally {
      admin.close();
    }
  });

  test('with ALLOW_ANONYMOUS_SOCKETS=false a socket without a token is refused', async () => {
    const strict = await startParley({ ALLOW_ANONYMOUS_SOCKETS: 'false' });
    try {
      await assert.rejects(connect(strict.url, { auth: { userId: 'x' } }), /token is required/);
    } finally {
      await strict.close();
    }
  });

  test('with SIGNUP_OPEN=false only the first account can sign up', async () => {
    const closed = await startParley({ SIGNUP_OPEN: 'false' });
    try {
      assert.equal((await request(`${closed.url}/api/v1/auth/signup`, { body: { email: 'first@example.com', password: pw, name: 'First' } })).status, 201);
      const second = await request(`${closed.url}/api/v1/auth/signup`, { body: { email: 'second@example.com', password: pw, name: 'Second' } });
      assert.equal(second.status, 403);
      assert.match(second.body.error.message, /ask an admin/);
    } finally {
      await closed.close();
    }
  });
});

describe('external auth (AUTH_MODE=external, seed 002 NEXTJS_URL flow)', () => {
  let nextjs: Server;
  let srv: RunningParley;
  const calls: string[] = [];
  before(async () => {
    nextjs = createServer((req, res) => {
      calls.push(`${req.method} ${req.url}`);
      const auth = req.headers.authorization ?? '';
      if (req.url === '/api/auth/verify' && req.method === 'POST') {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          const { token, userId } = JSON.parse(body) as { token: string; userId: string };
          if (token !== 'good-token' || auth !== 'Bearer good-token') {
            res.writeHead(401).end();
            return;
          }
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ valid: true, user: { id: userId, name: 'Study Member', role: 'customer' } }));
        });
        return;
      }
      const m = req.url?.match(/^\/api\/studies\/([^/]+)\/check-member\?userId=(.+)$/);
      if (m) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ isMember: m[1] === 'study-1' }));
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => nextjs.listen(0, '127.0.0.1', r));
    const port = (nextjs.address() as AddressInfo).port;
    srv = await startParley({ AUTH_MODE: 'external', NEXTJS_URL: `http://127.0.0.1:${port}` });
  });
  after(async () => {
    await srv?.close();
    nextjs?.close();
  });

  test('the handshake is verified by the external URL', async () => {
    await assert.rejects(connect(srv.url, { auth: { userId: 'u1', token: 'bad-token' } }), (e: Error & { data?: { code: string } }) => e.data?.code === 'UNAUTHORIZED');
    await assert.rejects(connect(srv.url, { auth: { userId: 'u1' } }), /token is required/);
    const s = await connect(srv.url, { auth: { userId: 'u1', token: 'good-token' } });
    s.close();
    assert.ok(calls.includes('POST /api/auth/verify'));
  });

  test('video:join-room checks study membership externally', async () => {
    const s = await connect(srv.url, { auth: { userId: 'u1', token: 'good-token' } });
    try {
      const ok = await s.emitWithAck('video:join-room', { studyId: 'study-1', roomId: 'study-1-main' });
      assert.equal(ok.ok, true);
      assert.ok(calls.includes('GET /api/studies/study-1/check-member?userId=u1'));
      const no = await s.emitWithAck('video:join-room', { studyId: 'study-2', roomId: 'study-2-main' });
      assert.equal(no.error.code, 'FORBIDDEN');
      const err = once(s, 'error');
      s.emit('presence:join-study', { studyId: 'study-2' });
      assert.equal((await err).code, 'FORBIDDEN');
    } finally {
      s.close();
    }
  });

  test('an unreachable verifier is reported as AUTH_UNAVAILABLE, not as a bad token', async () => {
    const down = await startParley({ AUTH_MODE: 'external', AUTH_VERIFY_URL: 'http://127.0.0.1:1/verify' });
    try {
      await assert.rejects(connect(down.url, { auth: { userId: 'u', token: 't' } }), (e: Error & { data?: { code: string } }) => e.data?.code === 'AUTH_UNAVAILABLE');
    } finally {
      await down.close();
    }
  });
});
