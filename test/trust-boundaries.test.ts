/**
 * Issue 9's trust boundaries, as an attacker and an integrator would meet them: typed grants
 * instead of room-name conventions, seed 001's routes kept off consultations, room tokens kept
 * in their room, anonymous user ids that cannot pose as accounts, the production posture, the
 * LiveKit key pair, the integrator's identity provider (HS256 and JWKS), and /metrics.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { TokenService } from '../src/auth/tokens.js';
import { callFrom, createAgent, createEntryPoint, firstAdmin, RecordingSocket, type Staff } from './support/consultation.js';
import { request, startParley, type RunningParley } from './support/parleyServer.js';
import { spawnServer, waitForListening } from './support/serverProcess.js';
import { freePort } from './support/coturn.js';
import { connect, once } from './support/sockets.js';

const JWT_SECRET = 'test-secret-test-secret-test-secret-0123';

/** The code and message of a refused handshake. */
async function refusal(url: string, options: Parameters<typeof connect>[1]): Promise<{ code: string; message: string }> {
  try {
    const s = await connect(url, options);
    s.close();
  } catch (err) {
    return (err as { data: { code: string; message: string } }).data;
  }
  throw new Error(`the handshake to ${url} was accepted`);
}

async function ack(socket: Awaited<ReturnType<typeof connect>>, event: string, payload: unknown): Promise<any> {
  return socket.timeout(10_000).emitWithAck(event, payload);
}

