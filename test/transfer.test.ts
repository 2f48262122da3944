/**
 * Transfers on the server, with socket clients (the audio is measured in real Chromium in
 * test/media/transfer-agents.test.ts): agent A hands a call to agent B, who rings with the
 * context and accepts; A is free, the customer is B's, A's media in the room is closed. A
 * rejected transfer comes back to A; a transfer to the queue waits at its head and the
 * customer is told they are being transferred. Timeline and live board show each step.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { callFrom, createAgent, createEntryPoint, firstAdmin, RecordingSocket, type Staff } from './support/consultation.js';
import { request, startParley, type RunningParley } from './support/parleyServer.js';

const opus = { mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 };

async function joinVoice(url: string, token: string, roomId: string) {
  const rec = await RecordingSocket.open(url, '/voice', token);
  const joined = await rec.request('join-room', { roomId });
  if (joined.error) throw new Error(`join-room: ${JSON.stringify(joined.error)}`);
  const send = (await rec.request('create-transport', { roomId, direction: 'send' })).id as string;
  const recv = (await rec.request('create-transport', { roomId, direction: 'recv' })).id as string;
  return {
    rec,
    produce: (ssrc: number) => rec.request('produce', { roomId, transportId: send, kind: 'audio', rtpParameters: { codecs: [opus], encodings: [{ ssrc }] } }),
    consume: (producerId: string) => rec.request('consume', { roomId, transportId: recv, producerId, rtpCapabilities: joined.rtpCapabilities }),
  };
}

describe('transferring a call', { timeout: 60_000 }, () => {
  let srv: RunningParley;
  let admin: Staff;
  let a: Staff;
  let b: Staff;
  let c: Staff;
  let ep: { entryToken: string };
  const consoles = new Map<string, RecordingSocket>();
  const con = (s: Staff) => consoles.get(s.id)!;
  const open: RecordingSocket[] = [];

  /** A customer calls and `agent` answers; the customer's /consult socket records its status. */
  async function answered(agent: Staff, name: string) {
    const started = await callFrom(srv.url, ep.entryToken, name, '01012345678', 'My card was charged twice');
    const id = started.consultation.id;
    const customer = await RecordingSocket.open(srv.url, '/consult', started.customerToken);
    open.push(customer);
    await con(agent).waitFor('consultation:offer', (o) => o.consultationId === id);
    const accepted = await con(agent).request('consultation:accept', { consultationId: id });
    assert.equal(accepted.roomId, started.roomId, JSON.stringify(accepted));
    return { id, roomId: started.roomId, customerToken: started.customerToken, customer };
  }

  const events = async (id: string): Promise<string[]> =>
    (await request(`${srv.url}/api/v1/consultations/${id}`, { token: admin.token })).body.consultation.events.map((e: { type: string }) => e.type);

  before(async () => {
    srv = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', CONSULT_OFFER_TIMEOUT_MS: '30000' });
    admin = await firstAdmin(srv.url);
    a = await createAgent(srv.url, admin, 'Agent Ahn');
    b = await createAgent(srv.url, admin, 'Agent Baek');
    c = await createAgent(srv.url, admin, 'Agent Cho');
    ep = await createEntryPoint(srv.url, admin, 'Counter 2');
    for (const s of [a, b, c]) consoles.set(s.id, await RecordingSocket.open(srv.url, '/consult', s.token));
  });
  after(async () => {
    for (const s of [...consoles.values(), ...open]) s.close();
    await srv?.close();
  });

  test('A → B: B rings with the context, accepts; A is free, the customer is B\'s, A\'s media is closed', async () => {
    await con(a).request('agent:set-state', { state: 'available' });
    const call = await answered(a, 'Kim Customer');
    const note = await request(`${srv.url}/api/v1/consultations/${call.id}/notes`, { token: a.token, body: { body: 'Charged twice on 3 March; refund asked.' } });
    assert.equal(note.status, 201, JSON.stringify(note.body));
    const customerMedia = await joinVoice(srv.url, call.customerToken, call.roomId);
    const aMedia = await joinVoice(srv.url, a.token, call.roomId);
    const customerProducer = (await customerMedia.produce(1111)).id as string;
    const aProducer = (await aMedia.produce(2222)).id as string;
    assert.ok((await aMedia.consume(customerProducer)).id);
    assert.ok((await customerMedia.consume(aProducer)).id);

    await con(b).request('agent:set-state', { state: 'available' });
    assert.deepEqual(await con(a).request('consultation:transfer', { consultationId: call.id, to: { agentId: b.id } }), { ok: true });
    const offer = await con(b).waitFor('consultation:offer', (o) => o.consultationId === call.id);
    assert.deepEqual(offer.transferredFrom, { agentId: a.id, name: 'Agent Ahn' });
    assert.deepEqual(offer.customer, { name: 'Kim Customer', phone: '+821012345678' });
    assert.equal(offer.inquiry, 'My card was charged twice');
    assert.deepEqual(offer.notes.map((n: { body: string }) => n.body), ['Charged twice on 3 March; refund asked.']);
    await call.customer.waitFor('consultation:status', (s) => s.transferring === true);
    assert.equal((await con(b).request('consultation:offer-ack', { consultationId: call.id })).acknowledged, true);

    const aFrom = aMedia.rec.events.length;
    const taken = await con(b).request('consultation:accept', { consultationId: call.id });
    assert.equal(taken.roomId, call.roomId, JSON.stringify(taken));
    assert.equal(taken.consultation.agent.id, b.id);
    assert.equal(taken.consultation.status, 'IN_PROGRESS', 'the call never stopped');
    const told = await con(a).waitFor('consultation:transferred', (t) => t.consultationId === call.id);
    assert.deepEqual(told.to, { agentId: b.id, name: 'Agent Baek' });
    await con(a).waitFor('agent:state', (s) => s.state === 'after-call-work' && s.consultationId === undefined);
    await con(b).waitFor('agent:state', (s) => s.state === 'busy' && s.consultationId === call.id);
    await call.customer.waitFor('consultation:status', (s) => s.agentName === 'Agent Baek' && !s.transferring);

    // A's media is closed both ways, A can receive nothing more; B takes over the room.
    await aMedia.rec.waitFor('consumer-closed', () => true, 5000, aFrom);
    await customerMedia.rec.waitFor('consumer-closed', (x) => x.producerId === aProducer);
    assert.equal((await aMedia.consume(customerProducer)).error?.code, 'FORBIDDEN');
    assert.equal((await aMedia.produce(2223)).error?.code, 'FORBIDDEN');
    const bMedia = await joinVoice(srv.url, b.token, call.roomId);
    const bProducer = (await bMedia.produce(3333)).id as string;
    assert.ok((await bMedia.consume(customerProducer)).id, 'B receives the customer');
    await customerMedia.rec.waitFor('new-producer', (p) => p.producerId === bProducer);
    assert.ok((await customerMedia.consume(bProducer)).id, 'the customer receives B');

    // A leaving does not end the call; A can no longer end it either.
    await aMedia.rec.request('leave-room', { roomId: call.roomId });
    assert.equal((await con(a).request('consultation:end', { consultationId: call.id })).error?.code, 'FORBIDDEN');
    const detail = (await request(`${srv.url}/api/v1/consultations/${call.id}`, { token: admin.token })).body.consultation;
    assert.equal(detail.status, 'IN_PROGRESS');
    assert.equal(detail.agent.id, b.id);
    const agents = detail.participants.filter((p: { role: string }) => p.role === 'agent');
    assert.deepEqual(agents.map((p: { userId: string; leftAt: string | null }) => [p.userId, p.leftAt === null]), [[a.id, false], [b.id, true]]);
    const types = detail.events.map((e: { type: string }) => e.type);
    assert.ok(types.indexOf('transfer-requested') < types.indexOf('transferred'), types.join(','));
    const transferred = detail.events.find((e: { type: string }) => e.type === 'transferred');
    assert.deepEqual(transferred.detail, { from: { agentId: a.id, name: 'Agent Ahn' }, to: { agentId: b.id, name: 'Agent Baek' } });
    const live = (await srv.parley.consultations.board()).live.find((x) => x.id === call.id);
    assert.deepEqual([live?.agent?.id, live?.transfer], [b.id, null]);

    assert.ok((await con(b).request('consultation:end', { consultationId: call.id })).consultation);
    for (const m of [customerMedia, bMedia, aMedia]) m.rec.close();
    await con(b).waitFor('agent:state', (s) => s.state === 'after-call-work');
  });

  test('agent:colleagues lists the other agents with their state, not oneself', async () => {
    const { agents } = await con(a).request('agent:colleagues', {});
    const names = agents.map((x: { name: string }) => x.name).sort();
    assert.ok(!names.includes('Agent Ahn'), JSON.stringify(agents));
    assert.deepEqual(names, ['Agent Baek', 'Agent Cho']);
    for (const x of agents) assert.ok(['available', 'ringing', 'busy', 'after-call-work', 'offline'].includes(x.state), JSON.stringify(x));
  });

  test('refusals say why: not your call, not available, nonsense targets', async () => {
    await con(a).request('agent:set-state', { state: 'available' });
    const call = await answered(a, 'Lee Customer');
    const notYours = await con(c).request('consultation:transfer', { consultationId: call.id, to: { agentId: b.id } });
    assert.equal(notYours.error?.code, 'FORBIDDEN');
    assert.match(notYours.error.message, /only the agent on the call can transfer it/);
    const unavailable = await con(a).request('consultation:transfer', { consultationId: call.id, to: { agentId: c.id } });
    assert.equal(unavailable.error?.code, 'CONFLICT');
    assert.match(unavailable.error.message, /that agent is offline; a call can be transferred only to an available agent/);
    assert.match((await con(a).request('consultation:transfer', { consultationId: call.id, to: { agentId: a.id } })).error?.message, /cannot transfer a call to yourself/);
    assert.equal((await con(a).request('consultation:transfer', { consultationId: call.id, to: 'elsewhere' })).error?.code, 'INVALID_PAYLOAD');
    assert.equal((await con(a).request('consultation:transfer', { consultationId: call.id, to: { agentId: 'no-such-agent' } })).error?.code, 'NOT_FOUND');
    assert.equal((await call.customer.request('consultation:transfer', { consultationId: call.id, to: 'queue' })).error?.code, 'FORBIDDEN');
    await con(a).request('consultation:end', { consultationId: call.id });
  });

  test('B rejects: the call comes back to A, who is told; B is available', async () => {
    await con(a).request('agent:set-state', { state: 'available' });
    await con(b).request('agent:set-state', { state: 'available' });
    const call = await answered(a, 'Park Customer');
    await con(a).request('consultation:transfer', { consultationId: call.id, to: { agentId: b.id } });
    await con(b).waitFor('consultation:offer', (o) => o.consultationId === call.id && o.transferredFrom);
    assert.deepEqual(await con(b).request('consultation:reject', { consultationId: call.id }), { rejected: true });
    const failed = await con(a).waitFor('consultation:transfer-failed', (f) => f.consultationId === call.id);
    assert.deepEqual([failed.reason, failed.returnedTo, failed.to.agentId], ['rejected', 'agent', b.id]);
    assert.equal(srv.parley.consultations.agentState(a.id).state, 'busy');
    assert.equal(srv.parley.consultations.agentState(a.id).consultationId, call.id);
    assert.equal(srv.parley.consultations.agentState(b.id).state, 'available');
    await call.customer.waitFor('consultation:status', (s) => s.agentName === 'Agent Ahn' && !s.transferring);
    assert.deepEqual((await events(call.id)).filter((t) => t.startsWith('transfer')), ['transfer-requested', 'transfer-rejected']);
    await con(a).request('consultation:end', { consultationId: call.id });
    await con(b).request('agent:set-state', { state: 'offline' });
  });

  test('to the queue: it waits at the head, the customer is told, A is free, another agent takes it with the context', async () => {
    await con(a).request('agent:set-state', { state: 'available' });
    const call = await answered(a, 'Choi Customer');
    await con(a).request('agent:set-state', { state: 'offline' }).catch(() => undefined);
    // Someone else is already waiting; the transferred customer goes before them.
    const waiting = await callFrom(srv.url, ep.entryToken, 'Jung Waiting');
    assert.deepEqual(await con(a).request('consultation:transfer', { consultationId: call.id, to: 'queue' }), { ok: true });
    const status = await call.customer.waitFor('consultation:status', (s) => s.transferring === true && s.position === 1);
    assert.equal(status.status, 'CONNECTING', 'still an answered call (nobody joined its media in this test), not a new one');
    await con(a).waitFor('consultation:transferred', (t) => t.consultationId === call.id && t.to === 'queue');
    assert.equal(srv.parley.consultations.agentState(a.id).state, 'after-call-work');
    const live = (await srv.parley.consultations.board()).live.find((x) => x.id === call.id);
    assert.deepEqual(live?.transfer, { to: 'queue' });

    await con(c).request('agent:set-state', { state: 'available' });
    const offer = await con(c).waitFor('consultation:offer', (o) => o.consultationId === call.id);
    assert.deepEqual(offer.transferredFrom, { agentId: a.id, name: 'Agent Ahn' });
    const taken = await con(c).request('consultation:accept', { consultationId: call.id });
    assert.equal(taken.consultation.agent.id, c.id, JSON.stringify(taken));
    assert.equal(taken.consultation.status, 'CONNECTING');
    await call.customer.waitFor('consultation:status', (s) => s.agentName === 'Agent Cho' && !s.transferring);
    const types = await events(call.id);
    assert.ok(types.includes('transferred') && types.lastIndexOf('accepted') > types.indexOf('transferred'), types.join(','));
    assert.equal(srv.parley.consultations.queueView().queue[0]?.consultationId, waiting.consultation.id, 'the other caller is next');
  });
});

