/**
 * Consultations are recorded by themselves when the customer agreed, and never otherwise: the
 * customer's Chromium page joins the call's room, both the customer's /consult socket and the
 * agent's hear `recording` (recording, then ready when the room ends), the admin and the
 * call's agent list it, another agent does not; a call whose stored consent is false writes
 * nothing at all.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { artifactsDir, launchChromium, openPage } from '../support/browser.js';
import { callFrom, createAgent, createEntryPoint, firstAdmin, RecordingSocket, type Staff } from '../support/consultation.js';
import { request, startParley, type RunningParley } from '../support/parleyServer.js';
import { waitForJoined } from '../support/voicePage.js';

describe('consultations recorded with consent, never without', { timeout: 180_000 }, () => {
  let server: RunningParley;
  let browser: Browser;
  let admin: Staff;
  let agent: Staff;
  let entryToken: string;
  let agentConsult: RecordingSocket;
  const dir = mkdtempSync(join(tmpdir(), 'parley-rec-consult-'));
  const recordingsPath = join(dir, 'recordings');
  const serverLog: string[] = [];

  before(async () => {
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', RECORDINGS_PATH: recordingsPath, CONSULT_OFFER_TIMEOUT_MS: '30000', LOG_LEVEL: 'info' }, {}, serverLog);
    browser = await launchChromium();
    admin = await firstAdmin(server.url);
    agent = await createAgent(server.url, admin, 'Rec Agent');
    entryToken = (await createEntryPoint(server.url, admin)).entryToken;
    agentConsult = await RecordingSocket.open(server.url, '/consult', agent.token);
    await agentConsult.socket.timeout(5000).emitWithAck('agent:set-state', { state: 'available' });
  });
  after(async () => {
    writeFileSync(join(artifactsDir(), 'recording-consultation-server.log'), serverLog.join('\n'));
    agentConsult?.socket.close();
    await browser?.close();
    await server?.close();
  });

  async function accepted(name: string, consent: boolean) {
    const started = await callFrom(server.url, entryToken, name);
    const consultationId = started.consultation.id as string;
    if (!consent) await server.parley.storage.db.updateTable('calls').set({ recording_consent: 0 }).where('id', '=', consultationId).execute();
    await agentConsult.waitFor('consultation:offer', (o) => o.consultationId === consultationId, 10_000);
    const ack = await agentConsult.socket.timeout(10_000).emitWithAck('consultation:accept', { consultationId });
    assert.ok(!ack.error, JSON.stringify(ack));
    const customerConsult = await RecordingSocket.open(server.url, '/consult', started.customerToken);
    const page = await openPage(browser, `${server.url}/voice/?room=${started.roomId}&user=${encodeURIComponent(name)}&token=${encodeURIComponent(started.customerToken)}`, name);
    await waitForJoined(page.page);
    return { consultationId, roomId: started.roomId as string, customerConsult, page };
  }

  test('with consent: recorded, both sides told, listed for the admin and that agent only', async () => {
    const call = await accepted('Kim Consent', true);
    const onCustomer = await call.customerConsult.waitFor('recording', (r) => r.consultationId === call.consultationId && r.status === 'recording', 15_000);
    const onAgent = await agentConsult.waitFor('recording', (r) => r.consultationId === call.consultationId && r.status === 'recording', 15_000);
    assert.equal(onCustomer.name, onAgent.name);
    await new Promise((r) => setTimeout(r, 2500));

    const byAdmin = await request(`${server.url}/recordings?roomName=${call.roomId}`, { token: admin.token });
    assert.equal(byAdmin.status, 200);
    assert.equal(byAdmin.body.recordings.length, 1);
    assert.equal(byAdmin.body.recordings[0].consultationId, call.consultationId);
    const byAgent = await request(`${server.url}/recordings`, { token: agent.token });
    assert.ok(byAgent.body.recordings.some((r: { name: string }) => r.name === onAgent.name), "the call's agent lists it");
    const other = await createAgent(server.url, admin, 'Other Agent');
    assert.equal((await request(`${server.url}/recordings`, { token: other.token })).body.recordings.length, 0, 'another agent does not');
    assert.equal((await request(`${server.url}/recordings/${onAgent.name}`, { token: other.token })).status, 403);
    assert.equal((await request(`${server.url}/recordings?roomName=${call.roomId}`)).body.recordings.length, 0, 'anonymous clients never see a consultation');

    // The customer's page leaves the room: the call is still live, so the recording waits for a
    // rejoin (a reload); the agent ends the call, and then it is finished and both sides hear it.
    await call.page.page.close();
    const ended = await agentConsult.socket.timeout(10_000).emitWithAck('consultation:end', { consultationId: call.consultationId });
    assert.ok(!ended.error, JSON.stringify(ended));
    const readyForAgent = await agentConsult.waitFor('recording', (r) => r.consultationId === call.consultationId && r.status === 'ready', 30_000);
    assert.ok(readyForAgent);
    const row = (await request(`${server.url}/recordings?roomName=${call.roomId}`, { token: admin.token })).body.recordings[0];
    assert.equal(row.status, 'ready');
    assert.ok(row.size > 0 && row.tracks.length === 1, JSON.stringify(row));
    const play = await fetch(`${server.url}/recordings/${row.name}`, { headers: { authorization: `Bearer ${agent.token}`, range: 'bytes=0-99' } });
    assert.equal(play.status, 206, "the call's agent plays it");
    call.customerConsult.socket.close();
  });

  test('without consent: nothing is recorded and nothing is written', async () => {
    // The agent is in after-call work since the first call: back to available.
    const back = await agentConsult.socket.timeout(5000).emitWithAck('agent:set-state', { state: 'available' });
    assert.ok(!back.error, JSON.stringify(back));
    const before = readdirSync(recordingsPath, { recursive: true }).map(String).filter((f) => !f.startsWith('.work'));
    const call = await accepted('Lee NoConsent', false);
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(call.customerConsult.events.filter((e) => e.event === 'recording').length, 0);
    assert.equal((await request(`${server.url}/recordings?roomName=${call.roomId}`, { token: admin.token })).body.recordings.length, 0);
    const afterFiles = readdirSync(recordingsPath, { recursive: true }).map(String).filter((f) => !f.startsWith('.work'));
    assert.deepEqual(afterFiles, before, 'no file written');
    assert.deepEqual(readdirSync(join(recordingsPath, '.work')), [], 'no scratch track either');
    await call.page.page.close();
    call.customerConsult.socket.close();
  });
});
