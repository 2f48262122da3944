/**
 * Consultation entry points and their QR codes (agents and admins), and the public lookup
 * the landing page makes with the token a QR code carries.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { hasRole } from '../../auth/identity.js';
import type { ConsultationService } from '../../domain/consultations/consultationService.js';
import { ParleyError } from '../../errors.js';
import type { EntryPoint } from '../../storage/entryPointRepository.js';
import { identityOf, type AuthHooks } from '../authHooks.js';
import { qrPng, qrSvg } from '../qrCode.js';
import { createEntryPointRequest, entryInfoAnswer, entryPointBody, entryPointRecordingRequest, updateEntryPointRequest } from '../../contracts/rest.js';
import { bearerSecurity, errorBody } from './schemas.js';

export interface EntryPointRoutesDeps {
  consultations: ConsultationService;
  auth: AuthHooks;
}

const idParams = z.object({ id: z.uuid('must be an entry point id (UUID)') });

function origin(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}`;
}

export const entryPointRoutes =
  ({ consultations, auth }: EntryPointRoutesDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const view = async (ep: EntryPoint, req: FastifyRequest): Promise<z.infer<typeof entryPointBody>> => ({
      id: ep.id,
      name: ep.name,
      createdBy: ep.createdBy,
      createdAt: ep.createdAt.toISOString(),
      expiresAt: ep.expiresAt.toISOString(),
      disabled: ep.disabledAt !== null,
      captions: ep.captions,
      recording: ep.recording,
      routing: ep.routing,
      overflowAfterSeconds: ep.overflowAfterSeconds,
      systemPrompt: ep.systemPrompt,
      url: await consultations.entryUrl(ep, origin(req)),
      qrPngUrl: `/api/v1/entry-points/${ep.id}/qr.png`,
      qrSvgUrl: `/api/v1/entry-points/${ep.id}/qr.svg`,
    });
    const staff = { tags: ['consultations'], security: bearerSecurity };

    app.post(
      '/entry-points',
      {
        preHandler: auth.require('agent'),
        schema: {
          ...staff,
          summary: 'Create a consultation entry point (a QR code customers scan)',
          body: createEntryPointRequest,
          response: { 201: z.object({ entryPoint: entryPointBody }), 400: errorBody, 401: errorBody, 403: errorBody },
        },
      },
      async (req, reply) => {
        const who = identityOf(req);
        // Captions decide whether calls are transcribed: the server's default unless an admin says otherwise.
        if (req.body.captions && req.body.captions !== 'inherit' && !hasRole(who, 'admin')) throw new ParleyError('FORBIDDEN', 'only an admin may turn captions on or off for an entry point; leave captions out (or inherit)');
        // Handing an entry point's callers to the AI assistant is an admin's decision too.
        const ai = req.body.routing !== undefined || req.body.overflowAfterSeconds !== undefined || req.body.systemPrompt !== undefined;
        if (ai && !hasRole(who, 'admin')) throw new ParleyError('FORBIDDEN', 'only an admin may choose who answers an entry point (routing, overflowAfterSeconds, systemPrompt); leave them out');
        const ep = await consultations.createEntryPoint({
          name: req.body.name,
          ttlHours: req.body.ttlHours,
          createdBy: who.userId,
          captions: req.body.captions,
          routing: req.body.routing,
          overflowAfterSeconds: req.body.overflowAfterSeconds,
          systemPrompt: req.body.systemPrompt,
        });
        return reply.status(201).send({ entryPoint: await view(ep, req) });
      },
    );

    app.get(
      '/entry-points',
      { preHandler: auth.require('agent'), schema: { ...staff, summary: 'List entry points', response: { 200: z.object({ entryPoints: z.array(entryPointBody) }), 401: errorBody, 403: errorBody } } },
      async (req) => ({ entryPoints: await Promise.all((await consultations.listEntryPoints()).map((ep) => view(ep, req))) }),
    );

    app.delete(
      '/entry-points/:id',
      {
        preHandler: auth.require('admin'),
        schema: { ...staff, summary: 'Close an entry point (its QR codes stop working)', params: idParams, response: { 200: z.object({ entryPoint: entryPointBody }), 401: errorBody, 403: errorBody, 404: errorBody } },
      },
      async (req) => ({ entryPoint: await view(await consultations.disableEntryPoint(req.params.id), req) }),
    );

    app.patch(
      '/entry-points/:id',
      {
        preHandler: auth.require('admin'),
        schema: {
          ...staff,
          summary: "Change an entry point's caption setting or who answers it (human, ai_first, ai_overflow); consultations that start after it follow it",
          params: idParams,
          body: updateEntryPointRequest,
          response: { 200: z.object({ entryPoint: entryPointBody }), 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody },
        },
      },
      async (req) => {
        const { captions, ...ai } = req.body;
        if (captions !== undefined) await consultations.setEntryPointCaptions(req.params.id, captions);
        const ep = Object.values(ai).some((v) => v !== undefined) ? await consultations.setEntryPointAi(req.params.id, ai) : await consultations.entryPoint(req.params.id);
        return { entryPoint: await view(ep, req) };
      },
    );

    app.put(
      '/entry-points/:id/recording',
      {
        preHandler: auth.require('admin'),
        schema: {
          ...staff,
          summary: "Whether an entry point's consultations are recorded (only those whose customer consented; consultations that start after it follow it)",
          params: idParams,
          body: entryPointRecordingRequest,
          response: { 200: z.object({ entryPoint: entryPointBody }), 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody },
        },
      },
      async (req) => ({ entryPoint: await view(await consultations.setEntryPointRecording(req.params.id, req.body.recording), req) }),
    );

    app.get(
      '/entry-points/:id/qr.png',
      {
        preHandler: auth.require('agent'),
        schema: { ...staff, summary: 'The QR code as PNG', params: idParams, querystring: z.object({ size: z.coerce.number().int().min(128).max(2048).default(512) }) },
      },
      async (req, reply) => {
        const png = await qrPng(await consultations.entryUrl(await consultations.entryPoint(req.params.id), origin(req)), req.query.size);
        return reply.type('image/png').header('cache-control', 'private, no-store').send(png);
      },
    );

    app.get(
      '/entry-points/:id/qr.svg',
      { preHandler: auth.require('agent'), schema: { ...staff, summary: 'The QR code as SVG', params: idParams } },
      async (req, reply) => {
        const svg = await qrSvg(await consultations.entryUrl(await consultations.entryPoint(req.params.id), origin(req)));
        return reply.type('image/svg+xml').header('cache-control', 'private, no-store').send(svg);
      },
    );

    app.get(
      '/entry/:entryToken',
      {
        schema: {
          tags: ['consultations'],
          summary: 'What the landing page shows for a scanned QR code (no sign-in)',
          params: z.object({ entryToken: z.string().min(10).max(2048) }),
          response: { 200: entryInfoAnswer, 401: errorBody, 404: errorBody },
        },
      },
      async (req) => {
        const ep = await consultations.openEntry(req.params.entryToken);
        return { entryPoint: { id: ep.id, name: ep.name }, expiresAt: ep.expiresAt.toISOString() };
      },
    );
  };
