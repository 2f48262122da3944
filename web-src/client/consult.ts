/**
 * The `/consult` client of the customer page, the agent console and the supervisor panel:
 * types derived from the server's contract (src/contracts/consult.ts).
 */
import type { Socket } from 'socket.io-client';
import type { z } from 'zod';
import type { ConsultReplies, ConsultRequests, ConsultServerToClient } from '../../src/contracts/consult.js';
import type { ClusterRetryOptions } from '../ui/clusterRetry.js';
import { contractSocket, type ContractSocket } from './socket.js';

export type ConsultSocket = ContractSocket<ConsultRequests, ConsultReplies, ConsultServerToClient>;
export type ConsultRequest<E extends keyof ConsultRequests> = z.input<ConsultRequests[E]>;
export type ConsultReply<E extends keyof ConsultReplies> = ConsultReplies[E];
export type ConsultPush<E extends keyof ConsultServerToClient> = ConsultServerToClient[E];

/** `consultation:transfer` — to a colleague or back to the queue. */
export type TransferRequest = ConsultRequest<'consultation:transfer'>;
export type SupervisorMode = ConsultRequest<'supervisor:join'>['mode'];
/** `supervisor:join` → ack `{roomId, mode}`; `supervisor:mode` switches. */
export type SupervisorJoin = ConsultRequest<'supervisor:join'>;
export type SupervisorJoined = ConsultReply<'supervisor:join'>;

/**
 * The requests sent again while the cluster answers CLUSTER_UNAVAILABLE. Each one's refusal
 * comes from its first queue change, before anything is stored (src/domain/consultations/
 * consultationService.ts): setting the agent's state, the reservation that starts an accept,
 * a reject, an offer's acknowledgement, the queue change a transfer starts with. Not here:
 * hang-up, end, hold, callback and the supervisor's requests, whose queue work (if any) runs
 * after the stored change and never answers the request with that code; the REST
 * `startConsultation` either, since the call is stored before it is queued, so sending it
 * again could make a second consultation.
 */
export const consultRetryable: ReadonlySet<keyof ConsultRequests & string> = new Set([
  'agent:set-state',
  'consultation:accept',
  'consultation:reject',
  'consultation:offer-ack',
  'consultation:transfer',
] satisfies Array<keyof ConsultRequests>);

export const consultSocket = (socket: Socket, retry?: ClusterRetryOptions): ConsultSocket => contractSocket(socket, { retryable: consultRetryable, retry });
