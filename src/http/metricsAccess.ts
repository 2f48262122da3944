/**
 * Who may read /metrics. The JSON lists rooms and the Prometheus text every counter, so:
 *  - METRICS_PORT set: /metrics lives only on that listener (bind it to a private address);
 *    the public port answers 404;
 *  - METRICS_TOKEN set: `Authorization: Bearer <METRICS_TOKEN>` (Prometheus' `authorization`
 *    setting) or an admin's access token;
 *  - neither: development serves it to anyone, without consultations' rooms; production only
 *    to admins.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { hasRole } from '../auth/identity.js';
import { ParleyError } from '../errors.js';
import { bearerToken, type RequestAuthenticator } from './authHooks.js';

/** `full`: every room; `public`: consultations' rooms left out. */
export type MetricsView = 'full' | 'public';
export type MetricsGate = (req: FastifyRequest) => Promise<MetricsView>;

export interface MetricsAccessOptions {
  posture: 'development' | 'production';
  token?: string;
  /** True when /metrics is served on its own listener instead of the public port. */
  ownListener: boolean;
  authenticator: RequestAuthenticator;
}

function matches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The gate of the public port's /metrics. */
export function metricsGate(opts: MetricsAccessOptions): MetricsGate {
  return async (req) => {
    if (opts.ownListener) throw new ParleyError('NOT_FOUND', 'metrics are served on METRICS_HOST:METRICS_PORT');
    const token = bearerToken(req);
    if (token !== undefined) {
      if (opts.token !== undefined && matches(token, opts.token)) return 'full';
      const identity = await opts.authenticator.authenticateAccount(token).catch(() => undefined);
      if (identity && hasRole(identity, 'admin')) return 'full';
      throw new ParleyError('UNAUTHORIZED', 'this token does not open /metrics (METRICS_TOKEN or an admin access token)');
    }
    if (opts.token === undefined && opts.posture === 'development') return 'public';
    throw new ParleyError('UNAUTHORIZED', '/metrics needs Authorization: Bearer <METRICS_TOKEN> or an admin access token');
  };
}

/** The gate of the metrics listener: its address is its protection. */
export const openMetrics: MetricsGate = async () => 'full';