describe('development posture: a consultation is reachable only by its customer, its agent and admins', () => {
  let srv: RunningParley;
  let admin: Staff;
  let agent: Staff;
  let consultationId: string;
  let roomId: string;
  let customerToken: string;

  before(async () => {
    srv = await startParley();
    admin = await firstAdmin(srv.url);
    agent = await createAgent(srv.url, admin, 'Agent Kim');
    const ep = await createEntryPoint(srv.url, admin);
    const started = await callFrom(srv.url, ep.entryToken, 'Customer Lee', '01098765432');
    consultationId = started.consultation.id;
    roomId = started.roomId;
    customerToken = started.customerToken;
  });
  after(() => srv.close());

  test("POST /token refuses a consultation's room name", async () => {
    for (const roomName of [roomId, 'call-anything', 'CALL-x']) {
      const r = await request(`${srv.url}/token`, { body: { roomName, participantName: 'eve' } });
      assert.equal(r.status, 400, roomName);
      assert.match(r.body.error.message, /belong to consultations/);
    }
  });

  test("a room token — even one Parley signed for the consultation's room name — joins neither /voice nor /consult", async () => {
    // A token minted before room kinds were typed, or by anyone holding the secret's output.
    const legacy = (await new TokenService(JWT_SECRET, 60, 60).issueRoomToken({ room: roomId, participant: `customer-${consultationId}` })).token;
    const open = (await request(`${srv.url}/token`, { body: { roomName: 'lobby', participantName: 'eve' } })).body.token as string;
    for (const token of [legacy, open]) {
      const voice = await connect(`${srv.url}/voice`, { auth: { token } });
      const join = await ack(voice, 'join-room', { roomId });
      assert.equal(join.error?.code, 'FORBIDDEN', JSON.stringify(join));
      voice.close();
      const consult = await refusal(`${srv.url}/consult`, { auth: { token } });
      assert.equal(consult.code, 'FORBIDDEN');
    }
    const anonymous = await connect(`${srv.url}/voice`);
    assert.equal((await ack(anonymous, 'join-room', { roomId })).error?.code, 'FORBIDDEN');
    anonymous.close();
  });

  test("the customer token opens its own consultation and nothing else", async () => {
    const consult = await RecordingSocket.open(srv.url, '/consult', customerToken);
    const status = await consult.waitFor('consultation:status');
    assert.equal(status.consultationId, consultationId);
    consult.socket.close();
    const voice = await connect(`${srv.url}/voice`, { auth: { token: customerToken } });
    assert.ok((await ack(voice, 'join-room', { roomId })).rtpCapabilities, 'the customer joins their call');
    assert.equal((await ack(voice, 'join-room', { roomId: 'lobby' })).error?.code, 'FORBIDDEN');
    voice.close();
    const study = await connect(srv.url, { auth: { token: customerToken } });
    study.emit('video:join-room', { studyId: 's', roomId: 'r' });
    const err = await once(study, 'error');
    assert.equal(err.code, 'FORBIDDEN');
    study.close();
    // Not a REST credential either.
    assert.equal((await request(`${srv.url}/api/v1/consultations/${consultationId}`, { token: customerToken })).status, 401);
  });

  test("seed 001's call routes do not reach a consultation: no phone number, no end, no connect", async () => {
    const get = await request(`${srv.url}/api/v1/calls/${consultationId}`);
    assert.equal(get.status, 404);
    assert.doesNotMatch(JSON.stringify(get.body), /98765432/);
    assert.equal((await request(`${srv.url}/api/v1/calls/${consultationId}/connect`, { method: 'POST' })).status, 404);
    assert.equal((await request(`${srv.url}/api/v1/calls/${consultationId}/end`, { method: 'POST' })).status, 404);
    const detail = await request(`${srv.url}/api/v1/consultations/${consultationId}`, { token: admin.token });
    assert.equal(detail.body.consultation.status, 'RINGING', 'the consultation is still waiting for an agent');
    // Seed 001's own calls keep working unchanged.
    const created = await request(`${srv.url}/api/v1/calls`, { body: { callerNumber: '01012345678' } });
    assert.equal(created.status, 201);
    const id = created.body.data.call.id;
    assert.equal((await request(`${srv.url}/api/v1/calls/${id}`)).status, 200);
    assert.equal((await request(`${srv.url}/api/v1/calls/${id}/connect`, { method: 'POST' })).body.data.call.status, 'IN_PROGRESS');
  });

  test("the agent and admins reach the consultation's room; another agent does not", async () => {
    const other = await createAgent(srv.url, admin, 'Agent Park');
    const asOther = await connect(`${srv.url}/voice`, { auth: { token: other.token } });
    assert.equal((await ack(asOther, 'join-room', { roomId })).error?.code, 'FORBIDDEN');
    asOther.close();
    const asAdmin = await connect(`${srv.url}/voice`, { auth: { token: admin.token } });
    assert.ok((await ack(asAdmin, 'join-room', { roomId })).rtpCapabilities);
    asAdmin.close();
    assert.ok(agent.token);
  });

  test("a room token stays in its room on '/': naming its room as the studyId opens nothing", async () => {
    const token = (await request(`${srv.url}/token`, { body: { roomName: 'room-a', participantName: 'p' } })).body.token as string;
    const s = await connect(srv.url, { auth: { token } });
    s.emit('video:join-room', { studyId: 'room-a', roomId: 'room-b' });
    assert.equal((await once(s, 'error')).code, 'FORBIDDEN');
    s.emit('video:join-room', { studyId: 'study-1', roomId: 'room-a' });
    const state = await once(s, 'video:room-state');
    assert.ok(Array.isArray(state.participants));
    s.close();
  });

  test("an anonymous socket cannot take an account's user id, and its own id is marked unverified", async () => {
    const refused = await refusal(srv.url, { auth: { userId: admin.id } });
    assert.equal(refused.code, 'UNAUTHORIZED');
    assert.match(refused.message, /belongs to a Parley account/);
    const watcher = await connect(srv.url, { auth: { userId: 'watcher' } });
    watcher.emit('presence:join-study', { studyId: 'st' });
    const guest = await connect(srv.url, { auth: { userId: 'Ada Admin' } });
    const online = once(watcher, 'presence:user-online');
    guest.emit('presence:join-study', { studyId: 'st' });
    const seen = await online;
    assert.equal(seen.user.verified, false);
    watcher.close();
    guest.close();
  });

  test("on /voice a credential names its holder; an anonymous peer cannot name itself after an account", async () => {
    const anonymous = await connect(`${srv.url}/voice`);
    const posing = await ack(anonymous, 'join-room', { roomId: 'hall', userId: admin.id });
    assert.equal(posing.error?.code, 'UNAUTHORIZED', JSON.stringify(posing));
    assert.ok((await ack(anonymous, 'join-room', { roomId: 'hall', userId: 'guest-ann' })).rtpCapabilities);
    const token = (await request(`${srv.url}/token`, { body: { roomName: 'hall', participantName: 'bob' } })).body.token as string;
    const holder = await connect(`${srv.url}/voice`, { auth: { token } });
    const joined = once(anonymous, 'peer-joined');
    assert.ok((await ack(holder, 'join-room', { roomId: 'hall', userId: admin.id })).rtpCapabilities);
    assert.deepEqual(await joined, { peerId: holder.id, userId: 'bob', verified: true }, "the token's participant, not the id the client sent");
    anonymous.close();
    holder.close();
  });

  test('transcripts and colleagues are for staff: anonymous and customer credentials get nothing', async () => {
    for (const token of [undefined, customerToken]) {
      assert.equal((await request(`${srv.url}/api/v1/transcripts/search?q=hello`, { token })).status, 401);
      assert.equal((await request(`${srv.url}/api/v1/consultations/${consultationId}/transcript`, { token })).status, 401);
      assert.equal((await request(`${srv.url}/api/v1/consultations/${consultationId}/transcript/export?format=txt`, { token })).status, 401);
    }
    const consult = await connect(`${srv.url}/consult`, { auth: { token: customerToken } });
    assert.equal((await ack(consult, 'agent:colleagues', {})).error?.code, 'FORBIDDEN');
    consult.close();
  });

  test('anonymous /metrics leaves consultations out; an admin sees them', async () => {
    const voice = await connect(`${srv.url}/voice`, { auth: { token: customerToken } });
    await ack(voice, 'join-room', { roomId });
    const anon = await request(`${srv.url}/metrics`);
    assert.equal(anon.status, 200);
    assert.doesNotMatch(JSON.stringify(anon.body.roomDetails), /call-/);
    assert.ok(anon.body.rooms >= 1, 'the count still includes them');
    const full = await request(`${srv.url}/metrics`, { token: admin.token });
    assert.match(JSON.stringify(full.body.roomDetails), new RegExp(roomId));
    assert.equal((await request(`${srv.url}/metrics`, { token: agent.token })).status, 401);
    voice.close();
  });
});

