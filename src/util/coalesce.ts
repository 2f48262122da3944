/**
 * Turns a burst of change notifications into at most one run of `flush` per interval: the
 * first change after a quiet period runs soon (leading edge), later ones in the same
 * interval are folded into one run at its end. For pushing snapshots (the admin board, the
 * queue to consoles, places in line) whose latest state is all a client needs.
 */
export interface Coalesced {
  /** Something changed: flush within the interval. */
  (): void;
  /** Drops a pending flush (shutdown). */
  cancel(): void;
}

export function coalesce(flush: () => void, intervalMs: number): Coalesced {
  let timer: NodeJS.Timeout | undefined;
  let last = 0;
  const run = (): void => {
    timer = undefined;
    last = Date.now();
    flush();
  };
  const trigger = (() => {
    if (timer) return;
    timer = setTimeout(run, Math.max(0, intervalMs - (Date.now() - last)));
    timer.unref();
  }) as Coalesced;
  trigger.cancel = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  return trigger;
}
