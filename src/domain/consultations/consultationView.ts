/**
 * The JSON shapes of consultations that REST and sockets hand out (see docs/consultations.md).
 * One place, so the admin page, the agent console, the customer page (web-src/ imports these
 * types) and integrators see the same fields.
 */
import type { AiOutcome } from './routingSetting.js';
import type { CallRecord } from '../../storage/callRepository.js';
import type { CallEvent, CallNote, CallParticipant } from '../../storage/consultationRepository.js';
import type { CallTransition } from '../../storage/callRepository.js';
import type { EntryPoint } from '../../storage/entryPointRepository.js';
import type { CallStatus } from '../calls/callStatus.js';
import type { AgentState } from '../routing/consultationQueue.js';

export type { AgentState, CallStatus };

export const dispositions = ['resolved', 'follow-up', 'escalated', 'no-resolution', 'other'] as const;
export type Disposition = (typeof dispositions)[number];

/** `consultation:status` to the customer's page. */
export interface CustomerStatus {
  consultationId: string;
  status: CallStatus;
  position?: number;
  /** Absent when no agent is online: there is no honest estimate then. */
  estimatedWaitSeconds?: number;
  /** While waiting: agents not offline. 0 → the page says nobody is available and offers a callback. */
  agentsOnline?: number;
  agentName?: string;
  onHold: boolean;
  /** The agent is handing the call over (to a colleague ringing now, or back to the queue): the page says "You are being transferred". */
  transferring?: boolean;
  /** The customer is talking with the AI assistant (not a person): the page says so. */
  assistant?: boolean;
}

export interface AgentView {
  agentId: string;
  name: string;
  state: AgentState;
  since: string;
  consultationId?: string;
}

export interface OfferView {
  consultationId: string;
  agentId: string;
  customer: { name: string; phone: string };
  inquiry: string;
  entryPoint: string;
  expiresAt: string;
  /** A transfer: the agent handing the call over, and the notes written so far. */
  transferredFrom?: { agentId: string; name: string };
  notes?: Array<{ authorName: string | null; body: string; at: string }>;
  /** Handed over by the AI assistant: the conversation so far (masked), oldest first. */
  transcript?: HandoverLine[];
}

/** One line of the AI assistant's conversation, given to the agent who takes the call over. */
export interface HandoverLine {
  role: 'customer' | 'bot';
  text: string;
  at: string;
}

/** `queue:update` to agent consoles: the head of the queue (QUEUE_VIEW_LIMIT), its full length, free agents. */
export interface QueueView {
  queue: Array<{ consultationId: string; customerName: string; inquiry: string; waitingSince: string; offeredTo?: string }>;
  length: number;
  availableAgents: number;
}

export interface Board {
  at: string;
  agents: Array<{ id: string; name: string; email: string; accountStatus: string; state: AgentState; since: string | null; consultationId?: string }>;
  live: Array<{
    id: string;
    status: CallStatus;
    customerName: string | null;
    agent: { id: string; name: string } | null;
    createdAt: string;
    connectedAt: string | null;
    /** A transfer under way: ringing at a colleague, or waiting in the queue. */
    transfer: { to: { agentId: string; name: string } | 'queue' } | null;
    /** Who supervises the call, and how. */
    supervisor: { id: string; name: string; mode: 'listen' | 'whisper' | 'barge' } | null;
    /** The AI assistant is on the call (`talking`), or handed it over and stays until a person takes it. */
    assistant?: 'talking' | 'handing-over';
  }>;
  queue: { length: number; longestWaitSeconds: number };
}

export interface ConsultationView {
  id: string;
  status: CallStatus;
  channel: 'consultation' | 'api';
  customer: { name: string | null; phone: string };
  inquiry: string | null;
  recordingConsent: boolean;
  entryPoint: { id: string; name: string } | null;
  agent: { id: string; name: string } | null;
  roomId: string | null;
  disposition: string | null;
  failureCause: string | null;
  createdAt: string;
  answeredAt: string | null;
  connectedAt: string | null;
  endedAt: string | null;
  waitSeconds: number;
  durationSeconds: number | null;
  /** The customer asked to be called back (no agent was online). */
  callback: { phone: string; requestedAt: string } | null;
  /** How its AI conversation ended (resolved by the bot, transferred to a person, abandoned); null when no bot took part. */
  aiOutcome: AiOutcome | null;
}

export interface ConsultationDetailView extends ConsultationView {
  transitions: Array<{ from: CallStatus | null; to: CallStatus; cause: string; at: string }>;
  events: Array<{ type: string; actorId: string | null; detail: Record<string, unknown> | null; at: string }>;
  participants: Array<{ role: string; userId: string | null; name: string; joinedAt: string; leftAt: string | null }>;
  notes: NoteView[];
}

export interface NoteView {
  id: string;
  authorId: string;
  authorName: string | null;
  body: string;
  disposition: string | null;
  createdAt: string;
}

export interface ViewContext {
  agentNames: Map<string, string>;
  entryPoints: Map<string, EntryPoint>;
  now?: Date;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;
const seconds = (from: Date, to: Date) => Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));

export function consultationView(c: CallRecord, ctx: ViewContext): ConsultationView {
  const now = ctx.now ?? new Date();
  const ep = c.entryPointId ? ctx.entryPoints.get(c.entryPointId) : undefined;
  return {
    id: c.id,
    status: c.status,
    channel: c.channel,
    customer: { name: c.customerName, phone: c.callerNumber },
    inquiry: c.inquiry,
    recordingConsent: c.recordingConsent,
    entryPoint: ep ? { id: ep.id, name: ep.name } : null,
    agent: c.agentId ? { id: c.agentId, name: ctx.agentNames.get(c.agentId) ?? c.agentId } : null,
    roomId: c.roomId,
    disposition: c.disposition,
    failureCause: c.failureCause,
    createdAt: c.createdAt.toISOString(),
    answeredAt: iso(c.answeredAt),
    connectedAt: iso(c.connectedAt),
    endedAt: iso(c.endedAt),
    waitSeconds: seconds(c.createdAt, c.answeredAt ?? c.endedAt ?? now),
    durationSeconds: c.connectedAt ? seconds(c.connectedAt, c.endedAt ?? now) : null,
    callback: c.callbackPhone && c.callbackRequestedAt ? { phone: c.callbackPhone, requestedAt: c.callbackRequestedAt.toISOString() } : null,
    aiOutcome: c.aiOutcome ?? null,
  };
}

export function noteView(n: CallNote): NoteView {
  return { id: n.id, authorId: n.authorId, authorName: n.authorName, body: n.body, disposition: n.disposition, createdAt: n.createdAt.toISOString() };
}

export function detailView(
  c: CallRecord,
  ctx: ViewContext,
  parts: { transitions: CallTransition[]; events: CallEvent[]; participants: CallParticipant[]; notes: CallNote[] },
): ConsultationDetailView {
  return {
    ...consultationView(c, ctx),
    transitions: parts.transitions.map((t) => ({ from: t.from, to: t.to, cause: t.cause, at: t.at.toISOString() })),
    events: parts.events.map((e) => ({ type: e.type, actorId: e.actorId, detail: e.detail, at: e.at.toISOString() })),
    participants: parts.participants.map((p) => ({ role: p.role, userId: p.userId, name: p.name, joinedAt: p.joinedAt.toISOString(), leftAt: iso(p.leftAt) })),
    notes: parts.notes.map(noteView),
  };
}
