/** The dashboard's `/admin` client: types derived from src/contracts/admin.ts. */
import type { Socket } from 'socket.io-client';
import type { AdminReplies, AdminRequests, AdminServerToClient } from '../../src/contracts/admin.js';
import { contractSocket, type ContractSocket } from './socket.js';

export type AdminSocket = ContractSocket<AdminRequests, AdminReplies, AdminServerToClient>;
export type AdminPush<E extends keyof AdminServerToClient> = AdminServerToClient[E];

export const adminSocket = (socket: Socket): AdminSocket => contractSocket(socket);
