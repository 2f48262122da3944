/**
 * One error body for every REST route: `{ success: false, error: { code, message } }`
 * (`success` keeps seed 001's envelope). Validation, size, parse and rate-limit errors from
 * Fastify's own layers are mapped to the same shape, so a client never sees an HTML page
 * or a stack trace.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ParleyError, type ErrorCode } from '../errors.js';
import { storageFailureKind } from '../storage/storageErrors.js';
import { sendNotFoundPage, wantsHtml } from './routes/pageRoutes.js';

export function errorReply(code: ErrorCode, message: string, details?: Record<string, unknown>) {
  return { success: false as const, error: { ...(details ?? {}), code, message } };
}

/**
 * @fastify/rate-limit's errorResponseBuilder (global and per-route limits). The plugin throws
 * what this returns, so it is a ParleyError: the error handler answers it like any other.
 */
export function rateLimitedReply(_req: unknown, ctx: { max: number; after: string }): ParleyError {
  return new ParleyError('RATE_LIMITED', `rate limit exceeded: ${ctx.max} requests per ${ctx.after}; retry later`);
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ParleyError | Error, request, reply) => {
    if (err instanceof ParleyError) {
      const retryAfter = err.details?.retryAfterSeconds;
      if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
      return reply.status(err.status).send(errorReply(err.code, err.message, err.details));
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const detail = err.validation
        .slice(0, 5)
        .map((v) => `${v.instancePath.replace(/^\//, '').replaceAll('/', '.') || (err.validationContext ?? 'body')}: ${v.message}`)
        .join('; ');
      return reply.status(400).send(errorReply('INVALID_PAYLOAD', `invalid ${err.validationContext ?? 'request'}: ${detail}`));
    }
    const fe = err as FastifyError;
    const status = fe.statusCode ?? 500;
    if (status === 429) return reply.status(429).send(errorReply('RATE_LIMITED', fe.message));
    if (status === 413) return reply.status(413).send(errorReply('INVALID_PAYLOAD', 'request body too large'));
    if (status === 415) return reply.status(415).send(errorReply('INVALID_PAYLOAD', `unsupported content type; send application/json`));
    if (status >= 400 && status < 500) return reply.status(status).send(errorReply('INVALID_PAYLOAD', fe.message));
    const storageFailure = storageFailureKind(err);
    if (storageFailure) {
      request.log.warn({ err, storage: storageFailure }, 'request failed: storage unavailable');
      const what = storageFailure === 'unwritable' ? 'storage cannot be written right now (disk full or read-only)' : 'storage is unreachable right now';
      return reply.status(503).header('retry-after', '5').send(errorReply('STORAGE_UNAVAILABLE', `${what}; retry in a few seconds`));
    }
    request.log.error({ err }, 'request failed');
    return reply.status(500).send(errorReply('INTERNAL', 'internal error; the server logged it'));
  });

  app.setNotFoundHandler((request, reply) => {
    if (wantsHtml(request)) return sendNotFoundPage(reply);
    reply.status(404).send(errorReply('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`));
  });
}