describe('a transfer that is not taken while the first agent is gone', { timeout: 60_000 }, () => {
  let srv: RunningParley;
  const open: RecordingSocket[] = [];
  before(async () => {
    srv = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', CONSULT_OFFER_TIMEOUT_MS: '1500', CONSULT_AGENT_GRACE_MS: '200' });
  });
  after(async () => {
    for (const s of open) s.close();
    await srv?.close();
  });

  test('rung out with the first console closed: the call waits at the head of the queue, the customer told', async () => {
    const admin = await firstAdmin(srv.url);
    const a = await createAgent(srv.url, admin, 'Agent Ahn');
    const b = await createAgent(srv.url, admin, 'Agent Baek');
    const ep = await createEntryPoint(srv.url, admin, 'Counter 6');
    const consoleA = await RecordingSocket.open(srv.url, '/consult', a.token);
    const consoleB = await RecordingSocket.open(srv.url, '/consult', b.token);
    open.push(consoleB);
    await consoleA.request('agent:set-state', { state: 'available' });
    const started = await callFrom(srv.url, ep.entryToken, 'Kim Customer');
    const id = started.consultation.id;
    const customer = await RecordingSocket.open(srv.url, '/consult', started.customerToken);
    open.push(customer);
    await consoleA.waitFor('consultation:offer', (o) => o.consultationId === id);
    await consoleA.request('consultation:accept', { consultationId: id });
    await consoleB.request('agent:set-state', { state: 'available' });
    await consoleA.request('consultation:transfer', { consultationId: id, to: { agentId: b.id } });
    await consoleB.waitFor('consultation:offer', (o) => o.consultationId === id);
    consoleA.close();
    // B lets it ring out (1.5 s): A has no console any more, so the call goes to the queue.
    const withdrawn = await consoleB.waitFor('consultation:offer-withdrawn', (w) => w.consultationId === id, 5000);
    assert.equal(withdrawn.reason, 'timeout');
    const status = await customer.waitFor('consultation:status', (s) => s.transferring === true && s.position === 1, 5000);
    assert.equal(status.status, 'CONNECTING');
    assert.equal(srv.parley.consultations.queueView().queue[0]?.consultationId, id);
    assert.equal(srv.parley.consultations.agentState(a.id).state, 'offline');
    const detail = (await request(`${srv.url}/api/v1/consultations/${id}`, { token: admin.token })).body.consultation;
    const timeout = detail.events.find((e: { type: string }) => e.type === 'transfer-timeout');
    assert.equal(timeout?.detail.returnedTo, 'queue', JSON.stringify(detail.events));
    assert.ok((await customer.request('consultation:hang-up', {})).consultation, 'the queue is empty for the next test');
  });

  test('the customer hangs up while a transfer rings: the colleague stops ringing and is available', async () => {
    const admin = (await request(`${srv.url}/api/v1/auth/signin`, { body: { email: 'admin@example.com', password: 'correct-horse-battery' } })).body;
    const c = await createAgent(srv.url, { id: admin.user.id, name: admin.user.name, token: admin.accessToken }, 'Agent Cho');
    const d = await createAgent(srv.url, { id: admin.user.id, name: admin.user.name, token: admin.accessToken }, 'Agent Do');
    const ep = await createEntryPoint(srv.url, { id: admin.user.id, name: admin.user.name, token: admin.accessToken }, 'Counter 7');
    const consoleC = await RecordingSocket.open(srv.url, '/consult', c.token);
    const consoleD = await RecordingSocket.open(srv.url, '/consult', d.token);
    open.push(consoleC, consoleD);
    await consoleC.request('agent:set-state', { state: 'available' });
    const started = await callFrom(srv.url, ep.entryToken, 'Lee Customer');
    const id = started.consultation.id;
    const customer = await RecordingSocket.open(srv.url, '/consult', started.customerToken);
    open.push(customer);
    await consoleC.waitFor('consultation:offer', (o) => o.consultationId === id);
    await consoleC.request('consultation:accept', { consultationId: id });
    await consoleD.request('agent:set-state', { state: 'available' });
    await consoleC.request('consultation:transfer', { consultationId: id, to: { agentId: d.id } });
    await consoleD.waitFor('consultation:offer', (o) => o.consultationId === id);
    assert.ok((await customer.request('consultation:hang-up', {})).consultation);
    const withdrawn = await consoleD.waitFor('consultation:offer-withdrawn', (w) => w.consultationId === id);
    assert.equal(withdrawn.reason, 'hung-up');
    assert.equal(srv.parley.consultations.agentState(d.id).state, 'available');
    await consoleC.waitFor('consultation:ended', (e) => e.consultationId === id);
  });
});
