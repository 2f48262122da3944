/**
 * Whether the call's speech is being captioned, from the server's `caption-status` event
 * (issue 10): a page shows why its caption panel is empty instead of showing nothing.
 */
import { signal } from '@preact/signals';

export type CaptionUnavailableReason = 'off' | 'no_engine' | 'engine_failed';
export type CaptionStatus = { available: true } | { available: false; reason: CaptionUnavailableReason };

/** The current call's caption status; undefined until the server says (captions are then assumed on). */
export const captionStatus = signal<CaptionStatus | undefined>(undefined);

const reasons: readonly string[] = ['off', 'no_engine', 'engine_failed'];

/** Feeds a `caption-status` event; anything not status-shaped is ignored. Returns the status taken. */
export function onCaptionStatus(v: unknown): CaptionStatus | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as { available?: unknown; reason?: unknown };
  if (o.available === true) return (captionStatus.value = { available: true });
  if (o.available === false && typeof o.reason === 'string' && reasons.includes(o.reason)) return (captionStatus.value = { available: false, reason: o.reason as CaptionUnavailableReason });
  return undefined;
}

/** A new call starts with no status. */
export function resetCaptionStatus(): void {
  captionStatus.value = undefined;
}
