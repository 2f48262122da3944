/**
 * Seed 001's `/signaling` `audio-data` in the production posture (ALLOW_ANONYMOUS_CALLS off, issue 11/13): the stream
 * drives the paid part of the AI agent (recognition, a model call, synthesis), so only a peer who could have used
 * `POST /api/v1/calls/conversation/process` may send it — an agent's or admin's account. An anonymous peer (when
 * ALLOW_ANONYMOUS_SOCKETS lets it connect at all) and a foreign one (a room token the integrator signed for the
 * session's name, a consultation's customer) are refused with `{ error: { code, message } }` and nothing reaches the
 * agent. The agent itself is replaced by a recording sink: what is tested is who gets through to it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import type { Socket } from 'socket.io-client';
import type { SessionAudioChunk, SessionAudioSink } from '../src/socket/signalingNamespace.js';
import { callFrom, createAgent, createEntryPoint, firstAdmin, type Staff } from './support/consultation.js';
import { request, startParley, type RunningParley } from './support/parleyServer.js';
import { connect } from './support/sockets.js';

class RecordingSink implements SessionAudioSink {
  readonly chunks: SessionAudioChunk[] = [];
  push(chunk: SessionAudioChunk): void {
    this.chunks.push(chunk);
  }
}

const apiKey = 'integrator-key';
const apiSecret = 'integrator-secret-integrator-secret-0123';
const pcm = Buffer.alloc(3200).toString('base64'); // 100 ms of 16 kHz silence

type Ack = { ok?: boolean; error?: { code: string; message: string } };

async function newCall(url: string, agent: Staff): Promise<string> {
  const c = await request(`${url}/api/v1/calls`, { body: { callerNumber: '01012345678' }, token: agent.token });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  assert.equal((await request(`${url}/api/v1/calls/${c.body.data.call.id}/connect`, { method: 'POST', token: agent.token })).status, 200);
  return c.body.data.call.sessionId as string;
}

/** Joins the session (asserting that the join itself is allowed) and sends one chunk; the ack. */
async function joinAndSend(socket: Socket, sessionId: string, peerId: string): Promise<Ack> {
  const joined = (await socket.timeout(5000).emitWithAck('join-session', { sessionId, peerId })) as Ack;
  assert.equal(joined.error, undefined, `the join itself is allowed: ${JSON.stringify(joined)}`);
  return (await socket.timeout(5000).emitWithAck('audio-data', { sessionId, peerId, audioData: pcm, timestamp: Date.now() })) as Ack;
}

const roomToken = (room: string) =>
  new SignJWT({ name: 'Bo', video: { room, roomJoin: true } }).setProtectedHeader({ alg: 'HS256' }).setIssuer(apiKey).setSubject('bo').setExpirationTime('5m').sign(new TextEncoder().encode(apiSecret));

for (const sockets of ['closed', 'open'] as const) {
  describe(`audio-data with ALLOW_ANONYMOUS_CALLS off (production; anonymous sockets ${sockets})`, () => {
    let srv: RunningParley;
    let admin: Staff;
    let agent: Staff;
    const sink = new RecordingSink();
    const opened: Socket[] = [];
    const open = async (auth?: Record<string, unknown>) => {
      const s = await connect(`${srv.url}/signaling`, auth ? { auth } : {});
      opened.push(s);
      return s;
    };

    before(async () => {
      srv = await startParley(
        { NODE_ENV: 'production', SIGNUP_OPEN: 'true', LIVEKIT_API_KEY: apiKey, LIVEKIT_API_SECRET: apiSecret, ...(sockets === 'open' ? { ALLOW_ANONYMOUS_SOCKETS: 'true' } : {}) },
        { audioSink: sink },
      );
      admin = await firstAdmin(srv.url);
      agent = await createAgent(srv.url, admin, 'Agent Noh');
    });
    after(async () => {
      for (const s of opened) s.close();
      await srv?.close();
    });

    test('an anonymous peer is refused, and its audio never reaches the agent', async () => {
      const sessionId = await newCall(srv.url, agent);
      const before = sink.chunks.length;
      if (sockets === 'closed') {
        await assert.rejects(open(), (err: Error & { data?: { code?: string } }) => err.data?.code === 'UNAUTHORIZED' || /token is required/.test(err.message));
      } else {
        const ack = await joinAndSend(await open(), sessionId, 'guest-peer');
        assert.equal(ack.error?.code, 'FORBIDDEN', JSON.stringify(ack));
        assert.match(ack.error!.message, /agent|sign in/i);
      }
      assert.equal(sink.chunks.length, before);
    });

    test("a foreign peer is refused: a room token for the session's name, a consultation's customer", async () => {
      const sessionId = await newCall(srv.url, agent);
      const before = sink.chunks.length;
      const byRoomToken = await joinAndSend(await open({ token: await roomToken(sessionId) }), sessionId, 'room-peer');
      assert.equal(byRoomToken.error?.code, 'FORBIDDEN', JSON.stringify(byRoomToken));
      // A customer's token does not even open the session.
      const ep = await createEntryPoint(srv.url, admin);
      const customer = await open({ token: (await callFrom(srv.url, ep.entryToken, 'Ryu')).customerToken });
      const joined = (await customer.timeout(5000).emitWithAck('join-session', { sessionId, peerId: 'customer-peer' })) as Ack;
      assert.equal(joined.error?.code, 'FORBIDDEN', JSON.stringify(joined));
      const sent = (await customer.timeout(5000).emitWithAck('audio-data', { sessionId, peerId: 'customer-peer', audioData: pcm })) as Ack;
      assert.ok(sent.error, JSON.stringify(sent));
      assert.equal(sink.chunks.length, before, 'nothing reached the agent');
    });

    test("the agent's own audio gets through (the refusal is about who, not what)", async () => {
      const sessionId = await newCall(srv.url, agent);
      const ack = await joinAndSend(await open({ token: agent.token }), sessionId, 'agent-peer');
      assert.equal(ack.ok, true, JSON.stringify(ack));
      assert.equal(sink.chunks.at(-1)?.sessionId, sessionId);
    });
  });
}
