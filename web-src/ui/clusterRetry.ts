/**
 * The pages' policy for a change the cluster refused for now (issue 15, after issue 13): with
 * several nodes, while the node that routes consultations hands over to another, a change such
 * as going available, accepting or transferring waits up to about 6 s on the server and is then
 * refused with CLUSTER_UNAVAILABLE ("try again in a few seconds"). For the requests whose
 * refusal means the change was not made (the caller says which), the client sends it again with
 * a growing pause, up to about 20 s in all, and `queueRetrying` tells the page to say
 * "Reconnecting to the queue…" meanwhile. After that the last refusal goes to the caller, whose
 * sentence for CLUSTER_UNAVAILABLE says that nothing changed and to try again.
 *
 * No socket and no DOM here, so test/web-cluster-retry.test.ts runs it with a fake clock.
 */
// signals-core, not @preact/signals: a page without a Preact view can hold the policy without Preact.
import { signal } from '@preact/signals-core';

/** The code the server gives a change refused because the routing owner (or Redis) did not answer. */
export const CLUSTER_UNAVAILABLE = 'CLUSTER_UNAVAILABLE';

export interface RetryClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
}

export interface ClusterRetryOptions {
  /** How long, from the first try, a refused change may still be sent again (default 20 s). */
  budgetMs?: number;
  /** The first pause (default 500 ms); each next one is twice as long, up to `maxDelayMs`. */
  firstDelayMs?: number;
  /** The longest pause (default 4 s). */
  maxDelayMs?: number;
  /** 0…1; each pause is scaled by 0.75 + 0.5 × random(), so consoles that were refused together do not all come back in the same instant. */
  random?: () => number;
  clock?: RetryClock;
}

const realClock: RetryClock = { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms) };

/** How many requests are waiting to be sent again; the page shows its sentence while this is above 0. */
export const queueRetrying = signal(0);

export function isClusterUnavailable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === CLUSTER_UNAVAILABLE;
}

/**
 * Runs `attempt` and, while it is refused with CLUSTER_UNAVAILABLE and the budget allows, runs
 * it again after a pause (0.5 s, 1 s, 2 s, 4 s, 4 s… jittered). Any other answer, success or
 * error, ends it at once. Gives up with the last refusal when the next try would start after
 * the budget; a try already under way is never cut short.
 */
export async function retryClusterUnavailable<T>(attempt: () => Promise<T>, options: ClusterRetryOptions = {}): Promise<T> {
  const clock = options.clock ?? realClock;
  const budget = options.budgetMs ?? 20_000;
  const first = options.firstDelayMs ?? 500;
  const max = options.maxDelayMs ?? 4_000;
  const random = options.random ?? Math.random;
  const started = clock.now();
  let retrying = false;
  try {
    for (let n = 0; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        if (!isClusterUnavailable(err)) throw err;
        const pause = Math.round(Math.min(max, first * 2 ** n) * (0.75 + 0.5 * random()));
        if (clock.now() - started + pause > budget) throw err;
        if (!retrying) {
          retrying = true;
          queueRetrying.value++;
        }
        await new Promise<void>((resolve) => clock.setTimeout(resolve, pause));
      }
    }
  } finally {
    if (retrying) queueRetrying.value--;
  }
}
