/** Seed 004 (openvidu-control-server): `POST /token {roomName, participantName} → {token}`. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { TokenService } from '../../auth/tokens.js';
import { errorBody } from './schemas.js';

const name = z.string().trim().min(1, 'must not be empty').max(128).refine((s) => !/[\u0000-\u001f]/.test(s), 'must not contain control characters');

export const tokenRoutes =
  ({ tokens }: { tokens: TokenService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/token',
      {
        schema: {
          tags: ['tokens'],
          summary: 'Issue a room join token (JWT) for one participant of one room',
          description:
            'The token is accepted by every Parley socket namespace (auth.token or ?token=) and only lets its holder into `roomName`. Claims: sub/name = participantName, video = { room, roomJoin: true }.',
          body: z.object({ roomName: name, participantName: name }),
          response: { 200: z.object({ token: z.string() }), 400: errorBody },
        },
      },
      async (req) => {
        const { token } = await tokens.issueRoomToken({ room: req.body.roomName, participant: req.body.participantName });
        return { token };
      },
    );
  };