describe('production posture', () => {
  let srv: RunningParley;
  let agent: Staff;
  const apiKey = 'integrator-key';
  const apiSecret = 'integrator-secret-integrator-secret-0123';

  before(async () => {
    srv = await startParley({ NODE_ENV: 'production', LIVEKIT_API_KEY: apiKey, LIVEKIT_API_SECRET: apiSecret, METRICS_TOKEN: 'scrape-token-0123456789', SIGNUP_OPEN: 'true' });
    const admin = await firstAdmin(srv.url);
    agent = await createAgent(srv.url, admin, 'Agent Choi');
  });
  after(() => srv.close());

  test('anonymous sockets, /token and seed 001 calls are closed', async () => {
    assert.equal((await refusal(srv.url, { auth: { userId: 'u1' } })).code, 'UNAUTHORIZED');
    assert.equal((await refusal(`${srv.url}/voice`, {})).code, 'UNAUTHORIZED');
    const token = await request(`${srv.url}/token`, { body: { roomName: 'r', participantName: 'p' } });
    assert.equal(token.status, 401);
    assert.match(token.body.error.message, /LIVEKIT_API_KEY/);
    assert.equal((await request(`${srv.url}/api/v1/calls`, { body: { callerNumber: '01012345678' } })).status, 401);
    assert.equal((await request(`${srv.url}/api/v1/calls`, { body: { callerNumber: '01012345678' }, token: agent.token })).status, 201);
  });

  test('POST /token takes the LiveKit key pair or an agent, never a wrong secret', async () => {
    const basic = (k: string, s: string) => ({ authorization: `Basic ${Buffer.from(`${k}:${s}`).toString('base64')}` });
    assert.equal((await request(`${srv.url}/token`, { body: { roomName: 'r', participantName: 'p' }, headers: basic(apiKey, 'wrong') })).status, 401);
    const ok = await request(`${srv.url}/token`, { body: { roomName: 'r', participantName: 'p' }, headers: basic(apiKey, apiSecret) });
    assert.equal(ok.status, 200);
    const s = await connect(srv.url, { auth: { token: ok.body.token } });
    s.emit('video:join-room', { studyId: 'st', roomId: 'r' });
    await once(s, 'video:room-state');
    s.close();
    assert.equal((await request(`${srv.url}/token`, { body: { roomName: 'r', participantName: 'p' }, token: agent.token })).status, 200);
  });

  test("room tokens the integrator's backend signs with the LiveKit secret join their room", async () => {
    const sign = (secret: string, room: string) =>
      new SignJWT({ name: 'Bo', video: { room, roomJoin: true } }).setProtectedHeader({ alg: 'HS256' }).setIssuer(apiKey).setSubject('bo').setExpirationTime('5m').sign(new TextEncoder().encode(secret));
    const voice = await connect(`${srv.url}/voice`, { auth: { token: await sign(apiSecret, 'town-hall') } });
    assert.ok((await ack(voice, 'join-room', { roomId: 'town-hall' })).rtpCapabilities);
    assert.equal((await ack(voice, 'join-room', { roomId: 'elsewhere' })).error?.code, 'FORBIDDEN');
    voice.close();
    assert.equal((await refusal(`${srv.url}/voice`, { auth: { token: await sign('another-secret-another-secret-0123', 'town-hall') } })).code, 'UNAUTHORIZED');
  });

  test('/metrics needs its token or an admin', async () => {
    assert.equal((await request(`${srv.url}/metrics`)).status, 401);
    assert.equal((await request(`${srv.url}/metrics/prometheus`)).status, 401);
    assert.equal((await request(`${srv.url}/metrics`, { token: 'scrape-token-0123456789' })).status, 200);
    assert.equal((await request(`${srv.url}/metrics`, { token: 'not-the-token-000000' })).status, 401);
  });

  test('METRICS_PORT moves /metrics to its own listener', async () => {
    const port = await freePort();
    const m = await startParley({ NODE_ENV: 'production', METRICS_PORT: String(port) });
    try {
      assert.equal((await request(`${m.url}/metrics`)).status, 404);
      const own = await request(`http://127.0.0.1:${port}/metrics`);
      assert.equal(own.status, 200);
      assert.equal(typeof own.body.connections, 'number');
      assert.equal((await request(`http://127.0.0.1:${port}/api/v1/users`)).status, 404, 'the listener serves metrics only');
    } finally {
      await m.close();
    }
  });

  test('the start log names the posture and every open anonymous surface', async () => {
    const p = spawnServer({ NODE_ENV: 'production', PORT: '0', JWT_SECRET, SIGNUP_OPEN: 'true' });
    try {
      await waitForListening(p);
      assert.match(p.output(), /production posture: open to anonymous clients: self sign-up/);
      assert.doesNotMatch(p.output(), /ALLOW_ANONYMOUS_SOCKETS\)/);
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
    const dev = spawnServer({ PORT: '0', JWT_SECRET });
    try {
      await waitForListening(dev);
      assert.match(dev.output(), /development posture: open to anonymous clients: sockets without a token.*ALLOW_ANONYMOUS_SOCKETS.*ALLOW_ANONYMOUS_ROOM_TOKENS.*ALLOW_ANONYMOUS_CALLS/);
    } finally {
      dev.child.kill('SIGTERM');
      await dev.exited;
    }
  });
});

