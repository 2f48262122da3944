/**
 * The `/consult` client of the customer page, the agent console and the supervisor panel:
 * types derived from the server's contract (src/contracts/consult.ts).
 */
import type { Socket } from 'socket.io-client';
import type { z } from 'zod';
import type { ConsultReplies, ConsultRequests, ConsultServerToClient } from '../../src/contracts/consult.js';
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

export const consultSocket = (socket: Socket): ConsultSocket => contractSocket(socket);
