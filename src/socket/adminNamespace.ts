/**
 * `/admin`: live operations view for admins (and the base for the dashboard's live board).
 * The namespace refuses every identity below admin at connection time.
 */
import type { Namespace, Socket } from 'socket.io';
import { z } from 'zod';
import { hasRole } from '../auth/identity.js';
import type { Metrics } from '../metrics/metrics.js';
import { defineEvent, type EventRouter } from './eventRouter.js';
import { identityOf } from './handshakeAuth.js';

export interface AdminNamespaceDeps {
  namespace: Namespace;
  router: EventRouter;
  metrics: Metrics;
  rooms(): Array<{ name: string; participants: number }>;
  connections(): number;
}

export function attachAdminNamespace(deps: AdminNamespaceDeps): void {
  const { namespace, router, metrics } = deps;
  namespace.use((socket: Socket, next) => {
    const identity = identityOf(socket);
    if (hasRole(identity, 'admin')) return next();
    const e = new Error('the /admin namespace needs the admin role') as Error & { data: unknown };
    e.data = { code: 'FORBIDDEN', message: e.message };
    next(e);
  });
  const events = {
    'rooms:list': defineEvent(z.object({}).optional(), () => ({ connections: deps.connections(), rooms: deps.rooms() }), { role: 'admin' }),
  };
  namespace.on('connection', (socket) => {
    metrics.socketConnections.inc({ namespace: namespace.name });
    router.attach(socket, identityOf(socket), events);
    socket.on('disconnect', () => metrics.socketConnections.dec({ namespace: namespace.name }));
  });
}
