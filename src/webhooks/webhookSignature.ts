/**
 * Webhook signatures, Stripe-style. Each POST carries
 *
 *   Parley-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *
 * The timestamp is part of the signed text, so a captured request cannot be replayed outside
 * the tolerance window. Integrators can import `verifySignature` (or copy its dozen lines, see
 * docs/webhooks.md); Parley signs with `signPayload` on every attempt.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const signatureHeader = 'Parley-Signature';

/** Five minutes, as Stripe: enough for clock skew, short enough to make replays useless. */
export const defaultToleranceSeconds = 300;

export type SignedBody = string | Uint8Array;

function hmacHex(secret: string, timestampSeconds: number, body: SignedBody): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestampSeconds}.`);
  mac.update(body);
  return mac.digest('hex');
}

/** The `Parley-Signature` header value for `body` (the exact bytes sent) at `timestampSeconds`. */
export function signPayload(secret: string, body: SignedBody, timestampSeconds: number): string {
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) throw new RangeError('timestampSeconds must be a non-negative integer (unix seconds)');
  return `t=${timestampSeconds},v1=${hmacHex(secret, timestampSeconds, body)}`;
}

export interface ParsedSignature {
  timestamp: number;
  /** Every `v1=` value (more than one while a secret is being rotated). */
  signatures: string[];
}

/** Parses `t=…,v1=…[,v1=…]`; undefined when there is no usable timestamp or no v1 value. */
export function parseSignatureHeader(header: string): ParsedSignature | undefined {
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) signatures.push(value.toLowerCase());
  }
  return timestamp === undefined || signatures.length === 0 ? undefined : { timestamp, signatures };
}

export interface VerifyOptions {
  /** Largest allowed distance between the signed timestamp and `now`; default 300 s. */
  toleranceSeconds?: number;
  /** The current time: a Date, or unix seconds. Default: the system clock. */
  now?: Date | number;
}

/**
 * True when `header` carries a v1 signature of `body` made with `secret`, and its timestamp
 * is within `toleranceSeconds` of `now`. Pass the raw request body, before any JSON parsing:
 * re-serialised JSON is not byte-identical.
 */
export function verifySignature(secret: string, body: SignedBody, header: string | undefined | null, options: VerifyOptions = {}): boolean {
  if (!header) return false;
  const parsed = parseSignatureHeader(header);
  if (!parsed) return false;
  const tolerance = options.toleranceSeconds ?? defaultToleranceSeconds;
  const now = options.now === undefined ? Date.now() / 1000 : options.now instanceof Date ? options.now.getTime() / 1000 : options.now;
  if (Math.abs(now - parsed.timestamp) > tolerance) return false;
  const expected = Buffer.from(hmacHex(secret, parsed.timestamp, body), 'hex');
  return parsed.signatures.some((candidate) => {
    const given = Buffer.from(candidate, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
