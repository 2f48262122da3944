/**
 * Seed 001's call lifecycle:
 *
 *   INITIATING → RINGING → CONNECTING → IN_PROGRESS → ENDED
 *        ↓           ↓          ↓
 *      FAILED      FAILED     FAILED
 */
export const callStatuses = ['INITIATING', 'RINGING', 'CONNECTING', 'IN_PROGRESS', 'ENDED', 'FAILED'] as const;
export type CallStatus = (typeof callStatuses)[number];

const transitions: Record<CallStatus, readonly CallStatus[]> = {
  INITIATING: ['RINGING', 'FAILED'],
  RINGING: ['CONNECTING', 'FAILED'],
  CONNECTING: ['IN_PROGRESS', 'FAILED'],
  IN_PROGRESS: ['ENDED'],
  ENDED: [],
  FAILED: [],
};

export function canTransition(from: CallStatus, to: CallStatus): boolean {
  return transitions[from].includes(to);
}

export function nextStatuses(from: CallStatus): readonly CallStatus[] {
  return transitions[from];
}

export function isLive(status: CallStatus): boolean {
  return status !== 'ENDED' && status !== 'FAILED';
}
