/**
 * Consultations over REST: the customer starts one from the landing page (with the QR's entry
 * token, no sign-in); agents and admins read history and details and write notes.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ConsultationService } from '../../domain/consultations/consultationService.js';
import { noteView } from '../../domain/consultations/consultationView.js';
import { identityOf, type AuthHooks } from '../authHooks.js';
import { rateLimitedReply } from '../errorHandling.js';
import { addNoteRequest, consultationDetailBody, historyAnswer, historyQuery, noteBody, startConsultationAnswer, startConsultationRequest } from '../../contracts/rest.js';
import { bearerSecurity, errorBody } from './schemas.js';

export interface ConsultationRoutesDeps {
  consultations: ConsultationService;
  auth: AuthHooks;
  /** Consultations one client address may start per minute. */
  startsPerMinute: number;
}

const idParams = z.object({ id: z.uuid('must be a consultation id (UUID)') });

export const consultationRoutes =
  ({ consultations, auth, startsPerMinute }: ConsultationRoutesDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['consultations'];
    const staff = { tags, security: bearerSecurity };

    app.post(
      '/',
      {
        config: { rateLimit: { max: startsPerMinute, timeWindow: 60_000, errorResponseBuilder: rateLimitedReply } },
        schema: {
          tags,
          summary: 'Start a consultation from a QR entry (no sign-in; the entry token is the ticket)',
          body: startConsultationRequest,
          response: { 201: startConsultationAnswer, 400: errorBody, 401: errorBody, 404: errorBody, 429: errorBody },
        },
      },
      async (req, reply) => reply.status(201).send(await consultations.start(req.body)),
    );

    app.get(
      '/',
      {
        preHandler: auth.require('agent'),
        schema: {
          ...staff,
          summary: 'Call history, newest first (agents see their own)',
          querystring: historyQuery,
          response: { 200: historyAnswer, 400: errorBody, 401: errorBody, 403: errorBody },
        },
      },
      async (req) => consultations.history(identityOf(req), { ...req.query, channel: 'consultation' }),
    );

    app.get(
      '/:id',
      {
        preHandler: auth.require('agent'),
        schema: { ...staff, summary: 'One consultation: timeline, participants, notes', params: idParams, response: { 200: z.object({ consultation: consultationDetailBody }), 401: errorBody, 403: errorBody, 404: errorBody } },
      },
      async (req) => ({ consultation: await consultations.detail(identityOf(req), req.params.id) }),
    );

    app.post(
      '/:id/notes',
      {
        preHandler: auth.require('agent'),
        schema: {
          ...staff,
          summary: "Add a note (and the disposition) to a consultation (its agent or an admin)",
          params: idParams,
          body: addNoteRequest,
          response: { 201: z.object({ note: noteBody }), 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody },
        },
      },
      async (req, reply) => reply.status(201).send({ note: noteView(await consultations.addNote(identityOf(req), req.params.id, req.body)) }),
    );
  };
