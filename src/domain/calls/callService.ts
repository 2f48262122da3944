/**
 * Call lifecycle use cases (seed 001's API): create, connect, end, read, and closing the
 * calls a restart interrupted. Illegal transitions are CONFLICT errors that name the
 * current status and what it can move to.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { EventEmitter } from 'node:events';
import { ParleyError } from '../../errors.js';
import type { CallRecord, CallRepository, CallTransition, ConsultationInput, TransitionExtras } from '../../storage/callRepository.js';
import { canTransition, isLive, nextStatuses, type CallStatus } from './callStatus.js';

/** Which live calls survive their node (a consultation waiting in a shared queue), and what to do once adopted. */
export interface CallKeeper {
  keeps(call: CallRecord): boolean;
  adopted(call: CallRecord): void;
}

export interface CallServiceEvents {
  transition: [call: CallRecord, transition: { from: CallStatus; to: CallStatus; cause: string }];
}

export class CallService extends EventEmitter<CallServiceEvents> {
  constructor(
    private readonly calls: CallRepository,
    private readonly defaultRegion: CountryCode,
    /** The node this process is: new calls are recorded as hosted here. */
    readonly nodeId = 'local',
  ) {
    super();
  }

  /** Normalises a phone number to E.164; INVALID_PAYLOAD when it is not a valid number. */
  phoneNumber(field: string, raw: string): string {
    const parsed = parsePhoneNumberFromString(raw, this.defaultRegion);
    if (!parsed || !parsed.isValid()) throw new ParleyError('INVALID_PAYLOAD', `${field}: "${raw}" is not a valid phone number (e.g. 01012345678 or +821012345678)`);
    return parsed.number;
  }

  /** POST /api/v1/calls: the call is created and starts ringing. */
  async create(input: { callerNumber: string; receiverNumber?: string }): Promise<CallRecord> {
    const callerNumber = this.phoneNumber('callerNumber', input.callerNumber);
    const receiverNumber = input.receiverNumber ? this.phoneNumber('receiverNumber', input.receiverNumber) : null;
    const call = await this.calls.create({ callerNumber, receiverNumber, cause: 'created', nodeId: this.nodeId });
    return this.move(call, 'RINGING', 'ringing');
  }

  /** A customer's consultation from an entry point: created INITIATING; the queue moves it on. */
  async createConsultation(input: { phone: string } & ConsultationInput): Promise<CallRecord> {
    const callerNumber = this.phoneNumber('phone', input.phone);
    return this.calls.create({
      callerNumber,
      receiverNumber: null,
      cause: 'customer-called',
      nodeId: this.nodeId,
      consultation: { entryPointId: input.entryPointId, customerName: input.customerName, inquiry: input.inquiry, recordingConsent: input.recordingConsent },
    });
  }

  /**
   * Moves a call along the state machine (CONFLICT with the current status when illegal).
   * `extras` are written in the same transaction (see TransitionExtras).
   */
  async advance(id: string, to: CallStatus, cause: string, extras?: TransitionExtras): Promise<CallRecord> {
    return this.move(await this.get(id), to, cause, extras);
  }

  async get(id: string): Promise<CallRecord> {
    const call = await this.calls.find(id);
    if (!call) throw new ParleyError('NOT_FOUND', `no call ${id}`);
    return call;
  }

  /** The call of a seed 001 signaling session, if one has it. */
  bySession(sessionId: string): Promise<CallRecord | undefined> {
    return this.calls.findBySession(sessionId);
  }

  transitions(id: string): Promise<CallTransition[]> {
    return this.calls.transitions(id);
  }

  /** POST /:id/connect: RINGING → CONNECTING → IN_PROGRESS (media answered). */
  async connect(id: string): Promise<CallRecord> {
    let call = await this.get(id);
    if (call.status === 'RINGING') call = await this.move(call, 'CONNECTING', 'answered');
    if (call.status !== 'CONNECTING') throw this.illegal(call, 'IN_PROGRESS');
    return this.move(call, 'IN_PROGRESS', 'connected');
  }

  /** POST /:id/end: a connected call ENDS; one hung up before connecting FAILS with that cause. */
  async end(id: string, cause = 'hung-up'): Promise<CallRecord> {
    const call = await this.get(id);
    if (call.status === 'IN_PROGRESS') return this.move(call, 'ENDED', cause);
    if (isLive(call.status)) return this.move(call, 'FAILED', `${cause}-before-connect`);
    throw this.illegal(call, 'ENDED');
  }

  async fail(id: string, cause: string): Promise<CallRecord> {
    return this.move(await this.get(id), 'FAILED', cause);
  }

  /**
   * At start: calls a restart interrupted cannot go on (their media and peers are gone).
   * Each is closed as FAILED with the cause — the one move outside the state machine, since
   * an IN_PROGRESS call that was cut off did not end normally. Without a scope, every live
   * call (one node alone on its database); with one, only those of the given kind.
   */
  async closeInterrupted(cause = 'server-restarted', scope?: { hostedBy: string } | { orphanedAt: Date }, keep?: CallKeeper): Promise<CallRecord[]> {
    const live = !scope ? await this.calls.listLive() : 'hostedBy' in scope ? await this.calls.listLiveOn(scope.hostedBy) : await this.calls.listLiveOrphaned(scope.orphanedAt);
    const closed: CallRecord[] = [];
    for (const call of live) {
      // A call no node hosts yet (waiting in a shared queue) is taken over rather than failed.
      if (keep?.keeps(call)) {
        if (await this.calls.adopt(call.id, call.status, call.nodeId, this.nodeId)) keep.adopted(call);
        continue;
      }
      const moved = await this.calls.transition(call.id, call.status, 'FAILED', cause);
      if (!moved) continue; // another node, or the call's own end, got there first
      closed.push(moved);
      this.emit('transition', moved, { from: call.status, to: 'FAILED', cause });
    }
    return closed;
  }

  private async move(call: CallRecord, to: CallStatus, cause: string, extras?: TransitionExtras): Promise<CallRecord> {
    if (!canTransition(call.status, to)) throw this.illegal(call, to);
    const moved = await this.calls.transition(call.id, call.status, to, cause, extras);
    if (!moved) {
      // Someone else moved it first: report what it is now.
      throw this.illegal(await this.get(call.id), to);
    }
    this.emit('transition', moved, { from: call.status, to, cause });
    return moved;
  }

  private illegal(call: CallRecord, to: CallStatus): ParleyError {
    const allowed = nextStatuses(call.status);
    return new ParleyError('CONFLICT', `call ${call.id} is ${call.status}; it cannot move to ${to}${allowed.length ? ` (only to ${allowed.join(' or ')})` : ' (it is over)'}`, {
      currentStatus: call.status,
      allowed,
    });
  }
}
