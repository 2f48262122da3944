/**
 * The REST bodies Parley's pages send and read, as zod schemas: the routes validate and
 * document with them (src/http/routes/*), the pages' typed client derives its types from them
 * (web-src/client/rest.ts, `z.input` for what it sends, `z.output` for what it reads). One
 * definition; a change here is a type error on both sides.
 *
 * `restRoutes` names every route a page calls with its method, path, body and answer.
 */
import { aiOutcomes, entryPointRoutings } from '../domain/consultations/routingSetting.js';
import { z } from 'zod';
import { captionsSettings } from '../domain/consultations/captionsSetting.js';
import { recordingSettings } from '../domain/consultations/recordingSetting.js';
import { callStatuses } from '../domain/calls/callStatus.js';
import { dispositions } from '../domain/consultations/consultationView.js';
import { webhookSubscriptions, webhookUrl } from '../webhooks/webhookService.js';

// ── pieces ─────────────────────────────────────────────────────────────────────────────────
export const errorBody = z.object({
  success: z.literal(false),
  error: z.object({ code: z.string(), message: z.string() }).loose(),
});

export const email = z.email().max(254);
export const password = z.string().min(8, 'must be at least 8 characters').max(256);
export const displayName = z.string().trim().min(1).max(100);

// ── accounts ───────────────────────────────────────────────────────────────────────────────
export const userBody = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(['customer', 'agent', 'admin']),
  status: z.enum(['active', 'pending', 'disabled', 'withdrawn']),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const signUpRequest = z.object({ email, password, name: displayName });
export const signInRequest = z.object({ email, password: z.string().min(1).max(256) });
export const signInAnswer = z.object({ accessToken: z.string(), tokenType: z.literal('Bearer'), expiresAt: z.string(), user: userBody });
export const withdrawRequest = z.object({ password: z.string().min(1).max(256) });
export const createUserRequest = z.object({ email, password, name: displayName, role: z.enum(['agent', 'admin']).default('agent') });
export const updateUserRequest = z.object({ role: z.enum(['agent', 'admin']).optional(), status: z.enum(['active', 'disabled']).optional() }).refine((b) => b.role || b.status, 'give role or status');
export const resetPasswordRequest = z.object({ password });

// ── entry points ───────────────────────────────────────────────────────────────────────────
export const entryPointBody = z.object({
  id: z.string(),
  name: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  disabled: z.boolean(),
  captions: z.enum(captionsSettings).describe("Live captions of its consultations: inherit (the server's CAPTIONS_CONSULTATIONS), on or off"),
  recording: z.enum(recordingSettings).describe("Recording of its consultations whose customer consented: inherit (the server's RECORD_CONSULTATIONS), on or off"),
  routing: z.enum(entryPointRoutings).describe('Who answers: human (the agents\' queue), ai_first (the AI assistant, which can hand over to a person) or ai_overflow (the assistant when no agent answers in time)'),
  overflowAfterSeconds: z.number().int(),
  systemPrompt: z.string().nullable(),
  url: z.string().describe('What the QR code encodes: the landing page with a signed entry token'),
  qrPngUrl: z.string(),
  qrSvgUrl: z.string(),
});
const captionsField = z.enum(captionsSettings, { error: 'must be inherit, on or off' });
const routingField = z.enum(entryPointRoutings, { error: 'must be human, ai_first or ai_overflow' });
const overflowField = z.number({ error: 'must be a whole number of seconds' }).int('must be a whole number of seconds').min(0, 'must be 0 (at once) or more seconds').max(3600, 'must be at most 3600 seconds');
const systemPromptField = z.string().trim().max(4000, 'must be at most 4000 characters').nullable();
export const createEntryPointRequest = z.object({
  name: z.string().trim().min(1).max(100),
  ttlHours: z.number().int().min(1).max(8760).default(720),
  captions: captionsField.optional().describe('Only an admin may choose on or off'),
  routing: routingField.optional().describe('Only an admin may choose an AI routing'),
  overflowAfterSeconds: overflowField.optional(),
  systemPrompt: systemPromptField.optional(),
});
export const updateEntryPointRequest = z
  .object({ captions: captionsField.optional(), routing: routingField.optional(), overflowAfterSeconds: overflowField.optional(), systemPrompt: systemPromptField.optional() })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'give captions, routing, overflowAfterSeconds or systemPrompt');
export const entryPointRecordingRequest = z.object({ recording: z.enum(recordingSettings, { error: 'must be inherit, on or off' }) });
export const entryInfoAnswer = z.object({ entryPoint: z.object({ id: z.string(), name: z.string() }), expiresAt: z.string() });

