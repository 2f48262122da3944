/**
 * Seed 004 (openvidu-control-server): `POST /token {roomName, participantName} → {token}`.
 *
 * Who may ask: with the LiveKit key pair (`Authorization: Basic base64(LIVEKIT_API_KEY:LIVEKIT_API_SECRET)`,
 * what the integrator's backend holds), a signed-in agent or admin, or — when
 * ALLOW_ANONYMOUS_ROOM_TOKENS is on (development's default) — anyone. The token admits its
 * holder to that one open room; consultations' rooms cannot be named.
 */
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { hasRole } from '../../auth/identity.js';
import type { TokenService } from '../../auth/tokens.js';
import { isReservedRoomName, reservedRoomMessage } from '../../domain/roomRef.js';
import { ParleyError } from '../../errors.js';
import type { RequestAuthenticator } from '../authHooks.js';
import { integratorCaller } from '../integratorCredential.js';
import { errorBody } from './schemas.js';

const name = z.string().trim().min(1, 'must not be empty').max(128).refine((s) => !/[\u0000-\u001f]/.test(s), 'must not contain control characters');

export interface TokenRouteOptions {
  tokens: TokenService;
  authenticator: RequestAuthenticator;
  allowAnonymous: boolean;
  apiKey?: { key: string; secret: string };
}

/** Resolves when the request may mint a room token; throws UNAUTHORIZED/FORBIDDEN otherwise. */
async function assertMayIssue(req: FastifyRequest, opts: TokenRouteOptions): Promise<void> {
  const caller = await integratorCaller(req, opts);
  if (caller?.kind === 'api-key') return;
  if (caller?.kind === 'account') {
    if (!hasRole(caller.identity, 'agent')) throw new ParleyError('FORBIDDEN', 'room tokens are issued to agents and admins');
    return;
  }
  if (opts.allowAnonymous) return;
  throw new ParleyError(
    'UNAUTHORIZED',
    'POST /token needs credentials: HTTP Basic LIVEKIT_API_KEY:LIVEKIT_API_SECRET from your backend, or an agent\'s access token (ALLOW_ANONYMOUS_ROOM_TOKENS=true opens it to anyone)',
  );
}

export const tokenRoutes =
  (opts: TokenRouteOptions): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/token',
      {
        // Credentials first: an anonymous caller learns nothing from the body's validation.
        onRequest: async (req) => assertMayIssue(req, opts),
        schema: {
          tags: ['tokens'],
          summary: 'Issue a room join token (JWT) for one participant of one room',
          description:
            'The token is accepted by every Parley socket namespace (auth.token or ?token=) and only lets its holder into `roomName`. Claims: sub/name = participantName, video = { room, roomJoin: true }. Room names starting with "call-" belong to consultations and are refused.',
          body: z.object({ roomName: name.refine((n) => !isReservedRoomName(n), reservedRoomMessage), participantName: name }),
          response: { 200: z.object({ token: z.string() }), 400: errorBody, 401: errorBody, 403: errorBody },
        },
      },
      async (req) => {
        const { token } = await opts.tokens.issueRoomToken({ room: req.body.roomName, participant: req.body.participantName });
        return { token };
      },
    );
  };
