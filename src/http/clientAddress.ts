/**
 * Who the client is, behind proxies or not: one rule (TRUST_PROXY) for HTTP and Socket.IO.
 *
 * Fastify is given the same trust function (`trustFunction`) that `clientAddress` uses for a
 * Socket.IO handshake, and both resolve the address with @fastify/proxy-addr (what Fastify
 * itself uses), so a rate limit keyed on the address means the same client on both.
 *
 * Off (the default): X-Forwarded-For is ignored and the client is the TCP peer, so a forged
 * header changes nothing. A list of addresses/CIDRs trusts exactly those proxies. A hop count
 * trusts that many proxies in front of the server whatever their address: only safe when the
 * server cannot be reached except through them.
 */
import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

export type TrustProxy = { kind: 'off' } | { kind: 'hops'; hops: number } | { kind: 'addresses'; addresses: string[] };

/** `(address, hopIndex) => trusted`, as Fastify's `trustProxy` option and proxy-addr take it. */
export type TrustFunction = (address: string, hop: number) => boolean;

/** Names proxy-addr understands besides addresses and CIDRs. */
const namedRanges = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * Parses TRUST_PROXY: unset/"false"/"0" → off; a whole number → hops; otherwise a comma-separated
 * list of IPs, CIDRs or loopback/linklocal/uniquelocal. Throws with a sentence on anything else.
 */
export function parseTrustProxy(value: string | undefined): TrustProxy {
  const v = (value ?? '').trim();
  if (v === '' || v === 'false' || v === '0') return { kind: 'off' };
  if (v === 'true') throw new Error('"true" would trust a forged X-Forwarded-For from anyone; give the proxy\'s address (e.g. 127.0.0.1 or 10.0.0.0/8) or a hop count (e.g. 1)');
  if (/^\d+$/.test(v)) return { kind: 'hops', hops: Number(v) };
  const addresses = v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const a of addresses) {
    if (namedRanges.has(a)) continue;
    try {
      proxyAddr.compile(a);
    } catch {
      throw new Error(`"${a}" is not an IP address or CIDR range (e.g. 127.0.0.1, 10.0.0.0/8, ::1, loopback)`);
    }
  }
  return { kind: 'addresses', addresses };
}

export function trustFunction(rule: TrustProxy): TrustFunction {
  switch (rule.kind) {
    case 'off':
      return () => false;
    case 'hops':
      return (_address, hop) => hop < rule.hops;
    case 'addresses':
      return proxyAddr.compile(rule.addresses);
  }
}

/** The client address of a request or a Socket.IO handshake (`socket.request`) under the rule. */
export function clientAddress(req: IncomingMessage, trust: TrustFunction): string {
  return proxyAddr(req, trust);
}

/** A line for the start-up log. */
export function describeTrustProxy(rule: TrustProxy): string {
  switch (rule.kind) {
    case 'off':
      return 'X-Forwarded-For is ignored (TRUST_PROXY unset): client addresses are the TCP peers';
    case 'hops':
      return `X-Forwarded-For is trusted through ${rule.hops} proxy hop(s) (TRUST_PROXY=${rule.hops}); make sure the server is reachable only through them`;
    case 'addresses':
      return `X-Forwarded-For is trusted from ${rule.addresses.join(', ')} (TRUST_PROXY)`;
  }
}
