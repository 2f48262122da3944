/**
 * `/admin`: live operations view for admins. The dashboard's live board (agents and their
 * states, live calls, queue) is pushed as `board` whenever it changes, at most every
 * BOARD_INTERVAL_MS. The namespace refuses every identity below admin at connection time.
 */
import type { Namespace, Socket } from 'socket.io';
import { adminRequests, type AdminReplies, type AdminRequests, type AdminServerToClient } from '../contracts/admin.js';
import type { ListenerMap } from '../contracts/socket.js';
import type { Board } from '../domain/consultations/consultationView.js';
import type { CaptionStatusEvent } from '../captions/captionWiring.js';
import { hasRole } from '../auth/identity.js';
import type { Metrics } from '../metrics/metrics.js';
import { contractEvents, type EventDefinition, type EventRouter } from './eventRouter.js';
import { identityOf } from './handshakeAuth.js';
import { coalesce } from '../util/coalesce.js';

export interface AdminNamespaceDeps {
  namespace: Namespace;
  router: EventRouter;
  metrics: Metrics;
  rooms(): Array<{ name: string; participants: number }>;
  connections(): number;
  board: BoardSource;
  /** The last caption-status announced for a consultation (captions:status); default: none known. */
  captionStatus?: (consultationId: string) => CaptionStatusEvent | undefined;
}

export interface BoardSource {
  get(): Promise<Board>;
  onChange(listener: () => void): void;
}

const BOARD_INTERVAL_MS = 250;

export function attachAdminNamespace(deps: AdminNamespaceDeps): void {
  const { router, metrics } = deps;
  // What the server pushes is held to the contract (src/contracts/admin.ts).
  const namespace = deps.namespace as Namespace<Record<string, never>, ListenerMap<AdminServerToClient>>;
  const on = contractEvents<AdminRequests, AdminReplies>(adminRequests);
  namespace.use((socket: Socket, next) => {
    const identity = identityOf(socket);
    if (hasRole(identity, 'admin')) return next();
    const e = new Error('the /admin namespace needs the admin role') as Error & { data: unknown };
    e.data = { code: 'FORBIDDEN', message: e.message };
    next(e);
  });
  const events = {
    'rooms:list': on('rooms:list', () => ({ connections: deps.connections(), rooms: deps.rooms() }), { role: 'admin' }),
    'board:get': on('board:get', () => deps.board.get(), { role: 'admin' }),
    'captions:status': on('captions:status', (d) => ({ status: deps.captionStatus?.(d.consultationId) ?? null }), { role: 'admin' }),
  } satisfies Record<keyof AdminRequests, EventDefinition>;

  // Changes come in bursts (a call ending moves the call, the agent and the queue): coalesce
  // them into one push, and skip the work while no admin is watching.
  const push = coalesce(() => {
    if (namespace.sockets.size === 0) return;
    deps.board.get().then(
      (board) => namespace.emit('board', board),
      () => undefined,
    );
  }, BOARD_INTERVAL_MS);
  deps.board.onChange(push);

  namespace.on('connection', (socket) => {
    metrics.socketConnections.inc({ namespace: namespace.name });
    router.attach(socket, identityOf(socket), events);
    socket.on('disconnect', () => metrics.socketConnections.dec({ namespace: namespace.name }));
  });
}
