/**
 * Captions per entry point (issue 10 §4): an entry point's `captions` (inherit / on / off) is
 * stored, shown and changed through the admin REST API (only an admin may choose on or off), and
 * the consultations that start from it follow it — the call's room hears `caption-status` saying
 * whether it is captioned. The speech engine is an OpenAI-compatible one (a local server), so a
 * captioned room really starts its engine chain.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startOpenAIServer, type OpenAITestServer } from './ai-openaiServer.js';
import { callFrom, createAgent, firstAdmin, RecordingSocket, type Staff } from './support/consultation.js';
import { request, startParley, type RunningParley } from './support/parleyServer.js';

describe('entry point caption setting', { timeout: 60_000 }, () => {
  let server: RunningParley;
  let openai: OpenAITestServer;
  let admin: Staff;
  let agent: Staff;
  const sockets: RecordingSocket[] = [];

  before(async () => {
    openai = await startOpenAIServer();
    // The server's default: consultations are NOT captioned, so `on` must be the entry point's doing.
    server = await startParley({ STT_ENGINE: 'openai', STT_OPENAI_BASE_URL: openai.baseUrl, OPENAI_API_KEY: 'sk-test', CAPTIONS_CONSULTATIONS: 'false' });
    admin = await firstAdmin(server.url);
    agent = await createAgent(server.url, admin, 'Ella Agent');
  });
  after(async () => {
    for (const s of sockets) s.socket.close();
    await server?.close();
    await openai?.close();
  });

  const create = (who: Staff, body: Record<string, unknown>) => request(`${server.url}/api/v1/entry-points`, { token: who.token, body: { ttlHours: 24, ...body } });
  const patch = (who: Staff, id: string, body: unknown) => request(`${server.url}/api/v1/entry-points/${id}`, { method: 'PATCH', token: who.token, body });

  /** A customer calls from the entry point and joins the call's room; resolves with the room's caption status. */
  async function statusOfACallFrom(url: string): Promise<{ available: boolean; reason?: string; roomId: string }> {
    const started = await callFrom(server.url, new URL(url).searchParams.get('e')!, 'Kim Customer');
    const voice = await RecordingSocket.open(server.url, '/voice', started.customerToken);
    sockets.push(voice);
    const joined = await voice.request('join-room', { roomId: started.roomId });
    assert.ok(!joined.error, JSON.stringify(joined));
    return (await voice.waitFor('caption-status', (s) => s.roomId === started.roomId, 10_000)) as { available: boolean; reason?: string; roomId: string };
  }

  test('stored and shown; only an admin chooses on or off; bad values are refused with a message', async () => {
    const made = await create(admin, { name: 'Quiet desk', captions: 'off' });
    assert.equal(made.status, 201);
    assert.equal(made.body.entryPoint.captions, 'off');
    assert.equal((await create(admin, { name: 'Default desk' })).body.entryPoint.captions, 'inherit', 'inherit unless said');

    const byAgent = await create(agent, { name: 'Agent desk', captions: 'off' });
    assert.equal(byAgent.status, 403);
    assert.match(byAgent.body.error.message, /only an admin/);
    assert.equal((await create(agent, { name: 'Agent desk', captions: 'inherit' })).status, 201, 'an agent may create one that follows the server');

    const bad = await create(admin, { name: 'Odd desk', captions: 'sometimes' });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /inherit, on or off/);

    const id = made.body.entryPoint.id as string;
    assert.equal((await patch(agent, id, { captions: 'on' })).status, 403, 'an agent cannot change it');
    assert.equal((await patch(admin, id, { captions: 'loud' })).status, 400);
    assert.equal((await patch(admin, '00000000-0000-4000-8000-000000000000', { captions: 'on' })).status, 404);
    const changed = await patch(admin, id, { captions: 'on' });
    assert.equal(changed.status, 200);
    assert.equal(changed.body.entryPoint.captions, 'on');
    const listed = await request(`${server.url}/api/v1/entry-points`, { token: agent.token });
    assert.equal(listed.body.entryPoints.find((e: { id: string }) => e.id === id).captions, 'on', 'the list shows the stored setting');
  });

  test("consultations follow their entry point's setting, and a change applies to the next call", async () => {
    const on = (await create(admin, { name: 'Captioned desk', captions: 'on' })).body.entryPoint;
    const off = (await create(admin, { name: 'Uncaptioned desk', captions: 'off' })).body.entryPoint;
    const inherit = (await create(admin, { name: 'Server desk' })).body.entryPoint;

    assert.deepEqual(pick(await statusOfACallFrom(on.url)), { available: true }, "on: captioned although the server's default is off");
    assert.deepEqual(pick(await statusOfACallFrom(off.url)), { available: false, reason: 'off' });
    assert.deepEqual(pick(await statusOfACallFrom(inherit.url)), { available: false, reason: 'off' }, "inherit: the server's default (off)");

    assert.equal((await patch(admin, inherit.id, { captions: 'on' })).status, 200);
    assert.deepEqual(pick(await statusOfACallFrom(inherit.url)), { available: true }, 'the next call from it is captioned');
  });
});

function pick(s: { available: boolean; reason?: string }): { available: boolean; reason?: string } {
  return s.available ? { available: true } : { available: false, reason: s.reason };
}
