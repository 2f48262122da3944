/**
 * `POST /api/v1/agent/calls`: a call with the AI agent from a browser. Answers the room to join on `/voice`
 * (`ai-<uuid>`, unguessable) with the bot already in it. Per-address rate limit, a cap on bots at once
 * (AgentCalls), and the same credential rule as seed 001's calls (anonymous only while ALLOW_ANONYMOUS_CALLS).
 * `GET /api/v1/agent/calls/:roomId`: how that call goes — the caller's sentiment per turn and the outcome (whoever
 * knows the unguessable room id, as for joining it; the words said are not in it, the page has them as captions).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AgentCalls } from '../../agent/agentCalls.js';
import { summarizeAgentCall } from '../../agent/agentCallSummary.js';
import type { AgentTurnStore } from '../../domain/agents/agentTurn.js';
import { ParleyError } from '../../errors.js';
import type { AuthHooks } from '../authHooks.js';
import { errorBody } from './schemas.js';

export const agentRoutes =
  (d: { agentCalls: () => AgentCalls | undefined; turns: AgentTurnStore; auth: AuthHooks; allowAnonymous: boolean; startsPerMinute: number }): FastifyPluginAsyncZod =>
  async (app) => {
    if (!d.allowAnonymous) app.addHook('onRequest', d.auth.require('agent'));
    app.post(
      '/calls',
      {
        config: { rateLimit: { max: d.startsPerMinute, timeWindow: 60_000 } },
        schema: {
          tags: ['agent'],
          summary: 'Start a call with the AI agent: the bot waits in a new room; join it on /voice',
          body: z.object({ language: z.enum(['ko', 'en']).optional() }).optional(),
          response: {
            201: z.object({ success: z.literal(true), data: z.object({ roomId: z.string(), botPeerId: z.string(), language: z.string(), voiceUrl: z.string() }) }),
            400: errorBody,
            429: errorBody,
            503: errorBody,
          },
        },
      },
      async (req, reply) => {
        const calls = d.agentCalls();
        if (!calls) throw new ParleyError('SHUTTING_DOWN', 'the AI agent is off: it needs a speech engine (STT_ENGINE) and a voice (AGENT_TTS); see the server log');
        const started = await calls.start({ language: req.body?.language });
        return reply.status(201).send({
          success: true as const,
          data: { roomId: started.roomId, botPeerId: started.botPeerId, language: started.language, voiceUrl: `/voice/?room=${started.roomId}` },
        });
      },
    );
    app.get(
      '/calls/:roomId',
      {
        schema: {
          tags: ['agent'],
          summary: "How an AI call goes: the caller's sentiment per turn and the outcome (in_progress, resolved_by_bot, transferred, abandoned)",
          params: z.object({ roomId: z.string().regex(/^ai-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be the roomId POST /api/v1/agent/calls answered (ai-<uuid>)') }),
          response: {
            200: z.object({
              success: z.literal(true),
              data: z.object({
                roomId: z.string(),
                live: z.boolean(),
                outcome: z.enum(['in_progress', 'resolved_by_bot', 'transferred', 'abandoned']),
                turns: z.array(z.object({ seq: z.number(), outcome: z.string(), sentiment: z.object({ sentiment: z.enum(['positive', 'neutral', 'negative']), score: z.number() }), at: z.string() })),
              }),
            }),
            400: errorBody,
            404: errorBody,
          },
        },
      },
      async (req) => {
        const { roomId } = req.params;
        const live = d.agentCalls()?.session(roomId) !== undefined;
        const turns = await d.turns.forCall(roomId, 50);
        if (!live && turns.length === 0) throw new ParleyError('NOT_FOUND', `no AI call ${roomId} here: it never started, or ended before the caller said anything`);
        return { success: true as const, data: { roomId, ...summarizeAgentCall(turns, live) } };
      },
    );
  };
