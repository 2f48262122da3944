/**
 * Who in a consultation's SFU room may send, receive and know about whom — the one place
 * the supervisor's listen / whisper / barge rules and a transfer's hand-over are decided.
 * The `/voice` namespace asks it before every `produce` and `consume`, filters what it
 * announces with it, and re-checks every open consumer of a room when it says the room's
 * seats changed (a supervisor joined, switched mode or left; the call was transferred).
 *
 * Seats in a consultation room (docs/consultations.md, "Supervision"):
 *   customer   — the consultation's customer token
 *   agent      — the account the call is with now (after a transfer: the new agent)
 *   supervisor — the admin who joined with `supervisor:join`, in its mode
 *   observer   — anyone else who got in (an admin who did not `supervisor:join`, the agent a
 *                call was transferred away from): may neither send nor receive
 *
 *   sender → receiver   customer  agent  supervisor
 *   customer             —         yes    yes
 *   agent                yes       —      yes
 *   supervisor listen    no        no     —
 *   supervisor whisper   no        yes    —
 *   supervisor barge     yes       yes    —
 *
 * Rooms that are not a consultation's are open: everyone sends and receives everyone.
 */
import { EventEmitter } from 'node:events';
import { customerOf, isAccount, type Identity } from '../../auth/identity.js';
import { consultationRoomName } from '../roomRef.js';

export type SupervisorMode = 'listen' | 'whisper' | 'barge';
export type Seat = 'customer' | 'agent' | 'supervisor' | 'observer';

/** The port the `/voice` namespace enforces. `sender` undefined: a server-side producer (a bot). */
export interface MediaPolicy {
  /** Why `who` may not send media into the room, as a sentence; undefined when it may. */
  produceRefusal(roomId: string, who: Identity): string | undefined;
  mayReceive(roomId: string, receiver: Identity, sender: Identity | undefined): boolean;
  /** Whether `receiver` may learn that `peer` is in the room and what it sends. */
  mayKnow(roomId: string, receiver: Identity, peer: Identity | undefined): boolean;
  /** Called with a room id whenever the answers above may have changed for that room. */
  onChange(listener: (roomId: string) => void): void;
}

/** Every peer sends and receives every other (rooms that are not consultations). */
export const openMediaPolicy: MediaPolicy = {
  produceRefusal: () => undefined,
  mayReceive: () => true,
  mayKnow: () => true,
  onChange: () => undefined,
};

export interface ConsultationSeats {
  /** The consultation whose SFU room this is, if it is one. */
  consultationOfRoom(roomId: string): string | undefined;
  /** The account the consultation is with now (undefined while it waits in the queue). */
  agentOf(consultationId: string): string | undefined;
  /** The supervisor on the consultation and its mode, if any. */
  supervisorOf(consultationId: string): { id: string; mode: SupervisorMode } | undefined;
}

export class ConsultationMediaPolicy implements MediaPolicy {
  private readonly changes = new EventEmitter<{ changed: [string] }>();

  constructor(private readonly seats: ConsultationSeats) {}

  /** The consultation's seats changed (supervision, transfer): re-check its room. */
  seatsChanged(consultationId: string): void {
    this.changes.emit('changed', consultationRoomName(consultationId));
  }

  onChange(listener: (roomId: string) => void): void {
    this.changes.on('changed', listener);
  }

  seatOf(consultationId: string, who: Identity): Seat {
    if (customerOf(who) === consultationId) return 'customer';
    if (!isAccount(who)) return 'observer';
    if (who.userId === this.seats.agentOf(consultationId)) return 'agent';
    if (who.userId === this.seats.supervisorOf(consultationId)?.id) return 'supervisor';
    return 'observer';
  }

  produceRefusal(roomId: string, who: Identity): string | undefined {
    const id = this.seats.consultationOfRoom(roomId);
    if (!id) return undefined;
    const seat = this.seatOf(id, who);
    if (seat === 'customer' || seat === 'agent') return undefined;
    if (seat === 'supervisor') return this.seats.supervisorOf(id)?.mode === 'listen' ? 'You are listening in, so you cannot be heard; switch to whisper or barge (supervisor:mode) to speak.' : undefined;
    return 'Only the customer, the agent on the call and a supervisor who joined with supervisor:join may speak in a consultation.';
  }

  mayReceive(roomId: string, receiver: Identity, sender: Identity | undefined): boolean {
    const id = this.seats.consultationOfRoom(roomId);
    if (!id) return true;
    const to = this.seatOf(id, receiver);
    if (to === 'observer') return false;
    if (!sender) return true;
    const from = this.seatOf(id, sender);
    if (from === 'observer') return false;
    if (from !== 'supervisor') return true;
    const mode = this.seats.supervisorOf(id)?.mode;
    if (mode === 'barge') return true;
    if (mode === 'whisper') return to === 'agent';
    return false;
  }

  mayKnow(roomId: string, receiver: Identity, peer: Identity | undefined): boolean {
    const id = this.seats.consultationOfRoom(roomId);
    if (!id || !peer) return true;
    const seat = this.seatOf(id, peer);
    if (seat === 'customer' || seat === 'agent') return true;
    return this.mayReceive(roomId, receiver, peer) || this.seatOf(id, receiver) === 'supervisor';
  }
}