describe("the integrator's identity provider", () => {
  const issuer = 'https://auth.example.test';

  test('HS256 tokens with issuer and audience, mapped claims; roles from it open no Parley powers', async () => {
    const secret = 'idp-shared-secret-idp-shared-secret-01';
    const srv = await startParley({ EXTERNAL_JWT_SECRET: secret, EXTERNAL_JWT_ISSUER: issuer, EXTERNAL_JWT_AUDIENCE: 'parley', EXTERNAL_JWT_USER_ID_CLAIM: 'uid', EXTERNAL_JWT_NAME_CLAIM: 'displayName' });
    try {
      const key = new TextEncoder().encode(secret);
      const sign = (claims: Record<string, unknown>, iss = issuer, aud = 'parley') =>
        new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer(iss).setAudience(aud).setExpirationTime('5m').sign(key);
      const watcher = await connect(srv.url, { auth: { token: await sign({ uid: 42, displayName: 'Watcher' }) } });
      watcher.emit('presence:join-study', { studyId: 'st' });
      const peer = await connect(srv.url, { auth: { token: await sign({ uid: 'u-7', displayName: 'Min', role: 'admin' }) } });
      const online = once(watcher, 'presence:user-online');
      peer.emit('presence:join-study', { studyId: 'st' });
      const seen = await online;
      assert.equal(seen.userId, 'u-7');
      assert.equal(seen.user.name, 'Min');
      assert.equal(seen.user.verified, true);
      assert.equal((await refusal(`${srv.url}/admin`, { auth: { token: await sign({ uid: 'u-7', role: 'admin' }) } })).code, 'FORBIDDEN', "an IdP's admin is not Parley's admin");
      assert.equal((await refusal(srv.url, { auth: { token: await sign({ uid: 'x' }, issuer, 'someone-else') } })).code, 'UNAUTHORIZED');
      assert.equal((await refusal(srv.url, { auth: { token: await sign({ uid: 'x' }, 'https://evil.test') } })).code, 'UNAUTHORIZED');
      watcher.close();
      peer.close();
    } finally {
      await srv.close();
    }
  });

  test("RS256 tokens checked against the provider's JWKS; the provider down is AUTH_UNAVAILABLE, not a bad token", async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    const jwks: Server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    const srv = await startParley({ EXTERNAL_JWT_JWKS_URL: jwksUrl, EXTERNAL_JWT_ISSUER: issuer });
    try {
      const sign = () => new SignJWT({ name: 'Jun' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(issuer).setSubject('jun').setExpirationTime('5m').sign(privateKey);
      const voice = await connect(`${srv.url}/voice`, { auth: { token: await sign() } });
      assert.ok((await ack(voice, 'join-room', { roomId: 'open-room' })).rtpCapabilities);
      voice.close();
      const { privateKey: otherKey } = await generateKeyPair('RS256');
      const forged = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(issuer).setSubject('jun').setExpirationTime('5m').sign(otherKey);
      assert.equal((await refusal(srv.url, { auth: { token: forged } })).code, 'UNAUTHORIZED');
      // A provider whose keys cannot be fetched: the integrator's outage, not the user's bad token.
      const down = await startParley({ EXTERNAL_JWT_JWKS_URL: 'http://127.0.0.1:9/.well-known/jwks.json', EXTERNAL_JWT_ISSUER: issuer, AUTH_HTTP_TIMEOUT_MS: '500' });
      try {
        assert.equal((await refusal(down.url, { auth: { token: await sign() } })).code, 'AUTH_UNAVAILABLE');
      } finally {
        await down.close();
      }
    } finally {
      await srv.close();
      jwks.close();
    }
  });
});
