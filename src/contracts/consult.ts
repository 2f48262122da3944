/**
 * `/consult`: the customer page's and the agent console's live protocol (docs/consultations.md).
 * `consultRequests` are the zod schemas the server validates every request with
 * (src/socket/consultNamespace.ts); `ConsultReplies` what each request's ack carries, and
 * `ConsultServerToClient` what the server pushes — both taken from the domain's own types, so
 * the console's and the dashboard's typed client (web-src/client/consult.ts) cannot drift.
 */
import { z } from 'zod';
import type { ConsultationEvents, ConsultationService } from '../domain/consultations/consultationService.js';
import type { SupervisorState } from '../domain/consultations/supervision.js';
import type { AgentView, OfferView, QueueView } from '../domain/consultations/consultationView.js';
import type { Caption } from '../captions/captionService.js';
import type { CaptionStatusEvent } from '../captions/captionWiring.js';
import type { CommonServerToClient } from './socket.js';
import type { RecordingStatus } from '../domain/recordings/recording.js';

const consultationId = z.object({ consultationId: z.uuid('must be a consultation id (UUID)') });
const empty = z.object({}).loose().optional();
export const supervisorMode = z.enum(['listen', 'whisper', 'barge'], 'must be "listen", "whisper" or "barge"');
export const transferTarget = z.union([z.literal('queue'), z.object({ agentId: z.string().min(1).max(128) })], 'must be {agentId} or "queue"');

export const consultRequests = {
  // customer
  'consultation:hang-up': empty,
  'consultation:request-callback': z.object({ phone: z.string().trim().min(5).max(32).optional() }).optional(),
  // agent
  'agent:set-state': z.object({ state: z.enum(['available', 'after-call-work', 'offline']) }),
  'agent:get': empty,
  'agent:colleagues': empty,
  'consultation:offer-ack': consultationId,
  'consultation:accept': consultationId,
  'consultation:reject': consultationId,
  'consultation:hold': consultationId.extend({ on: z.boolean() }),
  'consultation:transfer': consultationId.extend({ to: transferTarget }),
  'consultation:end': consultationId,
  // supervisors (admins)
  'supervisor:join': consultationId.extend({ mode: supervisorMode }),
  'supervisor:mode': consultationId.extend({ mode: supervisorMode }),
  'supervisor:leave': consultationId,
} as const;

export type ConsultRequests = typeof consultRequests;
type Answer<M extends keyof ConsultationService> = ConsultationService[M] extends (...args: never[]) => infer R ? Awaited<R> : never;
type Supervises<M extends 'join' | 'setMode' | 'leave'> = Awaited<ReturnType<ConsultationService['supervision'][M]>>;

export interface ConsultReplies {
  'consultation:hang-up': { consultation: Answer<'hangUpByCustomer'> };
  'consultation:request-callback': { consultation: Answer<'requestCallback'> };
  'agent:set-state': { agent: AgentView };
  'agent:get': {
    agent: AgentView;
    queue: QueueView;
    offer: OfferView | undefined;
    consultation: Answer<'detail'> | undefined;
    supervisor: SupervisorState | null;
  };
  'agent:colleagues': { agents: Array<{ id: string; name: string; state: AgentView['state'] }> };
  'consultation:offer-ack': Answer<'acknowledgeOffer'>;
  'consultation:accept': Answer<'accept'>;
  'consultation:reject': { rejected: true };
  'consultation:hold': Answer<'hold'>;
  'consultation:transfer': Answer<'transfer'>;
  'consultation:end': { consultation: Answer<'endByAgent'> };
  'supervisor:join': Supervises<'join'>;
  'supervisor:mode': Supervises<'setMode'>;
  'supervisor:leave': Supervises<'leave'>;
}

type Event<E extends keyof ConsultationEvents> = ConsultationEvents[E][0];

export interface ConsultServerToClient extends CommonServerToClient {
  /** To the customer's page: place in the queue, estimated wait, the call's status. */
  'consultation:status': Event<'customer-status'>;
  /** To the customer and the agent the call was with. */
  'consultation:ended': Omit<Event<'ended'>, 'agentId'>;
  'consultation:offer': Event<'offer'>;
  'consultation:offer-withdrawn': Omit<Event<'offer-withdrawn'>, 'agentId'>;
  'agent:state': Event<'agent-state'>;
  'queue:update': Event<'queue'>;
  'consultation:transferred': Event<'transferred'>;
  'consultation:transfer-failed': Event<'transfer-failed'>;
  /** A live caption of the call (interim ones are replaced by the final with the same utteranceId). */
  caption: Caption & { consultationId: string };
  /** Whether the call's speech is being captioned, and if not, why (no engine, engine not answering, off). */
  'caption-status': CaptionStatusEvent;
  /** Who supervises the agent's call now; null when nobody does any more. */
  'supervisor:state': SupervisorState | null;
  /** To the customer and the call's agent: the consultation's recording started, is being finished, is ready or failed. */
  recording: { consultationId: string; status: RecordingStatus; name: string; failure: string | null };
}
