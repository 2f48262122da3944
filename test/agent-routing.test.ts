/**
 * Who answers an entry point's calls (issue 11): `human`, `ai_first` and `ai_overflow`, on a real server with the
 * AI assistant port replaced by a recording fake (the bot itself is tested in Chromium, test/media/agent-handover)
 * and the overflow's timers by a fake clock. Checks the admin-only REST settings and their validation, the call's
 * states, the customer's status ("assistant", "transferring"), the hand-over with the conversation to the console,
 * the bot leaving when a person takes over, and the stored outcome.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { AiAssistant } from '../src/domain/consultations/consultationService.js';
import type { QueuePort } from '../src/domain/routing/queuePort.js';
import { callFrom, createAgent, firstAdmin, RecordingSocket, type Staff } from './support/consultation.js';
import { request, startParley, type RunningParley } from './support/parleyServer.js';
import { waitFor } from './support/polling.js';

class FakeAssistant implements AiAssistant {
  available = true;
  readonly answered: Array<{ consultationId: string; roomId: string; systemPrompt: string | null }> = [];
  readonly left: Array<{ consultationId: string; reason: string }> = [];
  canAnswer(): boolean {
    return this.available;
  }
  async answer(consultationId: string, input: { roomId: string; entryPointId: string | null; systemPrompt: string | null }): Promise<void> {
    this.answered.push({ consultationId, roomId: input.roomId, systemPrompt: input.systemPrompt });
  }
  leave(consultationId: string, reason: string): void {
    this.left.push({ consultationId, reason });
  }
}

/** Timers that fire only when the test says so. */
class FakeTimers {
  readonly pending: Array<{ fn: () => void; ms: number; done: boolean }> = [];
  setTimeout(fn: () => void, ms: number): unknown {
    const t = { fn, ms, done: false };
    this.pending.push(t);
    return t;
  }
  clearTimeout(h: unknown): void {
    (h as { done: boolean }).done = true;
  }
  fireAll(): number {
    const due = this.pending.filter((t) => !t.done);
    for (const t of due) {
      t.done = true;
      t.fn();
    }
    return due.length;
  }
}

