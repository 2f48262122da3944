/**
 * SFU rooms pinned to one node (issue 13): the first join pins a `/voice` room to the node it
 * reached; a join on another node is refused with WRONG_NODE naming the pinned node; the pin
 * goes when the room empties, or when its node stops.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Socket } from 'socket.io-client';
import { startParley, type RunningParley } from './support/parleyServer.js';
import { dropPrefix, testRedisUrl, uniquePrefix } from './support/redis.js';
import { callFrom, createAgent, createEntryPoint, firstAdmin, RecordingSocket } from './support/consultation.js';
import { waitFor } from './support/polling.js';
import { connect } from './support/sockets.js';

type JoinAck = { rtpCapabilities?: unknown; error?: { code: string; message: string; node?: string } };
const join_ = (s: Socket, roomId: string) => s.timeout(10_000).emitWithAck('join-room', { roomId }) as Promise<JoinAck>;

describe('voice rooms pinned to one node', () => {
  const prefix = uniquePrefix();
  let a: RunningParley;
  let b: RunningParley;
  const sockets: Socket[] = [];
  const voice = async (srv: RunningParley, userId: string) => {
    const s = await connect(`${srv.url}/voice`, { auth: { userId } });
    sockets.push(s);
    return s;
  };

  before(async () => {
    const SQLITE_PATH = join(mkdtempSync(join(tmpdir(), 'parley-pins-')), 'parley.sqlite');
    const env = { SQLITE_PATH, REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: prefix, MEDIA_WORKERS: '1' };
    a = await startParley({ ...env, NODE_ID: 'node-a' });
    b = await startParley({ ...env, NODE_ID: 'node-b' });
  });
  after(async () => {
    for (const s of sockets) s.close();
    await a?.close();
    await b?.close();
    await dropPrefix(prefix);
  });

  test('the first join pins the room; a join elsewhere is told where the room is; an emptied room moves', async () => {
    const x = await voice(a, 'x');
    assert.ok((await join_(x, 'pinned-room')).rtpCapabilities, 'the first join is taken');
    const y = await voice(b, 'y');
    const refused = await join_(y, 'pinned-room');
    assert.equal(refused.error?.code, 'WRONG_NODE');
    assert.equal(refused.error?.node, 'node-a');
    assert.match(refused.error!.message, /hosted by server "node-a"/);
    const y2 = await voice(a, 'y');
    assert.ok((await join_(y2, 'pinned-room')).rtpCapabilities, 'on the pinned node the join is taken');

    await x.timeout(5000).emitWithAck('leave-room', { roomId: 'pinned-room' });
    await y2.timeout(5000).emitWithAck('leave-room', { roomId: 'pinned-room' });
    // Empty now: the next first join, on node B, pins it there.
    assert.ok((await join_(y, 'pinned-room')).rtpCapabilities);
    const late = await voice(a, 'late');
    assert.equal((await join_(late, 'pinned-room')).error?.node, 'node-b');
  });

  test('an accepted consultation\'s room goes to the node with fewer rooms; its customer is sent there', async () => {
    // Node A hosts two rooms, node B none.
    for (const r of ['load-1', 'load-2']) assert.ok((await join_(await voice(a, `load-${r}`), r)).rtpCapabilities);
    const admin = await firstAdmin(a.url);
    const agent = await createAgent(a.url, admin, 'Pia Agent');
    const ep = await createEntryPoint(a.url, admin);
    const started = await callFrom(a.url, ep.entryToken, 'Placed Customer');
    const console_ = await RecordingSocket.open(a.url, '/consult', agent.token);
    await console_.request('agent:set-state', { state: 'available' });
    await console_.waitFor('consultation:offer', (o: { consultationId: string }) => o.consultationId === started.consultation.id, 10_000);
    const accepted = await console_.request<{ roomId?: string; error?: unknown }>('consultation:accept', { consultationId: started.consultation.id });
    assert.equal(accepted.roomId, started.roomId, JSON.stringify(accepted));
    const customerOn = async (srv: RunningParley) => {
      const s = await connect(`${srv.url}/voice`, { auth: { token: started.customerToken } });
      sockets.push(s);
      return join_(s, started.roomId);
    };
    const onA = await waitFor('the room placed on node B', async () => {
      const r = await customerOn(a);
      return r.error?.code === 'WRONG_NODE' ? r : undefined;
    }, 5_000);
    assert.equal(onA.error?.node, 'node-b', 'node B hosts fewer rooms');
    assert.ok((await customerOn(b)).rtpCapabilities, 'the customer joins on node B');
    console_.close();
  });

  test("a room whose node stopped is taken over by the next join", async () => {
    const z = await voice(b, 'z');
    assert.ok((await join_(z, 'orphan-room')).rtpCapabilities);
    const w = await voice(a, 'w');
    assert.equal((await join_(w, 'orphan-room')).error?.code, 'WRONG_NODE');
    await b.close();
    assert.ok((await join_(w, 'orphan-room')).rtpCapabilities, 'node B is gone: node A takes the room');
  });
});
