/**
 * Seed 004's recording API, unchanged for its clients:
 *   POST /recordings/start {roomName} → {message: "Recording started", recording: {name, startedAt}} (409 when already recording)
 *   POST /recordings/stop {roomName}  → {message: "Recording stopped", recording: {name, startedAt, size}} (409 when not recording)
 *   GET /recordings?roomName&roomId    → {recordings: [{id, name, roomName, roomId, startedAt, size}]}
 *   GET /recordings/:recordingName     → the MP4, with HTTP Range (206 + Content-Range)
 *   DELETE /recordings/:recordingName  → {message: "Recording deleted"}
 * plus, for Parley's own pages, one participant's track: GET /recordings/:recordingName/tracks/:trackId.
 * Credentials as POST /token takes them (the LiveKit key pair, or an access token); who may do
 * what is the RecordingService's rule.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ByteRange, Recording } from '../../domain/recordings/recording.js';
import type { RecordingCaller, RecordingService } from '../../domain/recordings/recordingService.js';
import type { RequestAuthenticator } from '../authHooks.js';
import { integratorCaller } from '../integratorCredential.js';
import { errorBody } from './schemas.js';

const roomName = z.string().trim().min(1, 'must not be empty').max(128).refine((s) => !/[\u0000-\u001f]/.test(s), 'must not contain control characters');
const recordingName = z.string().regex(/^[A-Za-z0-9_-]{1,120}\.mp4$/, 'must be a recording name as the list gives it (…​.mp4)');

const trackBody = z.object({ id: z.string(), peerId: z.string(), userId: z.string(), name: z.string(), role: z.string(), kind: z.enum(['audio', 'video']), offsetMs: z.number(), durationMs: z.number(), size: z.number(), bleeps: z.array(z.object({ startMs: z.number(), endMs: z.number() })).describe('masked words, toned: ms after the recording start'), roomStartedAt: z.number().nullable().describe("unix ms of the room's media zero: a transcript line's startMs is ms after it") });
const listItem = z.object({
  id: z.string(),
  name: z.string(),
  roomName: z.string(),
  roomId: z.string(),
  startedAt: z.number(),
  size: z.number(),
  status: z.enum(['recording', 'finalizing', 'ready', 'failed']),
  failure: z.string().nullable(),
  durationMs: z.number().nullable(),
  consultationId: z.string().nullable(),
  tracks: z.array(trackBody),
});

/** One recording as the list gives it (the admin call detail's player reads this). */
export type RecordingJson = z.infer<typeof listItem>;

function listView(r: Recording): z.infer<typeof listItem> {
  return {
    id: r.id,
    name: r.name,
    roomName: r.roomName,
    roomId: r.roomId,
    startedAt: r.startedAt,
    size: r.size,
    status: r.status,
    failure: r.failure,
    durationMs: r.durationMs,
    consultationId: r.consultationId,
    tracks: r.tracks.map((t) => ({ id: t.id, peerId: t.peerId, userId: t.userId, name: t.name, role: t.role, kind: t.kind, offsetMs: t.offsetMs, durationMs: t.durationMs, size: t.size, bleeps: t.bleeps ?? [], roomStartedAt: t.roomStartedAtMs ?? null })),
  };
}

/** One `bytes=` range of a file of `size` bytes; null when unsatisfiable; undefined to send it whole. */
export function parseRange(header: string | undefined, size: number): ByteRange | null | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined; // several ranges or another unit: the whole file (RFC 9110 allows it)
  const [, a, b] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0) return null;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || end < start) return null;
  return { start, end };
}

export interface RecordingRouteOptions {
  recordings: RecordingService;
  authenticator: RequestAuthenticator;
  apiKey?: { key: string; secret: string };
}

