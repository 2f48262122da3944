/**
 * The one error type that crosses Parley's edges. REST turns it into a 4xx/5xx JSON body,
 * Socket.IO into an ack `{ error: { code, message } }` or an `error` event.
 */
export type ErrorCode =
  | 'INVALID_PAYLOAD'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'NOT_IN_ROOM'
  | 'UNKNOWN_PEER'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  /** A quota (per peer, per address) or a server resource (UDP sockets, file descriptors) is used up. */
  | 'RESOURCE_EXHAUSTED'
  | 'AUTH_UNAVAILABLE'
  | 'SHUTTING_DOWN'
  | 'STORAGE_UNAVAILABLE'
  /** REDIS_URL is set and Redis cannot be reached: new calls wait until it is back. */
  | 'CLUSTER_UNAVAILABLE'
  /** The SFU room is hosted by another node (its id in `node`): connect there. */
  | 'WRONG_NODE'
  | 'INTERNAL';

const statusByCode: Record<ErrorCode, number> = {
  INVALID_PAYLOAD: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  NOT_IN_ROOM: 404,
  UNKNOWN_PEER: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  RESOURCE_EXHAUSTED: 429,
  AUTH_UNAVAILABLE: 503,
  SHUTTING_DOWN: 503,
  STORAGE_UNAVAILABLE: 503,
  CLUSTER_UNAVAILABLE: 503,
  WRONG_NODE: 409,
  INTERNAL: 500,
};

export class ParleyError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra machine-readable facts for the client (e.g. a call's current status on a 409). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ParleyError';
    this.status = statusByCode[code];
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export function toErrorBody(err: ParleyError): ErrorBody {
  return { error: { code: err.code, message: err.message } };
}
