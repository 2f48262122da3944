/**
 * Which hosts a webhook may be sent to. By default only public (global unicast) addresses:
 * loopback, RFC 1918, link-local (169.254.169.254, the cloud metadata service), CGNAT, IPv6
 * ULA / loopback / link-local, IPv4-mapped and NAT64 forms of those, multicast, reserved and
 * unspecified addresses are refused, so the delivery log cannot be used to probe the
 * server's own network. `WEBHOOK_ALLOW_PRIVATE=true` lifts the rule (a receiver on the same
 * host or LAN).
 *
 * The rule is applied twice: to the URL when an endpoint is registered (a clear 400), and to
 * the address actually connected to at delivery time, through a `lookup` that resolves,
 * keeps the allowed addresses and hands only those to the socket (a name that resolved to a
 * public address at registration and to 127.0.0.1 later — DNS rebinding — is refused).
 * Encoded IPv4 forms (`http://2130706433/`, `0x7f.1`, `127.1`) reach here already normalised
 * by the WHATWG URL parser.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Resolves a host name to every address it has (dns.lookup with all: true, by default). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

/** The range name of a non-public address (e.g. "loopback", "private"), or undefined for a public one. */
export function nonPublicRange(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return 'invalid';
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  const range = ip.range();
  return range === 'unicast' ? undefined : range;
}

/** A webhook target on an address Parley does not send to. */
export class BlockedTargetError extends Error {
  readonly code = 'EWEBHOOKTARGET';
  constructor(host: string, address: string, range: string) {
    super(
      `${host === address ? address : `${host} (${address})`} is a ${range} address; webhooks go to public addresses only ` +
        `(set WEBHOOK_ALLOW_PRIVATE=true to allow private targets)`,
    );
    this.name = 'BlockedTargetError';
  }
}

function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/** Names that are local by definition (RFC 6761), refused without asking DNS. */
const localNames = /(^|\.)(localhost|localdomain|local|internal|home\.arpa)$/i;

export class WebhookTargetPolicy {
  constructor(
    private readonly allowPrivate: boolean,
    private readonly resolver: Resolver = systemResolver,
    /** Longest wait for DNS at registration; a name that does not resolve yet is accepted (delivery checks again). */
    private readonly registrationLookupMs = 2_000,
  ) {}

  /**
   * Throws a BlockedTargetError when `url` names, or resolves to, a non-public address.
   * Used when an endpoint is registered.
   */
  async assertAllowed(url: string): Promise<void> {
    if (this.allowPrivate) return;
    const parsed = new URL(url);
    const host = bareHost(parsed);
    if (isIP(host)) {
      const range = nonPublicRange(host);
      if (range) throw new BlockedTargetError(host, host, range);
      return;
    }
    if (localNames.test(host.replace(/\.$/, ''))) throw new BlockedTargetError(host, host, 'local');
    let timer: NodeJS.Timeout | undefined;
    const addresses = await Promise.race([
      this.resolver(host).catch(() => [] as LookupAddress[]),
      new Promise<LookupAddress[]>((resolve) => {
        timer = setTimeout(() => resolve([]), this.registrationLookupMs);
      }),
    ]).finally(() => clearTimeout(timer));
    for (const a of addresses) {
      const range = nonPublicRange(a.address);
      if (range) throw new BlockedTargetError(host, a.address, range);
    }
  }

  /** The literal address of `url` when it is not allowed (a literal is connected to without any lookup). */
  blockedLiteral(url: URL): BlockedTargetError | undefined {
    if (this.allowPrivate) return undefined;
    const host = bareHost(url);
    if (!isIP(host)) return undefined;
    const range = nonPublicRange(host);
    return range ? new BlockedTargetError(host, host, range) : undefined;
  }

  /**
   * A `lookup` for http.request / net.connect that resolves the name and passes on only
   * allowed addresses, so the socket connects to an address that was checked.
   */
  lookup(): LookupFunction {
    return ((hostname: string, options: { all?: boolean; family?: number }, callback: (...args: unknown[]) => void) => {
      this.resolver(hostname).then(
        (addresses) => {
          const family = options.family === 4 || options.family === 6 ? options.family : undefined;
          const candidates = family ? addresses.filter((a) => a.family === family) : addresses;
          const allowed = this.allowPrivate ? candidates : candidates.filter((a) => nonPublicRange(a.address) === undefined);
          if (allowed.length === 0) {
            const first = candidates[0];
            const err = first ? new BlockedTargetError(hostname, first.address, nonPublicRange(first.address) ?? 'unknown') : Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' });
            callback(err, options.all ? [] : '', 0);
            return;
          }
          if (options.all) callback(null, allowed);
          else callback(null, allowed[0]!.address, allowed[0]!.family);
        },
        (err: unknown) => callback(err, options.all ? [] : '', 0),
      );
    }) as unknown as LookupFunction;
  }
}
