/**
 * Supervisors on live consultations: an admin joins a call to listen (hear both sides,
 * unheard), whisper (heard by the agent only) or barge (heard by everyone), switches modes
 * and leaves. One supervisor per call at a time. Every step is written to the call's
 * timeline (`supervisor-joined`, `supervisor-mode`, `supervisor-left`) and announced as
 * `changed`, which the `/consult` namespace forwards to the agent's consoles
 * (`supervisor:state`) and the media policy turns into opened and closed consumers.
 *
 * Supervising is an admin's power (no separate role; docs/consultations.md).
 */
import { EventEmitter } from 'node:events';
import { hasRole, type Identity } from '../../auth/identity.js';
import { ParleyError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import type { CallRecord } from '../../storage/callRepository.js';
import type { ConsultationRepository } from '../../storage/consultationRepository.js';
import type { SupervisorMode } from './mediaPolicy.js';

export type { SupervisorMode };

export interface SupervisorSession {
  consultationId: string;
  supervisor: { id: string; name: string };
  mode: SupervisorMode;
  since: string;
}

/** `supervisor:state` to the agent's consoles: who supervises the call now, and how; null when nobody. */
export interface SupervisorState {
  consultationId: string;
  supervisor: { id: string; name: string } | null;
  mode: SupervisorMode | null;
}

/** `left`: the supervisor pressed Leave; `disconnected`: its page closed or its connection dropped. */
export type SupervisorLeaveCause = 'left' | 'disconnected';

export interface SupervisionEvents {
  /** `agentId`: the account the call is with now (told), when it has one. */
  changed: [SupervisorState & { agentId: string | undefined }];
}

export interface SupervisionDeps {
  /** The call, or NOT_FOUND. */
  call(consultationId: string): Promise<CallRecord>;
  /** The account the call is with now. */
  agentOf(consultationId: string): string | undefined;
  repo: ConsultationRepository;
  logger: Logger;
}

const modeNames: Record<SupervisorMode, string> = { listen: 'listening in', whisper: 'whispering to the agent', barge: 'in the call' };

export class Supervision extends EventEmitter<SupervisionEvents> {
  private readonly sessions = new Map<string, SupervisorSession>();

  constructor(private readonly deps: SupervisionDeps) {
    super();
  }

  of(consultationId: string): SupervisorSession | undefined {
    return this.sessions.get(consultationId);
  }

  /** What the agent's console shows for the call. */
  stateOf(consultationId: string): SupervisorState {
    const s = this.sessions.get(consultationId);
    return { consultationId, supervisor: s ? { ...s.supervisor } : null, mode: s?.mode ?? null };
  }

  async join(who: Identity, consultationId: string, mode: SupervisorMode): Promise<{ roomId: string; mode: SupervisorMode }> {
    this.assertSupervisor(who);
    const call = await this.deps.call(consultationId);
    if (call.status !== 'IN_PROGRESS' && call.status !== 'CONNECTING') throw new ParleyError('CONFLICT', `this call is ${call.status}; a supervisor can join only a call that an agent has answered`);
    if (this.deps.agentOf(consultationId) === who.userId) throw new ParleyError('CONFLICT', 'this call is yours; a supervisor joins the calls of other agents');
    const current = this.sessions.get(consultationId);
    if (current && current.supervisor.id !== who.userId) throw new ParleyError('CONFLICT', `${current.supervisor.name} is already supervising this call; one supervisor at a time`);
    if (current) return this.setMode(who, consultationId, mode).then((r) => ({ roomId: call.roomId!, mode: r.mode }));
    const session: SupervisorSession = { consultationId, supervisor: { id: who.userId, name: who.name ?? who.userId }, mode, since: new Date().toISOString() };
    await this.deps.repo.addEvent(consultationId, 'supervisor-joined', who.userId, { supervisorName: session.supervisor.name, mode });
    this.sessions.set(consultationId, session);
    this.deps.logger.info({ consultationId, supervisorId: who.userId, mode }, `supervisor ${modeNames[mode]}`);
    this.announce(consultationId);
    return { roomId: call.roomId!, mode };
  }

  async setMode(who: Identity, consultationId: string, mode: SupervisorMode): Promise<{ mode: SupervisorMode }> {
    const session = this.own(who, consultationId);
    if (session.mode === mode) return { mode };
    await this.deps.repo.addEvent(consultationId, 'supervisor-mode', who.userId, { supervisorName: session.supervisor.name, mode, from: session.mode });
    session.mode = mode;
    this.deps.logger.info({ consultationId, supervisorId: who.userId, mode }, `supervisor ${modeNames[mode]}`);
    this.announce(consultationId);
    return { mode };
  }

  async leave(who: Identity, consultationId: string, cause: SupervisorLeaveCause = 'left'): Promise<{ left: true }> {
    const session = this.own(who, consultationId);
    this.sessions.delete(consultationId);
    // Told first (the agent's console and the media policy must not wait for storage), then written.
    this.announce(consultationId);
    this.deps.logger.info({ consultationId, supervisorId: who.userId, cause }, 'supervisor left');
    await this.deps.repo.addEvent(consultationId, 'supervisor-left', who.userId, { supervisorName: session.supervisor.name, cause });
    return { left: true };
  }

  /**
   * The supervisor's connection is gone (page closed, socket dropped): each call it still
   * supervises ends its supervision as if it had left, with cause `disconnected`. Calls that
   * ended or that another supervisor took meanwhile are skipped.
   */
  async supervisorGone(who: Identity, consultationIds: Iterable<string>): Promise<void> {
    for (const id of consultationIds) {
      if (this.sessions.get(id)?.supervisor.id !== who.userId) continue;
      await this.leave(who, id, 'disconnected').catch((err: unknown) => this.deps.logger.warn({ err, consultationId: id }, 'recording that the supervisor left failed'));
    }
  }

  /** The call is over: its supervision ends with it (the end is the timeline's last event). */
  callEnded(consultationId: string): void {
    if (this.sessions.delete(consultationId)) this.announce(consultationId);
  }

  /** The call moved to another agent: they are told who supervises it. */
  agentChanged(consultationId: string): void {
    if (this.sessions.has(consultationId)) this.announce(consultationId);
  }

  private own(who: Identity, consultationId: string): SupervisorSession {
    this.assertSupervisor(who);
    const session = this.sessions.get(consultationId);
    if (!session || session.supervisor.id !== who.userId) throw new ParleyError('CONFLICT', 'you are not supervising this call; join it first with supervisor:join');
    return session;
  }

  private assertSupervisor(who: Identity): void {
    if (!hasRole(who, 'admin')) throw new ParleyError('FORBIDDEN', 'only admins supervise calls');
  }

  private announce(consultationId: string): void {
    this.emit('changed', { ...this.stateOf(consultationId), agentId: this.deps.agentOf(consultationId) });
  }
}
