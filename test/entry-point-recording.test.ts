/**
 * Recording per entry point (issue 12): an entry point's `recording` (inherit / on / off) is
 * stored, shown and changed by an admin through REST (zod: bad values are 400 with a message),
 * and consultations follow it: recorded when the customer consented AND the entry point records
 * (RECORD_CONSULTATIONS is the default of those that inherit); never without consent, whatever
 * the setting. The server's default here is off, so `on` must be the entry point's doing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { consultationRecorded } from '../src/domain/consultations/recordingSetting.js';
import { callFrom, createAgent, createEntryPoint, firstAdmin, RecordingSocket, type Staff } from './support/consultation.js';
import { request, startParley, type RunningParley } from './support/parleyServer.js';

describe('the consent and entry point rule', () => {
  test('recorded only with consent, and then as the entry point says (inherit = the server default)', () => {
    for (const setting of ['inherit', 'on', 'off'] as const) {
      for (const serverDefault of [true, false]) assert.equal(consultationRecorded({ consented: false, setting, serverDefault }), false, `never without consent (${setting}, default ${serverDefault})`);
    }
    assert.equal(consultationRecorded({ consented: true, setting: 'on', serverDefault: false }), true);
    assert.equal(consultationRecorded({ consented: true, setting: 'off', serverDefault: true }), false);
    assert.equal(consultationRecorded({ consented: true, setting: 'inherit', serverDefault: true }), true);
    assert.equal(consultationRecorded({ consented: true, setting: 'inherit', serverDefault: false }), false);
  });
});

describe('entry point recording setting', { timeout: 90_000 }, () => {
  let server: RunningParley;
  let admin: Staff;
  let agent: Staff;
  const sockets: RecordingSocket[] = [];

  before(async () => {
    server = await startParley({ RECORD_CONSULTATIONS: 'false' });
    admin = await firstAdmin(server.url);
    agent = await createAgent(server.url, admin, 'Rita Agent');
  });
  after(async () => {
    for (const s of sockets) s.socket.close();
    await server?.close();
  });

  const put = (who: Staff | undefined, id: string, body: unknown) => request(`${server.url}/api/v1/entry-points/${id}/recording`, { method: 'PUT', ...(who ? { token: who.token } : {}), body });

  /** A customer calls from the entry point (consent as given) and joins the call's room. */
  async function callAndJoin(entryToken: string, consent: boolean): Promise<{ roomId: string; consult: RecordingSocket; voice: RecordingSocket; customerToken: string }> {
    const started = await callFrom(server.url, entryToken, consent ? 'Kim Agrees' : 'Lee Declines');
    if (!consent) await server.parley.storage.db.updateTable('calls').set({ recording_consent: 0 }).where('id', '=', started.consultation.id).execute();
    const consult = await RecordingSocket.open(server.url, '/consult', started.customerToken);
    const voice = await RecordingSocket.open(server.url, '/voice', started.customerToken);
    sockets.push(consult, voice);
    const joined = await voice.request('join-room', { roomId: started.roomId });
    assert.ok(!joined.error, JSON.stringify(joined));
    return { roomId: started.roomId, consult, voice, customerToken: started.customerToken };
  }

  const listed = async (roomId: string) => (await request(`${server.url}/recordings?roomName=${roomId}`, { token: admin.token })).body.recordings as unknown[];

  test('shown on every entry point; only an admin changes it; bad values and unknown ids are refused with a message', async () => {
    const ep = await createEntryPoint(server.url, admin, 'Desk');
    assert.equal((ep as unknown as { recording: string }).recording, 'inherit', 'inherit unless said');

    const byAgent = await put(agent, ep.id, { recording: 'on' });
    assert.equal(byAgent.status, 403);
    assert.equal((await put(undefined, ep.id, { recording: 'on' })).status, 401);
    const bad = await put(admin, ep.id, { recording: 'sometimes' });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /inherit, on or off/);
    assert.equal((await put(admin, ep.id, {})).status, 400);
    const unknown = await put(admin, '00000000-0000-4000-8000-000000000000', { recording: 'on' });
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error.message, /entry point/);
    assert.equal((await put(admin, 'not-an-id', { recording: 'on' })).status, 400);

    const ok = await put(admin, ep.id, { recording: 'on' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.entryPoint.recording, 'on');
    const list = await request(`${server.url}/api/v1/entry-points`, { token: agent.token });
    assert.equal(list.body.entryPoints.find((e: { id: string }) => e.id === ep.id).recording, 'on', 'agents see it too');
  });

  test('an entry point that records: a consented consultation is recorded although RECORD_CONSULTATIONS is off', async () => {
    const ep = await createEntryPoint(server.url, admin, 'Recorded desk');
    assert.equal((await put(admin, ep.id, { recording: 'on' })).status, 200);
    const call = await callAndJoin(ep.entryToken, true);
    const told = await call.consult.waitFor('recording', (r) => r.status === 'recording', 10_000);
    assert.ok(told);
    assert.equal((await listed(call.roomId)).length, 1);

    // The customer's page reloads: its new /consult connection is told at once that the call is being recorded.
    const reloaded = await RecordingSocket.open(server.url, '/consult', call.customerToken);
    sockets.push(reloaded);
    const snapshot = await reloaded.waitFor('recording', () => true, 5000);
    assert.deepEqual({ status: snapshot.status, name: snapshot.name }, { status: 'recording', name: told.name }, 'the reconnect snapshot carries the recording');

    // Nobody sent any media (this customer has no browser): when the room ends the recording
    // says so, rather than being "ready" with nothing in it. (The room emptying alone keeps the
    // recording open for a rejoin while the call is live; the customer hanging up ends it.)
    call.voice.socket.close();
    const hungUp = await call.consult.request('consultation:hang-up', {});
    assert.ok(!hungUp.error, JSON.stringify(hungUp));
    const ended = await call.consult.waitFor('recording', (r) => r.status === 'failed', 20_000);
    assert.match(ended.failure, /nothing was recorded/);
    const row = (await listed(call.roomId))[0] as { status: string; tracks: unknown[] };
    assert.equal(row.status, 'failed');
    assert.deepEqual(row.tracks, []);
  });

  test('never without consent, even where the entry point records; inherit follows the server default (off)', async () => {
    const on = await createEntryPoint(server.url, admin, 'Recorded desk 2');
    assert.equal((await put(admin, on.id, { recording: 'on' })).status, 200);
    const inherit = await createEntryPoint(server.url, admin, 'Default desk');
    const noConsent = await callAndJoin(on.entryToken, false);
    const inherited = await callAndJoin(inherit.entryToken, true);
    // A sentinel that is recorded, joined last: once it is told, the two before it were decided long since.
    const sentinel = await callAndJoin(on.entryToken, true);
    await sentinel.consult.waitFor('recording', (r) => r.status === 'recording', 10_000);
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(await listed(noConsent.roomId), [], 'no consent: not recorded');
    assert.equal(noConsent.consult.events.filter((e) => e.event === 'recording').length, 0);
    assert.deepEqual(await listed(inherited.roomId), [], 'inherit with RECORD_CONSULTATIONS off: not recorded');
  });
});