export const recordingRoutes =
  (opts: RecordingRouteOptions): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['recordings'];
    const callerOf = async (req: FastifyRequest): Promise<RecordingCaller> => {
      const c = await integratorCaller(req, opts);
      if (!c) return { kind: 'anonymous' };
      return c.kind === 'api-key' ? { kind: 'api-key' } : { kind: 'account', identity: c.identity };
    };
    // Credentials first: a wrong key pair or token is refused before the body is read.
    const withCaller = { onRequest: async (req: FastifyRequest) => void (req.recordingCaller = await callerOf(req)) };
    const caller = (req: FastifyRequest): RecordingCaller => req.recordingCaller ?? { kind: 'anonymous' };
    const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody };

    app.post(
      '/recordings/start',
      {
        ...withCaller,
        schema: {
          tags,
          summary: "Start recording a room (seed 004): one Opus track per participant and a mixed MP4; 409 when it is being recorded",
          body: z.object({ roomName }),
          response: { 200: z.object({ message: z.literal('Recording started'), recording: z.object({ name: z.string(), startedAt: z.number() }) }), ...errors },
        },
      },
      async (req) => {
        const r = await opts.recordings.start(caller(req), req.body.roomName);
        return { message: 'Recording started' as const, recording: { name: r.name, startedAt: r.startedAt } };
      },
    );

    app.post(
      '/recordings/stop',
      {
        ...withCaller,
        schema: {
          tags,
          summary: 'Stop recording a room (seed 004): resolves once the mixed MP4 is stored; 409 when it is not being recorded',
          body: z.object({ roomName }),
          response: {
            200: z.object({ message: z.literal('Recording stopped'), recording: z.object({ name: z.string(), startedAt: z.number(), size: z.number(), status: z.string(), failure: z.string().nullable() }) }),
            ...errors,
          },
        },
      },
      async (req) => {
        const r = await opts.recordings.stop(caller(req), req.body.roomName);
        return { message: 'Recording stopped' as const, recording: { name: r.name, startedAt: r.startedAt, size: r.size, status: r.status, failure: r.failure } };
      },
    );

    app.get(
      '/recordings',
      {
        ...withCaller,
        schema: {
          tags,
          summary: 'List recordings (seed 004), newest first; filter by roomName and roomId',
          querystring: z.object({ roomName: roomName.optional(), roomId: z.string().max(128).optional() }),
          response: { 200: z.object({ recordings: z.array(listItem) }), ...errors },
        },
      },
      async (req) => ({ recordings: (await opts.recordings.list(caller(req), { roomName: req.query.roomName, roomId: req.query.roomId })).map(listView) }),
    );

    const send = async (req: FastifyRequest, reply: FastifyReply, name: string, trackId?: string) => {
      const file = await opts.recordings.open(caller(req), name, trackId);
      const range = parseRange(req.headers.range, file.size);
      reply.header('accept-ranges', 'bytes').header('content-type', file.contentType).header('cache-control', 'private, no-store');
      if (range === null) return reply.code(416).header('content-range', `bytes */${file.size}`).send();
      if (range === undefined) return reply.header('content-length', String(file.size)).send(await file.read());
      return reply
        .code(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${file.size}`)
        .header('content-length', String(range.end - range.start + 1))
        .send(await file.read(range));
    };

    app.get(
      '/recordings/:recordingName',
      { ...withCaller, schema: { tags, summary: 'Stream a recording (MP4); Range requests are answered 206', params: z.object({ recordingName }) } },
      async (req, reply) => send(req, reply, req.params.recordingName),
    );

    app.get(
      '/recordings/:recordingName/tracks/:trackId',
      { ...withCaller, schema: { tags, summary: "One participant's track (WebM/Opus, as it was sent); Range requests are answered 206", params: z.object({ recordingName, trackId: z.uuid() }) } },
      async (req, reply) => send(req, reply, req.params.recordingName, req.params.trackId),
    );

    app.delete(
      '/recordings/:recordingName',
      {
        ...withCaller,
        schema: { tags, summary: 'Delete a recording: its files and its metadata (seed 004)', params: z.object({ recordingName }), response: { 200: z.object({ message: z.literal('Recording deleted') }), ...errors } },
      },
      async (req) => {
        await opts.recordings.remove(caller(req), req.params.recordingName);
        return { message: 'Recording deleted' as const };
      },
    );
  };

declare module 'fastify' {
  interface FastifyRequest {
    recordingCaller?: RecordingCaller;
  }
}
