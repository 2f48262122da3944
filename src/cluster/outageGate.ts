/**
 * While Redis is away, this node cannot tell the others about a new call (its room, its
 * queue place, its sockets), so requests that start one are refused at once with 503
 * CLUSTER_UNAVAILABLE and a sentence saying to retry, instead of half-working. Calls in
 * progress are not touched: their media flows node to browser, without Redis.
 */
import type { FastifyInstance } from 'fastify';
import { ParleyError } from '../errors.js';

/** POST routes that start new work (seed 001 calls, consultations). */
const startsWork = new Set(['/api/v1/calls', '/api/v1/calls/', '/api/v1/consultations', '/api/v1/consultations/']);

export function refuseNewWorkDuringOutage(http: FastifyInstance, isDown: () => boolean): void {
  http.addHook('onRequest', async (req) => {
    if (req.method !== 'POST' || !isDown()) return;
    const path = req.url.split('?')[0] ?? '';
    if (!startsWork.has(path)) return;
    throw new ParleyError('CLUSTER_UNAVAILABLE', 'this server cannot reach Redis, which the servers share, so it takes no new calls right now; calls in progress go on. Try again in a few seconds.');
  });
}