// ── consultations ──────────────────────────────────────────────────────────────────────────
export const consultationBody = z.object({
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
  aiOutcome: z.enum(aiOutcomes).nullable().describe('how its AI conversation ended: resolved_by_bot, transferred (to a person) or abandoned; null when no bot took part'),
});
export const noteBody = z.object({ id: z.string(), authorId: z.string(), authorName: z.string().nullable(), body: z.string(), disposition: z.string().nullable(), createdAt: z.string() });
export const consultationDetailBody = consultationBody.extend({
  transitions: z.array(z.object({ from: z.enum(callStatuses).nullable(), to: z.enum(callStatuses), cause: z.string(), at: z.string() })),
  events: z.array(z.object({ type: z.string(), actorId: z.string().nullable(), detail: z.record(z.string(), z.unknown()).nullable(), at: z.string() })),
  participants: z.array(z.object({ role: z.string(), userId: z.string().nullable(), name: z.string(), joinedAt: z.string(), leftAt: z.string().nullable() })),
  notes: z.array(noteBody),
});
export const startConsultationRequest = z.object({
  entryToken: z.string().min(10).max(2048),
  name: z.string().trim().min(1, 'enter your name').max(80),
  phone: z.string().trim().min(3).max(32),
  inquiry: z.string().trim().max(2000).default(''),
  recordingConsent: z.literal(true, { error: 'you must agree to recording before calling' }),
});
export const startConsultationAnswer = z.object({ consultation: consultationBody, customerToken: z.string(), roomId: z.string() });
const isoDate = z.iso.datetime({ offset: true, error: 'must be an ISO date-time such as 2026-11-25T00:00:00Z' }).transform((s) => new Date(s));
export const historyQuery = z.object({
  from: isoDate.optional(),
  to: isoDate.optional(),
  agentId: z.string().min(1).max(64).optional(),
  status: z.enum(callStatuses).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
export const historyAnswer = z.object({ consultations: z.array(consultationBody), total: z.number() });
export const addNoteRequest = z.object({ body: z.string().trim().min(1, 'write something').max(10_000), disposition: z.enum(dispositions).optional() });

// ── webhooks ───────────────────────────────────────────────────────────────────────────────
export const webhookBody = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  disabledAt: z.string().nullable(),
  active: z.boolean(),
});
export const createdWebhookBody = webhookBody.extend({
  secret: z.string().describe('HMAC-SHA256 key for Parley-Signature; shown only in this answer'),
});
export const createWebhookRequest = z.object({
  url: webhookUrl,
  events: z.array(z.enum(webhookSubscriptions)).min(1).max(20).default(['*']).describe("event types to receive; '*' for all"),
  description: z.string().trim().max(500).optional(),
});
export const deliveryBody = z.object({
  id: z.string(),
  endpointId: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  deliveredAt: z.string().nullable(),
  payload: z.unknown().describe('the event body that was POSTed, parsed'),
});
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

// ── the routes the pages call ──────────────────────────────────────────────────────────────
const none = z.undefined();
/** `:name` in a path is filled from `params`; `body`/`reply` are the schemas above. */
export const restRoutes = {
  signIn: { method: 'POST', path: '/api/v1/auth/signin', body: signInRequest, reply: signInAnswer },
  signOut: { method: 'POST', path: '/api/v1/auth/signout', body: none, reply: z.null() },
  me: { method: 'GET', path: '/api/v1/auth/me', body: none, reply: z.object({ user: userBody }) },
  listUsers: { method: 'GET', path: '/api/v1/users', body: none, reply: z.object({ users: z.array(userBody) }) },
  createUser: { method: 'POST', path: '/api/v1/users', body: createUserRequest, reply: z.object({ user: userBody }) },
  updateUser: { method: 'PATCH', path: '/api/v1/users/:id', body: updateUserRequest, reply: z.object({ user: userBody }) },
  resetPassword: { method: 'POST', path: '/api/v1/users/:id/password', body: resetPasswordRequest, reply: z.object({ user: userBody }) },
  listEntryPoints: { method: 'GET', path: '/api/v1/entry-points', body: none, reply: z.object({ entryPoints: z.array(entryPointBody) }) },
  createEntryPoint: { method: 'POST', path: '/api/v1/entry-points', body: createEntryPointRequest, reply: z.object({ entryPoint: entryPointBody }) },
  updateEntryPoint: { method: 'PATCH', path: '/api/v1/entry-points/:id', body: updateEntryPointRequest, reply: z.object({ entryPoint: entryPointBody }) },
  setEntryPointRecording: { method: 'PUT', path: '/api/v1/entry-points/:id/recording', body: entryPointRecordingRequest, reply: z.object({ entryPoint: entryPointBody }) },
  closeEntryPoint: { method: 'DELETE', path: '/api/v1/entry-points/:id', body: none, reply: z.object({ entryPoint: entryPointBody }) },
  entryInfo: { method: 'GET', path: '/api/v1/entry/:entryToken', body: none, reply: entryInfoAnswer },
  startConsultation: { method: 'POST', path: '/api/v1/consultations', body: startConsultationRequest, reply: startConsultationAnswer },
  history: { method: 'GET', path: '/api/v1/consultations', body: none, reply: historyAnswer },
  consultation: { method: 'GET', path: '/api/v1/consultations/:id', body: none, reply: z.object({ consultation: consultationDetailBody }) },
  addNote: { method: 'POST', path: '/api/v1/consultations/:id/notes', body: addNoteRequest, reply: z.object({ note: noteBody }) },
  listWebhooks: { method: 'GET', path: '/api/v1/webhooks', body: none, reply: z.object({ webhooks: z.array(webhookBody) }) },
  createWebhook: { method: 'POST', path: '/api/v1/webhooks', body: createWebhookRequest, reply: z.object({ webhook: createdWebhookBody }) },
  disableWebhook: { method: 'DELETE', path: '/api/v1/webhooks/:id', body: none, reply: z.object({ webhook: webhookBody }) },
  deliveries: { method: 'GET', path: '/api/v1/webhooks/:id/deliveries', body: none, reply: z.object({ deliveries: z.array(deliveryBody), total: z.number().int() }) },
  redeliver: { method: 'POST', path: '/api/v1/webhooks/:id/deliveries/:deliveryId/redeliver', body: none, reply: z.object({ delivery: deliveryBody }) },
} as const;

export type RestRoutes = typeof restRoutes;
export type RestRouteName = keyof RestRoutes;
/** What a page sends to `name` (before the server's defaults apply). */
export type RestBody<N extends RestRouteName> = z.input<RestRoutes[N]['body']>;
/** What `name` answers. */
export type RestReply<N extends RestRouteName> = z.output<RestRoutes[N]['reply']>;
