/**
 * Seed 001's `POST /api/v1/calls/conversation/process`: multipart `audio` (a WAV file, PCM 16-bit, any rate,
 * mono or the first channel), `callId` (a seed 001 call that is still live) and an optional `systemPrompt`. The
 * speech is recognised, answered by the agent with the call's history, its sentiment analysed, the turn appended
 * to the call's history, and the answer spoken: `{success, data: {conversation: {userMessage, aiResponse,
 * sentiment: {sentiment, score}, timestamp}, audioUrl: "data:audio/wav;base64,…"}}`. `GET …/:id/conversation`
 * gives the history.
 *
 * Cost: recognition and synthesis are CPU-heavy, so the route has its own per-address rate limit, a 10 MB upload
 * cap and a 120 s length cap; the same credential rule as the other seed 001 routes applies.
 */
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AgentEngines } from '../../agent/agentEngines.js';
import { answerSpokenTurn, SpokenTurnError } from '../../agent/spokenTurn.js';
import type { Speech } from '../../ai/createSpeech.js';
import { decodeWav } from '../../ai/utils/pcm.js';
import type { CallService } from '../../domain/calls/callService.js';
import { isLive } from '../../domain/calls/callStatus.js';
import { ParleyError } from '../../errors.js';
import type { AuthHooks } from '../authHooks.js';
import { errorBody } from './schemas.js';

const MAX_AUDIO_BYTES = 10 * 1024 * 1024;

const sentimentBody = z.object({ sentiment: z.enum(['positive', 'neutral', 'negative']), score: z.number() });
const conversationBody = z.object({ userMessage: z.string(), aiResponse: z.string(), sentiment: sentimentBody, timestamp: z.string() });
const fields = z.object({
  callId: z.uuid('callId must be a call id (UUID)'),
  systemPrompt: z.string().max(4000, 'systemPrompt must be at most 4000 characters').optional(),
});

export interface ConversationRouteDeps {
  readonly calls: CallService;
  readonly auth: AuthHooks;
  readonly allowAnonymous: boolean;
  /** The agent's engines; undefined when the agent could not start. */
  readonly agent: () => AgentEngines | undefined;
  /** Speech recognition; undefined while it is off or not started yet. */
  readonly speech: () => Speech | undefined;
  readonly requestsPerMinute: number;
}

function fail(status: number, code: string, message: string) {
  return Object.assign(new ParleyError('INVALID_PAYLOAD', message), { status, code });
}

export const conversationRoutes =
  (d: ConversationRouteDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['calls'];
    if (!d.allowAnonymous) app.addHook('onRequest', d.auth.require('agent'));
    await app.register(multipart, { limits: { fileSize: MAX_AUDIO_BYTES, files: 1, fields: 4, fieldSize: 16 * 1024, parts: 6 } });

    const liveSeedCall = async (id: string) => {
      const call = await d.calls.get(id);
      if (call.channel !== 'api') throw new ParleyError('NOT_FOUND', `no call ${id}`);
      return call;
    };

    app.post(
      '/conversation/process',
      {
        config: { rateLimit: { max: d.requestsPerMinute, timeWindow: 60_000 } },
        schema: {
          tags,
          summary: "One spoken message to the AI agent: recognised, answered with the call's history, sentiment, spoken (seed 001)",
          consumes: ['multipart/form-data'],
          response: {
            200: z.object({ success: z.literal(true), data: z.object({ conversation: conversationBody, audioUrl: z.string().nullable() }) }),
            400: errorBody,
            404: errorBody,
            409: errorBody,
            413: errorBody,
            415: errorBody,
            422: errorBody,
            503: errorBody,
          },
        },
      },
      async (req) => {
        if (!req.isMultipart()) throw fail(415, 'UNSUPPORTED_MEDIA_TYPE', 'send multipart/form-data with an "audio" file (WAV), "callId" and optionally "systemPrompt"');
        const raw: Record<string, string> = {};
        let audio: Buffer | undefined;
        for await (const part of req.parts()) {
          if (part.type === 'file') {
            if (part.fieldname !== 'audio') {
              part.file.resume();
              throw fail(400, 'INVALID_PAYLOAD', `unexpected file field "${part.fieldname}": the file goes in "audio"`);
            }
            audio = await part.toBuffer().catch((e: unknown) => {
              if ((e as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw fail(413, 'PAYLOAD_TOO_LARGE', `audio is larger than ${MAX_AUDIO_BYTES / 1024 / 1024} MB`);
              throw e;
            });
          } else if (typeof part.value === 'string') raw[part.fieldname] = part.value;
        }
        const parsed = fields.safeParse(raw);
        if (!parsed.success) throw fail(400, 'INVALID_PAYLOAD', parsed.error.issues.map((i) => i.message).join('; '));
        if (!audio || audio.length === 0) throw fail(400, 'INVALID_PAYLOAD', 'audio: a WAV file is required');
        const call = await liveSeedCall(parsed.data.callId);
        if (!isLive(call.status)) throw new ParleyError('CONFLICT', `call ${call.id} is ${call.status}; start a new call to talk with the agent`);

        let wav: { samples: Int16Array; sampleRate: number };
        try {
          wav = decodeWav(audio);
        } catch (e) {
          throw fail(415, 'UNSUPPORTED_AUDIO', `audio must be a WAV file with 16-bit PCM (${(e as Error).message}); convert with: ffmpeg -i in.webm -ar 16000 -ac 1 out.wav`);
        }
        if (wav.sampleRate < 8000 || wav.sampleRate > 96_000) throw fail(415, 'UNSUPPORTED_AUDIO', `audio sample rate ${wav.sampleRate} Hz is outside 8000–96000 Hz`);

        try {
          return { success: true as const, data: await answerSpokenTurn(d, { callId: call.id, samples: wav.samples, sampleRate: wav.sampleRate, systemPrompt: parsed.data.systemPrompt }, req.log) };
        } catch (e) {
          if (e instanceof SpokenTurnError) throw fail(e.status, e.code, e.message);
          throw e;
        }
      },
    );

    app.get(
      '/:id/conversation',
      {
        schema: {
          tags,
          summary: "A seed 001 call's conversation with the AI agent, turn by turn",
          params: z.object({ id: z.uuid('must be a call id (UUID)') }),
          response: {
            200: z.object({
              success: z.literal(true),
              data: z.object({ conversation: z.array(conversationBody.extend({ seq: z.number(), outcome: z.string(), language: z.string() })) }),
            }),
            404: errorBody,
            503: errorBody,
          },
        },
      },
      async (req) => {
        const call = await liveSeedCall(req.params.id);
        const agent = d.agent();
        if (!agent) throw fail(503, 'AGENT_UNAVAILABLE', 'the AI agent did not start; see the server log');
        const turns = await agent.conversationFor().history(call.id);
        return {
          success: true as const,
          data: {
            conversation: turns.map((t) => ({ seq: t.seq, userMessage: t.userMessage, aiResponse: t.aiResponse, sentiment: t.sentiment, timestamp: t.createdAt.toISOString(), outcome: t.outcome, language: t.language })),
          },
        };
      },
    );
  };
