/**
 * Operations: configuration validated at start, graceful shutdown on SIGTERM, CORS
 * allow-list, OpenAPI + Swagger UI, and Prometheus text beside the seed's JSON metrics.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { configVariables } from '../src/config/config.js';
import { request, startParley, type RunningParley } from './support/parleyServer.js';
import { spawnServer, waitForListening } from './support/serverProcess.js';
import { connect, once } from './support/sockets.js';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('configuration is validated at start', () => {
  test('.env.example lists every variable the server reads', () => {
    const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    assert.ok(configVariables.length > 20);
    for (const name of configVariables) assert.match(example, new RegExp(`^#? ?${name}=`, 'm'), `${name} missing from .env.example`);
  });

  test('each bad variable is named with what is wrong, and the process exits 78', async () => {
    const p = spawnServer({ PORT: 'abc', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', JWT_SECRET: 'short', RATE_LIMIT_MAX: '-5' });
    assert.equal(await p.exited, 78);
    const out = p.output();
    assert.match(out, /PORT: must be a port number \(0-65535\) \(got "abc"\)/);
    assert.match(out, /LOG_LEVEL: .*"info".* \(got "loud"\)/);
    assert.match(out, /DATABASE_URL: must start with postgres:\/\//);
    assert.match(out, /JWT_SECRET: must be at least 32 characters/);
    assert.match(out, /RATE_LIMIT_MAX: must be greater than 0 \(got "-5"\)/);
    assert.match(out, /See \.env\.example/);
  });

  test('rules between variables are checked too', async () => {
    const p = spawnServer({ TURN_URLS: 'turn:127.0.0.1:3478', AUTH_MODE: 'external' });
    assert.equal(await p.exited, 78);
    assert.match(p.output(), /TURN_SECRET: is required when TURN_URLS is set/);
    assert.match(p.output(), /AUTH_MODE=external needs NEXTJS_URL or AUTH_VERIFY_URL/);
  });

  test('production refuses to start without JWT_SECRET', async () => {
    const p = spawnServer({ NODE_ENV: 'production', PORT: String(await freePort()) });
    assert.equal(await p.exited, 78);
    assert.match(p.output(), /JWT_SECRET: is required in production/);
  });
});

describe('graceful shutdown on SIGTERM', () => {
  test('tells connected peers, disconnects them, exits 0 within the bound, and stops listening', async () => {
    const port = await freePort();
    const p = spawnServer({ PORT: String(port), SHUTDOWN_TIMEOUT_MS: '5000' });
    try {
      await waitForListening(p);
      const url = `http://127.0.0.1:${port}`;
      const a = await connect(url, { auth: { userId: 'a' } });
      const sig = await connect(`${url}/signaling`);
      const b = await connect(`${url}/signaling`);
      await sig.emitWithAck('join-session', { sessionId: 's', peerId: 'sig-peer' });
      await b.emitWithAck('join-session', { sessionId: 's', peerId: 'b-peer' });
      const notice = once(a, 'server-shutdown', 5000);
      const sigNotice = once(sig, 'server-shutdown', 5000);
      const disconnected = once(a, 'disconnect', 5000);
      const started = Date.now();
      p.child.kill('SIGTERM');
      assert.deepEqual(await notice, { reason: 'SIGTERM', reconnect: true });
      assert.equal((await sigNotice).reason, 'SIGTERM');
      assert.equal(await disconnected, 'io server disconnect');
      assert.equal(await p.exited, 0);
      assert.ok(Date.now() - started < 5000, 'closed within SHUTDOWN_TIMEOUT_MS');
      await assert.rejects(fetch(`${url}/health`));
      assert.match(p.output(), /draining: telling peers and closing/);
      a.close();
      sig.close();
      b.close();
    } finally {
      p.child.kill('SIGKILL');
    }
  });
});

describe('HTTP operations surface', () => {
  let srv: RunningParley;
  before(async () => {
    srv = await startParley({ ALLOWED_ORIGINS: 'https://console.example.com,https://app.example.com' });
  });
  after(() => srv?.close());

  test('CORS allows the listed origins only', async () => {
    const ok = await fetch(`${srv.url}/api/v1/calls/config`, { headers: { origin: 'https://console.example.com' } });
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://console.example.com');
    const pre = await fetch(`${srv.url}/token`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'https://app.example.com');
    const evil = await fetch(`${srv.url}/api/v1/calls/config`, { headers: { origin: 'https://evil.example.net' } });
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
    const sioEvil = await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: 'https://evil.example.net' } });
    assert.equal(sioEvil.headers.get('access-control-allow-origin'), null);
    const sioOk = await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: 'https://console.example.com' } });
    assert.equal(sioOk.headers.get('access-control-allow-origin'), 'https://console.example.com');
  });

  test('OpenAPI document and Swagger UI at /api/docs', async () => {
    const ui = await fetch(`${srv.url}/api/docs/`);
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /swagger-ui/i);
    const { status, body } = await request(`${srv.url}/api/docs/json`);
    assert.equal(status, 200);
    assert.match(body.openapi, /^3\./);
    for (const path of ['/token', '/health', '/api/v1/calls/config', '/api/v1/auth/signin', '/api/v1/auth/signup', '/api/v1/users/{id}']) {
      assert.ok(body.paths[path], `OpenAPI lists ${path}`);
    }
    assert.ok(body.paths['/token'].post.requestBody.content['application/json'].schema.properties.roomName);
  });

  test('metrics: seed JSON by default, Prometheus text when asked', async () => {
    const json = await request(`${srv.url}/metrics`);
    assert.equal(typeof json.body.connections, 'number');
    const prom = await fetch(`${srv.url}/metrics`, { headers: { accept: 'text/plain;version=0.0.4;q=0.9,*/*;q=0.1' } });
    assert.match(prom.headers.get('content-type') ?? '', /text\/plain/);
    const text = await prom.text();
    assert.match(text, /# TYPE parley_socket_connections gauge/);
    assert.match(text, /parley_process_resident_memory_bytes \d+/);
    assert.match(text, /parley_http_requests_total\{method="GET",route="\/metrics",status="200"\}/);
  });

  test('the server serves the Socket.IO client and the demo pages', async () => {
    assert.equal((await fetch(`${srv.url}/socket.io/socket.io.js`)).status, 200);
    const home = await fetch(`${srv.url}/`);
    assert.equal(home.status, 200);
    assert.match(await home.text(), /Parley/);
  });
});
