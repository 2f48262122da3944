/**
 * Calls and their state transitions. A transition is written together with the call's new
 * status in one transaction, and only if the call is still in the status it was read in
 * (optimistic check), so two concurrent requests cannot both move the same call.
 */
import { aiOutcomes, type AiOutcome } from '../domain/consultations/routingSetting.js';
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { CallStatus } from '../domain/calls/callStatus.js';
import { toDate, type CallsTable, type Database } from './schema.js';

export interface CallTransition {
  from: CallStatus | null;
  to: CallStatus;
  cause: string;
  at: Date;
}

export interface CallRecord {
  id: string;
  sessionId: string;
  callerNumber: string;
  receiverNumber: string | null;
  status: CallStatus;
  failureCause: string | null;
  createdAt: Date;
  updatedAt: Date;
  connectedAt: Date | null;
  endedAt: Date | null;
  channel: 'consultation' | 'api';
  entryPointId: string | null;
  customerName: string | null;
  inquiry: string | null;
  recordingConsent: boolean;
  agentId: string | null;
  roomId: string | null;
  disposition: string | null;
  answeredAt: Date | null;
  /** The customer asked to be called back on this number (no agent was online). */
  callbackPhone: string | null;
  callbackRequestedAt: Date | null;
  /** The node hosting the call's media (null: created before nodes were recorded). */
  nodeId: string | null;
  /** How the AI conversation of the call ended (null when no bot took part). */
  aiOutcome?: AiOutcome | null;
}


/**
 * What else a transition writes in its transaction: columns of the call (set only if the
 * move happens) and rows of other tables (`within`, run after the status check). Everything
 * commits together or not at all.
 */
export interface TransitionExtras {
  patch?: Partial<Pick<CallsTable, 'agent_id' | 'answered_at' | 'callback_phone' | 'callback_requested_at' | 'node_id'>>;
  within?: (tx: Transaction<Database>) => Promise<void>;
}

/** What a consultation adds to a call when it is created from an entry point. */
export interface ConsultationInput {
  entryPointId: string;
  customerName: string;
  inquiry: string;
  recordingConsent: boolean;
}

const optionalDate = (v: string | Date | null) => (v ? toDate(v) : null);

export function toCallRecord(r: CallsTable): CallRecord {
  return {
    id: r.id,
    sessionId: r.session_id,
    callerNumber: r.caller_number,
    receiverNumber: r.receiver_number,
    status: r.status,
    failureCause: r.failure_cause,
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
    connectedAt: optionalDate(r.connected_at),
    endedAt: optionalDate(r.ended_at),
    channel: r.channel ?? 'api',
    entryPointId: r.entry_point_id,
    customerName: r.customer_name,
    inquiry: r.inquiry,
    recordingConsent: r.recording_consent === 1,
    agentId: r.agent_id,
    roomId: r.room_id,
    disposition: r.disposition,
    answeredAt: optionalDate(r.answered_at),
    callbackPhone: r.callback_phone ?? null,
    callbackRequestedAt: optionalDate(r.callback_requested_at ?? null),
    nodeId: r.node_id ?? null,
    aiOutcome: r.ai_outcome && (aiOutcomes as readonly string[]).includes(r.ai_outcome) ? (r.ai_outcome as AiOutcome) : null,
  };
}

