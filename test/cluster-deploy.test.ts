/**
 * compose.yml, deploy/haproxy.cfg and the Dockerfile stay in step (issue 13 §operators):
 * every Parley service of the compose file is a server of HAProxy's backend and the other
 * way round, each has a NODE_ID of its own and a media port range no other node uses, and
 * the checks CI runs (scripts/check-deploy.sh) pass.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';

const root = new URL('..', import.meta.url).pathname;

test('compose.yml and deploy/haproxy.cfg name the same nodes, each with its own id and media ports', () => {
  const resolved = parse(
    execFileSync('docker-compose', ['-f', 'compose.yml', 'config'], { cwd: root, env: { ...process.env, JWT_SECRET: 'x', TURN_SECRET: 'y' } }).toString(),
  ) as { services: Record<string, { environment?: Record<string, string>; ports?: Array<{ target: number; published: string | number; protocol: string }> }> };
  const nodes = Object.entries(resolved.services).filter(([, s]) => s.environment?.REDIS_URL);
  assert.ok(nodes.length >= 3, `three Parley nodes at least (got ${nodes.map(([n]) => n).join(', ')})`);
  for (const need of ['redis', 'postgres', 'coturn', 'haproxy']) assert.ok(resolved.services[need], `${need} is in compose.yml`);
  const ids = nodes.map(([, s]) => s.environment!.NODE_ID);
  assert.equal(new Set(ids).size, nodes.length, 'every node has its own NODE_ID');
  const ranges = nodes.map(([, s]) => [Number(s.environment!.MEDIA_PORT_MIN), Number(s.environment!.MEDIA_PORT_MAX)] as const);
  for (const [i, [lo, hi]] of ranges.entries()) for (const [j, [lo2, hi2]] of ranges.entries()) if (i !== j) assert.ok(hi < lo2 || hi2 < lo, 'media port ranges do not overlap');

  const cfg = readFileSync(new URL('../deploy/haproxy.cfg', import.meta.url), 'utf8');
  const servers = [...cfg.matchAll(/^\s*server\s+(\S+)\s+(\S+):(\d+)/gm)];
  assert.deepEqual(servers.map((m) => m[2]).sort(), nodes.map(([n]) => n).sort(), 'HAProxy balances exactly the compose nodes');
  // WRONG_NODE names a NODE_ID and the client asks the balancer for it (?node=): names must match.
  assert.deepEqual(servers.map((m) => m[1]).sort(), [...ids].sort(), "HAProxy's server names are the nodes' NODE_IDs");
  for (const id of ids) assert.ok(cfg.includes(`use-server ${id} if { url_param(node) -m str ${id} }`), `a use-server rule for ${id}`);
  assert.match(cfg, /option httpchk GET \/health/);
  assert.match(cfg, /cookie SERVERID insert/, 'sticky sessions for the long-polling fallback');
});

test('the CI check of the deploy files passes', () => {
  const out = execFileSync('bash', ['scripts/check-deploy.sh'], { cwd: root }).toString();
  assert.match(out, /check out/);
});
