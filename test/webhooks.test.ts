/**
 * Webhooks for integrators: the signature scheme, the repository on both storage engines,
 * the delivery service against storage (retry schedule, timeouts, refused connections,
 * resume after a restart, redelivery, order), and end to end through a real Parley: call
 * state changes arrive signed at a real HTTP receiver on loopback, and the REST surface
 * (admin only) registers, lists, disables, shows the log and redelivers.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ParleyError } from '../src/errors.js';
import { createLogger } from '../src/log/logger.js';
import { openStorage, type Storage } from '../src/storage/database.js';
import { WebhookRepository } from '../src/webhooks/webhookRepository.js';
import { retryDelayMs, WebhookService, type WebhookOptions } from '../src/webhooks/webhookService.js';
import { parseSignatureHeader, signPayload, verifySignature } from '../src/webhooks/webhookSignature.js';
import { request, startParley, type RunningParley } from './support/parleyServer.js';
import { engines } from './support/storageEngines.js';

const logger = createLogger(process.env.PARLEY_TEST_LOG_LEVEL ?? 'silent');

/** Polls `probe` until it returns a truthy value; fails after `timeoutMs`. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ---------------------------------------------------------------------------------------
// A real HTTP receiver on 127.0.0.1. Each path answers as its handler says; `nth` counts the
// requests that path has had for the same Parley-Delivery id (1 for the first attempt).

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

type Answer = number | { status: number; delayMs: number };

class Receiver {
  readonly received: Received[] = [];
  url = '';
  private readonly server: Server;
  private readonly handlers = new Map<string, (nth: number) => Answer>();

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r: Received = { path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        const deliveryId = r.headers['parley-delivery'];
        const nth = this.received.filter((x) => x.path === r.path && x.headers['parley-delivery'] === deliveryId).length + 1;
        this.received.push(r);
        const answer = (this.handlers.get(r.path) ?? (() => 404))(nth);
        const { status, delayMs } = typeof answer === 'number' ? { status: answer, delayMs: 0 } : answer;
        const reply = () => {
          if (!res.destroyed) res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'nope');
        };
        if (delayMs > 0) setTimeout(reply, delayMs).unref();
        else reply();
      });
    });
  }

  /** Registers a path; returns its full URL. */
  on(path: string, handler: (nth: number) => Answer): string {
    this.handlers.set(path, handler);
    return `${this.url}${path}`;
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

interface EventBody {
  id: string;
  type: string;
  createdAt: string;
  data: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------

describe('webhook signatures', () => {
  const secret = 'whsec_test';
  const body = '{"id":"e1","type":"call.status_changed","createdAt":"2025-01-01T00:00:00.000Z","data":{"n":1}}';
  const t = 1_700_000_000;

  test('the header is t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")> and verifies', async () => {
    const header = signPayload(secret, body, t);
    const { createHmac } = await import('node:crypto');
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    assert.equal(header, `t=${t},v1=${expected}`);
    assert.equal(verifySignature(secret, body, header, { now: t + 10 }), true);
    assert.equal(verifySignature(secret, Buffer.from(body), header, { now: new Date((t - 10) * 1000) }), true);
  });

  test('a tampered body, another secret, a stale or future timestamp, or a mangled header fail', () => {
    const header = signPayload(secret, body, t);
    assert.equal(verifySignature(secret, body.replace('"n":1', '"n":2'), header, { now: t }), false);
    assert.equal(verifySignature('whsec_other', body, header, { now: t }), false);
    assert.equal(verifySignature(secret, body, header, { now: t + 301 }), false);
    assert.equal(verifySignature(secret, body, header, { now: t - 301 }), false);
    assert.equal(verifySignature(secret, body, header, { now: t + 3600, toleranceSeconds: 3600 }), true);
    // Moving the timestamp breaks the signature, since it is signed too.
    assert.equal(verifySignature(secret, body, header.replace(`t=${t}`, `t=${t + 1}`), { now: t }), false);
    for (const bad of ['', 'garbage', `t=${t}`, `v1=${'0'.repeat(64)}`, `t=abc,v1=${'0'.repeat(64)}`, `t=${t},v1=zz`]) {
      assert.equal(verifySignature(secret, body, bad, { now: t }), false, bad);
    }
    assert.equal(verifySignature(secret, body, undefined), false);
  });

  test('several v1 values (a secret being rotated): any one that matches is enough', () => {
    const good = signPayload(secret, body, t).split('v1=')[1]!;
    const header = `t=${t},v1=${'a'.repeat(64)},v1=${good}`;
    assert.deepEqual(parseSignatureHeader(header)?.signatures.length, 2);
    assert.equal(verifySignature(secret, body, header, { now: t }), true);
  });

  test('retry delays double from the base and stop growing at one hour', () => {
    assert.deepEqual([1, 2, 3, 4].map((n) => retryDelayMs(2_000, n)), [2_000, 4_000, 8_000, 16_000]);
    assert.equal(retryDelayMs(2_000, 20), 60 * 60 * 1000);
  });
});

// ---------------------------------------------------------------------------------------

for (const make of engines()) {
  const engine = make();
  describe(`webhook repository (${engine.name})`, () => {
    let storage: Storage;
    before(async () => {
      storage = await openStorage(engine.options, logger);
    });
    after(async () => {
      await storage?.close();
      await engine.dispose();
    });

    test('endpoints: create, find with secret, list without, subscriptions, disable', async () => {
      const repo = new WebhookRepository(storage.db);
      const all = await repo.createEndpoint({ url: 'https://example.com/all', secret: 's1', events: ['*'], description: 'everything', createdBy: 'u1' });
      const calls = await repo.createEndpoint({ url: 'https://example.com/calls', secret: 's2', events: ['call.status_changed'], description: null, createdBy: 'u1' });
      assert.equal(all.secret, 's1');
      assert.ok(all.createdAt instanceof Date && !Number.isNaN(all.createdAt.getTime()));

      const found = await repo.findEndpoint(calls.id);
      assert.equal(found?.secret, 's2');
      assert.deepEqual(found?.events, ['call.status_changed']);
      assert.equal(found?.createdAt.getTime(), calls.createdAt.getTime());
      assert.equal(await repo.findEndpoint(randomUUID()), undefined);

      const listed = await repo.listEndpoints();
      assert.deepEqual(listed.map((e) => e.url).sort(), ['https://example.com/all', 'https://example.com/calls']);
      for (const e of listed) assert.equal('secret' in e, false);

      assert.deepEqual((await repo.activeEndpointsFor('call.status_changed')).map((e) => e.id).sort(), [all.id, calls.id].sort());
      assert.deepEqual((await repo.activeEndpointsFor('something.else')).map((e) => e.id), [all.id]);

      const disabled = await repo.disableEndpoint(all.id, new Date('2030-01-01T00:00:00.000Z'));
      assert.equal(disabled?.disabledAt?.toISOString(), '2030-01-01T00:00:00.000Z');
      const again = await repo.disableEndpoint(all.id, new Date('2031-01-01T00:00:00.000Z'));
      assert.equal(again?.disabledAt?.toISOString(), '2030-01-01T00:00:00.000Z', 'a second disable keeps the first time');
      assert.deepEqual((await repo.activeEndpointsFor('call.status_changed')).map((e) => e.id), [calls.id]);
      assert.equal(await repo.disableEndpoint(randomUUID()), undefined);
      await repo.disableEndpoint(calls.id);
    });

    test('deliveries: due in order, claimed once with a lease, outcomes recorded, paged log, redelivery', async () => {
      const repo = new WebhookRepository(storage.db);
      const a = await repo.createEndpoint({ url: 'https://example.com/a', secret: 'sa', events: ['*'], description: null, createdBy: 'u1' });
      const b = await repo.createEndpoint({ url: 'https://example.com/b', secret: 'sb', events: ['*'], description: null, createdBy: 'u1' });
      const t0 = new Date(Date.now() - 60_000);
      const ev = (n: number) => ({ id: randomUUID(), type: 'call.status_changed', payload: `{"n":${n}}`, createdAt: new Date(t0.getTime() + n) });
      const [a1, b1] = await repo.addDeliveries(ev(1), [a.id, b.id]);
      const [a2] = await repo.addDeliveries(ev(2), [a.id]);
      const [a3] = await repo.addDeliveries(ev(3), [a.id]);
      assert.ok(a1 && b1 && a2 && a3);
      assert.equal(a1.status, 'pending');
      assert.equal(a1.attempts, 0);
      assert.deepEqual(await repo.addDeliveries(ev(4), []), []);

      const mine = <T extends { endpointId: string }>(list: T[]) => list.filter((d) => d.endpointId === a.id || d.endpointId === b.id);
      assert.deepEqual(mine(await repo.due(new Date(t0.getTime() - 1), 10)), [], 'nothing is due before its time');
      const due = mine(await repo.due(new Date(), 10));
      assert.deepEqual(
        due.map((d) => d.payload),
        ['{"n":1}', '{"n":1}', '{"n":2}', '{"n":3}'],
        'oldest due first, in the order the events happened',
      );
      assert.deepEqual(
        due.map((d) => [d.id, d.url, d.secret]).sort(),
        [
          [a1.id, a.url, 'sa'],
          [b1.id, b.url, 'sb'],
          [a2.id, a.url, 'sa'],
          [a3.id, a.url, 'sa'],
        ].sort(),
        'each with its endpoint URL and secret',
      );
      assert.deepEqual(mine(await repo.due(new Date(), 10, [a.id])).map((d) => d.id), [b1.id], 'busy endpoints are skipped');

      // Claim: the attempt is counted and the delivery leased; a second claim of the same attempt loses.
      const lease = new Date(Date.now() + 60_000);
      assert.equal(await repo.claim(a1.id, 0, lease), true);
      assert.equal(await repo.claim(a1.id, 0, lease), false);
      assert.ok(!mine(await repo.due(new Date(), 10)).some((d) => d.id === a1.id), 'a leased delivery is not due');
      assert.ok(mine(await repo.due(new Date(lease.getTime() + 1), 10)).some((d) => d.id === a1.id), 'it is due again when the lease runs out');

      const retryAt = new Date(Date.now() + 30_000);
      const retrying = await repo.recordAttempt(a1.id, 1, { status: 'pending', statusCode: 503, error: 'HTTP 503 Service Unavailable', nextAttemptAt: retryAt, at: new Date() });
      assert.equal(retrying?.status, 'pending');
      assert.equal(retrying?.attempts, 1);
      assert.equal(retrying?.lastStatusCode, 503);
      assert.equal(retrying?.lastError, 'HTTP 503 Service Unavailable');
      assert.equal(retrying?.nextAttemptAt?.getTime(), retryAt.getTime());

      assert.equal(await repo.claim(a1.id, 1, lease), true);
      const deliveredAt = new Date();
      const delivered = await repo.recordAttempt(a1.id, 2, { status: 'delivered', statusCode: 204, at: deliveredAt });
      assert.equal(delivered?.status, 'delivered');
      assert.equal(delivered?.attempts, 2);
      assert.equal(delivered?.lastError, null);
      assert.equal(delivered?.nextAttemptAt, null);
      assert.equal(delivered?.deliveredAt?.getTime(), deliveredAt.getTime());

      assert.equal(await repo.claim(a2.id, 0, lease), true);
      const failed = await repo.recordAttempt(a2.id, 1, { status: 'failed', statusCode: null, error: 'ECONNREFUSED', at: new Date() });
      assert.equal(failed?.status, 'failed');
      assert.equal(failed?.lastStatusCode, null);

      const page1 = await repo.listDeliveries(a.id, { limit: 2, offset: 0 });
      assert.equal(page1.total, 3);
      assert.deepEqual(page1.deliveries.map((d) => d.id), [a3.id, a2.id], 'newest first');
      const page2 = await repo.listDeliveries(a.id, { limit: 2, offset: 2 });
      assert.deepEqual(page2.deliveries.map((d) => d.id), [a1.id]);

      const reset = await repo.resetForRedelivery(a2.id);
      assert.equal(reset?.status, 'pending');
      assert.equal(reset?.attempts, 1, 'attempts keep counting');
      assert.ok(mine(await repo.due(new Date(), 10)).some((d) => d.id === a2.id));
      assert.equal((await repo.findDelivery(b.id, a2.id)), undefined, 'a delivery is found only under its own endpoint');

      // Disabling closes the pending deliveries and leaves the finished ones as they were.
      await repo.disableEndpoint(a.id);
      const after = await repo.listDeliveries(a.id, { limit: 10, offset: 0 });
      const byId = new Map(after.deliveries.map((d) => [d.id, d]));
      assert.equal(byId.get(a1.id)?.status, 'delivered');
      assert.equal(byId.get(a2.id)?.status, 'failed');
      assert.equal(byId.get(a2.id)?.lastError, 'endpoint disabled');
      assert.equal(byId.get(a3.id)?.status, 'failed');
      assert.deepEqual(mine(await repo.due(new Date(lease.getTime() + 1), 10)).map((d) => d.id), [b1.id]);
      await repo.disableEndpoint(b.id);
    });
  });
}

// ---------------------------------------------------------------------------------------

for (const make of engines()) {
  const engine = make();
  describe(`webhook delivery service (${engine.name})`, () => {
    let storage: Storage;
    const receiver = new Receiver();
    // The receiver listens on loopback, which webhooks refuse unless private targets are allowed.
    const options: WebhookOptions = { maxAttempts: 3, retryBaseMs: 100, timeoutMs: 1_000, pollMs: 50, allowPrivateTargets: true };
    const services: WebhookService[] = [];
    const service = (o: Partial<WebhookOptions> = {}) => {
      const s = new WebhookService(storage.db, logger, { ...options, ...o });
      services.push(s);
      return s;
    };
    /** Makes an endpoint; the ones left from earlier tests are disabled so they stay quiet. */
    const endpoint = async (svc: WebhookService, url: string, events: string[] = ['*']) => {
      for (const e of await svc.listEndpoints()) if (!e.disabledAt) await svc.disableEndpoint(e.id);
      return svc.createEndpoint({ url, events, createdBy: 'test-admin' });
    };
    const onlyDelivery = async (svc: WebhookService, endpointId: string) => {
      const { deliveries, total } = await svc.deliveries(endpointId, { limit: 10, offset: 0 });
      assert.equal(total, 1);
      return deliveries[0]!;
    };

    before(async () => {
      storage = await openStorage(engine.options, logger);
      await receiver.start();
    });
    after(async () => {
      for (const s of services) await s.close();
      await receiver.close();
      await storage?.close();
      await engine.dispose();
    });

    test('a 2xx answer delivers once, signed, with the documented headers and body', async () => {
      const svc = service();
      svc.start();
      const ep = await endpoint(svc, receiver.on('/ok', () => 204));
      assert.match(ep.secret, /^whsec_[0-9a-f]{48}$/);
      const data = { hello: 'world' };
      const published = svc.publish('call.status_changed', data);
      data.hello = 'changed after publishing';
      await published;
      const [got] = await waitFor('one POST to /ok', () => receiver.at('/ok').length === 1 && receiver.at('/ok'));
      assert.ok(got);
      assert.equal(got.headers['content-type'], 'application/json');
      assert.equal(got.headers['user-agent'], 'Parley-Webhooks/0.1');
      assert.equal(got.headers['parley-event'], 'call.status_changed');
      assert.ok(verifySignature(ep.secret, got.body, String(got.headers['parley-signature'])));
      const event = JSON.parse(got.body) as EventBody;
      assert.deepEqual(Object.keys(event), ['id', 'type', 'createdAt', 'data']);
      assert.equal(event.type, 'call.status_changed');
      assert.deepEqual(event.data, { hello: 'world' });
      const d = await waitFor('delivered', async () => {
        const x = await onlyDelivery(svc, ep.id);
        return x.status === 'delivered' && x;
      });
      assert.equal(got.headers['parley-delivery'], d.id);
      assert.equal(d.payload, got.body, 'the stored payload is the exact body sent');
      assert.equal(d.eventId, event.id);
      assert.equal(d.attempts, 1);
      assert.equal(d.lastStatusCode, 204);
      assert.equal(d.nextAttemptAt, null);
      assert.ok(d.deliveredAt);
      await svc.close();
    });

    test('retries follow retryBaseMs · 2^(n−1): 500, 500, then 200 is delivered on attempt 3', async () => {
      const svc = service();
      svc.start();
      const ep = await endpoint(svc, receiver.on('/flaky', (nth) => (nth <= 2 ? 500 : 200)));
      await svc.publish('call.status_changed', { n: 1 });
      const d = await waitFor('delivered after retries', async () => {
        const x = await onlyDelivery(svc, ep.id);
        return x.status === 'delivered' && x;
      });
      assert.equal(d.attempts, 3);
      assert.equal(d.lastStatusCode, 200);
      assert.equal(d.lastError, null);
      const hits = receiver.at('/flaky');
      assert.equal(hits.length, 3);
      assert.ok(hits.every((h) => h.body === hits[0]!.body && h.headers['parley-delivery'] === d.id), 'every attempt sends the same delivery and bytes');
      const gap1 = hits[1]!.at - hits[0]!.at;
      const gap2 = hits[2]!.at - hits[1]!.at;
      assert.ok(gap1 >= 95 && gap1 < 2_000, `first retry after ~100 ms, was ${gap1}`);
      assert.ok(gap2 >= 195 && gap2 < 2_000, `second retry after ~200 ms, was ${gap2}`);
      await svc.close();
    });

    test('a receiver that always fails ends failed after maxAttempts, with the last status and error', async () => {
      const svc = service();
      svc.start();
      const ep = await endpoint(svc, receiver.on('/down', () => 500));
      await svc.publish('call.status_changed', { n: 1 });
      const d = await waitFor('failed', async () => {
        const x = await onlyDelivery(svc, ep.id);
        return x.status === 'failed' && x;
      });
      assert.equal(d.attempts, 3);
      assert.equal(d.lastStatusCode, 500);
      assert.match(d.lastError ?? '', /^HTTP 500/);
      assert.equal(d.nextAttemptAt, null);
      assert.equal(d.deliveredAt, null);
      assert.equal(receiver.at('/down').length, 3);

      // A redelivery is one more attempt (attempts keep counting); it fails again here.
      const reset = await svc.redeliver(ep.id, d.id);
      assert.equal(reset.status, 'pending');
      assert.equal(reset.attempts, 3);
      const again = await waitFor('failed again', async () => {
        const x = await onlyDelivery(svc, ep.id);
        return x.status === 'failed' && x.attempts === 4 && x;
      });
      assert.equal(again.lastStatusCode, 500);
      assert.equal(receiver.at('/down').length, 4);
      await svc.close();
    });

    test('timeouts and refused connections count as failed attempts with a short reason', async () => {
      const svc = service({ maxAttempts: 1, timeoutMs: 200 });
      svc.start();
      const slow = await endpoint(svc, receiver.on('/slow', () => ({ status: 200, delayMs: 2_000 })));
      await svc.publish('call.status_changed', { n: 1 });
      const timedOut = await waitFor('timed out', async () => {
        const x = await onlyDelivery(svc, slow.id);
        return x.status === 'failed' && x;
      });
      assert.equal(timedOut.lastStatusCode, null);
      assert.equal(timedOut.lastError, 'timed out after 200 ms');

      const refused = await endpoint(svc, `http://127.0.0.1:${await closedPort()}/hook`);
      await svc.publish('call.status_changed', { n: 2 });
      const r = await waitFor('refused', async () => {
        const x = await onlyDelivery(svc, refused.id);
        return x.status === 'failed' && x;
      });
      assert.equal(r.lastStatusCode, null);
      assert.match(r.lastError ?? '', /ECONNREFUSED/);
      assert.ok((r.lastError ?? '').length <= 200);
      await svc.close();
    });

    test('pending deliveries survive a restart: a new service delivers them on start()', async () => {
      const first = service();
      const ep = await endpoint(first, receiver.on('/resume', () => 200));
      // Not started: the events are recorded but not sent, as when a process stops early.
      await first.publish('call.status_changed', { n: 1 });
      await first.publish('call.status_changed', { n: 2 });
      await first.close();
      assert.equal(receiver.at('/resume').length, 0);
      const { deliveries } = await first.deliveries(ep.id, { limit: 10, offset: 0 });
      assert.deepEqual(deliveries.map((d) => d.status), ['pending', 'pending']);

      const second = service();
      second.start();
      await waitFor('both delivered', () => receiver.at('/resume').length === 2);
      assert.deepEqual(receiver.at('/resume').map((r) => (JSON.parse(r.body) as EventBody).data.n), [1, 2]);
      await waitFor('logged as delivered', async () => (await second.deliveries(ep.id, { limit: 10, offset: 0 })).deliveries.every((d) => d.status === 'delivered'));
      await second.close();
    });

    test('close() waits for an attempt on the wire and records its outcome', async () => {
      const svc = service();
      svc.start();
      const ep = await endpoint(svc, receiver.on('/lingering', () => ({ status: 200, delayMs: 300 })));
      await svc.publish('call.status_changed', { n: 1 });
      await waitFor('the request arrived', () => receiver.at('/lingering').length === 1);
      await svc.close();
      const d = await onlyDelivery(svc, ep.id);
      assert.equal(d.status, 'delivered');
      assert.equal(d.attempts, 1);
    });

    test('disabling an endpoint while an attempt is on the wire closes the delivery; nothing more is sent', async () => {
      const svc = service();
      svc.start();
      const ep = await endpoint(svc, receiver.on('/disabled-midway', () => ({ status: 500, delayMs: 300 })));
      await svc.publish('call.status_changed', { n: 1 });
      await waitFor('the first attempt arrived', () => receiver.at('/disabled-midway').length === 1);
      await svc.disableEndpoint(ep.id);
      await svc.close(); // waits for the attempt to finish and be recorded
      const d = await onlyDelivery(svc, ep.id);
      assert.equal(d.status, 'failed');
      assert.equal(d.lastError, 'endpoint disabled');
      assert.equal(d.attempts, 1);
      const later = service();
      later.start();
      await later.publish('call.status_changed', { n: 2 });
      await new Promise((r) => setTimeout(r, 300)); // several polls: a disabled endpoint stays quiet
      assert.equal(receiver.at('/disabled-midway').length, 1);
      await later.close();
    });

    test('a healthy endpoint gets events in the order they were published; only subscribed, active endpoints get them', async () => {
      const svc = service();
      svc.start();
      const ordered = await endpoint(svc, receiver.on('/ordered', () => 200));
      const other = await svc.createEndpoint({ url: receiver.on('/other-type', () => 200), events: ['call.status_changed'], createdBy: 'test-admin' });
      const gone = await svc.createEndpoint({ url: receiver.on('/gone', () => 200), events: ['*'], createdBy: 'test-admin' });
      await svc.disableEndpoint(gone.id);
      for (let n = 1; n <= 8; n++) void svc.publish('call.status_changed', { n });
      await svc.publish('something.else', { n: 9 });
      await waitFor('nine events at /ordered', () => receiver.at('/ordered').length === 9);
      const events = receiver.at('/ordered').map((r) => JSON.parse(r.body) as EventBody);
      assert.deepEqual(events.map((e) => e.data.n), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const times = events.map((e) => Date.parse(e.createdAt));
      assert.ok(times.every((t, i) => i === 0 || t > times[i - 1]!), 'createdAt strictly increases');
      await waitFor('eight events at /other-type', () => receiver.at('/other-type').length === 8);
      assert.ok(receiver.at('/other-type').every((r) => r.headers['parley-event'] === 'call.status_changed'));
      assert.equal(receiver.at('/gone').length, 0);
      assert.equal((await svc.deliveries(gone.id, { limit: 10, offset: 0 })).total, 0);
      await svc.disableEndpoint(other.id);
      assert.ok(ordered.id);
      await svc.close();
    });

    test('redelivering a delivered event sends the same bytes again and counts the attempt', async () => {
      const svc = service();
      svc.start();
      const ep = await endpoint(svc, receiver.on('/again', () => 200));
      await svc.publish('call.status_changed', { n: 1 });
      const d = await waitFor('delivered', async () => {
        const x = await onlyDelivery(svc, ep.id);
        return x.status === 'delivered' && x;
      });
      await svc.redeliver(ep.id, d.id);
      await waitFor('second POST', () => receiver.at('/again').length === 2);
      const [one, two] = receiver.at('/again');
      assert.equal(one!.body, two!.body);
      assert.equal(one!.headers['parley-delivery'], two!.headers['parley-delivery']);
      const after = await waitFor('delivered twice', async () => {
        const x = await onlyDelivery(svc, ep.id);
        return x.status === 'delivered' && x.attempts === 2 && x;
      });
      assert.equal(after.lastStatusCode, 200);
      await assert.rejects(svc.redeliver(ep.id, randomUUID()), (e: unknown) => e instanceof ParleyError && e.code === 'NOT_FOUND');
      await svc.disableEndpoint(ep.id);
      await assert.rejects(svc.redeliver(ep.id, d.id), (e: unknown) => e instanceof ParleyError && e.code === 'CONFLICT');
      await svc.close();
    });

    test('input is checked: http(s) URLs and known event types only; unknown endpoints are NOT_FOUND', async () => {
      const svc = service();
      const invalid = (e: unknown) => e instanceof ParleyError && e.code === 'INVALID_PAYLOAD';
      for (const url of ['ftp://example.com/hook', 'javascript:alert(1)', 'not a url', '']) {
        await assert.rejects(svc.createEndpoint({ url, events: ['*'], createdBy: 'x' }), invalid, url);
      }
      await assert.rejects(svc.createEndpoint({ url: 'https://example.com', events: ['call.created'], createdBy: 'x' }), invalid);
      await assert.rejects(svc.createEndpoint({ url: 'https://example.com', events: [], createdBy: 'x' }), invalid);
      const both = await svc.createEndpoint({ url: 'https://example.com/x', events: ['call.status_changed', '*'], createdBy: 'x' });
      assert.deepEqual(both.events, ['*']);
      await svc.disableEndpoint(both.id);
      const notFound = (e: unknown) => e instanceof ParleyError && e.code === 'NOT_FOUND';
      await assert.rejects(svc.disableEndpoint(randomUUID()), notFound);
      await assert.rejects(svc.deliveries(randomUUID(), { limit: 10, offset: 0 }), notFound);
      await svc.close();
    });
  });
}

// ---------------------------------------------------------------------------------------

describe('webhooks end to end (REST + call state changes)', () => {
  let srv: RunningParley;
  const receiver = new Receiver();
  let admin: string;
  let agent: string;
  const pw = 'correct horse battery';
  const api = (path: string) => `${srv.url}/api/v1/webhooks${path}`;

  before(async () => {
    await receiver.start();
    srv = await startParley({ WEBHOOK_RETRY_BASE_MS: '100', WEBHOOK_MAX_ATTEMPTS: '3' });
    const up = await request(`${srv.url}/api/v1/auth/signup`, { body: { email: 'admin@example.com', password: pw, name: 'Ada Admin' } });
    assert.equal(up.status, 201);
    admin = (await request(`${srv.url}/api/v1/auth/signin`, { body: { email: 'admin@example.com', password: pw } })).body.accessToken;
    const created = await request(`${srv.url}/api/v1/users`, { token: admin, body: { email: 'agent@example.com', password: pw, name: 'Agnes Agent' } });
    assert.equal(created.status, 201);
    agent = (await request(`${srv.url}/api/v1/auth/signin`, { body: { email: 'agent@example.com', password: pw } })).body.accessToken;
    assert.ok(admin && agent);
  });
  after(async () => {
    await srv?.close();
    await receiver.close();
  });

  const register = (body: unknown, token = admin) => request(api('/'), { body, token });
  const newCall = async () => (await request(`${srv.url}/api/v1/calls`, { body: { callerNumber: '01012345678' } })).body.data.call as { id: string };
  const eventsFor = (path: string, callId: string) =>
    receiver
      .at(path)
      .map((r) => ({ r, event: JSON.parse(r.body) as EventBody }))
      .filter(({ event }) => (event.data.call as { id?: string } | undefined)?.id === callId);
  const log = async (id: string) => (await request(api(`/${id}/deliveries?limit=50`), { token: admin })).body as { deliveries: Array<Record<string, unknown>>; total: number };

  test('only admins manage webhooks: no token 401, an agent 403', async () => {
    assert.equal((await request(api('/'))).status, 401);
    const asAgent = await register({ url: 'https://example.com/hook' }, agent);
    assert.equal(asAgent.status, 403);
    assert.equal(asAgent.body.error.code, 'FORBIDDEN');
    assert.equal((await request(api('/'), { token: agent })).status, 403);
    assert.equal((await request(api(`/${randomUUID()}`), { method: 'DELETE', token: agent })).status, 403);
  });

  test('bad input is 400 (URL scheme, event types, ids, paging); unknown webhooks 404', async () => {
    for (const body of [{}, { url: 'ftp://example.com/hook' }, { url: 'not a url' }, { url: 'https://example.com', events: ['call.created'] }, { url: 'https://example.com', events: [] }]) {
      const r = await register(body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.success, false);
      assert.equal(r.body.error.code, 'INVALID_PAYLOAD');
    }
    assert.match((await register({ url: 'ftp://example.com/hook' })).body.error.message, /url/);
    assert.equal((await request(api('/not-a-uuid'), { method: 'DELETE', token: admin })).status, 400);
    const unknown = await request(api(`/${randomUUID()}`), { method: 'DELETE', token: admin });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'NOT_FOUND');
    assert.equal((await request(api(`/${randomUUID()}/deliveries`), { token: admin })).status, 404);
    assert.equal((await request(api(`/${randomUUID()}/deliveries?limit=0`), { token: admin })).status, 400);
  });

  test('call state changes arrive in order, signed, and the delivery log shows them delivered', async () => {
    const created = await register({ url: receiver.on('/ok', () => 200), description: 'CRM sync' });
    assert.equal(created.status, 201);
    const hook = created.body.webhook;
    assert.match(hook.secret, /^whsec_/);
    assert.deepEqual(hook.events, ['*']);
    assert.equal(hook.description, 'CRM sync');
    assert.equal(hook.active, true);
    const listed = await request(api('/'), { token: admin });
    assert.equal(listed.status, 200);
    const mine = listed.body.webhooks.find((w: { id: string }) => w.id === hook.id);
    assert.ok(mine);
    assert.equal(mine.secret, undefined, 'the secret is shown once');

    const call = await newCall();
    assert.equal((await request(`${srv.url}/api/v1/calls/${call.id}/connect`, { method: 'POST' })).status, 200);
    assert.equal((await request(`${srv.url}/api/v1/calls/${call.id}/end`, { method: 'POST' })).status, 200);

    const got = await waitFor('four call.status_changed events', () => eventsFor('/ok', call.id).length >= 4 && eventsFor('/ok', call.id));
    assert.deepEqual(
      got.map(({ event }) => [event.data.from, event.data.to, event.data.cause]),
      [
        ['INITIATING', 'RINGING', 'ringing'],
        ['RINGING', 'CONNECTING', 'answered'],
        ['CONNECTING', 'IN_PROGRESS', 'connected'],
        ['IN_PROGRESS', 'ENDED', 'hung-up'],
      ],
    );
    for (const { r, event } of got) {
      assert.equal(event.type, 'call.status_changed');
      assert.equal(r.headers['parley-event'], 'call.status_changed');
      assert.equal(r.headers['content-type'], 'application/json');
      assert.equal(r.headers['user-agent'], 'Parley-Webhooks/0.1');
      assert.ok(verifySignature(hook.secret, r.body, String(r.headers['parley-signature'])), 'signature verifies');
      assert.equal((event.data.call as { status: string }).status, event.data.to);
      assert.equal((event.data.call as { transitions?: unknown }).transitions, undefined);
    }
    // A tampered body or another secret does not verify.
    const last = got.at(-1)!.r;
    assert.equal(verifySignature(hook.secret, last.body.replace('"ENDED"', '"FAILED"'), String(last.headers['parley-signature'])), false);
    assert.equal(verifySignature('whsec_guess', last.body, String(last.headers['parley-signature'])), false);
    // The call in the event is the same view GET /api/v1/calls/:id shows.
    const { transitions: _t, ...view } = (await request(`${srv.url}/api/v1/calls/${call.id}`)).body.data.call;
    assert.deepEqual(got.at(-1)!.event.data.call, view);

    const deliveries = await waitFor('logged as delivered', async () => {
      const l = await log(hook.id);
      const forCall = l.deliveries.filter((d) => ((d.payload as EventBody).data.call as { id: string }).id === call.id);
      return forCall.length === 4 && forCall.every((d) => d.status === 'delivered') && forCall;
    });
    for (const d of deliveries) {
      assert.equal(d.attempts, 1);
      assert.equal(d.lastStatusCode, 200);
      assert.equal(d.eventType, 'call.status_changed');
      const sent = got.find(({ r }) => r.headers['parley-delivery'] === d.id);
      assert.ok(sent, 'Parley-Delivery names the logged delivery');
      assert.deepEqual(d.payload, sent.event);
      assert.equal(d.eventId, sent.event.id);
    }
    assert.equal((await request(api(`/${hook.id}`), { method: 'DELETE', token: admin })).status, 200);
  });

  test('a receiver answering 500 twice then 200 gets three attempts; the log shows delivered with attempts 3', async () => {
    const hook = (await register({ url: receiver.on('/flaky', (nth) => (nth <= 2 ? 500 : 200)), events: ['call.status_changed'] })).body.webhook;
    const call = await newCall();
    await waitFor('three attempts', () => eventsFor('/flaky', call.id).length >= 3);
    const d = await waitFor('delivered', async () => (await log(hook.id)).deliveries.find((x) => x.status === 'delivered'));
    assert.equal(d.attempts, 3);
    assert.equal(d.lastStatusCode, 200);
    assert.equal(d.lastError, null);
    assert.ok(d.deliveredAt);
    const attempts = eventsFor('/flaky', call.id);
    assert.equal(attempts.length, 3);
    for (const { r } of attempts) assert.ok(verifySignature(hook.secret, r.body, String(r.headers['parley-signature'])));
    assert.equal((await request(api(`/${hook.id}`), { method: 'DELETE', token: admin })).status, 200);
  });

  test('a receiver that always fails ends failed after maxAttempts; redeliver tries once more; a disabled webhook gets nothing', async () => {
    const hook = (await register({ url: receiver.on('/down', () => 503) })).body.webhook;
    const call = await newCall();
    const failed = await waitFor('failed', async () => (await log(hook.id)).deliveries.find((x) => x.status === 'failed'));
    assert.equal(failed.attempts, 3);
    assert.equal(failed.lastStatusCode, 503);
    assert.match(String(failed.lastError), /^HTTP 503/);
    assert.equal(failed.nextAttemptAt, null);
    assert.equal(eventsFor('/down', call.id).length, 3);

    const redo = await request(api(`/${hook.id}/deliveries/${String(failed.id)}/redeliver`), { method: 'POST', token: admin });
    assert.equal(redo.status, 200);
    assert.equal(redo.body.delivery.status, 'pending');
    const again = await waitFor('failed again', async () => (await log(hook.id)).deliveries.find((x) => x.status === 'failed' && x.attempts === 4));
    assert.equal(again.lastStatusCode, 503);
    assert.equal(eventsFor('/down', call.id).length, 4);
    assert.equal((await request(api(`/${hook.id}/deliveries/${randomUUID()}/redeliver`), { method: 'POST', token: admin })).status, 404);

    const disabled = await request(api(`/${hook.id}`), { method: 'DELETE', token: admin });
    assert.equal(disabled.status, 200);
    assert.equal(disabled.body.webhook.active, false);
    assert.ok(disabled.body.webhook.disabledAt);
    const refused = await request(api(`/${hook.id}/deliveries/${String(failed.id)}/redeliver`), { method: 'POST', token: admin });
    assert.equal(refused.status, 409);

    // A second, healthy webhook proves the next call's events went out; the disabled one got none.
    const watcher = (await register({ url: receiver.on('/watcher', () => 200) })).body.webhook;
    const next = await newCall();
    await waitFor('the watcher saw the next call', () => eventsFor('/watcher', next.id).length >= 1);
    assert.equal(eventsFor('/down', next.id).length, 0);
    assert.equal((await request(api(`/${watcher.id}`), { method: 'DELETE', token: admin })).status, 200);
  });
});
