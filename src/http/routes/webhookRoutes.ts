/**
 * Webhook administration under /api/v1/webhooks (admins only): register a URL (its signing
 * secret is shown once), list, disable, read the delivery log and redeliver.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { WebhookDelivery, WebhookEndpoint } from '../../webhooks/webhookRepository.js';
import type { WebhookService } from '../../webhooks/webhookService.js';
import { createdWebhookBody, createWebhookRequest, deliveryBody, pageQuery, webhookBody } from '../../contracts/rest.js';
import { identityOf, type AuthHooks } from '../authHooks.js';
import { bearerSecurity, errorBody } from './schemas.js';

export interface WebhookRoutesDeps {
  webhooks: WebhookService;
  auth: AuthHooks;
}

function webhookView(w: WebhookEndpoint): z.infer<typeof webhookBody> {
  return {
    id: w.id,
    url: w.url,
    events: w.events,
    description: w.description,
    createdBy: w.createdBy,
    createdAt: w.createdAt.toISOString(),
    disabledAt: w.disabledAt?.toISOString() ?? null,
    active: w.disabledAt === null,
  };
}

function parsePayload(payload: string): unknown {
  try {
    return JSON.parse(payload);
  } catch {
    return payload;
  }
}

function deliveryView(d: WebhookDelivery): z.infer<typeof deliveryBody> {
  return {
    id: d.id,
    endpointId: d.endpointId,
    eventId: d.eventId,
    eventType: d.eventType,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    nextAttemptAt: d.nextAttemptAt?.toISOString() ?? null,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    deliveredAt: d.deliveredAt?.toISOString() ?? null,
    payload: parsePayload(d.payload),
  };
}

const webhookId = z.object({ id: z.uuid('must be a webhook id (UUID)') });
const deliveryParams = webhookId.extend({ deliveryId: z.uuid('must be a delivery id (UUID)') });

export const webhookRoutes =
  ({ webhooks, auth }: WebhookRoutesDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.addHook('preHandler', auth.require('admin'));
    const common = { tags: ['webhooks'], security: bearerSecurity };

    app.post(
      '/',
      {
        schema: {
          ...common,
          summary: 'Register a webhook URL (the signing secret is in this answer only)',
          body: createWebhookRequest,
          response: { 201: z.object({ webhook: createdWebhookBody }), 400: errorBody, 401: errorBody, 403: errorBody },
        },
      },
      async (req, reply) => {
        const created = await webhooks.createEndpoint({ ...req.body, createdBy: identityOf(req).userId });
        return reply.status(201).send({ webhook: { ...webhookView(created), secret: created.secret } });
      },
    );

    app.get(
      '/',
      { schema: { ...common, summary: 'List webhooks (disabled ones too; never the secret)', response: { 200: z.object({ webhooks: z.array(webhookBody) }), 401: errorBody, 403: errorBody } } },
      async () => ({ webhooks: (await webhooks.listEndpoints()).map(webhookView) }),
    );

    app.delete(
      '/:id',
      {
        schema: {
          ...common,
          summary: 'Disable a webhook (its pending deliveries end as failed)',
          params: webhookId,
          response: { 200: z.object({ webhook: webhookBody }), 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody },
        },
      },
      async (req) => ({ webhook: webhookView(await webhooks.disableEndpoint(req.params.id)) }),
    );

    app.get(
      '/:id/deliveries',
      {
        schema: {
          ...common,
          summary: "A webhook's delivery log, newest first",
          params: webhookId,
          querystring: pageQuery,
          response: { 200: z.object({ deliveries: z.array(deliveryBody), total: z.number().int() }), 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody },
        },
      },
      async (req) => {
        const { deliveries, total } = await webhooks.deliveries(req.params.id, req.query);
        return { deliveries: deliveries.map(deliveryView), total };
      },
    );

    app.post(
      '/:id/deliveries/:deliveryId/redeliver',
      {
        schema: {
          ...common,
          summary: 'Send a delivery again now (attempts keep counting)',
          params: deliveryParams,
          response: { 200: z.object({ delivery: deliveryBody }), 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody },
        },
      },
      async (req) => ({ delivery: deliveryView(await webhooks.redeliver(req.params.id, req.params.deliveryId)) }),
    );
  };
