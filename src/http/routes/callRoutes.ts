/**
 * Seed 001's call API under /api/v1/calls, in its `{success, data}` envelope.
 *
 * These routes serve the calls they create (`channel: 'api'`) and nothing else: a
 * consultation is a call too, but its customer's details, state and controls belong to its
 * customer, its agent and admins, so here it does not exist (404). Anonymous callers are
 * welcome while ALLOW_ANONYMOUS_CALLS is on (development's default); otherwise an agent's or
 * admin's access token is needed.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { CallService } from '../../domain/calls/callService.js';
import { ParleyError } from '../../errors.js';
import type { AuthHooks } from '../authHooks.js';
import { callStatuses } from '../../domain/calls/callStatus.js';
import type { CallRecord, CallTransition } from '../../storage/callRepository.js';
import { errorBody } from './schemas.js';

const callBody = z.object({
  id: z.string(),
  sessionId: z.string(),
  callerNumber: z.string(),
  receiverNumber: z.string().nullable(),
  status: z.enum(callStatuses),
  failureCause: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  connectedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  durationSeconds: z.number().nullable(),
});

const transitionBody = z.object({ from: z.enum(callStatuses).nullable(), to: z.enum(callStatuses), cause: z.string(), at: z.string() });

/** Seed 001's JSON view of a call (also the `call` of webhook events). */
export function callJson(c: CallRecord): z.infer<typeof callBody> {
  return {
    id: c.id,
    sessionId: c.sessionId,
    callerNumber: c.callerNumber,
    receiverNumber: c.receiverNumber,
    status: c.status,
    failureCause: c.failureCause,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
    connectedAt: c.connectedAt?.toISOString() ?? null,
    endedAt: c.endedAt?.toISOString() ?? null,
    durationSeconds: c.connectedAt ? Math.round(((c.endedAt ?? new Date()).getTime() - c.connectedAt.getTime()) / 1000) : null,
  };
}

const transitionView = (t: CallTransition) => ({ from: t.from, to: t.to, cause: t.cause, at: t.at.toISOString() });

const phone = z.string().trim().min(3).max(32);
const envelope = <T extends z.ZodType>(data: T) => z.object({ success: z.literal(true), data });
const idParams = z.object({ id: z.uuid('must be a call id (UUID)') });

export const callRoutes =
  ({ calls, auth, allowAnonymous }: { calls: CallService; auth: AuthHooks; allowAnonymous: boolean }): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['calls'];
    if (!allowAnonymous) app.addHook('onRequest', auth.require('agent'));

    /** A seed 001 call; consultations are not reachable here. */
    const seedCall = async (id: string): Promise<CallRecord> => {
      const call = await calls.get(id);
      if (call.channel !== 'api') throw new ParleyError('NOT_FOUND', `no call ${id}`);
      return call;
    };
    app.post(
      '/',
      {
        schema: {
          tags,
          summary: 'Start a call (it is created and rings)',
          body: z.object({ callerNumber: phone, receiverNumber: phone.optional() }),
          response: { 201: envelope(z.object({ call: callBody })), 400: errorBody },
        },
      },
      async (req, reply) => reply.status(201).send({ success: true as const, data: { call: callJson(await calls.create(req.body)) } }),
    );

    app.post(
      '/:id/connect',
      { schema: { tags, summary: 'Connect a ringing call (RINGING → CONNECTING → IN_PROGRESS)', params: idParams, response: { 200: envelope(z.object({ call: callBody })), 404: errorBody, 409: errorBody } } },
      async (req) => {
        await seedCall(req.params.id);
        return { success: true as const, data: { call: callJson(await calls.connect(req.params.id)) } };
      },
    );

    app.post(
      '/:id/end',
      {
        schema: {
          tags,
          summary: 'End a call (IN_PROGRESS → ENDED; before connecting → FAILED with the cause)',
          params: idParams,
          response: { 200: envelope(z.object({ call: callBody })), 404: errorBody, 409: errorBody },
        },
      },
      async (req) => {
        await seedCall(req.params.id);
        return { success: true as const, data: { call: callJson(await calls.end(req.params.id)) } };
      },
    );

    app.get(
      '/:id',
      {
        schema: {
          tags,
          summary: 'A call with its timeline of state changes',
          params: idParams,
          response: { 200: envelope(z.object({ call: callBody.extend({ transitions: z.array(transitionBody) }) })), 404: errorBody },
        },
      },
      async (req) => {
        const call = await seedCall(req.params.id);
        return { success: true as const, data: { call: { ...callJson(call), transitions: (await calls.transitions(call.id)).map(transitionView) } } };
      },
    );
  };
