/**
 * What an anonymous client can make the SFU hold, over real sockets against a real Parley:
 * a create-transport flood from one socket and from many sockets of one address is bounded
 * (answered RESOURCE_EXHAUSTED), rooms per address are bounded, and a transport that never
 * connects is closed after the (short, configured) timeout with the client told.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Socket } from 'socket.io-client';
import { startParley, type RunningParley } from './support/parleyServer.js';
import { connect, once } from './support/sockets.js';

type Ack = { id?: string; error?: { code: string; message: string } };

describe('SFU limits for anonymous clients (/voice)', { timeout: 60_000 }, () => {
  let server: RunningParley;
  const sockets: Socket[] = [];

  const join = async (roomId: string): Promise<Socket> => {
    const s = await connect(`${server.url}/voice`);
    sockets.push(s);
    const ack = (await s.emitWithAck('join-room', { roomId })) as Ack;
    assert.equal(ack.error, undefined, JSON.stringify(ack));
    return s;
  };
  const createTransport = (s: Socket, roomId: string): Promise<Ack> => s.timeout(10_000).emitWithAck('create-transport', { roomId }) as Promise<Ack>;
  const heldTransports = async (): Promise<number> => (await server.parley.media.dump()).reduce((a, w) => a + w.transports, 0);
  const closeAll = async (): Promise<void> => {
    for (const s of sockets.splice(0)) s.close();
    const deadline = Date.now() + 5000;
    while ((await heldTransports()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  };

  before(async () => {
    server = await startParley({
      MEDIA_LISTEN_IP: '127.0.0.1',
      MEDIA_WORKERS: '1',
      MEDIA_MAX_ROOMS_PER_ADDRESS: '3',
      MEDIA_MAX_TRANSPORTS_PER_ADDRESS: '10',
      MEDIA_TRANSPORT_CONNECT_TIMEOUT_MS: '400',
    });
  });
  after(async () => {
    for (const s of sockets) s.close();
    await server?.close();
  });

  test('a flood of create-transport from one socket gets 4 transports; the rest are refused with a reason', async () => {
    const s = await join('flood-one');
    const acks = await Promise.all(Array.from({ length: 40 }, () => createTransport(s, 'flood-one')));
    const created = acks.filter((a) => a.id);
    assert.equal(created.length, 4);
    for (const a of acks.filter((x) => !x.id)) {
      assert.equal(a.error?.code, 'RESOURCE_EXHAUSTED', JSON.stringify(a));
      assert.match(a.error!.message, /at most 4 transports/);
    }
    assert.equal(await heldTransports(), 4);
    await closeAll();
    assert.equal(await heldTransports(), 0, 'leaving frees every transport');
  });

  test('a flood from many sockets of one address is bounded by the per-address limit', async () => {
    const many = await Promise.all(Array.from({ length: 8 }, (_, i) => join(`flood-many-${i % 3}`)));
    const acks = (await Promise.all(many.map((s, i) => Promise.all(Array.from({ length: 4 }, () => createTransport(s, `flood-many-${i % 3}`)))))).flat();
    assert.equal(acks.filter((a) => a.id).length, 10, 'MEDIA_MAX_TRANSPORTS_PER_ADDRESS=10');
    const refused = acks.filter((a) => !a.id);
    assert.equal(refused.length, 22);
    for (const a of refused) assert.equal(a.error?.code, 'RESOURCE_EXHAUSTED', JSON.stringify(a));
    assert.match(refused[0]!.error!.message, /your address already hold 10 media transports/);
    assert.equal(await heldTransports(), 10);
    // Leaving gives the address its transports back.
    for (const [i, m] of many.entries()) assert.deepEqual(await m.emitWithAck('leave-room', { roomId: `flood-many-${i % 3}` }), { left: true });
    assert.equal(await heldTransports(), 0);
    const fresh = await join('flood-many-0');
    const again = await Promise.all(Array.from({ length: 4 }, () => createTransport(fresh, 'flood-many-0')));
    assert.equal(again.filter((a) => a.id).length, 4, JSON.stringify(again));
    await closeAll();
  });

  test('one address may be in 3 voice rooms at once; leaving one lets it join another', async () => {
    const s = await connect(`${server.url}/voice`);
    sockets.push(s);
    // Joining the same room twice at once counts once.
    const twice = (await Promise.all([s.emitWithAck('join-room', { roomId: 'ra' }), s.emitWithAck('join-room', { roomId: 'ra' })])) as Ack[];
    assert.deepEqual(twice.map((a) => a.error), [undefined, undefined]);
    for (const r of ['rb', 'rc']) assert.equal(((await s.emitWithAck('join-room', { roomId: r })) as Ack).error, undefined);
    const fourth = (await s.emitWithAck('join-room', { roomId: 'rd' })) as Ack;
    assert.equal(fourth.error?.code, 'RESOURCE_EXHAUSTED');
    assert.match(fourth.error!.message, /already in 3 voice rooms/);
    // Another socket of the same address is refused too, but may join a room the address is already in.
    const s2 = await connect(`${server.url}/voice`);
    sockets.push(s2);
    assert.equal(((await s2.emitWithAck('join-room', { roomId: 're' })) as Ack).error?.code, 'RESOURCE_EXHAUSTED');
    assert.equal(((await s2.emitWithAck('join-room', { roomId: 'ra' })) as Ack).error, undefined);
    assert.deepEqual(await s.emitWithAck('leave-room', { roomId: 'rb' }), { left: true });
    assert.equal(((await s.emitWithAck('join-room', { roomId: 'rd' })) as Ack).error, undefined);
    const rooms = (await server.parley.media.dump()).reduce((a, w) => a + w.rooms, 0);
    assert.ok(rooms <= 3, `media rooms held: ${rooms}`);
    // Once every socket has left, the address holds no room: three fresh ones may be joined.
    for (const r of ['ra', 'rc', 'rd']) assert.deepEqual(await s.emitWithAck('leave-room', { roomId: r }), { left: true });
    assert.deepEqual(await s2.emitWithAck('leave-room', { roomId: 'ra' }), { left: true });
    for (const r of ['rx', 'ry', 'rz']) assert.equal(((await s2.emitWithAck('join-room', { roomId: r })) as Ack).error, undefined, `join ${r}`);
    await closeAll();
  });

  test('a transport that never connects is closed after the timeout, and its client is told', async () => {
    const s = await join('idle-room');
    const closed = once<{ transportId: string; reason: string }>(s, 'transport-closed', 5000);
    const t = await createTransport(s, 'idle-room');
    assert.ok(t.id);
    const started = Date.now();
    assert.deepEqual(await closed, { transportId: t.id, reason: 'connect-timeout' });
    const took = Date.now() - started;
    assert.ok(took >= 300 && took < 3000, `closed after ${took} ms (timeout 400 ms)`);
    assert.equal(await heldTransports(), 0);
    const ack = (await s.emitWithAck('connect-transport', { roomId: 'idle-room', transportId: t.id, dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AA:'.repeat(31) + 'AA' }] } })) as Ack;
    assert.equal(ack.error?.code, 'NOT_FOUND');
    await closeAll();
  });
});
