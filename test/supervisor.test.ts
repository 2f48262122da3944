/**
 * Supervisor listen / whisper / barge on the server, with socket clients only (the media is
 * measured in real Chromium in test/media/supervisor-modes.test.ts): who may produce, who may
 * consume whose producer, who is told of what, the consumers opened and closed by a mode
 * switch, the agent's console told, the timeline and the live board.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { callFrom, createAgent, createEntryPoint, firstAdmin, RecordingSocket, type Staff } from './support/consultation.js';
import { request, startParley, type RunningParley } from './support/parleyServer.js';

const opus = { mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 };

/** One side of the call on `/voice`: joined, with a send and a receive transport. */
class VoicePeer {
  private constructor(
    readonly rec: RecordingSocket,
    readonly roomId: string,
    readonly joined: { peerId: string; rtpCapabilities: unknown; producers: Array<{ peerId: string; producerId: string }>; peers: Array<{ peerId: string }> },
    readonly send: string,
    readonly recv: string,
  ) {}

  static async join(url: string, token: string, roomId: string): Promise<VoicePeer> {
    const rec = await RecordingSocket.open(url, '/voice', token);
    const joined = await rec.request('join-room', { roomId });
    if (joined.error) throw new Error(`join-room: ${JSON.stringify(joined.error)}`);
    const send = await rec.request('create-transport', { roomId, direction: 'send' });
    const recv = await rec.request('create-transport', { roomId, direction: 'recv' });
    return new VoicePeer(rec, roomId, joined, send.id, recv.id);
  }

  get peerId(): string {
    return this.joined.peerId;
  }

  produce(ssrc: number): Promise<any> {
    return this.rec.request('produce', { roomId: this.roomId, transportId: this.send, kind: 'audio', rtpParameters: { codecs: [opus], encodings: [{ ssrc }] } });
  }

  consume(producerId: string): Promise<any> {
    return this.rec.request('consume', { roomId: this.roomId, transportId: this.recv, producerId, rtpCapabilities: this.joined.rtpCapabilities });
  }

  /** Every `new-producer` this peer was told of, by producer id. */
  announced(): string[] {
    return this.rec.all<{ producerId: string }>('new-producer').map((e) => e.producerId);
  }

  /**
   * A round trip: the server answers in order, so everything it sent this socket before
   * answering has arrived when this resolves (an absence can be asserted without a sleep).
   */
  async barrier(): Promise<void> {
    await this.rec.request('leave-room', { roomId: 'barrier-not-joined' });
  }
}

