/**
 * How an AI call went, as the /ai/ page asks it (`GET /api/v1/agent/calls/:roomId`): live while the bot is in the
 * room, then the outcome from the stored turns (resolved by the bot, handed to a person, abandoned), with the caller's
 * sentiment per turn and none of the words. Bad and unknown room ids are refused with a sentence.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { NewAgentTurn } from '../src/domain/agents/agentTurn.js';
import { AgentTurnRepository } from '../src/storage/agentTurnRepository.js';
import { request, startParley, type RunningParley } from './support/parleyServer.js';

const turn = (callId: string, outcome: NewAgentTurn['outcome'], sentiment: NewAgentTurn['sentiment']): NewAgentTurn => ({
  callId,
  userMessage: 'when do you open',
  aiResponse: 'We are open from nine to six.',
  language: 'en',
  sentiment,
  outcome,
  engine: 'knowledge-base',
  metrics: {},
});

describe('GET /api/v1/agent/calls/:roomId', { timeout: 60_000 }, () => {
  let srv: RunningParley;
  let turns: AgentTurnRepository;
  before(async () => {
    srv = await startParley({ STT_ENGINE: 'pocketsphinx', STT_POCKETSPHINX_DECODERS: '1', AGENT_TTS: 'espeak', ALLOW_ANONYMOUS_CALLS: 'true' });
    turns = new AgentTurnRepository(srv.parley.storage.db);
  });
  after(async () => {
    await srv?.close();
  });

  test('a call just started is live and in progress, with no turns yet', async () => {
    const started = await request(`${srv.url}/api/v1/agent/calls`, { body: { language: 'en' } });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const r = await request(`${srv.url}/api/v1/agent/calls/${started.body.data.roomId}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { success: true, data: { roomId: started.body.data.roomId, live: true, outcome: 'in_progress', turns: [] } });
  });

  test('an ended call: resolved by the bot, handed over, or abandoned; sentiment per turn, no words', async () => {
    const resolved = `ai-${randomUUID()}`;
    await turns.add(turn(resolved, 'interrupted', { sentiment: 'negative', score: 0.2 }));
    await turns.add(turn(resolved, 'answered', { sentiment: 'positive', score: 0.85 }));
    const r = await request(`${srv.url}/api/v1/agent/calls/${resolved}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.data.live, false);
    assert.equal(r.body.data.outcome, 'resolved_by_bot');
    assert.deepEqual(
      r.body.data.turns.map((t: { seq: number; outcome: string; sentiment: unknown }) => [t.seq, t.outcome, t.sentiment]),
      [
        [1, 'interrupted', { sentiment: 'negative', score: 0.2 }],
        [2, 'answered', { sentiment: 'positive', score: 0.85 }],
      ],
    );
    assert.doesNotMatch(JSON.stringify(r.body), /when do you open|nine to six/, 'the words stay out of it');

    const handed = `ai-${randomUUID()}`;
    await turns.add(turn(handed, 'answered', { sentiment: 'neutral', score: 0.5 }));
    await turns.add(turn(handed, 'transferred', { sentiment: 'negative', score: 0.1 }));
    assert.equal((await request(`${srv.url}/api/v1/agent/calls/${handed}`)).body.data.outcome, 'transferred');

    const left = `ai-${randomUUID()}`;
    await turns.add(turn(left, 'interrupted', { sentiment: 'neutral', score: 0.5 }));
    assert.equal((await request(`${srv.url}/api/v1/agent/calls/${left}`)).body.data.outcome, 'abandoned');
  });

  test('a room id that is not an AI call’s is refused; an unknown one is not found', async () => {
    const bad = await request(`${srv.url}/api/v1/agent/calls/call-123`);
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body.error), /must be the roomId POST \/api\/v1\/agent\/calls answered/);
    const unknown = await request(`${srv.url}/api/v1/agent/calls/ai-${randomUUID()}`);
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error.message, /no AI call ai-/);
  });
});
