/**
 * `/consult`: the live side of consultations (docs/consultations.md). Customers connect with
 * the room token they got when they called and hear about their place in the queue and the
 * call's status; agents connect with their access token, set their state, get offers,
 * accept, reject, hold and end. The protocol is a translation of ConsultationService events;
 * the decisions are made there.
 *
 * Agents transfer calls (`consultation:transfer`); admins supervise them (`supervisor:join`,
 * `supervisor:mode`, `supervisor:leave`) and the agent's consoles are told (`supervisor:state`).
 *
 * Socket.IO rooms: "consult:<consultationId>" (the customer's sockets), "agent:<userId>"
 * (one agent's consoles), "agents" (every console, for the queue view).
 */
import type { Namespace, Socket } from 'socket.io';
import { customerOf, hasRole, type Identity } from '../auth/identity.js';
import type { ConsultationService } from '../domain/consultations/consultationService.js';
import { ParleyError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { consultRequests, type ConsultReplies, type ConsultRequests, type ConsultServerToClient } from '../contracts/consult.js';
import type { ListenerMap } from '../contracts/socket.js';
import { contractEvents, type EventDefinition, type EventRouter, type SocketContext } from './eventRouter.js';
import { identityOf } from './handshakeAuth.js';

export interface ConsultNamespaceDeps {
  namespace: Namespace;
  router: EventRouter;
  consultations: ConsultationService;
  metrics: Metrics;
  logger: Logger;
  /** The consultation's running recording, if any: pushed on (re)connect, so a reloaded page shows it. */
  recordingOf?(consultationId: string): ConsultServerToClient['recording'] | undefined;
}

export function attachConsultNamespace(deps: ConsultNamespaceDeps): void {
  const { router, consultations, metrics, logger } = deps;
  // What the server pushes is held to the contract (src/contracts/consult.ts).
  const namespace = deps.namespace as Namespace<Record<string, never>, ListenerMap<ConsultServerToClient>>;
  const on = contractEvents<ConsultRequests, ConsultReplies>(consultRequests);
  const nsName = namespace.name;

  const customerConsultation = (identity: Identity): string | undefined => customerOf(identity);
  /** Calls each supervisor socket joined: they end when that socket goes (page closed, connection dropped). */
  const supervised = new WeakMap<Socket, Set<string>>();
  const supervisedBy = (socket: Socket): Set<string> => {
    let set = supervised.get(socket);
    if (!set) supervised.set(socket, (set = new Set()));
    return set;
  };

  const ownConsultation = (ctx: SocketContext): string => {
    const id = customerConsultation(ctx.identity);
    if (!id) throw new ParleyError('FORBIDDEN', 'connect with the customer token you got when you called');
    return id;
  };

  consultations.on('customer-status', (s) => namespace.to(`consult:${s.consultationId}`).emit('consultation:status', s));
  consultations.on('ended', (e) => {
    const payload = { consultationId: e.consultationId, status: e.status, cause: e.cause };
    namespace.to(`consult:${e.consultationId}`).emit('consultation:ended', payload);
    if (e.agentId) namespace.to(`agent:${e.agentId}`).emit('consultation:ended', payload);
  });
  consultations.on('offer', (o) => namespace.to(`agent:${o.agentId}`).emit('consultation:offer', o));
  consultations.on('offer-withdrawn', (w) => namespace.to(`agent:${w.agentId}`).emit('consultation:offer-withdrawn', { consultationId: w.consultationId, reason: w.reason }));
  consultations.on('agent-state', (a) => namespace.to(`agent:${a.agentId}`).emit('agent:state', a));
  consultations.on('queue', (q) => namespace.to('agents').emit('queue:update', q));
  consultations.on('transferred', (t) => namespace.to(`agent:${t.from.agentId}`).emit('consultation:transferred', t));
  consultations.on('transfer-failed', (f) => namespace.to(`agent:${f.fromAgentId}`).emit('consultation:transfer-failed', f));
  consultations.supervision.on('changed', ({ agentId, ...state }) => {
    if (agentId) namespace.to(`agent:${agentId}`).emit('supervisor:state', state.supervisor ? state : null);
  });

  namespace.use((socket: Socket, next) => {
    const identity = identityOf(socket);
    if (hasRole(identity, 'agent') || customerConsultation(identity)) return next();
    const e = new Error('/consult needs an agent access token or the customer token of a consultation') as Error & { data: unknown };
    e.data = { code: 'FORBIDDEN', message: e.message };
    next(e);
  });

  const events = {
    // --- customer
    'consultation:hang-up': on('consultation:hang-up', async (_data, ctx) => ({ consultation: await consultations.hangUpByCustomer(ownConsultation(ctx)) })),
    'consultation:request-callback': on('consultation:request-callback', async (data, ctx) => ({
      consultation: await consultations.requestCallback(ownConsultation(ctx), data?.phone),
    })),
    // --- agent
    'agent:set-state': on('agent:set-state', async (data, ctx) => ({ agent: await consultations.setAgentState(ctx.identity.userId, data.state) }), {
      role: 'agent',
    }),
    'agent:get': on(
      'agent:get',
      async (_data, ctx) => {
        const agent = consultations.agentState(ctx.identity.userId);
        const consultation = agent.consultationId ? await consultations.detail(ctx.identity, agent.consultationId) : undefined;
        const supervisor = agent.consultationId && consultations.supervision.of(agent.consultationId) ? consultations.supervision.stateOf(agent.consultationId) : null;
        return { agent, queue: consultations.queueView(), offer: consultations.currentOffer(ctx.identity.userId), consultation, supervisor };
      },
      { role: 'agent' },
    ),
    // Colleagues a call can be transferred to (the console's Transfer dialog lists the available ones).
    'agent:colleagues': on(
      'agent:colleagues',
      async (_data, ctx) => ({
        agents: (await consultations.board()).agents.filter((a) => a.id !== ctx.identity.userId && a.accountStatus === 'active').map((a) => ({ id: a.id, name: a.name, state: a.state })),
      }),
      { role: 'agent' },
    ),
    'consultation:offer-ack': on('consultation:offer-ack', (data, ctx) => consultations.acknowledgeOffer(ctx.identity.userId, data.consultationId), { role: 'agent' }),
    'consultation:accept': on('consultation:accept', (data, ctx) => consultations.accept(ctx.identity, data.consultationId), { role: 'agent' }),
    'consultation:reject': on(
      'consultation:reject',
      async (data, ctx) => {
        await consultations.reject(ctx.identity.userId, data.consultationId);
        return { rejected: true };
      },
      { role: 'agent' },
    ),
    'consultation:hold': on('consultation:hold', (data, ctx) => consultations.hold(ctx.identity, data.consultationId, data.on), { role: 'agent' }),
    'consultation:transfer': on('consultation:transfer', (data, ctx) => consultations.transfer(ctx.identity, data.consultationId, data.to), { role: 'agent' }),
    // --- supervisors (admins)
    'supervisor:join': on(
      'supervisor:join',
      async (data, ctx) => {
        const joined = await consultations.supervision.join(ctx.identity, data.consultationId, data.mode);
        supervisedBy(ctx.socket).add(data.consultationId);
        return joined;
      },
      { role: 'admin' },
    ),
    'supervisor:mode': on('supervisor:mode', (data, ctx) => consultations.supervision.setMode(ctx.identity, data.consultationId, data.mode), { role: 'admin' }),
    'supervisor:leave': on(
      'supervisor:leave',
      async (data, ctx) => {
        const left = await consultations.supervision.leave(ctx.identity, data.consultationId);
        supervisedBy(ctx.socket).delete(data.consultationId);
        return left;
      },
      { role: 'admin' },
    ),
    'consultation:end': on('consultation:end', async (data, ctx) => ({ consultation: await consultations.endByAgent(ctx.identity, data.consultationId) }), { role: 'agent' }),
  } satisfies Record<keyof ConsultRequests, EventDefinition>;

  namespace.on('connection', (socket) => {
    const identity = identityOf(socket);
    metrics.socketConnections.inc({ namespace: nsName });
    router.attach(socket, identity, events);
    const customerOf = customerConsultation(identity);
    if (customerOf) {
      void socket.join(`consult:${customerOf}`);
      consultations.customerConnected(customerOf);
      consultations.customerStatus(customerOf).then(
        (s) => socket.emit('consultation:status', s),
        (err: unknown) => socket.emit('error', { event: 'connect', code: err instanceof ParleyError ? err.code : 'INTERNAL', message: err instanceof Error ? err.message : 'unknown consultation' }),
      );
      const recording = deps.recordingOf?.(customerOf);
      if (recording) socket.emit('recording', recording);
    } else {
      void socket.join([`agent:${identity.userId}`, 'agents']);
      const agent = consultations.agentConnected(identity);
      socket.emit('agent:state', agent);
      socket.emit('queue:update', consultations.queueView());
      const offer = consultations.currentOffer(identity.userId);
      if (offer) socket.emit('consultation:offer', offer);
      if (agent.consultationId && consultations.supervision.of(agent.consultationId)) socket.emit('supervisor:state', consultations.supervision.stateOf(agent.consultationId));
      const recording = agent.consultationId ? deps.recordingOf?.(agent.consultationId) : undefined;
      if (recording) socket.emit('recording', recording);
      logger.info({ agentId: identity.userId, state: agent.state }, 'agent console connected');
    }
    socket.on('disconnect', () => {
      metrics.socketConnections.dec({ namespace: nsName });
      const calls = supervised.get(socket);
      if (calls && calls.size > 0) void consultations.supervision.supervisorGone(identity, calls);
      if (customerOf) consultations.customerDisconnected(customerOf);
      else consultations.agentDisconnected(identity.userId);
    });
  });
}
