/**
 * Consultations through the real API (REST + Socket.IO), as the landing page, the agent
 * console and the admin dashboard drive them: QR entry points, routing of five customers to
 * three agents (ordering, reject and timeout re-offers, hang-up while queued), the whole
 * life of one consultation to its notes and history on both storage engines, and a restart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { callFrom, createAgent, createEntryPoint, firstAdmin, RecordingSocket, type Staff } from './support/consultation.js';
import { request, startParley, type RunningParley } from './support/parleyServer.js';
import { connect } from './support/sockets.js';
import { engines } from './support/storageEngines.js';
import { verifySignature } from '../src/webhooks/webhookSignature.js';
import Sqlite from 'better-sqlite3';
import { consultationView } from '../src/domain/consultations/consultationView.js';
import type { CallRecord } from '../src/storage/callRepository.js';

// jsqr is CommonJS whose types declare an ES default export; NodeNext sees the module object.
const jsQR = jsQRModule.default;

describe('QR entry points and the landing API', () => {
  let srv: RunningParley;
  let admin: Staff;
  let agent: Staff;
  before(async () => {
    srv = await startParley();
    admin = await firstAdmin(srv.url);
    agent = await createAgent(srv.url, admin, 'Quinn Agent');
  });
  after(() => srv?.close());

  test('an agent creates an entry point; its PNG and SVG QR codes encode the signed landing link', async () => {
    const ep = await createEntryPoint(srv.url, agent, 'Store 12 counter', 48);
    assert.equal(ep.name, 'Store 12 counter');
    assert.equal(ep.disabled, false);
    const link = new URL(ep.url);
    assert.equal(link.origin, srv.url, 'the link uses the origin the request came to');
    assert.equal(link.pathname, '/c/');
    const hours = (Date.parse(ep.expiresAt) - Date.now()) / 3_600_000;
    assert.ok(hours > 47.9 && hours <= 48, `expires in 48 h (got ${hours})`);

    const png = await fetch(`${srv.url}${ep.qrPngUrl}?size=300`, { headers: { authorization: `Bearer ${agent.token}` } });
    assert.equal(png.status, 200);
    assert.equal(png.headers.get('content-type'), 'image/png');
    const image = PNG.sync.read(Buffer.from(await png.arrayBuffer()));
    assert.equal(image.width, 300);
    const decoded = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
    assert.equal(decoded?.data, ep.url, 'the PNG decodes to the landing link');

    const svg = await fetch(`${srv.url}${ep.qrSvgUrl}`, { headers: { authorization: `Bearer ${agent.token}` } });
    assert.equal(svg.status, 200);
    assert.match(svg.headers.get('content-type') ?? '', /^image\/svg\+xml/);
    assert.match(await svg.text(), /^<svg[^>]*viewBox/);

    const landing = await request(`${srv.url}/api/v1/entry/${ep.entryToken}`);
    assert.equal(landing.status, 200);
    assert.deepEqual(landing.body.entryPoint, { id: ep.id, name: 'Store 12 counter' });

    const listed = await request(`${srv.url}/api/v1/entry-points`, { token: admin.token });
    assert.ok(listed.body.entryPoints.some((e: { id: string }) => e.id === ep.id));
  });

  test('entry points need staff; only admins close them; closed, expired and forged links are refused', async () => {
    assert.equal((await request(`${srv.url}/api/v1/entry-points`)).status, 401);
    assert.equal((await request(`${srv.url}/api/v1/entry-points`, { body: { name: 'x' } })).status, 401);
    const ep = await createEntryPoint(srv.url, agent, 'Closing soon');
    assert.equal((await fetch(`${srv.url}${ep.qrPngUrl}`)).status, 401, 'QR images need sign-in too');
    assert.equal((await request(`${srv.url}/api/v1/entry-points/${ep.id}`, { method: 'DELETE', token: agent.token })).status, 403);
    const closed = await request(`${srv.url}/api/v1/entry-points/${ep.id}`, { method: 'DELETE', token: admin.token });
    assert.equal(closed.status, 200);
    assert.equal(closed.body.entryPoint.disabled, true);
    const gone = await request(`${srv.url}/api/v1/entry/${ep.entryToken}`);
    assert.equal(gone.status, 404);
    assert.match(gone.body.error.message, /closed/);
    const call = await request(`${srv.url}/api/v1/consultations`, { body: { entryToken: ep.entryToken, name: 'Kim', phone: '01012345678', recordingConsent: true } });
    assert.equal(call.status, 404);

    const open = await createEntryPoint(srv.url, agent, 'Open');
    const expiredToken = await srv.parley.tokens.issueEntryToken(open.id, new Date(Date.now() - 60_000));
    const expired = await request(`${srv.url}/api/v1/entry/${expiredToken}`);
    assert.equal(expired.status, 401);
    assert.match(expired.body.error.message, /expired/);
    const forged = await request(`${srv.url}/api/v1/entry/${open.entryToken.slice(0, -4)}AAAA`);
    assert.equal(forged.status, 401);
    // An access token is not an entry token, and an entry token is not a socket credential.
    assert.equal((await request(`${srv.url}/api/v1/entry/${agent.token}`)).status, 401);
    await assert.rejects(connect(`${srv.url}/consult`, { auth: { token: open.entryToken } }));
  });

  test('the landing form is validated: consent, name and phone', async () => {
    const ep = await createEntryPoint(srv.url, agent, 'Form checks');
    const base = { entryToken: ep.entryToken, name: 'Kim Customer', phone: '010-1234-5678', inquiry: 'refund' };
    const post = (body: unknown) => request(`${srv.url}/api/v1/consultations`, { body });
    const noConsent = await post(base);
    assert.equal(noConsent.status, 400);
    assert.match(noConsent.body.error.message, /recordingConsent/);
    assert.equal((await post({ ...base, recordingConsent: false })).status, 400);
    const badPhone = await post({ ...base, phone: '12', recordingConsent: true });
    assert.equal(badPhone.status, 400);
    const badPhone2 = await post({ ...base, phone: '0000000000', recordingConsent: true });
    assert.equal(badPhone2.status, 400);
    assert.match(badPhone2.body.error.message, /phone/);
    assert.equal((await post({ ...base, name: '   ', recordingConsent: true })).status, 400);
    const ok = await post({ ...base, recordingConsent: true });
    assert.equal(ok.status, 201);
    assert.equal(ok.body.consultation.status, 'RINGING');
    assert.equal(ok.body.consultation.customer.phone, '+821012345678');
    assert.equal(ok.body.roomId, `call-${ok.body.consultation.id}`);
    // Nobody is available: the customer hangs up from their socket.
    const customer = await RecordingSocket.open(srv.url, '/consult', ok.body.customerToken);
    const status = await customer.waitFor('consultation:status');
    assert.equal(status.position, 1);
    const hung = await customer.request('consultation:hang-up');
    assert.equal(hung.consultation.status, 'FAILED');
    assert.equal(hung.consultation.failureCause, 'customer-hung-up-before-connect');
    customer.close();
  });
});

describe('starting consultations is rate-limited per client address', () => {
  test('past CONSULT_STARTS_PER_MINUTE the landing API answers 429 with a retry time', async () => {
    const srv = await startParley({ CONSULT_STARTS_PER_MINUTE: '2' });
    try {
      const admin = await firstAdmin(srv.url);
      const ep = await createEntryPoint(srv.url, admin);
      await callFrom(srv.url, ep.entryToken, 'One');
      await callFrom(srv.url, ep.entryToken, 'Two');
      const third = await request(`${srv.url}/api/v1/consultations`, { body: { entryToken: ep.entryToken, name: 'Three', phone: '01012345678', recordingConsent: true } });
      assert.equal(third.status, 429, JSON.stringify(third.body));
      assert.equal(third.body.error.code, 'RATE_LIMITED');
      assert.ok(Number(third.headers.get('retry-after')) > 0);
      // Staff routes are not affected by the customers' limit.
      assert.equal((await request(`${srv.url}/api/v1/consultations`, { token: admin.token })).body.total, 2);
    } finally {
      await srv.close();
    }
  });
});

describe('revoked sign-ins', () => {
  test('an agent disabled while available is disconnected at once and offered nothing; a signed-out tab is closed', async () => {
    const srv = await startParley();
    try {
      const admin = await firstAdmin(srv.url);
      const agent = await createAgent(srv.url, admin, 'Jo Agent');
      const ep = await createEntryPoint(srv.url, admin);
      const board = await RecordingSocket.open(srv.url, '/admin', admin.token);
      const console_ = await RecordingSocket.open(srv.url, '/consult', agent.token);
      await console_.request('agent:set-state', { state: 'available' });
      const patched = await request(`${srv.url}/api/v1/users/${agent.id}`, { method: 'PATCH', token: admin.token, body: { status: 'disabled' } });
      assert.equal(patched.status, 200);
      assert.deepEqual(await console_.waitFor('signed-out'), { reason: 'account-disabled' });
      await console_.disconnected();
      assert.equal(console_.socket.connected, false);
      await board.waitFor('board', (b: { agents: Array<{ id: string; state: string }> }) => b.agents.some((a) => a.id === agent.id && a.state === 'offline'));
      const started = await callFrom(srv.url, ep.entryToken, 'Nobody Answers');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await board.request('board:get')).queue.length, 1, 'the call waits: nobody is available');
      await assert.rejects(RecordingSocket.open(srv.url, '/consult', agent.token), /disabled|signed out/);

      // Signing out closes that sign-in's sockets (here: the admin's board).
      const out = await request(`${srv.url}/api/v1/auth/signout`, { method: 'POST', token: admin.token });
      assert.equal(out.status, 204);
      assert.deepEqual(await board.waitFor('signed-out'), { reason: 'signed-out' });
      assert.ok(started.consultation.id);
    } finally {
      await srv.close();
    }
  });
});

describe('bad input on /consult and /admin', () => {
  test('every event refuses malformed payloads with a clear code, and the console keeps working', async () => {
    const srv = await startParley();
    try {
      const admin = await firstAdmin(srv.url);
      const agent = await createAgent(srv.url, admin, 'Hal Agent');
      const ep = await createEntryPoint(srv.url, admin);
      const started = await callFrom(srv.url, ep.entryToken, 'Ivy');
      const console_ = await RecordingSocket.open(srv.url, '/consult', agent.token);
      const customer = await RecordingSocket.open(srv.url, '/consult', started.customerToken);
      const board = await RecordingSocket.open(srv.url, '/admin', admin.token);
      const shapeless: unknown[] = [null, 'text', 42, [1]];
      const rows: Array<[RecordingSocket, string, unknown, string]> = [
        ...shapeless.map((p): [RecordingSocket, string, unknown, string] => [console_, 'agent:set-state', p, 'INVALID_PAYLOAD']),
        [console_, 'agent:set-state', { state: 'busy' }, 'INVALID_PAYLOAD'],
        [console_, 'agent:set-state', { state: 'ringing' }, 'INVALID_PAYLOAD'],
        ...shapeless.map((p): [RecordingSocket, string, unknown, string] => [console_, 'consultation:accept', p, 'INVALID_PAYLOAD']),
        [console_, 'consultation:accept', { consultationId: 'x'.repeat(5000) }, 'INVALID_PAYLOAD'],
        [console_, 'consultation:accept', { consultationId: started.consultation.id }, 'CONFLICT'],
        [console_, 'consultation:reject', { consultationId: started.consultation.id }, 'CONFLICT'],
        [console_, 'consultation:hold', { consultationId: started.consultation.id, on: 'yes' }, 'INVALID_PAYLOAD'],
        [console_, 'consultation:hold', { consultationId: started.consultation.id, on: true }, 'FORBIDDEN'],
        [console_, 'consultation:end', { consultationId: '00000000-0000-4000-8000-000000000000' }, 'NOT_FOUND'],
        [console_, 'consultation:hang-up', {}, 'FORBIDDEN'],
        [console_, 'no-such-event', {}, 'INVALID_PAYLOAD'],
        [customer, 'consultation:accept', { consultationId: started.consultation.id }, 'FORBIDDEN'],
        [customer, 'agent:get', {}, 'FORBIDDEN'],
        [customer, 'consultation:hang-up', 'please', 'INVALID_PAYLOAD'],
        [board, 'board:get', 'all', 'INVALID_PAYLOAD'],
      ];
      for (const [socket, event, payload, code] of rows) {
        const res = await socket.request(event, payload);
        assert.equal(res?.error?.code, code, `${event} ${JSON.stringify(payload)?.slice(0, 60)} → ${JSON.stringify(res)?.slice(0, 200)}`);
        assert.ok(res.error.message.length > 5);
      }
      // Agents without a token, customers with someone else's room token and customers with a
      // seed 004 token for another room are refused at the handshake.
      await assert.rejects(RecordingSocket.open(srv.url, '/consult', ''), /token/);
      await assert.rejects(connect(`${srv.url}/consult`), /customer token of a consultation/);
      const other = await request(`${srv.url}/token`, { body: { roomName: 'lobby', participantName: 'eve' } });
      await assert.rejects(RecordingSocket.open(srv.url, '/consult', other.body.token), /consultation/);
      // Still serving: the agent goes available and gets the call.
      await console_.request('agent:set-state', { state: 'available' });
      await console_.waitFor('consultation:offer', (o: { consultationId: string }) => o.consultationId === started.consultation.id);
      assert.equal((await board.request('board:get')).queue.length, 1);
      for (const s of [console_, customer, board]) s.close();
    } finally {
      await srv.close();
    }
  });
});

describe('routing through the real API: three agents, five customers', () => {
  let srv: RunningParley;
  before(async () => {
    srv = await startParley({ CONSULT_OFFER_TIMEOUT_MS: '800', CONSULT_DEFAULT_HANDLE_TIME_MS: '60000' });
  });
  after(() => srv?.close());

  test('oldest call to the longest-idle agent; reject and timeout re-offer; hang-up while queued; positions shown', async () => {
    const admin = await firstAdmin(srv.url);
    const [a, b, c] = [await createAgent(srv.url, admin, 'Agent A'), await createAgent(srv.url, admin, 'Agent B'), await createAgent(srv.url, admin, 'Agent C')];
    const ep = await createEntryPoint(srv.url, admin);
    const consoles = new Map<string, RecordingSocket>();
    for (const agent of [a, b, c]) consoles.set(agent.id, await RecordingSocket.open(srv.url, '/consult', agent.token));
    const con = (agent: Staff) => consoles.get(agent.id)!;
    // C has waited longest, then A, then B.
    for (const agent of [c, a, b]) {
      const r = await con(agent).request('agent:set-state', { state: 'available' });
      assert.equal(r.agent.state, 'available');
      await new Promise((r) => setTimeout(r, 20));
    }

    const customers: Array<{ id: string; socket: RecordingSocket }> = [];
    for (const name of ['K1', 'K2', 'K3', 'K4', 'K5']) {
      const s = await callFrom(srv.url, ep.entryToken, name);
      customers.push({ id: s.consultation.id, socket: await RecordingSocket.open(srv.url, '/consult', s.customerToken) });
    }
    const [k1, k2, k3, k4, k5] = customers.map((x) => x.id) as [string, string, string, string, string];
    const offerTo = (agent: Staff, id: string) => con(agent).waitFor('consultation:offer', (o: { consultationId: string }) => o.consultationId === id);

    // Three offers: oldest call to the longest-idle agent.
    const o1 = await offerTo(c, k1);
    assert.equal(o1.customer.name, 'K1');
    assert.equal(o1.inquiry, 'My order has not arrived');
    assert.equal(o1.entryPoint, 'Front desk');
    await offerTo(a, k2);
    await offerTo(b, k3);

    // Everyone waiting sees a place in the line and a wait that grows with it.
    const seen = await Promise.all(customers.map((k, i) => k.socket.waitFor('consultation:status', (s: { position?: number }) => s.position === i + 1)));
    assert.deepEqual(
      seen.map((s) => s.status),
      ['RINGING', 'RINGING', 'RINGING', 'RINGING', 'RINGING'],
    );
    assert.ok(seen[4].estimatedWaitSeconds > seen[3].estimatedWaitSeconds && seen[3].estimatedWaitSeconds > 0);
    const queueView = await con(a).waitFor('queue:update', (q: { length: number }) => q.length === 5);
    assert.deepEqual(
      queueView.queue.map((q: { customerName: string }) => q.customerName),
      ['K1', 'K2', 'K3', 'K4', 'K5'],
    );

    // A rejects K2: K2 is not offered to A again, but the next call (K4) is.
    const mark = con(a).events.length;
    assert.deepEqual(await con(a).request('consultation:reject', { consultationId: k2 }), { rejected: true });
    await con(a).waitFor('consultation:offer-withdrawn', (w: { consultationId: string; reason: string }) => w.consultationId === k2 && w.reason === 'rejected', 3000, mark);
    const o4 = await con(a).waitFor('consultation:offer', (o: { consultationId: string }) => o.consultationId === k4, 3000, mark);
    assert.equal(o4.customer.name, 'K4');

    // C accepts K1.
    const accepted = await con(c).request('consultation:accept', { consultationId: k1 });
    assert.equal(accepted.consultation.status, 'CONNECTING');
    assert.equal(accepted.roomId, `call-${k1}`);
    const k1Status = await customers[0]!.socket.waitFor('consultation:status', (s: { status: string }) => s.status === 'CONNECTING');
    assert.equal(k1Status.agentName, 'Agent C');
    // Accepting a call that rings for someone else is refused.
    const stolen = await con(c).request('consultation:accept', { consultationId: k3 });
    assert.equal(stolen.error.code, 'CONFLICT');

    // K5 gives up while waiting.
    const k5End = await customers[4]!.socket.request('consultation:hang-up');
    assert.equal(k5End.consultation.status, 'FAILED');
    await customers[4]!.socket.waitFor('consultation:ended', (e: { status: string; cause: string }) => e.status === 'FAILED' && e.cause === 'customer-hung-up-before-connect');

    // B lets K3 ring out: B goes offline and K3 waits again.
    await con(b).waitFor('consultation:offer-withdrawn', (w: { consultationId: string; reason: string }) => w.consultationId === k3 && w.reason === 'timeout', 3000);
    await con(b).waitFor('agent:state', (s: { state: string }) => s.state === 'offline');

    // A takes K4; C finishes K1, wraps up, goes available and gets K2 (the oldest still waiting).
    await con(a).request('consultation:accept', { consultationId: k4 });
    const ended = await con(c).request('consultation:end', { consultationId: k1 });
    assert.equal(ended.consultation.status, 'FAILED', 'ended before media connected → FAILED with the cause');
    assert.equal(ended.consultation.failureCause, 'agent-hung-up-before-connect');
    await con(c).waitFor('agent:state', (s: { state: string }) => s.state === 'after-call-work');
    const mark2 = con(c).events.length;
    await con(c).request('agent:set-state', { state: 'available' });
    await con(c).waitFor('consultation:offer', (o: { consultationId: string }) => o.consultationId === k2, 3000, mark2);
    const remaining = await customers[2]!.socket.waitFor('consultation:status', (s: { position?: number }) => s.position === 2);
    assert.equal(remaining.status, 'RINGING', 'K3 is second in line behind K2');

    // The admin's history tells the story of K2.
    const detail = await request(`${srv.url}/api/v1/consultations/${k2}`, { token: admin.token });
    assert.deepEqual(
      detail.body.consultation.events.map((e: { type: string; detail: { agentName?: string } | null }) => `${e.type}${e.detail?.agentName ? `:${e.detail.agentName}` : ''}`),
      ['queued', 'offered:Agent A', 'rejected', 'offered:Agent C'],
    );
    for (const s of [...consoles.values(), ...customers.map((k) => k.socket)]) s.close();
  });
});

describe('a customer who leaves the page', () => {
  let srv: RunningParley;
  before(async () => {
    srv = await startParley({ CONSULT_CUSTOMER_GRACE_MS: '400' });
  });
  after(() => srv?.close());

  test('a reload within the grace keeps the place in line; leaving for good hangs up and withdraws the offer', async () => {
    const admin = await firstAdmin(srv.url);
    const ep = await createEntryPoint(srv.url, admin);
    const get = async (id: string) => (await request(`${srv.url}/api/v1/consultations/${id}`, { token: admin.token })).body.consultation;

    const stays = await callFrom(srv.url, ep.entryToken, 'Reloader');
    const first = await RecordingSocket.open(srv.url, '/consult', stays.customerToken);
    first.close();
    await new Promise((r) => setTimeout(r, 100));
    const again = await RecordingSocket.open(srv.url, '/consult', stays.customerToken);
    assert.equal((await again.waitFor('consultation:status')).position, 1);
    await new Promise((r) => setTimeout(r, 700));
    assert.equal((await get(stays.consultation.id)).status, 'RINGING', 'the reload resumed the same consultation');

    const leaves = await callFrom(srv.url, ep.entryToken, 'Leaver');
    const page = await RecordingSocket.open(srv.url, '/consult', leaves.customerToken);
    const agent = await createAgent(srv.url, admin, 'Gus Agent');
    const console_ = await RecordingSocket.open(srv.url, '/consult', agent.token);
    await again.request('consultation:hang-up');
    await console_.request('agent:set-state', { state: 'available' });
    await console_.waitFor('consultation:offer', (o: { consultationId: string }) => o.consultationId === leaves.consultation.id);
    page.close();
    const withdrawn = await console_.waitFor('consultation:offer-withdrawn', (w: { consultationId: string }) => w.consultationId === leaves.consultation.id, 3000);
    assert.equal(withdrawn.reason, 'hung-up');
    await console_.waitFor('agent:state', (s: { state: string }) => s.state === 'available');
    const gone = await get(leaves.consultation.id);
    assert.equal(gone.status, 'FAILED');
    assert.equal(gone.failureCause, 'customer-left-before-connect');
    for (const s of [again, console_]) s.close();
  });
});

for (const make of engines()) {
  const engine = make();
  describe(`one consultation from QR to notes and history (${engine.name})`, () => {
    let srv: RunningParley;
    before(async () => {
      srv = await startParley({}, { storage: engine.options });
    });
    after(async () => {
      await srv?.close();
      await engine.dispose();
    });

    test('offer → accept → both in the SFU room → hold → end → notes; history, detail and the live board', async () => {
      const admin = await firstAdmin(srv.url);
      const agent = await createAgent(srv.url, admin, 'Dana Agent');
      const other = await createAgent(srv.url, admin, 'Eli Agent');
      const ep = await createEntryPoint(srv.url, admin, 'Lobby');
      // An integrator listens to the call's webhooks.
      const received: Array<{ body: string; signature: string }> = [];
      const receiver = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          received.push({ body, signature: String(req.headers['parley-signature']) });
          res.end();
        });
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
      const hook = await request(`${srv.url}/api/v1/webhooks`, { token: admin.token, body: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` } });
      assert.equal(hook.status, 201);
      const board = await RecordingSocket.open(srv.url, '/admin', admin.token);
      const console_ = await RecordingSocket.open(srv.url, '/consult', agent.token);
      await console_.waitFor('agent:state', (s: { state: string }) => s.state === 'offline');
      await console_.request('agent:set-state', { state: 'available' });
      await board.waitFor('board', (b: { agents: Array<{ id: string; state: string }> }) => b.agents.some((x) => x.id === agent.id && x.state === 'available'));

      const started = await callFrom(srv.url, ep.entryToken, 'Kim Customer', '+82 10-9876-5432', 'Broken screen');
      const id = started.consultation.id;
      const customer = await RecordingSocket.open(srv.url, '/consult', started.customerToken);
      const offer = await console_.waitFor('consultation:offer', (o: { consultationId: string }) => o.consultationId === id);
      assert.deepEqual(offer.customer, { name: 'Kim Customer', phone: '+821098765432' });
      await board.waitFor('board', (b: { live: Array<{ id: string }>; queue: { length: number } }) => b.live.some((l) => l.id === id) && b.queue.length === 1);

      // A reload of the console gets the ringing offer back.
      const reloaded = await RecordingSocket.open(srv.url, '/consult', agent.token);
      const state = await reloaded.request('agent:get');
      assert.equal(state.agent.state, 'ringing');
      assert.equal(state.offer.consultationId, id);
      reloaded.close();

      const { roomId } = await console_.request('consultation:accept', { consultationId: id });
      await customer.waitFor('consultation:status', (s: { status: string }) => s.status === 'CONNECTING');

      // The SFU room is the consultation's: strangers and other agents are kept out.
      const stranger = await connect(`${srv.url}/voice`);
      const refused = await stranger.timeout(5000).emitWithAck('join-room', { roomId });
      assert.equal(refused.error.code, 'FORBIDDEN');
      stranger.close();
      const otherVoice = await connect(`${srv.url}/voice`, { auth: { token: other.token } });
      assert.equal((await otherVoice.timeout(5000).emitWithAck('join-room', { roomId })).error.code, 'FORBIDDEN');
      otherVoice.close();
      // The agent and a supervising admin in the room are not a conversation yet.
      const agentVoice = await connect(`${srv.url}/voice`, { auth: { token: agent.token } });
      assert.ok((await agentVoice.timeout(5000).emitWithAck('join-room', { roomId })).rtpCapabilities);
      const adminVoice = await connect(`${srv.url}/voice`, { auth: { token: admin.token } });
      assert.ok((await adminVoice.timeout(5000).emitWithAck('join-room', { roomId })).rtpCapabilities);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal((await request(`${srv.url}/api/v1/consultations/${id}`, { token: admin.token })).body.consultation.status, 'CONNECTING');
      adminVoice.close();
      const customerVoice = await connect(`${srv.url}/voice`, { auth: { token: started.customerToken } });
      assert.ok((await customerVoice.timeout(5000).emitWithAck('join-room', { roomId })).rtpCapabilities);
      await customer.waitFor('consultation:status', (s: { status: string }) => s.status === 'IN_PROGRESS');

      assert.deepEqual(await console_.request('consultation:hold', { consultationId: id, on: true }), { onHold: true });
      await customer.waitFor('consultation:status', (s: { onHold: boolean }) => s.onHold === true);
      await console_.request('consultation:hold', { consultationId: id, on: false });
      await customer.waitFor('consultation:status', (s: { onHold: boolean; status: string }) => s.onHold === false && s.status === 'IN_PROGRESS');
      // Only the call's own agent may hold or end it.
      const otherConsole = await RecordingSocket.open(srv.url, '/consult', other.token);
      assert.equal((await otherConsole.request('consultation:end', { consultationId: id })).error.code, 'FORBIDDEN');
      assert.equal((await otherConsole.request('consultation:hold', { consultationId: 'nope', on: true })).error.code, 'INVALID_PAYLOAD');
      assert.equal((await customer.request('agent:set-state', { state: 'available' })).error.code, 'FORBIDDEN');

      await new Promise((r) => setTimeout(r, 1100));
      const end = await console_.request('consultation:end', { consultationId: id });
      assert.equal(end.consultation.status, 'ENDED');
      assert.ok(end.consultation.durationSeconds >= 1);
      const over = await customer.waitFor('consultation:ended');
      assert.deepEqual(over, { consultationId: id, status: 'ENDED', cause: 'agent-hung-up' });
      await console_.waitFor('agent:state', (s: { state: string }) => s.state === 'after-call-work');
      customerVoice.close();
      agentVoice.close();

      // Notes: the call's agent (or an admin) only.
      const notes = `${srv.url}/api/v1/consultations/${id}/notes`;
      assert.equal((await request(notes, { token: other.token, body: { body: 'not mine' } })).status, 403);
      assert.equal((await request(notes, { token: agent.token, body: { body: 'x', disposition: 'maybe' } })).status, 400);
      const note = await request(notes, { token: agent.token, body: { body: 'Replacement screen sent', disposition: 'resolved' } });
      assert.equal(note.status, 201);
      assert.equal(note.body.note.authorName, 'Dana Agent');

      // History with filters.
      const list = async (token: string, query: string) => (await request(`${srv.url}/api/v1/consultations?${query}`, { token })).body;
      const mine = await list(agent.token, '');
      assert.equal(mine.total, 1);
      assert.equal(mine.consultations[0].disposition, 'resolved');
      assert.equal((await list(other.token, '')).total, 0, 'agents see their own calls');
      assert.equal((await request(`${srv.url}/api/v1/consultations?agentId=${agent.id}`, { token: other.token })).status, 403);
      assert.equal((await list(admin.token, `agentId=${agent.id}&status=ENDED`)).total, 1);
      assert.equal((await list(admin.token, 'status=FAILED')).total, 0);
      const today = new Date(Date.now() - 3_600_000).toISOString();
      const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
      assert.equal((await list(admin.token, `from=${encodeURIComponent(today)}&to=${encodeURIComponent(tomorrow)}`)).total, 1);
      assert.equal((await list(admin.token, `to=${encodeURIComponent(today)}`)).total, 0);
      assert.equal((await request(`${srv.url}/api/v1/consultations?from=yesterday`, { token: admin.token })).status, 400);

      const detail = (await request(`${srv.url}/api/v1/consultations/${id}`, { token: admin.token })).body.consultation;
      assert.deepEqual(
        detail.transitions.map((t: { to: string; cause: string }) => `${t.to}:${t.cause}`),
        ['INITIATING:customer-called', 'RINGING:queued', 'CONNECTING:accepted', 'IN_PROGRESS:media-connected', 'ENDED:agent-hung-up'],
      );
      assert.deepEqual(
        detail.events.map((e: { type: string }) => e.type),
        ['queued', 'offered', 'accepted', 'hold', 'unhold', 'ended', 'note'],
      );
      assert.deepEqual(
        detail.participants.map((p: { role: string; name: string; leftAt: string | null }) => [p.role, p.name, p.leftAt !== null]),
        [
          ['customer', 'Kim Customer', true],
          ['agent', 'Dana Agent', true],
        ],
      );
      assert.equal(detail.inquiry, 'Broken screen');
      assert.equal(detail.recordingConsent, true);
      assert.deepEqual(detail.entryPoint, { id: ep.id, name: 'Lobby' });
      assert.deepEqual(detail.agent, { id: agent.id, name: 'Dana Agent' });
      // Waited = created → answered; talked = connected → ended (both from the stored times, not clamped guesses).
      const secondsBetween = (a: string, b: string) => Math.round((Date.parse(b) - Date.parse(a)) / 1000);
      assert.ok(detail.answeredAt && detail.connectedAt && detail.endedAt);
      assert.equal(detail.waitSeconds, secondsBetween(detail.createdAt, detail.answeredAt));
      assert.equal(detail.durationSeconds, secondsBetween(detail.connectedAt, detail.endedAt));
      assert.ok(detail.durationSeconds >= 1);
      assert.equal((await request(`${srv.url}/api/v1/consultations/${id}`, { token: other.token })).status, 403);

      // The integrator heard every move, signed, with the consultation's people in it.
      const deadline = Date.now() + 5000;
      while (received.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      receiver.close();
      const events = received.map((r) => {
        assert.ok(verifySignature(hook.body.webhook.secret, r.body, r.signature), 'signed with the endpoint secret');
        return JSON.parse(r.body) as { type: string; data: { to: string; call: { id: string }; consultation?: { customer: { name: string }; agent: { name: string } | null } } };
      });
      assert.deepEqual(
        events.map((e) => e.data.to),
        ['RINGING', 'CONNECTING', 'IN_PROGRESS', 'ENDED'],
      );
      assert.ok(events.every((e) => e.type === 'call.status_changed' && e.data.call.id === id && e.data.consultation?.customer.name === 'Kim Customer'));
      assert.equal(events.at(-1)!.data.consultation!.agent!.name, 'Dana Agent');

      // After-call work → available; the board follows.
      await console_.request('agent:set-state', { state: 'available' });
      const last = await board.waitFor('board', (b: { live: unknown[]; agents: Array<{ id: string; state: string }> }) => b.live.length === 0 && b.agents.some((x) => x.id === agent.id && x.state === 'available'));
      assert.equal(last.queue.length, 0);
      for (const s of [board, console_, customer, otherConsole]) s.close();
    });
  });
}

describe('restart', () => {
  test('consultations live at a clean stop are FAILED (server-shutdown); their history stays', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'parley-consult-restart-')), 'parley.sqlite');
    const env = { SQLITE_PATH: path };
    const first = await startParley(env);
    const admin = await firstAdmin(first.url);
    const agent = await createAgent(first.url, admin, 'Rae Agent');
    const ep = await createEntryPoint(first.url, admin);
    const console_ = await RecordingSocket.open(first.url, '/consult', agent.token);
    await console_.request('agent:set-state', { state: 'available' });
    const talking = await callFrom(first.url, ep.entryToken, 'Talking');
    await console_.waitFor('consultation:offer');
    await console_.request('consultation:accept', { consultationId: talking.consultation.id });
    const waiting = await callFrom(first.url, ep.entryToken, 'Waiting');
    console_.close();
    await first.close();

    const second = await startParley(env);
    try {
      const again = await (await import('./support/consultation.js')).signIn(second.url, 'admin@example.com');
      for (const [started, before] of [
        [talking, 'CONNECTING'],
        [waiting, 'RINGING'],
      ] as const) {
        const d = (await request(`${second.url}/api/v1/consultations/${started.consultation.id}`, { token: again.token })).body.consultation;
        assert.equal(d.status, 'FAILED');
        assert.equal(d.failureCause, 'server-shutdown');
        assert.equal(d.transitions.at(-2).to, before);
        assert.equal(d.transitions.at(-1).cause, 'server-shutdown');
      }
      const list = (await request(`${second.url}/api/v1/consultations`, { token: again.token })).body;
      assert.equal(list.total, 2);
      // The entry point still works after the restart.
      assert.equal((await request(`${second.url}/api/v1/entry/${ep.entryToken}`)).status, 200);
    } finally {
      await second.close();
    }
  });
});

describe('the times a consultation view reports', () => {
  const t0 = Date.parse('2026-03-01T10:00:00.000Z');
  const at = (s: number) => new Date(t0 + s * 1000);
  const call = (patch: Partial<CallRecord>): CallRecord => ({
    id: 'c1', sessionId: 's1', callerNumber: '+821012345678', receiverNumber: null, status: 'RINGING', failureCause: null,
    createdAt: at(0), updatedAt: at(0), connectedAt: null, endedAt: null, channel: 'consultation', entryPointId: null,
    customerName: 'Kim', inquiry: null, recordingConsent: true, agentId: null, roomId: 'call-c1', disposition: null,
    answeredAt: null, callbackPhone: null, callbackRequestedAt: null, nodeId: null, ...patch,
  });
  const view = (c: CallRecord, nowSeconds: number) => consultationView(c, { agentNames: new Map(), entryPoints: new Map(), now: at(nowSeconds) });

  test('wait runs from the call to the answer (or to the end when nobody answered, or to now while waiting); talk from connect to end', () => {
    const answered = view(call({ status: 'ENDED', answeredAt: at(42), connectedAt: at(45), endedAt: at(100) }), 500);
    assert.equal(answered.waitSeconds, 42);
    assert.equal(answered.durationSeconds, 55);
    assert.equal(view(call({ status: 'FAILED', endedAt: at(30) }), 500).waitSeconds, 30);
    const waiting = view(call({}), 7);
    assert.equal(waiting.waitSeconds, 7);
    assert.equal(waiting.durationSeconds, null);
    assert.equal(waiting.callback, null);
    assert.deepEqual(view(call({ status: 'FAILED', endedAt: at(9), callbackPhone: '+821099998888', callbackRequestedAt: at(9) }), 20).callback, {
      phone: '+821099998888',
      requestedAt: at(9).toISOString(),
    });
  });
});

/** Issue 9 item 12 through the real API: offers that reach the console, calls that come back, an honest wait, an atomic accept. */
describe('queue reliability through the real API', () => {
  // Each story gets its own server (its own queue), so one story's agents and callers are not another's.
  let srv: RunningParley;
  let sqlitePath: string;
  let admin: Staff;
  beforeEach(async () => {
    sqlitePath = join(mkdtempSync(join(tmpdir(), 'parley-queue-')), 'parley.sqlite');
    srv = await startParley({ SQLITE_PATH: sqlitePath, CONSULT_OFFER_TIMEOUT_MS: '1500', CONSULT_OFFER_RESEND_MS: '300', CONSULT_REOFFER_COOLDOWN_MS: '700' });
    admin = await firstAdmin(srv.url);
  });
  afterEach(() => srv?.close());

  test('an offer the console has not acknowledged is sent again; after the ack it is not', async () => {
    const agent = await createAgent(srv.url, admin, 'Ack Agent');
    const ep = await createEntryPoint(srv.url, admin);
    const started = await callFrom(srv.url, ep.entryToken, 'Waiting Customer');
    const id = started.consultation.id;
    const console_ = await RecordingSocket.open(srv.url, '/consult', agent.token);
    // The customer is already waiting when the agent goes available (the "Save and go available" moment).
    await console_.request('agent:set-state', { state: 'available' });
    const offers = () => console_.all<{ consultationId: string }>('consultation:offer').filter((o) => o.consultationId === id).length;
    await console_.waitFor('consultation:offer', (o: { consultationId: string }) => o.consultationId === id);
    const deadline = Date.now() + 3000;
    while (offers() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(offers() >= 2, `the unacknowledged offer was sent again (${offers()} times)`);
    assert.deepEqual(await console_.request('consultation:offer-ack', { consultationId: id }), { acknowledged: true });
    const after = offers();
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(offers(), after, 'no resend after the ack');
    // A console that connects while it rings gets the offer at once.
    const second = await RecordingSocket.open(srv.url, '/consult', agent.token);
    assert.equal((await second.waitFor('consultation:offer')).consultationId, id);
    const accepted = await console_.request('consultation:accept', { consultationId: id });
    assert.equal(accepted.consultation.status, 'CONNECTING');
    const detail = (await request(`${srv.url}/api/v1/consultations/${id}`, { token: admin.token })).body.consultation;
    assert.deepEqual(detail.events.map((e: { type: string }) => e.type), ['queued', 'offered', 'accepted'], 'a resent offer is stored once');
    await console_.request('consultation:end', { consultationId: id });
    for (const s of [console_, second]) s.close();
  });

  test('the only agent rejects, then lets it ring out: the call comes back to them after the cool-down', async () => {
    const agent = await createAgent(srv.url, admin, 'Solo Agent');
    const ep = await createEntryPoint(srv.url, admin);
    const console_ = await RecordingSocket.open(srv.url, '/consult', agent.token);
    await console_.request('agent:set-state', { state: 'available' });
    const started = await callFrom(srv.url, ep.entryToken, 'Patient Customer');
    const id = started.consultation.id;
    const isOffer = (o: { consultationId: string }) => o.consultationId === id;
    await console_.waitFor('consultation:offer', isOffer);
    let mark = console_.events.length;
    const rejectedAt = Date.now();
    await console_.request('consultation:reject', { consultationId: id });
    await console_.waitFor('consultation:offer', isOffer, 3000, mark);
    assert.ok(Date.now() - rejectedAt >= 650, `came back after the cool-down (${Date.now() - rejectedAt} ms)`);
    // It rings out: the agent goes offline; back available, the call comes back once more.
    mark = console_.events.length;
    await console_.waitFor('consultation:offer-withdrawn', (w: { consultationId: string; reason: string }) => w.consultationId === id && w.reason === 'timeout', 4000, mark);
    await console_.waitFor('agent:state', (a: { state: string }) => a.state === 'offline', 3000, mark);
    mark = console_.events.length;
    await console_.request('agent:set-state', { state: 'available' });
    await console_.waitFor('consultation:offer', isOffer, 3000, mark);
    const accepted = await console_.request('consultation:accept', { consultationId: id });
    assert.equal(accepted.consultation?.status, 'CONNECTING', JSON.stringify(accepted));
    await console_.request('consultation:end', { consultationId: id });
    console_.close();
  });

  test('no agent online: the customer is told so (no estimate) and can leave a callback number; staff see it', async () => {
    const agent = await createAgent(srv.url, admin, 'Late Agent');
    const ep = await createEntryPoint(srv.url, admin);
    const started = await callFrom(srv.url, ep.entryToken, 'Lonely Customer', '010-2222-3333');
    const id = started.consultation.id;
    const customer = await RecordingSocket.open(srv.url, '/consult', started.customerToken);
    const first = await customer.waitFor('consultation:status');
    assert.equal(first.status, 'RINGING');
    assert.equal(first.agentsOnline, 0);
    assert.equal(first.estimatedWaitSeconds, undefined, 'no estimate with nobody online');
    // An agent comes online (in after-call work): the customer now gets an estimate.
    const console_ = await RecordingSocket.open(srv.url, '/consult', agent.token);
    await console_.request('agent:set-state', { state: 'after-call-work' });
    const staffed = await customer.waitFor('consultation:status', (s: { agentsOnline?: number }) => s.agentsOnline === 1, 3000);
    assert.equal(typeof staffed.estimatedWaitSeconds, 'number');
    await console_.request('agent:set-state', { state: 'offline' });
    await customer.waitFor('consultation:status', (s: { agentsOnline?: number }) => s.agentsOnline === 0, 3000, customer.events.indexOf(customer.events.find((e) => e.data === staffed)!) + 1);

    assert.equal((await customer.request('consultation:request-callback', { phone: 'not a phone' })).error.code, 'INVALID_PAYLOAD');
    const res = await customer.request('consultation:request-callback', { phone: '010-4444-5555' });
    assert.equal(res.consultation.status, 'FAILED');
    assert.equal(res.consultation.failureCause, 'callback-requested');
    assert.equal(res.consultation.callback.phone, '+821044445555');
    await customer.waitFor('consultation:ended', (e: { cause: string }) => e.cause === 'callback-requested');
    const detail = (await request(`${srv.url}/api/v1/consultations/${id}`, { token: admin.token })).body.consultation;
    assert.equal(detail.callback.phone, '+821044445555');
    const asked = detail.events.find((e: { type: string }) => e.type === 'callback-requested');
    assert.equal(asked?.detail.phone, '+821044445555', 'the request is in the timeline');
    assert.equal(detail.transitions.at(-1).cause, 'callback-requested');
    const list = (await request(`${srv.url}/api/v1/consultations?status=FAILED`, { token: admin.token })).body;
    assert.equal(list.consultations.find((c: { id: string }) => c.id === id).callback.phone, '+821044445555');
    for (const s of [customer, console_]) s.close();
  });

  test('accept is one transaction: when storage refuses it nothing is written, the call stays queued and the agent is not busy', async () => {
    const agent = await createAgent(srv.url, admin, 'Atomic Agent');
    const ep = await createEntryPoint(srv.url, admin);
    const console_ = await RecordingSocket.open(srv.url, '/consult', agent.token);
    await console_.request('agent:set-state', { state: 'available' });
    const started = await callFrom(srv.url, ep.entryToken, 'Atomic Customer');
    const id = started.consultation.id;
    await console_.waitFor('consultation:offer', (o: { consultationId: string }) => o.consultationId === id);
    // Storage fails the accept's last write (as a full disk would).
    const db = new Sqlite(sqlitePath);
    db.exec(`CREATE TRIGGER refuse_accept BEFORE INSERT ON call_events WHEN NEW.type = 'accepted' BEGIN SELECT RAISE(ABORT, 'disk full'); END;`);
    try {
      const res = await console_.request('consultation:accept', { consultationId: id });
      assert.equal(res.error?.code, 'INTERNAL');
      const detail = (await request(`${srv.url}/api/v1/consultations/${id}`, { token: admin.token })).body.consultation;
      assert.equal(detail.status, 'RINGING');
      assert.equal(detail.agent, null, 'no agent assigned');
      assert.equal(detail.answeredAt, null);
      assert.deepEqual(detail.participants.map((p: { role: string }) => p.role), ['customer'], 'no agent participant');
      const state = await console_.request('agent:get');
      assert.notEqual(state.agent.state, 'busy');
      assert.equal(state.queue.length, 1, 'the call is still queued');
    } finally {
      db.exec('DROP TRIGGER refuse_accept');
      db.close();
    }
    // Offered again (not counted as a rejection) and accepted this time.
    await console_.waitFor('consultation:offer', (o: { consultationId: string }) => o.consultationId === id, 3000, console_.events.length - 1);
    const ok = await console_.request('consultation:accept', { consultationId: id });
    assert.equal(ok.consultation.status, 'CONNECTING');
    await console_.request('consultation:end', { consultationId: id });
    console_.close();
  });

  test('the customer hangs up while the agent accepts: the agent is never left busy', async () => {
    const agent = await createAgent(srv.url, admin, 'Race Agent');
    const ep = await createEntryPoint(srv.url, admin);
    const console_ = await RecordingSocket.open(srv.url, '/consult', agent.token);
    for (let round = 0; round < 5; round++) {
      const state = (await console_.request('agent:get')).agent.state;
      if (state !== 'available') await console_.request('agent:set-state', { state: 'available' });
      const started = await callFrom(srv.url, ep.entryToken, `Racer ${round}`);
      const id = started.consultation.id;
      const customer = await RecordingSocket.open(srv.url, '/consult', started.customerToken);
      await console_.waitFor('consultation:offer', (o: { consultationId: string }) => o.consultationId === id);
      await Promise.all([console_.request('consultation:accept', { consultationId: id }), customer.request('consultation:hang-up')]);
      const detail = (await request(`${srv.url}/api/v1/consultations/${id}`, { token: admin.token })).body.consultation;
      assert.equal(detail.status, 'FAILED');
      const deadline = Date.now() + 2000;
      let now = (await console_.request('agent:get')).agent.state;
      while (now === 'busy' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        now = (await console_.request('agent:get')).agent.state;
      }
      assert.ok(now === 'available' || now === 'after-call-work', `round ${round}: agent is ${now}`);
      customer.close();
    }
    console_.close();
  });
});