describe('supervisor listen, whisper and barge', { timeout: 60_000 }, () => {
  let srv: RunningParley;
  let admin: Staff;
  let agent: Staff;
  let consultationId: string;
  let roomId: string;
  let console_: RecordingSocket;
  let supervisorConsult: RecordingSocket;
  let customer: VoicePeer;
  let agentVoice: VoicePeer;
  let supervisor: VoicePeer;
  let customerProducer: string;
  let agentProducer: string;
  let supervisorProducer: string;

  before(async () => {
    srv = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', CONSULT_OFFER_TIMEOUT_MS: '30000' });
    admin = await firstAdmin(srv.url);
    agent = await createAgent(srv.url, admin, 'Dana Agent');
    const ep = await createEntryPoint(srv.url, admin, 'Counter 1');
    console_ = await RecordingSocket.open(srv.url, '/consult', agent.token);
    await console_.request('agent:set-state', { state: 'available' });
    const started = await callFrom(srv.url, ep.entryToken, 'Kim Customer');
    consultationId = started.consultation.id;
    roomId = started.roomId;
    await console_.waitFor('consultation:offer', (o) => o.consultationId === consultationId);
    assert.equal((await console_.request('consultation:accept', { consultationId })).roomId, roomId);
    customer = await VoicePeer.join(srv.url, started.customerToken, roomId);
    agentVoice = await VoicePeer.join(srv.url, agent.token, roomId);
    customerProducer = (await customer.produce(1111)).id;
    agentProducer = (await agentVoice.produce(2222)).id;
    assert.ok(customerProducer && agentProducer);
    assert.ok((await customer.consume(agentProducer)).id, 'the customer receives the agent');
    assert.ok((await agentVoice.consume(customerProducer)).id, 'the agent receives the customer');
    supervisorConsult = await RecordingSocket.open(srv.url, '/consult', admin.token);
  });
  after(async () => {
    for (const s of [console_, supervisorConsult, customer?.rec, agentVoice?.rec, supervisor?.rec]) s?.close();
    await srv?.close();
  });

  test('only an admin supervises, a call that an agent has, in a mode that exists', async () => {
    const asAgent = await console_.request('supervisor:join', { consultationId, mode: 'listen' });
    assert.equal(asAgent.error?.code, 'FORBIDDEN');
    assert.match(asAgent.error.message, /needs role admin/);
    assert.equal((await supervisorConsult.request('supervisor:join', { consultationId, mode: 'spy' })).error?.code, 'INVALID_PAYLOAD');
    const notJoined = await supervisorConsult.request('supervisor:mode', { consultationId, mode: 'barge' });
    assert.equal(notJoined.error?.code, 'CONFLICT');
    assert.match(notJoined.error.message, /not supervising this call; join it first/);
    const unknown = await supervisorConsult.request('supervisor:join', { consultationId: '00000000-0000-4000-8000-000000000000', mode: 'listen' });
    assert.equal(unknown.error?.code, 'NOT_FOUND');
  });

  test('an admin in the room who did not supervisor:join can neither hear nor be heard', async () => {
    const lurker = await VoicePeer.join(srv.url, admin.token, roomId);
    await customer.barrier();
    assert.ok(!customer.rec.all<{ peerId: string }>('peer-joined').some((p) => p.peerId === lurker.peerId), 'the customer is not told of the observer');
    const refused = await lurker.consume(customerProducer);
    assert.equal(refused.error?.code, 'FORBIDDEN', JSON.stringify(refused));
    assert.equal((await lurker.produce(9999)).error?.code, 'FORBIDDEN');
    assert.deepEqual(lurker.joined.producers, [], 'not even told what the call sends');
    await lurker.rec.request('leave-room', { roomId });
    lurker.rec.close();
  });

  test('listen: the supervisor receives both, may not produce, and nobody learns of them', async () => {
    const ack = await supervisorConsult.request('supervisor:join', { consultationId, mode: 'listen' });
    assert.deepEqual(ack, { roomId, mode: 'listen' });
    const state = await console_.waitFor('supervisor:state', (s) => s?.mode === 'listen');
    assert.deepEqual(state, { consultationId, supervisor: { id: admin.id, name: 'Ada Admin' }, mode: 'listen' });

    supervisor = await VoicePeer.join(srv.url, admin.token, roomId);
    assert.deepEqual(supervisor.joined.producers.map((p) => p.producerId).sort(), [customerProducer, agentProducer].sort());
    assert.ok((await supervisor.consume(customerProducer)).id, 'hears the customer');
    assert.ok((await supervisor.consume(agentProducer)).id, 'hears the agent');
    const produce = await supervisor.produce(3333);
    assert.equal(produce.error?.code, 'FORBIDDEN');
    assert.match(produce.error.message, /You are listening in, so you cannot be heard; switch to whisper or barge/);
    await customer.barrier();
    await agentVoice.barrier();
    const joinedPeers = customer.rec.all<{ peerId: string }>('peer-joined').map((p) => p.peerId);
    assert.ok(joinedPeers.includes(agentVoice.peerId), 'the customer was told the agent joined');
    assert.ok(!joinedPeers.includes(supervisor.peerId), 'the customer is not told a supervisor joined');
  });

  test("whisper: the agent is told of and receives the supervisor; the customer is not told and is refused even asking by id", async () => {
    assert.deepEqual(await supervisorConsult.request('supervisor:mode', { consultationId, mode: 'whisper' }), { mode: 'whisper' });
    await console_.waitFor('supervisor:state', (s) => s?.mode === 'whisper');
    const produced = await supervisor.produce(3333);
    supervisorProducer = produced.id;
    assert.ok(supervisorProducer, JSON.stringify(produced));
    await agentVoice.rec.waitFor('new-producer', (p) => p.producerId === supervisorProducer);
    assert.ok((await agentVoice.consume(supervisorProducer)).id, 'the agent receives the whisper');

    await customer.barrier();
    assert.ok(!customer.announced().includes(supervisorProducer), 'new-producer was not sent to the customer');
    const direct = await customer.consume(supervisorProducer);
    assert.equal(direct.error?.code, 'FORBIDDEN', JSON.stringify(direct));
    assert.match(direct.error.message, /may not receive that producer/);
    // Nor does the customer learn of the supervisor through pause events or levels.
    await supervisor.rec.request('pause-producer', { roomId, producerId: supervisorProducer });
    await agentVoice.rec.waitFor('producer-paused', (p) => p.producerId === supervisorProducer);
    await customer.barrier();
    assert.equal(customer.rec.all('producer-paused').length, 0);
    await supervisor.rec.request('resume-producer', { roomId, producerId: supervisorProducer });
    await agentVoice.rec.waitFor('producer-resumed', (p) => p.producerId === supervisorProducer);
  });

  test('barge: the customer is told of the supervisor and may receive them', async () => {
    const from = customer.rec.events.length;
    await supervisorConsult.request('supervisor:mode', { consultationId, mode: 'barge' });
    await console_.waitFor('supervisor:state', (s) => s?.mode === 'barge');
    await customer.rec.waitFor('new-producer', (p) => p.producerId === supervisorProducer, 5000, from);
    assert.ok((await customer.consume(supervisorProducer)).id, 'the customer receives the supervisor');
  });

  test("back to listen: every consumer of the supervisor is closed and cannot be resumed", async () => {
    const customerFrom = customer.rec.events.length;
    const agentFrom = agentVoice.rec.events.length;
    await supervisorConsult.request('supervisor:mode', { consultationId, mode: 'listen' });
    const closedForCustomer = await customer.rec.waitFor('consumer-closed', (c) => c.producerId === supervisorProducer, 5000, customerFrom);
    await agentVoice.rec.waitFor('consumer-closed', (c) => c.producerId === supervisorProducer, 5000, agentFrom);
    const resume = await customer.rec.request('resume-consumer', { roomId, consumerId: closedForCustomer.consumerId });
    assert.equal(resume.error?.code, 'FORBIDDEN');
    assert.equal((await agentVoice.consume(supervisorProducer)).error?.code, 'FORBIDDEN');
    // The supervisor still hears both sides.
    await supervisor.barrier();
    assert.equal(supervisor.rec.all('consumer-closed').length, 0);
  });

  test('leaving tells the agent; every step is in the timeline and the live board shows the supervisor', async () => {
    await supervisorConsult.request('supervisor:mode', { consultationId, mode: 'whisper' });
    const board = await srv.parley.consultations.board();
    assert.deepEqual(board.live.find((c) => c.id === consultationId)?.supervisor, { id: admin.id, name: 'Ada Admin', mode: 'whisper' });
    assert.deepEqual(await supervisorConsult.request('supervisor:leave', { consultationId }), { left: true });
    await console_.waitFor('supervisor:state', (s) => s === null);
    const detail = (await request(`${srv.url}/api/v1/consultations/${consultationId}`, { token: admin.token })).body.consultation;
    const steps = detail.events.filter((e: { type: string }) => e.type.startsWith('supervisor-')).map((e: { type: string; detail: { mode?: string } }) => `${e.type}${e.detail.mode ? `:${e.detail.mode}` : ''}`);
    assert.deepEqual(steps, ['supervisor-joined:listen', 'supervisor-mode:whisper', 'supervisor-mode:barge', 'supervisor-mode:listen', 'supervisor-mode:whisper', 'supervisor-left']);
    assert.equal((await srv.parley.consultations.board()).live.find((c) => c.id === consultationId)?.supervisor, null);
    // Without a supervision the admin's peer is an observer again: its producer reaches nobody.
    await agentVoice.barrier();
    assert.equal((await agentVoice.consume(supervisorProducer)).error?.code, 'FORBIDDEN');
  });

  test("a supervisor whose page closes stops supervising: the agent is told, the timeline says why, the whisper is cut", async () => {
    const tab = await RecordingSocket.open(srv.url, '/consult', admin.token);
    assert.deepEqual(await tab.request('supervisor:join', { consultationId, mode: 'whisper' }), { roomId, mode: 'whisper' });
    await console_.waitFor('supervisor:state', (s) => s?.mode === 'whisper');
    const agentFrom = agentVoice.rec.events.length;
    await agentVoice.rec.waitFor('new-producer', (p) => p.producerId === supervisorProducer, 5000, agentFrom);
    const whisper = await agentVoice.consume(supervisorProducer);
    assert.ok(whisper.id, JSON.stringify(whisper));
    // Another admin tab that never joined closes: nothing changes.
    const idle = await RecordingSocket.open(srv.url, '/consult', admin.token);
    idle.close();
    const consoleFrom = console_.events.length;
    tab.close();
    await console_.waitFor('supervisor:state', (s) => s === null, 5000, consoleFrom);
    await agentVoice.rec.waitFor('consumer-closed', (c) => c.consumerId === whisper.id, 5000, agentFrom);
    const detail = (await request(`${srv.url}/api/v1/consultations/${consultationId}`, { token: admin.token })).body.consultation;
    const last = detail.events.filter((e: { type: string }) => e.type.startsWith('supervisor-')).at(-1);
    assert.equal(last.type, 'supervisor-left');
    assert.equal(last.detail.cause, 'disconnected');
    assert.equal(srv.parley.consultations.supervision.of(consultationId), undefined);
    // The same admin may join again from another tab.
    assert.deepEqual(await supervisorConsult.request('supervisor:join', { consultationId, mode: 'listen' }), { roomId, mode: 'listen' });
    assert.deepEqual(await supervisorConsult.request('supervisor:leave', { consultationId }), { left: true });
  });
});