export class CallRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(input: { callerNumber: string; receiverNumber: string | null; cause: string; nodeId: string; consultation?: ConsultationInput }): Promise<CallRecord> {
    const now = new Date().toISOString();
    const id = randomUUID();
    const c = input.consultation;
    const row: CallsTable = {
      id,
      session_id: randomUUID(),
      caller_number: input.callerNumber,
      receiver_number: input.receiverNumber,
      status: 'INITIATING',
      failure_cause: null,
      created_at: now,
      updated_at: now,
      connected_at: null,
      ended_at: null,
      channel: c ? 'consultation' : 'api',
      entry_point_id: c?.entryPointId ?? null,
      customer_name: c?.customerName ?? null,
      inquiry: c?.inquiry ?? null,
      recording_consent: c ? (c.recordingConsent ? 1 : 0) : null,
      agent_id: null,
      room_id: c ? `call-${id}` : null,
      disposition: null,
      answered_at: null,
      node_id: input.nodeId,
    };
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('calls').values(row).execute();
      await tx.insertInto('call_transitions').values({ id: randomUUID(), call_id: row.id, from_status: null, to_status: 'INITIATING', cause: input.cause, at: now }).execute();
    });
    return toCallRecord(row);
  }

  async find(id: string): Promise<CallRecord | undefined> {
    const row = await this.db.selectFrom('calls').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toCallRecord(row) : undefined;
  }

  /** The call a seed 001 signaling session belongs to (`session_id` is unique). */
  async findBySession(sessionId: string): Promise<CallRecord | undefined> {
    const row = await this.db.selectFrom('calls').selectAll().where('session_id', '=', sessionId).executeTakeFirst();
    return row ? toCallRecord(row) : undefined;
  }

  /** Moves a call from `from` to `to`; returns undefined when it was no longer in `from`. */
  async transition(id: string, from: CallStatus, to: CallStatus, cause: string, extras: TransitionExtras = {}): Promise<CallRecord | undefined> {
    const now = new Date().toISOString();
    return this.db.transaction().execute(async (tx) => {
      const patch: Partial<CallsTable> = { ...extras.patch, status: to, updated_at: now };
      if (to === 'IN_PROGRESS') patch.connected_at = now;
      if (to === 'ENDED' || to === 'FAILED') patch.ended_at = now;
      if (to === 'FAILED') patch.failure_cause = cause;
      const res = await tx.updateTable('calls').set(patch).where('id', '=', id).where('status', '=', from).executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) return undefined;
      await tx.insertInto('call_transitions').values({ id: randomUUID(), call_id: id, from_status: from, to_status: to, cause, at: now }).execute();
      if (extras.within) await extras.within(tx);
      const row = await tx.selectFrom('calls').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      return toCallRecord(row);
    });
  }

  async transitions(id: string): Promise<CallTransition[]> {
    const rows = await this.db.selectFrom('call_transitions').selectAll().where('call_id', '=', id).orderBy('at').execute();
    // Timestamps can tie within a millisecond; each transition starts where the last ended,
    // so follow that chain from the first (from = null).
    const out: CallTransition[] = [];
    let prev: string | null = null;
    const left = [...rows];
    while (left.length > 0) {
      const i = left.findIndex((r) => r.from_status === prev);
      const r = left.splice(i === -1 ? 0 : i, 1)[0]!;
      out.push({ from: r.from_status as CallStatus | null, to: r.to_status as CallStatus, cause: r.cause, at: toDate(r.at) });
      prev = r.to_status;
    }
    return out;
  }

  /** An agent answered: records who and when (the status move is separate). */
  async assignAgent(id: string, agentId: string): Promise<void> {
    await this.db.updateTable('calls').set({ agent_id: agentId, answered_at: new Date().toISOString() }).where('id', '=', id).execute();
  }

  async setAiOutcome(id: string, outcome: AiOutcome): Promise<void> {
    await this.db.updateTable('calls').set({ ai_outcome: outcome, updated_at: new Date().toISOString() }).where('id', '=', id).execute();
  }

  async setDisposition(id: string, disposition: string): Promise<void> {
    await this.db.updateTable('calls').set({ disposition, updated_at: new Date().toISOString() }).where('id', '=', id).execute();
  }

  async listLive(): Promise<CallRecord[]> {
    const rows = await this.db.selectFrom('calls').selectAll().where('status', 'not in', ['ENDED', 'FAILED']).execute();
    return rows.map(toCallRecord);
  }

  /** Live calls whose media this node hosts. */
  async listLiveOn(nodeId: string): Promise<CallRecord[]> {
    const rows = await this.db.selectFrom('calls').selectAll().where('status', 'not in', ['ENDED', 'FAILED']).where('node_id', '=', nodeId).execute();
    return rows.map(toCallRecord);
  }

  /**
   * Live calls no live node hosts: their node stopped, or its heartbeat expired before
   * `now` (each node sets its own expiry), or it never wrote one (rows from before nodes
   * were recorded). One statement, so a node that registers and creates a call meanwhile
   * is seen with its call.
   */
  /**
   * A waiting call whose node is gone moves to `toNode` (issue 13: it waits in the shared
   * queue, not on a node). False when it moved or changed meanwhile (another node adopted it).
   */
  async adopt(id: string, status: CallRecord['status'], fromNode: string | null, toNode: string): Promise<boolean> {
    const r = await this.db
      .updateTable('calls')
      .set({ node_id: toNode })
      .where('id', '=', id)
      .where('status', '=', status)
      .where((eb) => (fromNode === null ? eb('node_id', 'is', null) : eb('node_id', '=', fromNode)))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async listLiveOrphaned(now: Date): Promise<CallRecord[]> {
    const cutoff = now.toISOString();
    const rows = await this.db
      .selectFrom('calls')
      .selectAll()
      .where('status', 'not in', ['ENDED', 'FAILED'])
      .where((eb) =>
        eb.or([
          eb('node_id', 'is', null),
          eb.not(eb.exists(eb.selectFrom('nodes').select('nodes.id').whereRef('nodes.id', '=', 'calls.node_id').where('nodes.stopped_at', 'is', null).where('nodes.expires_at', '>', cutoff))),
        ]),
      )
      .execute();
    return rows.map(toCallRecord);
  }
}
