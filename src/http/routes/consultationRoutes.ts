/**
 * Consultations over REST: the customer starts one from the landing page (with the QR's entry
 * token, no sign-in); agents and admins read history and details and write notes.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callStatuses } from '../../domain/calls/callStatus.js';
import type { ConsultationService } from '../../domain/consultations/consultationService.js';
import { dispositions, noteView } from '../../domain/consultations/consultationView.js';
import { identityOf, type AuthHooks } from '../authHooks.js';
import { rateLimitedReply } from '../errorHandling.js';
import { bearerSecurity, errorBody } from './schemas.js';

export interface ConsultationRoutesDeps {
  consultations: ConsultationService;
  auth: AuthHooks;
  /** Consultations one client address may start per minute. */
  startsPerMinute: number;
}

const consultationBody = z.object({
  id: z.string(),
  status: z.enum(callStatuses),
  channel: z.enum(['consultation', 'api']),
  customer: z.object({ name: z.string().nullable(), phone: z.string() }),
  inquiry: z.string().nullable(),
  recordingConsent: z.boolean(),
  entryPoint: z.object({ id: z.string(), name: z.string() }).nullable(),
  agent: z.object({ id: z.string(), name: z.string() }).nullable(),
  roomId: z.string().nullable(),
  disposition: z.string().nullable(),
  failureCause: z.string().nullable(),
  createdAt: z.string(),
  answeredAt: z.string().nullable(),
  connectedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  waitSeconds: z.number(),
  durationSeconds: z.number().nullable(),
  callback: z.object({ phone: z.string(), requestedAt: z.string() }).nullable().describe('the customer asked to be called back (no agent was online)'),
});

const noteBody = z.object({ id: z.string(), authorId: z.string(), authorName: z.string().nullable(), body: z.string(), disposition: z.string().nullable(), createdAt: z.string() });

const detailBody = consultationBody.extend({
  transitions: z.array(z.object({ from: z.enum(callStatuses).nullable(), to: z.enum(callStatuses), cause: z.string(), at: z.string() })),
  events: z.array(z.object({ type: z.string(), actorId: z.string().nullable(), detail: z.record(z.string(), z.unknown()).nullable(), at: z.string() })),
  participants: z.array(z.object({ role: z.string(), userId: z.string().nullable(), name: z.string(), joinedAt: z.string(), leftAt: z.string().nullable() })),
  notes: z.array(noteBody),
});

const idParams = z.object({ id: z.uuid('must be a consultation id (UUID)') });
const isoDate = z.iso.datetime({ offset: true, error: 'must be an ISO date-time such as 2026-11-25T00:00:00Z' }).transform((s) => new Date(s));

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
          body: z.object({
            entryToken: z.string().min(10).max(2048),
            name: z.string().trim().min(1, 'enter your name').max(80),
            phone: z.string().trim().min(3).max(32),
            inquiry: z.string().trim().max(2000).default(''),
            recordingConsent: z.literal(true, { error: 'you must agree to recording before calling' }),
          }),
          response: { 201: z.object({ consultation: consultationBody, customerToken: z.string(), roomId: z.string() }), 400: errorBody, 401: errorBody, 404: errorBody, 429: errorBody },
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
          querystring: z.object({
            from: isoDate.optional(),
            to: isoDate.optional(),
            agentId: z.string().min(1).max(64).optional(),
            status: z.enum(callStatuses).optional(),
            limit: z.coerce.number().int().min(1).max(200).default(50),
            offset: z.coerce.number().int().min(0).default(0),
          }),
          response: { 200: z.object({ consultations: z.array(consultationBody), total: z.number() }), 400: errorBody, 401: errorBody, 403: errorBody },
        },
      },
      async (req) => consultations.history(identityOf(req), { ...req.query, channel: 'consultation' }),
    );

    app.get(
      '/:id',
      {
        preHandler: auth.require('agent'),
        schema: { ...staff, summary: 'One consultation: timeline, participants, notes', params: idParams, response: { 200: z.object({ consultation: detailBody }), 401: errorBody, 403: errorBody, 404: errorBody } },
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
          body: z.object({ body: z.string().trim().min(1, 'write something').max(10_000), disposition: z.enum(dispositions).optional() }),
          response: { 201: z.object({ note: noteBody }), 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody },
        },
      },
      async (req, reply) => reply.status(201).send({ note: noteView(await consultations.addNote(identityOf(req), req.params.id, req.body)) }),
    );
  };