describe('entry point routing: human, AI first, AI overflow', () => {
  let srv: RunningParley;
  let admin: Staff;
  let dana: Staff;
  let console_: RecordingSocket;
  const assistant = new FakeAssistant();
  const timers = new FakeTimers();
  const sockets: RecordingSocket[] = [];
  /** How calls left the queue, as its events report them (what queue metrics count). */
  const leftLine: Array<{ callId: string; how: 'abandoned' | 'overflowed' }> = [];

  const entry = async (body: Record<string, unknown>) => {
    const r = await request(`${srv.url}/api/v1/entry-points`, { token: admin.token, body: { name: 'Desk', ttlHours: 24, ...body } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return { ...r.body.entryPoint, entryToken: new URL(r.body.entryPoint.url).searchParams.get('e')! };
  };
  const customer = async (token: string) => {
    const s = await RecordingSocket.open(srv.url, '/consult', token);
    sockets.push(s);
    return s;
  };
  const detail = async (id: string) => (await request(`${srv.url}/api/v1/consultations/${id}`, { token: admin.token })).body.consultation;
  const setAvailable = async (on: boolean) => console_.request('agent:set-state', { state: on ? 'available' : 'offline' });

  before(async () => {
    srv = await startParley({ CONSULT_OFFER_TIMEOUT_MS: '60000' }, { assistant, consultationTimers: timers });
    const queue = (srv.parley.consultations as unknown as { deps: { queue: QueuePort } }).deps.queue;
    queue.on('abandoned', (a) => void leftLine.push({ callId: a.callId, how: 'abandoned' }));
    queue.on('overflowed', (a) => void leftLine.push({ callId: a.callId, how: 'overflowed' }));
    admin = await firstAdmin(srv.url);
    dana = await createAgent(srv.url, admin, 'Dana Agent');
    console_ = await RecordingSocket.open(srv.url, '/consult', dana.token);
  });
  beforeEach(async () => {
    assistant.available = true;
    await setAvailable(false);
  });
  after(async () => {
    for (const s of sockets) s.close();
    console_?.close();
    await srv?.close();
  });

  test('only an admin chooses who answers; bad values are refused with a sentence', async () => {
    const byAgent = await request(`${srv.url}/api/v1/entry-points`, { token: dana.token, body: { name: 'Mine', routing: 'ai_first' } });
    assert.equal(byAgent.status, 403);
    assert.match(byAgent.body.error.message, /only an admin may choose who answers/);
    const bad = await request(`${srv.url}/api/v1/entry-points`, { token: admin.token, body: { name: 'Bad', routing: 'robot' } });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body.error), /human, ai_first or ai_overflow/);
    const ep = await entry({ routing: 'ai_first', systemPrompt: 'You answer for the Gangnam store.' });
    assert.deepEqual([ep.routing, ep.overflowAfterSeconds, ep.systemPrompt], ['ai_first', 30, 'You answer for the Gangnam store.']);
    const patched = await request(`${srv.url}/api/v1/entry-points/${ep.id}`, { method: 'PATCH', token: admin.token, body: { routing: 'ai_overflow', overflowAfterSeconds: 20 } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual([patched.body.entryPoint.routing, patched.body.entryPoint.overflowAfterSeconds, patched.body.entryPoint.captions], ['ai_overflow', 20, 'inherit']);
    const negative = await request(`${srv.url}/api/v1/entry-points/${ep.id}`, { method: 'PATCH', token: admin.token, body: { overflowAfterSeconds: -1 } });
    assert.equal(negative.status, 400);
    const agentPatch = await request(`${srv.url}/api/v1/entry-points/${ep.id}`, { method: 'PATCH', token: dana.token, body: { routing: 'human' } });
    assert.equal(agentPatch.status, 403);
  });

  test('human: the call waits in the queue; the assistant is never asked', async () => {
    const ep = await entry({});
    assert.equal(ep.routing, 'human');
    const before = assistant.answered.length;
    const call = await callFrom(srv.url, ep.entryToken, 'Han');
    assert.equal(call.consultation.status, 'RINGING');
    assert.equal(assistant.answered.length, before);
    const c = await customer(call.customerToken);
    await c.request('consultation:hang-up');
  });

  test('AI first: the bot answers in the call room; its hand-over rings an agent with the conversation; accepting sends the bot away', async () => {
    const ep = await entry({ routing: 'ai_first', systemPrompt: 'Be brief.' });
    const call = await callFrom(srv.url, ep.entryToken, 'Lee', '01099998888', 'Where is my parcel?');
    const id = call.consultation.id;
    assert.equal(call.consultation.status, 'CONNECTING');
    assert.deepEqual(assistant.answered.at(-1), { consultationId: id, roomId: `call-${id}`, systemPrompt: 'Be brief.' });
    const cust = await customer(call.customerToken);
    await cust.waitFor('consultation:status', (s) => s.assistant === true && s.status === 'CONNECTING');
    let d = await detail(id);
    assert.ok(d.participants.some((p: { role: string; name: string }) => p.role === 'bot' && p.name === 'AI assistant'));
    assert.ok(d.events.some((e: { type: string; detail: { cause?: string } }) => e.type === 'bot-answered' && e.detail.cause === 'ai-first'));

    await setAvailable(true);
    const transcript = [
      { role: 'bot' as const, text: 'Hello, how can I help you?', at: new Date().toISOString() },
      { role: 'customer' as const, text: 'I want to talk to a person', at: new Date().toISOString() },
    ];
    assert.deepEqual(await srv.parley.consultations.handOverFromAssistant(id, { reason: 'asked-for-person', transcript }), { queued: true });
    assert.deepEqual(await srv.parley.consultations.handOverFromAssistant(id, { reason: 'again', transcript }), { queued: false }, 'handed over once');
    const offer = await console_.waitFor('consultation:offer', (o) => o.consultationId === id);
    assert.deepEqual(offer.transferredFrom, { agentId: 'ai-agent', name: 'AI assistant' });
    assert.deepEqual(offer.transcript, transcript);
    await cust.waitFor('consultation:status', (s) => s.transferring === true);
    assert.equal(assistant.left.some((l) => l.consultationId === id), false, 'the bot stays with the caller until a person takes over');

    const accepted = await console_.request('consultation:accept', { consultationId: id });
    assert.equal(accepted.roomId, `call-${id}`, 'the same room: the customer does not dial again');
    await waitFor('the bot to leave', async () => assistant.left.find((l) => l.consultationId === id));
    assert.equal(assistant.left.find((l) => l.consultationId === id)?.reason, 'handed-over');
    await cust.waitFor('consultation:status', (s) => s.agentName === 'Dana Agent' && !s.assistant);
    d = await detail(id);
    assert.equal(d.aiOutcome, 'transferred');
    assert.equal(d.agent.name, 'Dana Agent');
    assert.ok(d.participants.some((p: { role: string; leftAt: string | null }) => p.role === 'bot' && p.leftAt !== null));
    const hist = await request(`${srv.url}/api/v1/consultations?limit=50`, { token: admin.token });
    assert.equal(hist.body.consultations.find((c: { id: string }) => c.id === id)?.aiOutcome, 'transferred');
    await console_.request('consultation:end', { consultationId: id });
  });

  test('AI first with no free bot line: the call waits for an agent', async () => {
    assistant.available = false;
    const ep = await entry({ routing: 'ai_first' });
    const call = await callFrom(srv.url, ep.entryToken, 'Park');
    assert.equal(call.consultation.status, 'RINGING');
    const c = await customer(call.customerToken);
    await c.request('consultation:hang-up');
    assert.equal((await detail(call.consultation.id)).aiOutcome, null);
  });

  test('AI overflow: nobody available → the bot at once; an agent available → the bot only after the delay (fake clock)', async () => {
    const ep = await entry({ routing: 'ai_overflow', overflowAfterSeconds: 15 });
    const now = await callFrom(srv.url, ep.entryToken, 'Choi');
    await waitFor('the bot to take the call', async () => (await detail(now.consultation.id)).status === 'CONNECTING');
    assert.ok((await detail(now.consultation.id)).events.some((e: { type: string; detail: { cause?: string } }) => e.type === 'bot-answered' && e.detail.cause === 'no-agent-available'));
    await (await customer(now.customerToken)).request('consultation:hang-up');

    await setAvailable(true);
    const later = await callFrom(srv.url, ep.entryToken, 'Jung');
    const id = later.consultation.id;
    await console_.waitFor('consultation:offer', (o) => o.consultationId === id);
    assert.equal(later.consultation.status, 'RINGING');
    assert.ok(timers.pending.some((t) => !t.done && t.ms === 15_000), 'one timer of overflowAfterSeconds');
    assert.equal(timers.fireAll(), 1);
    await waitFor('the bot to take the unanswered call', async () => (await detail(id)).status === 'CONNECTING');
    // Answered by the bot, not abandoned: the agent is told so, and the queue reports it as its own outcome.
    const withdrawn = await console_.waitFor('consultation:offer-withdrawn', (w) => w.consultationId === id);
    assert.equal(withdrawn.reason, 'overflowed', 'the console is not told the customer hung up');
    assert.deepEqual(leftLine.filter((l) => l.callId === id).map((l) => l.how), ['overflowed'], 'counted as an overflow, never as abandoned');
    const d = await detail(id);
    assert.ok(d.events.some((e: { type: string; detail: { cause?: string } }) => e.type === 'bot-answered' && e.detail.cause === 'ai-overflow'));
    assert.ok(!d.events.some((e: { type: string }) => e.type === 'offer-timeout' || e.type === 'rejected' || e.type === 'hung-up'), 'no timeline entry says the offer rang out or the customer hung up');
    // The customer leaves while the bot talks: the conversation is over, and it was the bot's.
    await srv.parley.calls.advance(id, 'IN_PROGRESS', 'media-connected');
    await (await customer(later.customerToken)).request('consultation:hang-up');
    await waitFor('the outcome', async () => (await detail(id)).aiOutcome === 'resolved_by_bot');
    assert.ok(assistant.left.some((l) => l.consultationId === id && l.reason === 'call-ended'));
  });

  test('an agent who answers within the delay keeps the call; the overflow timer does nothing', async () => {
    const ep = await entry({ routing: 'ai_overflow', overflowAfterSeconds: 15 });
    await setAvailable(true);
    const call = await callFrom(srv.url, ep.entryToken, 'Yoon');
    const id = call.consultation.id;
    await console_.waitFor('consultation:offer', (o) => o.consultationId === id);
    await console_.request('consultation:accept', { consultationId: id });
    const answeredBefore = assistant.answered.length;
    timers.fireAll();
    await new Promise((r) => setImmediate(r));
    assert.equal(assistant.answered.length, answeredBefore);
    assert.equal((await detail(id)).status, 'CONNECTING');
    assert.equal((await detail(id)).aiOutcome, null);
    await console_.request('consultation:end', { consultationId: id });
  });

  test('the overflow timer firing at the moment an agent accepts: exactly one of them gets the call (fake clock)', async () => {
    const ep = await entry({ routing: 'ai_overflow', overflowAfterSeconds: 15 });
    // The timer fires inside the agent's accept: just before the queue reserves the call for them, or just after
    // (while the accept is being stored). The queue is the service's own; reaching it is the only way to be there.
    const queue = (srv.parley.consultations as unknown as { deps: { queue: { reserve(agentId: string, callId: string): void } } }).deps.queue;
    const reserve = queue.reserve.bind(queue);
    for (const when of ['before-reserve', 'after-reserve'] as const) {
      await setAvailable(true);
      const call = await callFrom(srv.url, ep.entryToken, `Race ${when}`);
      const id = call.consultation.id;
      await console_.waitFor('consultation:offer', (o) => o.consultationId === id);
      const answeredBefore = assistant.answered.filter((a) => a.consultationId === id).length;
      let fired = 0;
      queue.reserve = (agentId, callId) => {
        if (when === 'before-reserve') fired += timers.fireAll();
        reserve(agentId, callId);
        if (when === 'after-reserve') fired += timers.fireAll();
      };
      let accepted: unknown;
      try {
        accepted = await console_.request('consultation:accept', { consultationId: id });
      } finally {
        queue.reserve = reserve;
      }
      // (A later fire may include an earlier round's look-again timer, which finds its call taken and does nothing.)
      assert.ok(fired >= 1, 'the overflow timer fired during the accept');
      // Let the overflow's own steps run out.
      await new Promise((r) => setTimeout(r, 300));
      const d = await detail(id);
      const botAnswered = assistant.answered.filter((a) => a.consultationId === id).length - answeredBefore;
      const agentHasIt = d.agent?.name === 'Dana Agent';
      const botHasIt = d.events.some((e: { type: string }) => e.type === 'bot-answered');
      assert.equal(Number(agentHasIt) + Number(botHasIt), 1, `${when}: exactly one answers (agent ${agentHasIt}, bot ${botHasIt}, accept ${JSON.stringify(accepted)})`);
      assert.equal(d.status, 'CONNECTING');
      if (agentHasIt) {
        assert.equal(botAnswered, 0, `${when}: the bot was never sent into the agent's call`);
        assert.equal((accepted as { roomId?: string }).roomId, `call-${id}`);
        assert.equal(d.aiOutcome, null);
        // The overflow looks again after the accept (it might have failed): the agent has it, so nothing happens.
        timers.fireAll();
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(assistant.answered.filter((a) => a.consultationId === id).length - answeredBefore, 0, `${when}: no bot after the look-again`);
        assert.equal((await detail(id)).agent?.name, 'Dana Agent');
        await console_.request('consultation:end', { consultationId: id });
      } else {
        assert.match(JSON.stringify(accepted), /CONFLICT/, `${when}: the agent is told the call is gone`);
        await (await customer(call.customerToken)).request('consultation:hang-up');
      }
      console.log(`overflow/accept race, timer ${when}: ${agentHasIt ? 'the agent' : 'the bot'} has the call`);
    }
  });

  test('abandoned: handed over, and the caller hung up before anyone took it', async () => {
    const ep = await entry({ routing: 'ai_first' });
    const call = await callFrom(srv.url, ep.entryToken, 'Kang');
    const id = call.consultation.id;
    await srv.parley.consultations.handOverFromAssistant(id, { reason: 'provider-failed:timeout', transcript: [] });
    await (await customer(call.customerToken)).request('consultation:hang-up');
    await waitFor('the outcome', async () => (await detail(id)).aiOutcome === 'abandoned');
  });
});
