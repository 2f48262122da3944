/**
 * The sentences staff pages (agent console, admin dashboard) show for a consultation's codes:
 * call statuses, agent states, causes, withdraw reasons, timeline events and error codes.
 * One table (English now); a translation is another table of the same shape. Pages never show
 * a raw code: unknown ones get a generic sentence (the code stays in data-* attributes and logs).
 */
import type { AgentState, CallStatus } from '../../src/domain/consultations/consultationView.js';

export interface ConsultationText {
  status: Record<CallStatus, string>;
  agentState: Record<AgentState, string>;
  /** Why a call ended or failed (`cause` / `failureCause`). */
  causes: Record<string, string>;
  unknownCause: string;
  /** Why an offer left the console. */
  withdrawn: Record<string, string>;
  /** Call transitions in the timeline, by `to` status. */
  transition: (to: CallStatus, cause: string) => string;
  /** Routing events in the timeline. */
  event: (type: string, detail: Record<string, unknown> | null) => string;
  /** A one-word label for an event's kind (the timeline's badge). */
  eventLabel: (type: string) => string;
  /** "Nobody is free to take a call", "1 agent is free…" (agents in the available state). */
  agentsAvailable: (n: number) => string;
  errors: Record<string, string>;
  unknownError: string;
  dispositions: Record<string, string>;
}

const causes: Record<string, string> = {
  'hung-up': 'The call was hung up.',
  'hung-up-before-connect': 'The call was hung up before it connected.',
  'customer-hung-up': 'The customer hung up.',
  'customer-hung-up-before-connect': 'The customer hung up before an agent answered.',
  'customer-left': 'The customer closed the page.',
  'customer-left-before-connect': 'The customer closed the page before an agent answered.',
  'agent-hung-up': 'The agent ended the call.',
  'agent-hung-up-before-connect': 'The agent ended the call before it connected.',
  'server-restarted': 'The server restarted during the call.',
  'callback-requested': 'No agent was available; the customer asked to be called back.',
  'media-connected': 'Both sides joined the call.',
  accepted: 'An agent accepted the call.',
  queued: 'The customer joined the queue.',
  'customer-called': 'The customer called from a QR code.',
  created: 'The call was created.',
  ringing: 'The call is ringing.',
  answered: 'The call was answered.',
  connected: 'The call connected.',
};

const str = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

export const EN: ConsultationText = {
  status: {
    INITIATING: 'Starting',
    RINGING: 'Waiting for an agent',
    CONNECTING: 'Connecting',
    IN_PROGRESS: 'In conversation',
    ENDED: 'Finished',
    FAILED: 'Did not connect',
  },
  agentState: {
    available: 'Available',
    ringing: 'A call is ringing',
    busy: 'In a call',
    'after-call-work': 'After-call work',
    offline: 'Offline',
  },
  causes,
  unknownCause: 'The call ended for another reason.',
  withdrawn: {
    rejected: 'You rejected the call; it goes to a colleague first and may come back to you.',
    timeout: 'The call rang out without an answer, so you were set offline. Go available to take calls again.',
    'hung-up': 'The customer hung up before you answered.',
    'agent-offline': 'Your console was away, so the call went to someone else.',
    'accept-failed': 'The call could not be accepted just now; it is back in the queue.',
  },
  transition: (to, cause) => {
    switch (to) {
      case 'INITIATING':
        return 'The customer called from a QR code.';
      case 'RINGING':
        return 'Joined the queue.';
      case 'CONNECTING':
        return 'An agent accepted; connecting the audio.';
      case 'IN_PROGRESS':
        return 'Both sides joined: the conversation started.';
      case 'ENDED':
        return `Finished. ${causes[cause] ?? 'The call ended.'}`;
      case 'FAILED':
        return `Did not connect. ${causes[cause] ?? 'The call ended for another reason.'}`;
    }
  },
  event: (type, d) => {
    const agent = str(d?.agentName);
    switch (type) {
      case 'queued':
        return d?.entryPoint ? `Queued from “${str(d.entryPoint)}”.` : 'Queued.';
      case 'offered':
        return agent ? `Offered to ${agent}.` : 'Offered to an agent.';
      case 'rejected':
        return 'The agent rejected the offer.';
      case 'offer-timeout':
        return d?.reason === 'agent-offline' ? 'The agent’s console went away while it rang.' : 'The offer rang out without an answer.';
      case 'accepted':
        return agent ? `${agent} accepted the call.` : 'An agent accepted the call.';
      case 'hold':
        return 'The customer was put on hold.';
      case 'unhold':
        return 'The customer was taken off hold.';
      case 'hung-up':
        return 'The customer hung up.';
      case 'ended':
        return 'The call was closed.';
      case 'note':
        return d?.disposition ? `A note was written (outcome: ${EN.dispositions[str(d.disposition)] ?? 'other'}).` : 'A note was written.';
      case 'callback-requested':
        return d?.phone ? `The customer asked to be called back at ${str(d.phone)}.` : 'The customer asked to be called back.';
      default:
        return 'Something else happened.';
    }
  },
  eventLabel: (type) =>
    ({ queued: 'Queue', offered: 'Offer', rejected: 'Offer', 'offer-timeout': 'Offer', accepted: 'Answer', hold: 'Hold', unhold: 'Hold', 'hung-up': 'End', ended: 'End', note: 'Note', 'callback-requested': 'Call back' })[type] ?? 'Event',
  agentsAvailable: (n) => (n === 0 ? 'Nobody is free to take a call.' : n === 1 ? '1 agent is free to take a call.' : `${n} agents are free to take a call.`),
  errors: {
    CONFLICT: 'That is no longer possible: the call changed in the meantime.',
    FORBIDDEN: 'You are not allowed to do that.',
    UNAUTHORIZED: 'Your sign-in has expired. Please sign in again.',
    NOT_FOUND: 'That call or item no longer exists.',
    INVALID_PAYLOAD: 'Some of what was entered is not valid. Please check it.',
    RATE_LIMITED: 'Too many attempts. Please wait a moment and try again.',
    INTERNAL: 'Something went wrong on the server. Please try again.',
    TIMEOUT: 'The server did not answer in time. Please try again.',
  },
  unknownError: 'That did not work. Please try again.',
  dispositions: {
    resolved: 'Resolved',
    'follow-up': 'Follow-up',
    escalated: 'Escalated',
    'no-resolution': 'No resolution',
    other: 'Other',
  },
};

/** The sentence for an error: by its code when it has one (ApiError), else the generic sentence. */
export function errorSentence(text: ConsultationText, err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
  return (code && text.errors[code]) || text.unknownError;
}

export function causeSentence(text: ConsultationText, cause: string | null | undefined): string {
  if (!cause) return '';
  return text.causes[cause] ?? text.unknownCause;
}
