/** Seed 001: `GET /api/v1/calls/config` — the RTCPeerConnection configuration, with fresh TURN credentials. */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { IceServerProvider } from '../../ice/iceServers.js';
import type { AuthHooks } from '../authHooks.js';
import { errorBody } from './schemas.js';

const iceServer = z.object({ urls: z.union([z.string(), z.array(z.string())]), username: z.string().optional(), credential: z.string().optional() });

export const callConfigRoutes =
  ({ ice, auth }: { ice: IceServerProvider; auth: AuthHooks }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/config',
      {
        preHandler: auth.optionalCredential(),
        schema: {
          tags: ['calls'],
          summary: 'WebRTC configuration: STUN, and TURN with short-lived credentials (TURN REST API)',
          response: {
            200: z.object({
              success: z.literal(true),
              data: z.object({
                config: z.object({
                  iceServers: z.array(iceServer),
                  iceCandidatePoolSize: z.number(),
                  iceTransportPolicy: z.enum(['all', 'relay']),
                  bundlePolicy: z.literal('max-bundle'),
                  rtcpMuxPolicy: z.literal('require'),
                }),
              }),
            }),
            401: errorBody,
          },
        },
      },
      async (req) => ({
        success: true as const,
        data: {
          config: {
            iceServers: ice.forUser(req.identity?.userId ?? `guest-${randomUUID().slice(0, 8)}`),
            iceCandidatePoolSize: 10,
            iceTransportPolicy: 'all' as const,
            bundlePolicy: 'max-bundle' as const,
            rtcpMuxPolicy: 'require' as const,
          },
        },
      }),
    );
  };
