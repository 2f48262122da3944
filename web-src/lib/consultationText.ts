/**
 * The sentences staff pages (agent console, admin dashboard) show for a consultation's codes:
 * call statuses, agent states, causes, withdraw reasons, timeline events and error codes.
 * One table per language of the same shape (EN, KO; test/media/ui-i18n.test.ts checks that both
 * have the same keys). Pages never show a raw code: unknown ones get a generic sentence (the code
 * stays in data-* attributes and logs). `consultationText(lang)` picks the table.
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
    overflowed: 'Nobody answered in time, so the AI assistant took the call.',
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
    CLUSTER_UNAVAILABLE: 'The queue could not be reached for about 20 seconds, so nothing was changed. Please try again in a moment.',
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

const causesKo: Record<string, string> = {
  'hung-up': '통화가 종료되었습니다.',
  'hung-up-before-connect': '연결되기 전에 통화가 종료되었습니다.',
  'customer-hung-up': '고객이 전화를 끊었습니다.',
  'customer-hung-up-before-connect': '상담원이 받기 전에 고객이 전화를 끊었습니다.',
  'customer-left': '고객이 페이지를 닫았습니다.',
  'customer-left-before-connect': '상담원이 받기 전에 고객이 페이지를 닫았습니다.',
  'agent-hung-up': '상담원이 통화를 종료했습니다.',
  'agent-hung-up-before-connect': '연결되기 전에 상담원이 통화를 종료했습니다.',
  'server-restarted': '통화 중에 서버가 다시 시작되었습니다.',
  'callback-requested': '받을 수 있는 상담원이 없어 고객이 다시 전화해 달라고 요청했습니다.',
  'media-connected': '양쪽 모두 통화에 참여했습니다.',
  accepted: '상담원이 통화를 받았습니다.',
  queued: '고객이 대기열에 들어왔습니다.',
  'customer-called': '고객이 QR 코드로 전화했습니다.',
  created: '통화가 만들어졌습니다.',
  ringing: '전화가 울리고 있습니다.',
  answered: '전화를 받았습니다.',
  connected: '통화가 연결되었습니다.',
};

export const KO: ConsultationText = {
  status: {
    INITIATING: '시작 중',
    RINGING: '상담원 기다리는 중',
    CONNECTING: '연결 중',
    IN_PROGRESS: '상담 중',
    ENDED: '종료',
    FAILED: '연결 안 됨',
  },
  agentState: {
    available: '상담 가능',
    ringing: '전화 오는 중',
    busy: '통화 중',
    'after-call-work': '후처리 중',
    offline: '오프라인',
  },
  causes: causesKo,
  unknownCause: '다른 이유로 통화가 끝났습니다.',
  withdrawn: {
    rejected: '통화를 거절했습니다. 먼저 동료에게 연결되며, 다시 돌아올 수 있습니다.',
    timeout: '응답이 없어 오프라인으로 바뀌었습니다. 다시 전화를 받으려면 상담 가능으로 바꾸세요.',
    'hung-up': '받기 전에 고객이 전화를 끊었습니다.',
    'agent-offline': '콘솔이 연결되어 있지 않아 다른 상담원에게 연결되었습니다.',
    'accept-failed': '지금은 통화를 받을 수 없었습니다. 통화는 다시 대기열로 돌아갔습니다.',
    overflowed: '제시간에 받은 상담원이 없어 AI 상담원이 통화를 받았습니다.',
  },
  transition: (to, cause) => {
    switch (to) {
      case 'INITIATING':
        return '고객이 QR 코드로 전화했습니다.';
      case 'RINGING':
        return '대기열에 들어왔습니다.';
      case 'CONNECTING':
        return '상담원이 받았습니다. 음성을 연결하는 중입니다.';
      case 'IN_PROGRESS':
        return '양쪽이 모두 참여해 상담이 시작되었습니다.';
      case 'ENDED':
        return `종료. ${causesKo[cause] ?? '통화가 끝났습니다.'}`;
      case 'FAILED':
        return `연결 안 됨. ${causesKo[cause] ?? '다른 이유로 통화가 끝났습니다.'}`;
    }
  },
  event: (type, d) => {
    const agent = str(d?.agentName);
    switch (type) {
      case 'queued':
        return d?.entryPoint ? `“${str(d.entryPoint)}”에서 대기열에 들어왔습니다.` : '대기열에 들어왔습니다.';
      case 'offered':
        return agent ? `${agent} 상담원에게 연결을 시도했습니다.` : '상담원에게 연결을 시도했습니다.';
      case 'rejected':
        return '상담원이 연결을 거절했습니다.';
      case 'offer-timeout':
        return d?.reason === 'agent-offline' ? '전화가 울리는 동안 상담원의 콘솔 연결이 끊겼습니다.' : '응답 없이 연결 시도가 끝났습니다.';
      case 'accepted':
        return agent ? `${agent} 상담원이 통화를 받았습니다.` : '상담원이 통화를 받았습니다.';
      case 'hold':
        return '고객을 보류했습니다.';
      case 'unhold':
        return '고객 보류를 해제했습니다.';
      case 'hung-up':
        return '고객이 전화를 끊었습니다.';
      case 'ended':
        return '통화가 종료되었습니다.';
      case 'note':
        return d?.disposition ? `메모를 남겼습니다(결과: ${KO.dispositions[str(d.disposition)] ?? '기타'}).` : '메모를 남겼습니다.';
      case 'callback-requested':
        return d?.phone ? `고객이 ${str(d.phone)}(으)로 다시 전화해 달라고 요청했습니다.` : '고객이 다시 전화해 달라고 요청했습니다.';
      default:
        return '다른 일이 있었습니다.';
    }
  },
  eventLabel: (type) =>
    ({ queued: '대기열', offered: '연결', rejected: '연결', 'offer-timeout': '연결', accepted: '응답', hold: '보류', unhold: '보류', 'hung-up': '종료', ended: '종료', note: '메모', 'callback-requested': '콜백' })[type] ?? '이벤트',
  agentsAvailable: (n) => (n === 0 ? '지금 전화를 받을 수 있는 상담원이 없습니다.' : `${n}명의 상담원이 전화를 받을 수 있습니다.`),
  errors: {
    CONFLICT: '이제는 할 수 없습니다. 그사이 통화 상태가 바뀌었습니다.',
    FORBIDDEN: '이 작업을 할 권한이 없습니다.',
    UNAUTHORIZED: '로그인이 만료되었습니다. 다시 로그인하세요.',
    NOT_FOUND: '해당 통화나 항목이 더 이상 없습니다.',
    INVALID_PAYLOAD: '입력한 내용 중 올바르지 않은 것이 있습니다. 확인해 주세요.',
    RATE_LIMITED: '시도가 너무 많습니다. 잠시 후 다시 시도하세요.',
    INTERNAL: '서버에 문제가 생겼습니다. 다시 시도하세요.',
    TIMEOUT: '서버가 제때 응답하지 않았습니다. 다시 시도하세요.',
    CLUSTER_UNAVAILABLE: '약 20초 동안 대기열에 연결하지 못해 아무것도 바뀌지 않았습니다. 잠시 후 다시 시도하세요.',
  },
  unknownError: '잘 되지 않았습니다. 다시 시도하세요.',
  dispositions: {
    resolved: '해결됨',
    'follow-up': '후속 조치',
    escalated: '상위 이관',
    'no-resolution': '미해결',
    other: '기타',
  },
};

/** The table for a language (`en` | `ko`). */
export function consultationText(lang: 'en' | 'ko'): ConsultationText {
  return lang === 'ko' ? KO : EN;
}
