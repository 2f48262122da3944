/**
 * Issue 10 §5 for integrators: `POST /api/v1/moderation/mask` masks one text
 * (`{text, language?}` → `{masked, flagged, spans}`) or up to 100 (`{texts, language?}` →
 * `{results}` in the same order).
 *
 * Who may call: a signed-in account (any role), the integrator's backend with the LiveKit key
 * pair (HTTP Basic), or anyone when ALLOW_ANONYMOUS_MODERATION is on (development's default).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ParleyError } from '../../errors.js';
import { categories, type TextMasker } from '../../moderation/types.js';
import type { RequestAuthenticator } from '../authHooks.js';
import { integratorCaller } from '../integratorCredential.js';
import { errorBody } from './schemas.js';

/** Longest text accepted, in characters (a long chat message or a transcript paragraph). */
export const maxModerationTextLength = 5_000;
/** Most texts in one batch. */
export const maxModerationBatch = 100;
/**
 * Most characters in one request, all texts together: masking runs on the event loop
 * (~1–5 µs per character), so this bounds one request to a few hundred milliseconds at worst.
 */
export const maxModerationCharacters = 50_000;

export interface ModerationRouteOptions {
  moderation: TextMasker;
  authenticator: RequestAuthenticator;
  allowAnonymous: boolean;
  apiKey?: { key: string; secret: string };
}

const text = z.string().max(maxModerationTextLength, `must be at most ${maxModerationTextLength} characters`);
const language = z.enum(['ko', 'en']).optional().describe('ko or en: only that language\'s words; omitted: both');
const span = z.object({ start: z.number().int(), end: z.number().int(), category: z.enum(categories) });
const result = z.object({ masked: z.string(), flagged: z.boolean(), spans: z.array(span) });

const body = z
  .object({
    text: text.optional().describe('one text'),
    texts: z
      .array(text)
      .min(1, 'must hold at least one text')
      .max(maxModerationBatch, `holds at most ${maxModerationBatch} texts per request; split the batch`)
      .optional()
      .describe(`up to ${maxModerationBatch} texts, answered in the same order`),
    language,
  })
  .strict()
  .refine((b) => (b.text === undefined) !== (b.texts === undefined), 'send either "text" (one) or "texts" (a batch), not both or neither')
  .refine((b) => (b.texts ?? []).reduce((n, t) => n + t.length, 0) <= maxModerationCharacters, {
    path: ['texts'],
    message: `hold at most ${maxModerationCharacters} characters together; split the batch`,
  });

export const moderationRoutes =
  (opts: ModerationRouteOptions): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/mask',
      {
        // A full batch of Korean text is ~150 KB of UTF-8, JSON-escaped up to ~300 KB: above the server-wide 256 KB.
        bodyLimit: 1024 * 1024,
        onRequest: async (req) => {
          if ((await integratorCaller(req, opts)) !== undefined || opts.allowAnonymous) return;
          throw new ParleyError(
            'UNAUTHORIZED',
            'POST /api/v1/moderation/mask needs credentials: an access token (Authorization: Bearer), or HTTP Basic LIVEKIT_API_KEY:LIVEKIT_API_SECRET from your backend (ALLOW_ANONYMOUS_MODERATION=true opens it to anyone)',
          );
        },
        schema: {
          tags: ['moderation'],
          summary: 'Mask Korean and English profanity in one text or a batch of up to 100',
          description:
            'Masked characters are replaced by `*` (same length). `spans` are UTF-16 indices into the text, `end` exclusive, each with its category (profanity, sexual, slur, insult). A batch answers `{results}` in the order of `texts`.',
          body,
          response: { 200: z.union([result, z.object({ results: z.array(result) })]), 400: errorBody, 401: errorBody },
        },
      },
      async (req) => {
        const b = req.body;
        if (b.texts !== undefined) return { results: b.texts.map((t) => opts.moderation.mask(t, b.language)) };
        return opts.moderation.mask(b.text ?? '', b.language);
      },
    );
  };
