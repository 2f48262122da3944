/**
 * The consultation flow (seed 003) on top of seed 001's call lifecycle:
 *
 *   entry point (QR) → customer form → call INITIATING → queued (RINGING) → offered to the
 *   longest-idle agent → accepted (CONNECTING) → both in the SFU room (IN_PROGRESS) → ENDED,
 *   or FAILED when the customer gives up first or the server restarts.
 *
 * It owns the queue and the agents' presence, writes every step to storage, and tells the
 * edges (the /consult and /admin namespaces) what changed through its events. Every end of
 * a consultation, whichever surface caused it (console, customer page, seed 001's REST
 * `/end`), arrives through the CallService's `transition` event and is handled in one place.
 */
import { EventEmitter } from 'node:events';
import { customerOf, hasRole, isAccount, type Identity } from '../../auth/identity.js';
import { voiceRoomRef } from '../roomRef.js';
import type { CaptionsSetting } from './captionsSetting.js';
import type { RecordingSetting } from './recordingSetting.js';
import type { AiOutcome, EntryPointAiSettings } from './routingSetting.js';
import { ConsultationMediaPolicy } from './mediaPolicy.js';
import { Supervision } from './supervision.js';
import type { TokenService } from '../../auth/tokens.js';
import { ParleyError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import type { CallRecord, CallRepository } from '../../storage/callRepository.js';
import type { CallNote, ConsultationRepository, HistoryFilter } from '../../storage/consultationRepository.js';
import type { EntryPoint, EntryPointRepository } from '../../storage/entryPointRepository.js';
import type { UserRepository } from '../../storage/userRepository.js';
import type { CallService } from '../calls/callService.js';
import type { DurableTimers } from '../../cluster/durableTimers.js';
import type { Presence } from '../../cluster/presence.js';
import { isLive, type CallStatus } from '../calls/callStatus.js';
import { coalesce } from '../../util/coalesce.js';
import type { AgentSnapshot, WithdrawReason } from '../routing/consultationQueue.js';
import { after, type QueuePort } from '../routing/queuePort.js';
import {
  consultationView,
  detailView,
  type AgentView,
  type Board,
  type ConsultationDetailView,
  type ConsultationView,
  type CustomerStatus,
  type Disposition,
  type HandoverLine,
  type OfferView,
  type QueueView,
} from './consultationView.js';

export interface ConsultationEvents {
  'customer-status': [CustomerStatus];
  ended: [{ consultationId: string; agentId: string | null; status: CallStatus; cause: string }];
  offer: [OfferView];
  'offer-withdrawn': [{ consultationId: string; agentId: string; reason: WithdrawReason }];
  'agent-state': [AgentView];
  queue: [QueueView];
  'board-changed': [];
  /** The call is with another agent now (`to` an agent) or waits at the head of the queue (`to` 'queue'). */
  transferred: [{ consultationId: string; from: { agentId: string; name: string }; to: { agentId: string; name: string } | 'queue' }];
  /** A transfer to `to` was not taken; the call went back to `returnedTo`. */
  'transfer-failed': [{ consultationId: string; fromAgentId: string; to: { agentId: string; name: string }; reason: string; returnedTo: 'agent' | 'queue' }];
  /** Who may hear whom in the call's room may have changed (a transfer moved the call). */
  'seats-changed': [{ consultationId: string }];
}

/** Where an agent sends a call: one available colleague, or the head of the queue. */
export type TransferTarget = { agentId: string } | 'queue';

export interface ConsultationServiceDeps {
  calls: CallService;
  callRepo: CallRepository;
  repo: ConsultationRepository;
  entryPoints: EntryPointRepository;
  users: UserRepository;
  tokens: TokenService;
  queue: QueuePort;
  logger: Logger;
  /** Base URL put in QR codes; the request's origin when unset. */
  publicUrl?: string;
  /** How long an agent without any console socket keeps their state (page reloads). */
  agentGraceMs: number;
  /** The queue is shared by several nodes (REDIS_URL): this node's agents leave it when this node stops. */
  queueShared?: boolean;
  /** How long a live consultation survives its customer having no page open (reloads, a tunnel). */
  customerGraceMs: number;
  /** Lifetime of a customer's room token. */
  customerTokenTtlSeconds: number;
  /** Customers' open pages over every node (LocalPresence: this process only). */
  presence: Presence;
  /** Where the customer grace timer lives (LocalDurableTimers: this process; Redis: fires on one node). */
  timers: DurableTimers;
  /** The AI assistant that answers ai_first / ai_overflow entry points; absent: every call goes to the queue. */
  assistant?: AiAssistant;
  /**
   * Where an ai_overflow call's deadline lives; default `timers` (with REDIS_URL it fires on one node, also when
   * the node that took the call is gone). Tests pass local timers on a fake clock.
   */
  overflowTimers?: DurableTimers;
}

/**
 * The port the AI voice agent implements for consultations: the bot joins the consultation's own SFU room
 * (`call-<id>`) as a participant with role `bot`, so the call's state machine, timeline, transcript and recording
 * cover the whole conversation, and leaves it when a person takes over or the call ends.
 */
export interface AiAssistant {
  /** Whether the assistant can take a call now (its engines are up and a line is free). */
  canAnswer(): boolean;
  /** The bot joins the room and greets the customer when they arrive; rejects when it cannot. */
  answer(consultationId: string, input: { roomId: string; entryPointId: string | null; systemPrompt: string | null }): Promise<void>;
  /** The bot leaves the room. */
  leave(consultationId: string, reason: string): void;
}

/** The bot's account-less identity on a consultation (participant rows, events, the offer's `transferredFrom`). */
export const ASSISTANT = { agentId: 'ai-agent', name: 'AI assistant' } as const;

/** The durable timer kind of a customer's grace (src/cluster/durableTimers.ts). */
const CUSTOMER_GRACE = 'customer-grace';
/** The durable timer kind of an ai_overflow call's deadline: when it fires, the AI assistant takes the call if it still waits. */
const AI_OVERFLOW = 'ai-overflow';

/** Consoles see the head of the queue; its length is sent in full. */
const QUEUE_VIEW_LIMIT = 20;
/** ai_overflow: an agent was accepting when the overflow fired; look again this much later (their accept may fail). */
const OVERFLOW_RECHECK_MS = 1000;
const QUEUE_PUSH_MS = 250;
const PLACES_PUSH_MS = 1000;

interface QueuedDetails {
  customerName: string;
  phone: string;
  inquiry: string;
  entryPoint: string;
  /** Set on a call an agent handed over: who, and the notes so far. */
  transferredFrom?: { agentId: string; name: string };
  notes?: OfferView['notes'];
  /** A handed-over call keeps its status (CONNECTING or IN_PROGRESS) while it waits again. */
  status?: CallStatus;
  /** Handed over by the AI assistant: its conversation so far. */
  transcript?: HandoverLine[];
}

export class ConsultationService extends EventEmitter<ConsultationEvents> {
  private readonly agentNames = new Map<string, string>();
  /** Open sockets per agent id (customers: `presence`, over every node). */
  private readonly agentSockets = new Map<string, number>();
  /** Agents with no console on any node at the last sweep (shared queue). */
  private absentAgents = new Set<string>();
  private sweepTimer: NodeJS.Timeout | undefined;
  /** Pending "gone for good" checks, keyed "agent:<id>" / "customer:<id>". */
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();
  private readonly onHold = new Set<string>();
  /** The place in line each waiting customer was last told. */
  private readonly lastPlace = new Map<string, { position: number; estimatedWaitSeconds: number | undefined; agentsOnline: number }>();
  /**
   * A queue that moves changes every console's view and every waiting customer's place:
   * sent as snapshots, at most every QUEUE_PUSH_MS / PLACES_PUSH_MS, not once per change.
   */
  private readonly pushQueue = coalesce(() => this.emit('queue', this.queueView()), QUEUE_PUSH_MS);
  private readonly pushPlaces = coalesce(() => this.tellPlaces(), PLACES_PUSH_MS);
  /** Consultations the AI assistant is on, and whether it has handed the caller over (it stays until a person takes over). */
  private readonly withAssistant = new Map<string, { handedOver: boolean }>();
  /** ai_overflow deadlines (durable timers of kind AI_OVERFLOW, one per waiting call). */
  private readonly overflowTimers: DurableTimers;
  /** Background writes (events, participants); awaited on close so nothing is lost. */
  private readonly pending = new Set<Promise<unknown>>();

  /** Supervisors on live calls (listen / whisper / barge). */
  readonly supervision: Supervision;
  /** Who may send to and receive from whom in a consultation's SFU room; the `/voice` namespace enforces it. */
  readonly mediaPolicy: ConsultationMediaPolicy;

  private readonly presence: Presence;
  private readonly timers: DurableTimers;

  constructor(private readonly deps: ConsultationServiceDeps) {
    super();
    const { queue, calls } = deps;
    this.presence = deps.presence;
    this.timers = deps.timers;
    this.overflowTimers = deps.overflowTimers ?? deps.timers;
    this.timers.handle(CUSTOMER_GRACE, (id) => this.customerGraceEnded(id));
    this.overflowTimers.handle(AI_OVERFLOW, (id) => this.overflowDue(id));
    // Redis restarted empty: every live consultation's grace again (each checks presence when it fires), and the
    // overflow deadlines of calls still waiting, at the time they had.
    this.timers.onLost(async () => {
      const live = (await deps.callRepo.listLive()).filter((c) => c.channel === 'consultation');
      for (const c of live) await this.timers.set(CUSTOMER_GRACE, c.id, deps.customerGraceMs);
      let overflows = 0;
      for (const c of live) {
        if (c.status !== 'RINGING' || !c.entryPointId) continue;
        const ep = await deps.entryPoints.find(c.entryPointId);
        if (ep?.routing !== 'ai_overflow') continue;
        await this.overflowTimers.set(AI_OVERFLOW, c.id, Math.max(0, c.createdAt.getTime() + ep.overflowAfterSeconds * 1000 - Date.now()));
        overflows += 1;
      }
      deps.logger.info({ consultations: live.length, overflows }, "customers' grace and AI-overflow deadlines armed again after Redis lost its timers");
    });
    this.supervision = new Supervision({ call: (id) => calls.get(id), agentOf: (id) => this.agentOf(id), repo: deps.repo, logger: deps.logger });
    this.mediaPolicy = new ConsultationMediaPolicy({
      consultationOfRoom: (roomId) => this.consultationIdOfRoom(roomId),
      agentOf: (id) => this.agentOf(id),
      supervisorOf: (id) => {
        const s = this.supervision.of(id);
        return s ? { id: s.supervisor.id, mode: s.mode } : undefined;
      },
    });
    this.supervision.on('changed', (c) => {
      this.mediaPolicy.seatsChanged(c.consultationId);
      this.emit('board-changed');
    });
    this.on('seats-changed', ({ consultationId }) => {
      this.mediaPolicy.seatsChanged(consultationId);
      this.supervision.agentChanged(consultationId);
    });
    queue.on('offer', (o) => {
      const d = o.details as unknown as QueuedDetails;
      // A resent offer (the console has not confirmed it) is the same offer: stored once.
      if (!o.resent) {
        const offered = (agentName: string) => deps.repo.addEvent(o.callId, 'offered', o.agentId, { agentName });
        // A shared queue's owner may not know the name of an agent whose console is on another node.
        this.track(this.agentNames.has(o.agentId) || !deps.queueShared ? offered(this.nameOf(o.agentId)) : this.nameFor(o.agentId).then(offered));
      }
      this.emit('offer', this.offerView(o.callId, o.agentId, d, o.expiresAt));
    });
    queue.on('transfer-offer', (t) => this.emit('offer', this.offerView(t.callId, t.toAgentId, t.details as unknown as QueuedDetails, t.expiresAt)));
    queue.on('transfer-withdrawn', (w) => this.track(this.transferWithdrawn(w.callId, w.fromAgentId, w.toAgentId, w.reason)));
    queue.on('offer-withdrawn', (w) => {
      // Not the agent's doing: the customer hung up, the accept failed, or the AI assistant took the call.
      if (w.reason !== 'hung-up' && w.reason !== 'accept-failed' && w.reason !== 'overflowed') this.track(deps.repo.addEvent(w.callId, w.reason === 'rejected' ? 'rejected' : 'offer-timeout', w.agentId, { reason: w.reason }));
      this.emit('offer-withdrawn', { consultationId: w.callId, agentId: w.agentId, reason: w.reason });
    });
    queue.on('agent-state', (a) => {
      this.emit('agent-state', this.agentView(a));
      // Consoles show how many colleagues are available; waiting customers whether anyone is online.
      this.pushQueue();
      this.pushPlaces();
      this.emit('board-changed');
    });
    queue.on('queue-changed', () => {
      this.pushQueue();
      this.pushPlaces();
      this.emit('board-changed');
    });
    calls.on('transition', (call, t) => {
      if (call.channel !== 'consultation') return;
      this.track(this.afterTransition(call, t.to, t.cause));
    });
    if (deps.queueShared) {
      this.sweepTimer = setInterval(() => this.track(this.sweepAbsentAgents().catch((err: unknown) => deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'absent agents could not be checked (Redis away?)'))), deps.agentGraceMs);
      this.sweepTimer.unref();
    }
  }

  // --- entry points -------------------------------------------------------------------

  createEntryPoint(input: { name: string; ttlHours: number; createdBy: string; captions?: CaptionsSetting } & Partial<EntryPointAiSettings>): Promise<EntryPoint> {
    const { ttlHours, ...rest } = input;
    return this.deps.entryPoints.create({ ...rest, expiresAt: new Date(Date.now() + ttlHours * 3_600_000) });
  }

  /** Who answers the entry point's calls from now on (routing, overflow delay, the assistant's system prompt). */
  async setEntryPointAi(id: string, settings: Partial<EntryPointAiSettings>): Promise<EntryPoint> {
    await this.entryPoint(id);
    return (await this.deps.entryPoints.setAiSettings(id, settings))!;
  }

  async setEntryPointCaptions(id: string, captions: CaptionsSetting): Promise<EntryPoint> {
    await this.entryPoint(id);
    return (await this.deps.entryPoints.setCaptions(id, captions))!;
  }

  async setEntryPointRecording(id: string, recording: RecordingSetting): Promise<EntryPoint> {
    await this.entryPoint(id);
    return (await this.deps.entryPoints.setRecording(id, recording))!;
  }

  /** The recording setting of the entry point a consultation came in by (`inherit` when it has none or it is gone). */
  async recordingSettingOf(consultationId: string): Promise<RecordingSetting> {
    const call = await this.deps.calls.get(consultationId);
    const ep = call.entryPointId ? await this.deps.entryPoints.find(call.entryPointId) : undefined;
    return ep?.recording ?? 'inherit';
  }

  /** The caption setting of the entry point a consultation came in by (`inherit` when it has none or it is gone). */
  async captionsSettingOf(consultationId: string): Promise<CaptionsSetting> {
    const call = await this.deps.calls.get(consultationId);
    const ep = call.entryPointId ? await this.deps.entryPoints.find(call.entryPointId) : undefined;
    return ep?.captions ?? 'inherit';
  }

  listEntryPoints(): Promise<EntryPoint[]> {
    return this.deps.entryPoints.list();
  }

  async entryPoint(id: string): Promise<EntryPoint> {
    const ep = await this.deps.entryPoints.find(id);
    if (!ep) throw new ParleyError('NOT_FOUND', `no entry point ${id}`);
    return ep;
  }

  async disableEntryPoint(id: string): Promise<EntryPoint> {
    await this.entryPoint(id);
    return (await this.deps.entryPoints.disable(id))!;
  }

  /** The link a QR code carries: the landing page with a signed token that expires with the entry point. */
  async entryUrl(ep: EntryPoint, requestOrigin: string): Promise<string> {
    const token = await this.deps.tokens.issueEntryToken(ep.id, ep.expiresAt, ep.createdAt);
    return `${this.deps.publicUrl ?? requestOrigin}/c/?e=${encodeURIComponent(token)}`;
  }

  /** What the landing page shows for a scanned code; refuses forged, expired and closed ones. */
  async openEntry(entryToken: string): Promise<EntryPoint> {
    const { entryPointId } = await this.deps.tokens.verifyEntryToken(entryToken);
    const ep = await this.deps.entryPoints.find(entryPointId);
    if (!ep || ep.disabledAt) throw new ParleyError('NOT_FOUND', 'this consultation line has been closed; ask for a new QR code');
    return ep;
  }

  // --- customer -------------------------------------------------------------------------

  /** The customer pressed "call": the consultation is stored, queued, and gets its room token. */
  async start(input: { entryToken: string; name: string; phone: string; inquiry: string; recordingConsent: boolean }): Promise<{ consultation: ConsultationView; customerToken: string; roomId: string }> {
    if (!input.recordingConsent) throw new ParleyError('INVALID_PAYLOAD', 'recordingConsent: the customer must agree to recording before calling');
    const ep = await this.openEntry(input.entryToken);
    const created = await this.deps.calls.createConsultation({ phone: input.phone, entryPointId: ep.id, customerName: input.name, inquiry: input.inquiry, recordingConsent: true });
    await this.deps.repo.addParticipant(created.id, { role: 'customer', userId: `customer-${created.id}`, name: input.name });
    await this.deps.repo.addEvent(created.id, 'queued', null, { entryPoint: ep.name });
    let call = await this.deps.calls.advance(created.id, 'RINGING', 'queued');
    const details: QueuedDetails = { customerName: input.name, phone: call.callerNumber, inquiry: input.inquiry, entryPoint: ep.name };
    const botFirst = ep.routing === 'ai_first' && (await this.assistantAnswers(call, ep, 'ai-first'));
    if (botFirst) call = await this.deps.calls.get(call.id);
    else {
      if (ep.routing === 'ai_first') this.deps.logger.warn({ consultationId: call.id, entryPoint: ep.id }, 'the AI assistant cannot answer now; the call waits for an agent');
      try {
        await this.deps.queue.enqueue(call.id, { ...details });
      } catch (err) {
        // The customer is told to try again (CLUSTER_UNAVAILABLE while the routing node hands over or Redis is
        // away): the call stored above must not stay RINGING outside the line, where a restart would put it
        // back in line beside the customer's second try.
        await this.deps.calls.fail(call.id, 'queue-unavailable').catch((failErr: unknown) =>
          this.deps.logger.error({ err: failErr, consultationId: call.id }, 'a consultation that could not be queued could not be marked failed either; it stays RINGING outside the line'),
        );
        throw err;
      }
      if (ep.routing === 'ai_overflow') this.scheduleOverflow(call, ep);
    }
    const { token } = await this.deps.tokens.issueCustomerToken({ consultationId: call.id, name: input.name, ttlSeconds: this.deps.customerTokenTtlSeconds });
    this.deps.logger.info({ consultationId: call.id, entryPoint: ep.id }, 'consultation queued');
    return { consultation: await this.view(call), customerToken: token, roomId: call.roomId! };
  }

  /** The consultation whose SFU room this is, if it is one. */
  consultationIdOfRoom(roomId: string): string | undefined {
    const ref = voiceRoomRef(roomId);
    return ref.kind === 'consultation' ? ref.consultationId : undefined;
  }

  async customerStatus(consultationId: string): Promise<CustomerStatus> {
    return this.statusOf(await this.deps.calls.get(consultationId));
  }

  /** What the customer's page shows for a call record in hand. */
  private statusOf(call: CallRecord): CustomerStatus {
    const consultationId = call.id;
    const status: CustomerStatus = { consultationId, status: call.status, onHold: this.onHold.has(consultationId) };
    const pos = this.deps.queue.position(consultationId);
    if (pos) {
      status.position = pos.position;
      status.agentsOnline = pos.agentsOnline;
      if (pos.estimatedWaitMs !== undefined) status.estimatedWaitSeconds = Math.round(pos.estimatedWaitMs / 1000);
    }
    if (this.transferring(call)) status.transferring = true;
    else if (call.agentId) status.agentName = this.nameOf(call.agentId);
    else if (this.withAssistant.has(consultationId) && isLive(call.status)) status.assistant = true;
    return status;
  }

  /** A transfer rings for the call, or the call was handed back to the queue and waits there. */
  private transferring(call: CallRecord): boolean {
    if (!isLive(call.status)) return false;
    return this.deps.queue.transferOf(call.id) !== undefined || (this.deps.queue.details(call.id) as Partial<QueuedDetails> | undefined)?.transferredFrom !== undefined;
  }

  // --- the AI assistant (issue 11) ----------------------------------------------------

  /**
   * The assistant takes the call (ai_first at once; ai_overflow from the queue): the bot joins the call's room and
   * the call is CONNECTING with it, IN_PROGRESS once the customer is in the room. False when it cannot answer.
   */
  private async assistantAnswers(call: CallRecord, ep: EntryPoint, cause: 'ai-first' | 'ai-overflow' | 'no-agent-available'): Promise<boolean> {
    const assistant = this.deps.assistant;
    if (!assistant?.canAnswer()) return false;
    this.withAssistant.set(call.id, { handedOver: false });
    try {
      await assistant.answer(call.id, { roomId: call.roomId!, entryPointId: ep.id, systemPrompt: ep.systemPrompt });
      await this.deps.calls.advance(call.id, 'CONNECTING', 'bot-answered', {
        within: async (tx) => {
          await this.deps.repo.addParticipant(call.id, { role: 'bot', userId: ASSISTANT.agentId, name: ASSISTANT.name }, tx);
          await this.deps.repo.addEvent(call.id, 'bot-answered', null, { cause }, tx);
        },
      });
    } catch (err) {
      this.withAssistant.delete(call.id);
      assistant.leave(call.id, 'answer-failed');
      this.deps.logger.warn({ err, consultationId: call.id }, 'the AI assistant could not take the call; it waits for an agent');
      return false;
    }
    this.deps.logger.info({ consultationId: call.id, cause }, 'the AI assistant answered the consultation');
    return true;
  }

  /**
   * ai_overflow: nobody available now → the assistant at once; else when no agent took it within the entry point's
   * delay. The deadline is a durable timer: with several nodes it fires on one of them at its time, also when the
   * node that took the call is gone by then.
   */
  private scheduleOverflow(call: CallRecord, ep: EntryPoint): void {
    if (!this.deps.assistant) return;
    const available = this.deps.queue.agents().some((a) => a.state === 'available' || a.state === 'ringing');
    if (!available || ep.overflowAfterSeconds === 0) return this.track(this.overflow(call, ep, available ? 'ai-overflow' : 'no-agent-available'));
    this.track(this.overflowTimers.set(AI_OVERFLOW, call.id, ep.overflowAfterSeconds * 1000));
  }

  /** An overflow deadline passed (on whichever node took the timer): the assistant takes the call if it still waits. */
  private async overflowDue(consultationId: string): Promise<void> {
    const call = await this.deps.callRepo.find(consultationId);
    if (call?.status !== 'RINGING' || !call.entryPointId) return;
    const ep = await this.deps.entryPoints.find(call.entryPointId);
    if (ep) await this.overflow(call, ep, 'ai-overflow');
  }

  /** Looks at an overflow again shortly: an agent's accept may still fail, or the routing owner is changing hands. */
  private overflowLater(consultationId: string): Promise<void> {
    return this.overflowTimers.set(AI_OVERFLOW, consultationId, OVERFLOW_RECHECK_MS);
  }

  private async overflow(call: CallRecord, ep: EntryPoint, cause: 'ai-overflow' | 'no-agent-available'): Promise<void> {
    const consultationId = call.id;
    if (!this.deps.assistant?.canAnswer()) {
      this.deps.logger.info({ consultationId }, 'the AI assistant cannot take an overflowing call now; it waits for an agent');
      return;
    }
    // The queue checks and takes the call in one step (on the routing owner with several nodes): taken by an agent
    // meanwhile or gone, nothing to do; being accepted right now, the agent has it unless storing the accept fails,
    // so look again shortly rather than send the bot into the agent's call.
    let taken: 'taken' | 'accepting' | 'gone';
    try {
      taken = await this.deps.queue.overflow(consultationId);
    } catch (err) {
      if (!(err instanceof ParleyError && err.code === 'CLUSTER_UNAVAILABLE')) throw err;
      this.deps.logger.warn({ consultationId }, 'no node routes the queue right now; the overflow looks again shortly');
      return this.overflowLater(consultationId);
    }
    if (taken === 'accepting') return this.overflowLater(consultationId);
    if (taken === 'gone') return;
    if (!(await this.assistantAnswers(call, ep, cause))) {
      // Still waiting (an agent's accept may have won the race): back in the queue.
      if ((await this.deps.calls.get(consultationId)).status !== 'RINGING' || this.deps.queue.position(consultationId)) return;
      await this.deps.queue.enqueue(consultationId, { customerName: call.customerName ?? '', phone: call.callerNumber, inquiry: call.inquiry ?? '', entryPoint: ep.name });
      return;
    }
    this.emit('customer-status', await this.customerStatus(consultationId));
    this.emit('board-changed');
  }

  /**
   * The assistant hands the caller to a person (its transfer tool, or it could not answer): the call waits at the
   * head of the queue with the conversation so far; the bot stays with the caller until an agent takes it.
   */
  async handOverFromAssistant(consultationId: string, input: { reason: string; transcript: HandoverLine[] }): Promise<{ queued: boolean }> {
    const bot = this.withAssistant.get(consultationId);
    if (!bot || bot.handedOver) return { queued: false };
    const call = await this.deps.calls.get(consultationId);
    if (!isLive(call.status)) return { queued: false };
    bot.handedOver = true;
    const from = { agentId: ASSISTANT.agentId, name: ASSISTANT.name };
    const details: QueuedDetails = {
      customerName: call.customerName ?? '',
      phone: call.callerNumber,
      inquiry: call.inquiry ?? '',
      entryPoint: await this.entryPointName(call),
      transferredFrom: from,
      notes: [],
      status: call.status,
      transcript: input.transcript,
    };
    await this.deps.queue.requeueOrphan(consultationId, { ...details });
    await this.deps.repo.addEvent(consultationId, 'transferred', null, { from, to: 'queue', reason: input.reason });
    this.deps.logger.info({ consultationId, reason: input.reason }, 'the AI assistant handed the consultation to the queue');
    this.emit('transferred', { consultationId, from, to: 'queue' });
    this.emit('customer-status', await this.customerStatus(consultationId));
    this.emit('board-changed');
    return { queued: true };
  }

  /** Whether the AI assistant is on the call now, and whether it handed it over. */
  assistantOn(consultationId: string): { handedOver: boolean } | undefined {
    const a = this.withAssistant.get(consultationId);
    return a ? { ...a } : undefined;
  }

  /** A person took over (or the call ended): the bot leaves the room and the conversation's outcome is stored. */
  private async assistantDone(consultationId: string, outcome: AiOutcome, reason: string): Promise<void> {
    if (!this.withAssistant.delete(consultationId)) return;
    this.deps.assistant?.leave(consultationId, reason);
    await this.deps.repo.leaveParticipant(consultationId, ASSISTANT.agentId);
    await this.deps.callRepo.setAiOutcome(consultationId, outcome);
  }

  /** The customer hung up, whether waiting or talking. */
  async hangUpByCustomer(consultationId: string): Promise<ConsultationView> {
    return this.view(await this.deps.calls.end(consultationId, 'customer-hung-up'));
  }

  // --- agents ---------------------------------------------------------------------------

  /** An agent's console socket connected (several tabs count once). */
  agentConnected(identity: Identity): AgentView {
    this.agentNames.set(identity.userId, identity.name ?? identity.userId);
    this.socketOpened(this.agentSockets, `agent:${identity.userId}`, identity.userId);
    if (this.deps.queueShared) this.track(this.presence.opened(`agent:${identity.userId}`));
    return this.agentState(identity.userId);
  }

  /** An agent's console socket closed: when it was the last, they go offline after the grace. */
  agentDisconnected(agentId: string): void {
    if (this.deps.queueShared) this.track(this.presence.closed(`agent:${agentId}`));
    this.socketClosed(this.agentSockets, `agent:${agentId}`, agentId, this.deps.agentGraceMs, () => this.settleLater(this.deps.queue.agentGone(agentId)));
  }

  /** The agent's sign-in was revoked (disabled, signed out…): no more offers, now. */
  agentSignedOut(agentId: string): void {
    this.settleLater(this.deps.queue.agentGone(agentId));
  }

  /** A customer's page connected to their consultation (on this node or any other: presence counts them all). */
  customerConnected(consultationId: string): void {
    const key = `customer:${consultationId}`;
    this.track(this.presence.opened(key).then(() => this.timers.cancel(CUSTOMER_GRACE, consultationId)));
  }

  /**
   * A customer's page disconnected: when no page of theirs is open on any node within the
   * grace, the customer has left — the call is hung up for them, so no agent answers an
   * empty line. The grace is a durable timer: it fires on one node, even when this one is gone by then.
   */
  customerDisconnected(consultationId: string): void {
    const key = `customer:${consultationId}`;
    this.track(this.presence.closed(key).then((left) => (left > 0 ? undefined : this.timers.set(CUSTOMER_GRACE, consultationId, this.deps.customerGraceMs))));
  }

  /**
   * Shared queue: agents whose consoles were on a node that died without a word closed no
   * socket here, so no grace started for them. Every `agentGraceMs` this node looks at the
   * agents the queue still routes to (not offline, not on a call): one with no console open on
   * any live node at two looks in a row is gone (`agentGone` does nothing twice).
   */
  async sweepAbsentAgents(): Promise<void> {
    const absent = new Set<string>();
    for (const a of this.deps.queue.agents()) {
      if (a.state === 'offline' || a.state === 'busy') continue;
      if ((await this.presence.count(`agent:${a.agentId}`)) > 0) continue;
      absent.add(a.agentId);
      if (this.absentAgents.has(a.agentId) && !this.agentSockets.has(a.agentId)) {
        this.deps.logger.info({ agentId: a.agentId }, 'no console of this agent is open on any node: they are offline');
        await this.deps.queue.agentGone(a.agentId);
      }
    }
    this.absentAgents = absent;
  }

  /** The consultations waiting for an agent according to storage, oldest first, with what an offer shows (a lost line is rebuilt from them). */
  async waitingInStorage(): Promise<Array<{ callId: string; details: Record<string, unknown> }>> {
    const waiting = (await this.deps.callRepo.listLive()).filter((c) => c.channel === 'consultation' && c.status === 'RINGING' && !c.agentId).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    const out: Array<{ callId: string; details: Record<string, unknown> }> = [];
    for (const c of waiting) {
      const details: QueuedDetails = { customerName: c.customerName ?? '', phone: c.callerNumber, inquiry: c.inquiry ?? '', entryPoint: await this.entryPointName(c) };
      out.push({ callId: c.id, details: { ...details } });
    }
    return out;
  }

  /**
   * Of these entries of the line, those whose call storage no longer has waiting, with the agent who has it when
   * one does: an ordinary call waits while it is RINGING with nobody; a handed-over call (`transferredFrom`) while it
   * is live and still nobody's or the handing agent's. A routing owner that takes over asks this of the line it
   * inherits, and an accept storage refused asks it of its call, so that no call stays in line after it was taken.
   */
  async notWaitingInStorage(entries: Array<{ callId: string; details: Record<string, unknown> }>): Promise<Array<{ callId: string; agentId?: string; ended?: boolean }>> {
    const live = new Map((await this.deps.callRepo.listLive()).map((c) => [c.id, c]));
    const gone: Array<{ callId: string; agentId?: string; ended?: boolean }> = [];
    for (const e of entries) {
      const call = live.get(e.callId);
      if (!call) {
        gone.push({ callId: e.callId, ended: true });
        continue;
      }
      const from = (e.details as Partial<QueuedDetails>).transferredFrom?.agentId;
      const waiting = from === undefined ? call.status === 'RINGING' && !call.agentId : call.agentId === null || call.agentId === from;
      if (!waiting) gone.push(call.agentId ? { callId: e.callId, agentId: call.agentId } : { callId: e.callId });
    }
    return gone;
  }

  /** A waiting customer's node is gone: hung up after the grace unless a page of theirs is open on some node by then. */
  customerMayBeGone(consultationId: string): void {
    this.track(this.timers.set(CUSTOMER_GRACE, consultationId, this.deps.customerGraceMs));
  }

  /** The customer's grace ran out (on whichever node took the timer): hang up if no page of theirs came back. */
  private async customerGraceEnded(consultationId: string): Promise<void> {
    if ((await this.presence.count(`customer:${consultationId}`)) > 0) return;
    try {
      const call = await this.deps.calls.get(consultationId);
      if (isLive(call.status)) await this.deps.calls.end(consultationId, 'customer-left');
    } catch (err) {
      if (!(err instanceof ParleyError)) this.deps.logger.error({ err, consultationId }, 'could not hang up for a customer who left');
    }
  }

  setAgentState(agentId: string, state: 'available' | 'after-call-work' | 'offline'): AgentView | Promise<AgentView> {
    return after(this.deps.queue.setAgentState(agentId, state), (a) => this.agentView(a));
  }

  agentState(agentId: string): AgentView {
    return this.agentView(this.deps.queue.agent(agentId) ?? { agentId, state: 'offline', idleSince: Date.now(), since: Date.now() });
  }

  currentOffer(agentId: string): OfferView | undefined {
    const t = this.deps.queue.transferFor(agentId);
    if (t) return this.offerView(t.callId, agentId, t.details as unknown as QueuedDetails, t.expiresAt);
    const o = this.deps.queue.offerFor(agentId);
    if (!o) return undefined;
    return this.offerView(o.callId, agentId, o.details as unknown as QueuedDetails, o.expiresAt);
  }

  /** The account a live consultation is with now (undefined while it waits in the queue). */
  agentOf(consultationId: string): string | undefined {
    return this.deps.queue.agents().find((a) => a.callId === consultationId && a.state === 'busy')?.agentId;
  }

  // --- transfer -------------------------------------------------------------------------

  /**
   * The agent on the call hands it over. To a colleague (who must be available): the
   * colleague rings with the customer, the inquiry, the notes so far and `transferredFrom`;
   * the call stays the first agent's until the colleague accepts (then the first agent is in
   * after-call work). Rejected or rung out, it goes back to the first agent, or to the head
   * of the queue when their console is gone. To the queue: the call waits at the head, the
   * agent goes to after-call work, and the customer is told they are being transferred.
   */
  async transfer(agent: Identity, consultationId: string, to: TransferTarget): Promise<{ ok: true }> {
    const call = await this.deps.calls.get(consultationId);
    if (call.status !== 'IN_PROGRESS' && call.status !== 'CONNECTING') throw new ParleyError('CONFLICT', `this call is ${call.status}; only a connected call can be transferred`);
    if (this.agentOf(consultationId) !== agent.userId) throw new ParleyError('FORBIDDEN', 'only the agent on the call can transfer it');
    const from = { agentId: agent.userId, name: this.nameOf(agent.userId) };
    const notes = (await this.deps.repo.notes(consultationId)).map((n) => ({ authorName: n.authorName, body: n.body, at: n.createdAt.toISOString() }));
    const details: QueuedDetails = { customerName: call.customerName ?? '', phone: call.callerNumber, inquiry: call.inquiry ?? '', entryPoint: await this.entryPointName(call), transferredFrom: from, notes, status: call.status };
    if (to === 'queue') {
      await this.deps.queue.requeueTransfer(agent.userId, consultationId, { ...details });
      this.onHold.delete(consultationId);
      await this.deps.repo.leaveParticipant(consultationId, agent.userId);
      await this.deps.repo.addEvent(consultationId, 'transferred', agent.userId, { from, to: 'queue' });
      this.deps.logger.info({ consultationId, from: agent.userId }, 'consultation transferred to the queue');
      this.emit('transferred', { consultationId, from, to: 'queue' });
      this.emit('seats-changed', { consultationId });
    } else {
      const target = await this.deps.users.findById(to.agentId);
      if (!target || target.status !== 'active' || (target.role !== 'agent' && target.role !== 'admin')) throw new ParleyError('NOT_FOUND', `no active agent account ${to.agentId}`);
      this.agentNames.set(target.id, target.name);
      await this.deps.queue.offerTransfer(agent.userId, consultationId, to.agentId, { ...details });
      await this.deps.repo.addEvent(consultationId, 'transfer-requested', agent.userId, { from, to: { agentId: target.id, name: target.name } });
      this.deps.logger.info({ consultationId, from: agent.userId, to: to.agentId }, 'consultation transfer ringing');
    }
    this.emit('customer-status', await this.customerStatus(consultationId));
    this.emit('board-changed');
    return { ok: true };
  }

  /** A transfer rang out, was rejected or could not be written: back to the first agent, or to the queue when they are gone. */
  private async transferWithdrawn(consultationId: string, fromAgentId: string, toAgentId: string, reason: string): Promise<void> {
    const to = { agentId: toAgentId, name: this.nameOf(toAgentId) };
    this.emit('offer-withdrawn', { consultationId, agentId: toAgentId, reason: reason as WithdrawReason });
    if (reason === 'hung-up') return;
    // A shared queue's transfer is handled by the routing owner: the first agent's consoles may be on any node.
    const fromConnected = this.deps.queueShared ? (await this.presence.count(`agent:${fromAgentId}`)) > 0 : this.agentSockets.has(fromAgentId);
    const fromStillHere = fromConnected && this.agentOf(consultationId) === fromAgentId;
    let returnedTo: 'agent' | 'queue' = 'agent';
    if (!fromStillHere) {
      const call = await this.deps.calls.get(consultationId);
      if (!isLive(call.status)) return;
      const from = { agentId: fromAgentId, name: this.nameOf(fromAgentId) };
      await this.deps.queue.requeueOrphan(consultationId, { customerName: call.customerName ?? '', phone: call.callerNumber, inquiry: call.inquiry ?? '', entryPoint: await this.entryPointName(call), transferredFrom: from, status: call.status });
      returnedTo = 'queue';
      this.emit('seats-changed', { consultationId });
    }
    await this.deps.repo.addEvent(consultationId, reason === 'rejected' ? 'transfer-rejected' : reason === 'timeout' ? 'transfer-timeout' : 'transfer-failed', toAgentId, { to, reason, returnedTo });
    this.emit('transfer-failed', { consultationId, fromAgentId, to, reason, returnedTo });
    this.emit('customer-status', await this.customerStatus(consultationId));
    this.emit('board-changed');
  }

  /** The colleague takes a transfer ringing for them (one transaction), or a transferred call offered from the queue. */
  private async acceptHandover(agent: Identity, consultationId: string, fromAgentId: string | null, viaQueue: boolean): Promise<{ consultation: ConsultationView; roomId: string }> {
    const { queue, repo } = this.deps;
    const name = this.nameOf(agent.userId);
    const call = await this.deps.calls.get(consultationId);
    const from = call.agentId ? { agentId: call.agentId, name: this.nameOf(call.agentId) } : null;
    let written = false;
    try {
      written = await repo.reassignAgent(consultationId, {
        fromAgentId: viaQueue ? call.agentId : fromAgentId,
        to: { userId: agent.userId, name },
        event: viaQueue ? { type: 'accepted', detail: { agentName: name, transferredFrom: from } } : { type: 'transferred', detail: { from, to: { agentId: agent.userId, name } } },
      });
    } finally {
      if (!written) {
        await (viaQueue ? queue.releaseAccept(agent.userId, consultationId) : queue.releaseTransfer(agent.userId, consultationId));
      }
    }
    if (!written) {
      if (viaQueue) await this.dropIfTaken(consultationId);
      throw new ParleyError('CONFLICT', 'this call can no longer be taken: it ended or moved to someone else');
    }
    await (viaQueue ? queue.commitAccept(agent.userId, consultationId) : queue.commitTransfer(agent.userId, consultationId));
    this.deps.logger.info({ consultationId, agentId: agent.userId, from: from?.agentId }, 'transferred consultation taken');
    if (this.withAssistant.has(consultationId)) await this.assistantDone(consultationId, 'transferred', 'handed-over');
    if (!viaQueue && from) this.emit('transferred', { consultationId, from, to: { agentId: agent.userId, name } });
    this.emit('seats-changed', { consultationId });
    this.emit('customer-status', await this.customerStatus(consultationId));
    this.emit('board-changed');
    const now = await this.deps.calls.get(consultationId);
    return { consultation: await this.view(now), roomId: now.roomId! };
  }

  private boardSupervisor(consultationId: string): Board['live'][number]['supervisor'] {
    const s = this.supervision.of(consultationId);
    return s ? { id: s.supervisor.id, name: s.supervisor.name, mode: s.mode } : null;
  }

  private boardTransfer(call: CallRecord): Board['live'][number]['transfer'] {
    const t = this.deps.queue.transferOf(call.id);
    if (t) return { to: { agentId: t.toAgentId, name: this.nameOf(t.toAgentId) } };
    return this.transferring(call) ? { to: 'queue' } : null;
  }

  private async entryPointName(call: CallRecord): Promise<string> {
    return call.entryPointId ? ((await this.deps.entryPoints.find(call.entryPointId))?.name ?? '') : '';
  }

  private offerView(consultationId: string, agentId: string, d: QueuedDetails, expiresAt: number): OfferView {
    const view: OfferView = { consultationId, agentId, customer: { name: d.customerName, phone: d.phone }, inquiry: d.inquiry, entryPoint: d.entryPoint, expiresAt: new Date(expiresAt).toISOString() };
    if (d.transferredFrom) {
      view.transferredFrom = d.transferredFrom;
      view.notes = d.notes ?? [];
    }
    if (d.transcript) view.transcript = d.transcript;
    return view;
  }

  /**
   * The agent takes the call. The offer is reserved (it stops ringing), then one storage
   * transaction assigns the agent, adds them as a participant, records the event and moves
   * the call to CONNECTING; only when it commits does the queue hand the call over (the agent
   * is busy). When it fails — the customer hung up first, storage refused — nothing was
   * written, the queue is as it was and the agent is available.
   */
  async accept(agent: Identity, consultationId: string): Promise<{ consultation: ConsultationView; roomId: string }> {
    const { queue, repo, calls } = this.deps;
    const transfer = queue.transferFor(agent.userId);
    if (transfer?.callId === consultationId) {
      await queue.reserveTransfer(agent.userId, consultationId);
      return this.acceptHandover(agent, consultationId, transfer.fromAgentId, false);
    }
    const requeued = (queue.details(consultationId) as Partial<QueuedDetails> | undefined)?.transferredFrom;
    await queue.reserve(agent.userId, consultationId);
    if (requeued) return this.acceptHandover(agent, consultationId, null, true);
    const name = this.nameOf(agent.userId);
    let call: CallRecord;
    try {
      call = await calls.advance(consultationId, 'CONNECTING', 'accepted', {
        patch: { agent_id: agent.userId, answered_at: new Date().toISOString() },
        within: async (tx) => {
          await repo.addParticipant(consultationId, { role: 'agent', userId: agent.userId, name }, tx);
          await repo.addEvent(consultationId, 'accepted', agent.userId, { agentName: name }, tx);
        },
      });
    } catch (err) {
      await queue.releaseAccept(agent.userId, consultationId);
      if (err instanceof ParleyError && err.code === 'CONFLICT') {
        await this.dropIfTaken(consultationId);
        throw new ParleyError('CONFLICT', `consultation ${consultationId} can no longer be accepted: it ended or someone else took it`, err.details);
      }
      this.deps.logger.error({ err, consultationId, agentId: agent.userId }, 'accepting a consultation failed; it stays in the queue');
      throw err;
    }
    try {
      await queue.commitAccept(agent.userId, consultationId);
    } catch {
      // The customer hung up between the commit and now: the hang-up already freed the agent
      // and its transition (CONNECTING → FAILED) is on its way.
    }
    this.deps.logger.info({ consultationId, agentId: agent.userId }, 'consultation accepted');
    return { consultation: await this.view(call), roomId: call.roomId! };
  }

  /**
   * Storage refused an accept: when the call no longer waits there (ended, or taken while a routing owner died), it
   * leaves the line now instead of being offered again and again until it ends.
   */
  private async dropIfTaken(consultationId: string): Promise<void> {
    const details = this.deps.queue.details(consultationId);
    if (!details) return;
    try {
      // An ended call is the customer's hang-up: its transition takes it out of the line, counted as abandoned.
      const gone = (await this.notWaitingInStorage([{ callId: consultationId, details }])).filter((g) => !g.ended);
      if (gone.length > 0) await this.deps.queue.settle(gone);
    } catch (err) {
      this.deps.logger.warn({ err: err instanceof Error ? err.message : String(err), consultationId }, 'a call storage refused to hand over could not be taken out of the line');
    }
  }

  /** The agent's console shows the offer (it is not announced again). */
  acknowledgeOffer(agentId: string, consultationId: string): { acknowledged: boolean } | Promise<{ acknowledged: boolean }> {
    const acked = this.deps.queue.transferFor(agentId)?.callId === consultationId ? this.deps.queue.acknowledgeTransfer(agentId, consultationId) : this.deps.queue.acknowledgeOffer(agentId, consultationId);
    return after(acked, (acknowledged) => ({ acknowledged }));
  }

  /**
   * A waiting customer leaves a number to be called back on instead of waiting: it is stored
   * on the consultation with an event, and the call ends politely (FAILED, cause
   * `callback-requested`) in one transaction.
   */
  async requestCallback(consultationId: string, rawPhone: string | undefined): Promise<ConsultationView> {
    const current = await this.deps.calls.get(consultationId);
    if (current.status !== 'RINGING' && current.status !== 'INITIATING') {
      throw new ParleyError('CONFLICT', `consultation ${consultationId} is ${current.status}; a callback can be asked for only while waiting`);
    }
    const phone = rawPhone ? this.deps.calls.phoneNumber('phone', rawPhone) : current.callerNumber;
    const at = new Date().toISOString();
    const call = await this.deps.calls.advance(consultationId, 'FAILED', 'callback-requested', {
      patch: { callback_phone: phone, callback_requested_at: at },
      within: (tx) => this.deps.repo.addEvent(consultationId, 'callback-requested', null, { phone }, tx),
    });
    this.deps.logger.info({ consultationId }, 'customer asked for a callback');
    return this.view(call);
  }

  reject(agentId: string, consultationId: string): void | Promise<void> {
    if (this.deps.queue.transferFor(agentId)?.callId === consultationId) return this.deps.queue.rejectTransfer(agentId, consultationId);
    return this.deps.queue.reject(agentId, consultationId);
  }

  async hold(agent: Identity, consultationId: string, on: boolean): Promise<{ onHold: boolean }> {
    const call = await this.ownCall(agent, consultationId);
    if (call.status !== 'IN_PROGRESS' && call.status !== 'CONNECTING') throw new ParleyError('CONFLICT', `consultation ${consultationId} is ${call.status}; only a connected call can be held`);
    if (this.onHold.has(consultationId) === on) return { onHold: on };
    if (on) this.onHold.add(consultationId);
    else this.onHold.delete(consultationId);
    await this.deps.repo.addEvent(consultationId, on ? 'hold' : 'unhold', agent.userId);
    this.emit('customer-status', await this.customerStatus(consultationId));
    return { onHold: on };
  }

  async endByAgent(agent: Identity, consultationId: string): Promise<ConsultationView> {
    await this.ownCall(agent, consultationId);
    return this.view(await this.deps.calls.end(consultationId, 'agent-hung-up'));
  }

  // --- media ----------------------------------------------------------------------------

  /** Who may enter the SFU room of a consultation: its customer token, its agent, admins. */
  async assertCanJoinRoom(identity: Identity, roomId: string): Promise<void> {
    const id = this.consultationIdOfRoom(roomId);
    if (!id) return;
    if (customerOf(identity) === id || hasRole(identity, 'admin')) return;
    const call = await this.deps.callRepo.find(id);
    if (hasRole(identity, 'agent') && call?.agentId === identity.userId) return;
    throw new ParleyError('FORBIDDEN', `room ${roomId} belongs to a consultation; only its customer, its agent and admins may join`);
  }

  /**
   * Someone joined a consultation's SFU room: once its customer and its agent are both
   * there, the call is IN_PROGRESS. `present` are the identities in the room now.
   */
  async roomMembership(roomId: string, present: Identity[]): Promise<void> {
    const id = this.consultationIdOfRoom(roomId);
    if (!id) return;
    const call = await this.deps.callRepo.find(id);
    if (call?.status !== 'CONNECTING') return;
    const customerIn = present.some((i) => customerOf(i) === id);
    const agentIn = present.some((i) => i.userId === call.agentId && isAccount(i)) || (call.agentId === null && this.withAssistant.has(id));
    if (customerIn && agentIn) await this.deps.calls.advance(id, 'IN_PROGRESS', 'media-connected').catch(() => undefined);
  }

  // --- notes, history, board ------------------------------------------------------------

  async addNote(author: Identity, consultationId: string, note: { body: string; disposition?: Disposition }): Promise<CallNote> {
    await this.ownCall(author, consultationId);
    const saved = await this.deps.repo.addNote(consultationId, { authorId: author.userId, body: note.body, disposition: note.disposition ?? null });
    if (note.disposition) await this.deps.callRepo.setDisposition(consultationId, note.disposition);
    await this.deps.repo.addEvent(consultationId, 'note', author.userId, note.disposition ? { disposition: note.disposition } : undefined);
    this.emit('board-changed');
    return saved;
  }

  async history(viewer: Identity, filter: HistoryFilter): Promise<{ consultations: ConsultationView[]; total: number }> {
    if (viewer.role !== 'admin') {
      if (filter.agentId && filter.agentId !== viewer.userId) throw new ParleyError('FORBIDDEN', 'agents can only list their own consultations');
      filter = { ...filter, agentId: viewer.userId };
    }
    const { calls, total } = await this.deps.repo.history(filter);
    const ctx = await this.viewContext(calls);
    return { consultations: calls.map((c) => consultationView(c, ctx)), total };
  }

  async detail(viewer: Identity, consultationId: string): Promise<ConsultationDetailView> {
    const call = await this.ownCall(viewer, consultationId);
    const [transitions, events, participants, notes, ctx] = await Promise.all([
      this.deps.calls.transitions(call.id),
      this.deps.repo.events(call.id),
      this.deps.repo.participants(call.id),
      this.deps.repo.notes(call.id),
      this.viewContext([call]),
    ]);
    return detailView(call, ctx, { transitions, events, participants, notes });
  }

  async view(call: CallRecord): Promise<ConsultationView> {
    return consultationView(call, await this.viewContext([call]));
  }

  queueView(): QueueView {
    const queued = this.deps.queue.queued();
    return {
      length: queued.length,
      queue: queued.slice(0, QUEUE_VIEW_LIMIT).map((q) => {
        const d = (this.deps.queue.details(q.callId) ?? {}) as Partial<QueuedDetails>;
        return { consultationId: q.callId, customerName: d.customerName ?? '', inquiry: d.inquiry ?? '', waitingSince: new Date(q.enqueuedAt).toISOString(), offeredTo: q.offeredTo };
      }),
      availableAgents: this.deps.queue.agents().filter((a) => a.state === 'available').length,
    };
  }

  async board(): Promise<Board> {
    const [users, live] = await Promise.all([this.deps.users.list(), this.deps.callRepo.listLive()]);
    const states = new Map(this.deps.queue.agents().map((a) => [a.agentId, a]));
    const liveConsultations = live.filter((c) => c.channel === 'consultation');
    const ctx = await this.viewContext(liveConsultations);
    const queued = this.deps.queue.queued();
    const oldest = queued.reduce((m, q) => Math.min(m, q.enqueuedAt), Date.now());
    return {
      at: new Date().toISOString(),
      agents: users
        .filter((u) => u.role === 'agent' || states.has(u.id))
        .map((u) => {
          const s = states.get(u.id);
          return { id: u.id, name: u.name, email: u.email, accountStatus: u.status, state: s?.state ?? 'offline', since: s ? new Date(s.since).toISOString() : null, consultationId: s?.callId };
        }),
      live: liveConsultations.map((c) => ({
        id: c.id,
        status: c.status,
        customerName: c.customerName,
        agent: c.agentId ? { id: c.agentId, name: ctx.agentNames.get(c.agentId) ?? c.agentId } : null,
        createdAt: c.createdAt.toISOString(),
        connectedAt: c.connectedAt?.toISOString() ?? null,
        transfer: this.boardTransfer(c),
        supervisor: this.boardSupervisor(c.id),
        ...(this.withAssistant.has(c.id) ? { assistant: this.withAssistant.get(c.id)!.handedOver ? ('handing-over' as const) : ('talking' as const) } : {}),
      })),
      queue: { length: queued.length, longestWaitSeconds: queued.length ? Math.round((Date.now() - oldest) / 1000) : 0 },
    };
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    if (this.deps.queueShared) {
      // The other nodes go on routing: agents whose last console was here are gone now, not never.
      for (const key of this.graceTimers.keys()) if (key.startsWith('agent:')) this.settleLater(this.deps.queue.agentGone(key.slice('agent:'.length)));
      for (const agentId of this.agentSockets.keys()) this.settleLater(this.deps.queue.agentGone(agentId));
    }
    this.pushQueue.cancel();
    this.pushPlaces.cancel();
    for (const t of this.graceTimers.values()) clearTimeout(t);
    this.graceTimers.clear();
    // The overflow deadlines stay (durable timers): with several nodes another node fires them; alone, they go with the process.
    if (this.overflowTimers !== this.deps.timers) await this.overflowTimers.close();
    await Promise.allSettled([...this.pending]);
  }

  // --- internals ------------------------------------------------------------------------

  /** A queue change nobody waits for: when it answers later (a shared queue), its failure is logged. */
  private settleLater(change: void | Promise<void>): void {
    if (change instanceof Promise) this.track(change.catch((err: unknown) => this.deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'a queue change failed')));
  }

  /**
   * Everyone still waiting is RINGING; tell only those whose place or wait moved, from
   * memory (a long queue must not cost a query per caller).
   */
  private tellPlaces(): void {
    const waiting = new Set<string>();
    for (const p of this.deps.queue.positions()) {
      waiting.add(p.callId);
      const estimatedWaitSeconds = p.estimatedWaitMs === undefined ? undefined : Math.round(p.estimatedWaitMs / 1000);
      const last = this.lastPlace.get(p.callId);
      if (last && last.position === p.position && last.estimatedWaitSeconds === estimatedWaitSeconds && last.agentsOnline === p.agentsOnline) continue;
      this.lastPlace.set(p.callId, { position: p.position, estimatedWaitSeconds, agentsOnline: p.agentsOnline });
      const d = this.deps.queue.details(p.callId) as Partial<QueuedDetails> | undefined;
      const handedOver = d?.transferredFrom !== undefined;
      const status: CustomerStatus = { consultationId: p.callId, status: d?.status ?? 'RINGING', position: p.position, agentsOnline: p.agentsOnline, onHold: false };
      if (handedOver) status.transferring = true;
      if (estimatedWaitSeconds !== undefined) status.estimatedWaitSeconds = estimatedWaitSeconds;
      this.emit('customer-status', status);
    }
    for (const id of this.lastPlace.keys()) if (!waiting.has(id)) this.lastPlace.delete(id);
  }

  private socketOpened(counts: Map<string, number>, timerKey: string, id: string): void {
    counts.set(id, (counts.get(id) ?? 0) + 1);
    clearTimeout(this.graceTimers.get(timerKey));
    this.graceTimers.delete(timerKey);
  }

  private socketClosed(counts: Map<string, number>, timerKey: string, id: string, graceMs: number, gone: () => void): void {
    const left = (counts.get(id) ?? 1) - 1;
    if (left > 0) {
      counts.set(id, left);
      return;
    }
    counts.delete(id);
    const timer = setTimeout(() => {
      this.graceTimers.delete(timerKey);
      if (!counts.has(id)) gone();
    }, graceMs);
    timer.unref();
    this.graceTimers.set(timerKey, timer);
  }

  /** One place for every end of a consultation, whatever surface caused it. */
  private async afterTransition(call: CallRecord, to: CallStatus, cause: string): Promise<void> {
    if (to === 'ENDED' || to === 'FAILED') {
      const { queue } = this.deps;
      await queue.cancelTransfer(call.id);
      if (queue.position(call.id)) await queue.hangUp(call.id);
      if (call.agentId && queue.agent(call.agentId)?.callId === call.id) {
        await queue.callEnded(call.agentId, call.connectedAt ? Date.now() - call.connectedAt.getTime() : undefined);
      }
      this.onHold.delete(call.id);
      const bot = this.withAssistant.get(call.id);
      // With the bot to the end: it resolved the call once the customer talked with it; handed over and never taken: abandoned.
      if (bot) await this.assistantDone(call.id, !bot.handedOver && call.connectedAt ? 'resolved_by_bot' : 'abandoned', 'call-ended');
      this.supervision.callEnded(call.id);
      await this.deps.repo.closeParticipants(call.id);
      await this.deps.repo.addEvent(call.id, cause.startsWith('customer') ? 'hung-up' : 'ended', null, { status: to, cause });
      this.emit('ended', { consultationId: call.id, agentId: call.agentId, status: to, cause });
      this.deps.logger.info({ consultationId: call.id, status: to, cause }, 'consultation over');
    }
    // Out of the line (an agent or the bot has it, or it is over): an overflow deadline has nothing left to do.
    if (to === 'CONNECTING' || to === 'ENDED' || to === 'FAILED') {
      await this.overflowTimers.cancel(AI_OVERFLOW, call.id).catch(() => undefined); // it checks the call when it fires anyway
    }
    // The transition carries the call as it is now: no need to read it again.
    this.emit('customer-status', this.statusOf(call));
    this.emit('board-changed');
  }

  /** The call, when the identity is its agent or an admin. */
  private async ownCall(identity: Identity, consultationId: string): Promise<CallRecord> {
    const call = await this.deps.calls.get(consultationId);
    if (identity.role === 'admin') return call;
    if (identity.role !== 'agent' || call.agentId !== identity.userId) throw new ParleyError('FORBIDDEN', `consultation ${consultationId} is not yours`);
    return call;
  }

  private async viewContext(calls: CallRecord[]) {
    const agentIds = [...new Set(calls.map((c) => c.agentId).filter((x): x is string => !!x))];
    const epIds = [...new Set(calls.map((c) => c.entryPointId).filter((x): x is string => !!x))];
    const [agentNames, eps] = await Promise.all([this.deps.repo.userNames(agentIds), Promise.all(epIds.map((id) => this.deps.entryPoints.find(id)))]);
    return { agentNames, entryPoints: new Map(eps.filter((e): e is EntryPoint => !!e).map((e) => [e.id, e])) };
  }

  private nameOf(agentId: string): string {
    return this.agentNames.get(agentId) ?? agentId;
  }

  /** The agent's name, from storage when their console is on another node (a shared queue's owner routes agents of every node). */
  private async nameFor(agentId: string): Promise<string> {
    const known = this.agentNames.get(agentId);
    if (known) return known;
    const user = await this.deps.users.findById(agentId).catch(() => undefined);
    if (user) this.agentNames.set(agentId, user.name);
    return user?.name ?? agentId;
  }

  private agentView(a: AgentSnapshot): AgentView {
    return { agentId: a.agentId, name: this.nameOf(a.agentId), state: a.state, since: new Date(a.since).toISOString(), consultationId: a.callId };
  }

  private track(p: Promise<unknown>): void {
    const tracked = p.catch((err: unknown) => this.deps.logger.error({ err }, 'consultation bookkeeping failed'));
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }
}
