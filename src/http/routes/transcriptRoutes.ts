/**
 * Transcripts over REST: a consultation's (its agent, admins), exported as JSON, plain text,
 * WebVTT or SRT; an open room's (admins); and search over what the viewer may read.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Utterance } from '../../domain/transcripts/transcript.js';
import { contentTypes, transcriptFormats, utteranceJson } from '../../domain/transcripts/transcriptExport.js';
import type { TranscriptService } from '../../domain/transcripts/transcriptService.js';
import { identityOf, type AuthHooks } from '../authHooks.js';
import { bearerSecurity, errorBody } from './schemas.js';

const utteranceBody = z.object({
  id: z.string(),
  consultationId: z.string().nullable(),
  roomId: z.string(),
  utteranceId: z.string(),
  speaker: z.object({ role: z.enum(['customer', 'agent', 'bot', 'supervisor', 'participant']), userId: z.string(), name: z.string(), peerId: z.string() }),
  startMs: z.number(),
  endMs: z.number(),
  text: z.string().describe('masked: every masked character is "*"'),
  maskedSpans: z.array(z.object({ start: z.number(), end: z.number(), category: z.string() })),
  language: z.string().nullable(),
  engine: z.string(),
  confidence: z.number().nullable(),
  createdAt: z.string(),
});

/** One stored utterance as REST returns it (the pages import this type). */
export type UtteranceJson = z.infer<typeof utteranceBody>;

export function utteranceView(u: Utterance): UtteranceJson {
  return { id: u.id, consultationId: u.consultationId, roomId: u.roomId, ...utteranceJson(u), createdAt: u.createdAt.toISOString() };
}

const idParams = z.object({ id: z.uuid('must be a consultation id (UUID)') });

export const transcriptRoutes =
  ({ transcripts, auth }: { transcripts: TranscriptService; auth: AuthHooks }): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['transcripts'];
    app.get(
      '/consultations/:id/transcript',
      {
        preHandler: auth.require('agent'),
        schema: { tags, security: bearerSecurity, summary: "A consultation's transcript (its agent, admins)", params: idParams, response: { 200: z.object({ utterances: z.array(utteranceBody) }), 401: errorBody, 403: errorBody, 404: errorBody } },
      },
      async (req) => ({ utterances: (await transcripts.forConsultation(identityOf(req), req.params.id)).map(utteranceView) }),
    );

    app.get(
      '/consultations/:id/transcript/export',
      {
        preHandler: auth.require('agent'),
        schema: {
          tags,
          security: bearerSecurity,
          summary: 'Download the transcript as JSON, plain text, WebVTT or SRT',
          params: idParams,
          querystring: z.object({ format: z.enum(transcriptFormats).default('json') }),
        },
      },
      async (req, reply) => {
        const body = await transcripts.export(identityOf(req), req.params.id, req.query.format);
        return reply
          .type(contentTypes[req.query.format])
          .header('content-disposition', `attachment; filename="consultation-${req.params.id}.${req.query.format}"`)
          .send(body);
      },
    );

    app.get(
      '/rooms/:roomId/transcript',
      {
        preHandler: auth.require('admin'),
        schema: { tags, security: bearerSecurity, summary: "An open /voice room's transcript (admins)", params: z.object({ roomId: z.string().min(1).max(128) }), response: { 200: z.object({ utterances: z.array(utteranceBody) }), 401: errorBody, 403: errorBody } },
      },
      async (req) => ({ utterances: (await transcripts.forRoom(identityOf(req), req.params.roomId)).map(utteranceView) }),
    );

    app.get(
      '/transcripts/search',
      {
        preHandler: auth.require('agent'),
        schema: {
          tags,
          security: bearerSecurity,
          summary: 'Find utterances containing a phrase (Korean and English; agents search their own consultations)',
          querystring: z.object({
            q: z.string().trim().min(1, 'type something to search for').max(200),
            limit: z.coerce.number().int().min(1).max(100).default(20),
            offset: z.coerce.number().int().min(0).default(0),
          }),
          response: { 200: z.object({ hits: z.array(utteranceBody), total: z.number() }), 400: errorBody, 401: errorBody },
        },
      },
      async (req) => {
        const { hits, total } = await transcripts.search(identityOf(req), req.query.q, { limit: req.query.limit, offset: req.query.offset });
        return { hits: hits.map(utteranceView), total };
      },
    );
  };
