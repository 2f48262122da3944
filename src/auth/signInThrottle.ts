/**
 * Password guessing is stopped, and the stop ends by itself.
 *
 * Two counters (rate-limiter-flexible, in memory):
 *  - wrong passwords in a row for one email from one address: after `maxFailures` that pair is
 *    locked for `lockoutSeconds` (the right password is refused too); a successful sign-in
 *    clears it;
 *  - wrong passwords from one address for any email within an hour: after
 *    `maxFailuresPerAddress` the address is locked for `lockoutSeconds` (one client trying many
 *    accounts). A success does not clear it, or guessing could be interleaved with sign-ins to
 *    an account of one's own.
 * The counters are keyed by the email as typed, whether or not an account has it, so a lockout
 * tells nothing about which emails exist.
 */
import { RateLimiterMemory, type RateLimiterAbstract, type RateLimiterRes } from 'rate-limiter-flexible';
import { ParleyError } from '../errors.js';

/** Builds one counter: in memory by default; the cluster passes a Redis store so every node counts together. */
export type LimiterFactory = (o: { keyPrefix: string; points: number; duration: number }) => RateLimiterAbstract;

const inMemory: LimiterFactory = (o) => new RateLimiterMemory(o);

export interface SignInThrottleOptions {
  maxFailures: number;
  maxFailuresPerAddress: number;
  lockoutSeconds: number;
}

/** Consecutive failures of one email+address are counted for a day at most. */
const CONSECUTIVE_WINDOW_SECONDS = 24 * 3600;
const ADDRESS_WINDOW_SECONDS = 3600;

/** One sign-in attempt that holds its place in both counters until its outcome is known. */
export interface SignInAttempt {
  /** Wrong password: the attempt stays counted; reaching a limit starts the lockout. */
  failed(): Promise<void>;
  /** Right password: the email+address run of failures is over and the address gets its point back. */
  succeeded(): Promise<void>;
}

export class SignInThrottle {
  private readonly byAccountAndAddress: RateLimiterAbstract;
  private readonly byAddress: RateLimiterAbstract;

  constructor(
    private readonly options: SignInThrottleOptions,
    limiter: LimiterFactory = inMemory,
  ) {
    this.byAccountAndAddress = limiter({ keyPrefix: 'signin-email-ip', points: options.maxFailures, duration: CONSECUTIVE_WINDOW_SECONDS });
    this.byAddress = limiter({ keyPrefix: 'signin-ip', points: options.maxFailuresPerAddress, duration: ADDRESS_WINDOW_SECONDS });
  }

  /**
   * Starts an attempt, or throws RATE_LIMITED (429, `retryAfterSeconds`) while the email+address
   * pair or the address is locked. The attempt is counted before the password is checked, so
   * guesses sent all at once are cut off at the limit as surely as guesses sent one by one.
   */
  async begin(email: string, address: string): Promise<SignInAttempt> {
    const pair = pairKey(email, address);
    await this.assertNotLocked(pair, address);
    const pairRes = await this.take(this.byAccountAndAddress, pair);
    const addrRes = pairRes ? await this.take(this.byAddress, address) : undefined;
    if (!pairRes || !addrRes) {
      if (pairRes) await this.byAccountAndAddress.reward(pair, 1);
      await this.assertNotLocked(pair, address);
    }
    return {
      failed: async () => {
        if (pairRes?.remainingPoints === 0) await this.byAccountAndAddress.block(pair, this.options.lockoutSeconds);
        if (addrRes?.remainingPoints === 0) await this.byAddress.block(address, this.options.lockoutSeconds);
      },
      succeeded: async () => {
        await this.byAccountAndAddress.delete(pair);
        await this.byAddress.reward(address, 1);
      },
    };
  }

  private async assertNotLocked(pair: string, address: string): Promise<void> {
    const [pairRes, addrRes] = await Promise.all([this.byAccountAndAddress.get(pair), this.byAddress.get(address)]);
    const waits = [locked(pairRes, this.options.maxFailures), locked(addrRes, this.options.maxFailuresPerAddress)].filter((ms): ms is number => ms !== undefined);
    if (waits.length === 0) return;
    const retryAfterSeconds = Math.max(1, Math.ceil(Math.max(...waits) / 1000));
    throw new ParleyError('RATE_LIMITED', `Too many failed sign-in attempts. Sign-in is paused for ${describeWait(retryAfterSeconds)}; try again then, or ask an administrator to reset the password.`, {
      retryAfterSeconds,
    });
  }

  /** Takes one point; over the limit, locks the key and returns undefined. */
  private async take(limiter: RateLimiterAbstract, key: string): Promise<RateLimiterRes | undefined> {
    try {
      return await limiter.consume(key);
    } catch (rejected) {
      if (rejected instanceof Error) throw rejected;
      await limiter.block(key, this.options.lockoutSeconds);
      return undefined;
    }
  }
}

function pairKey(email: string, address: string): string {
  return `${email.trim().toLowerCase()}|${address}`;
}

/** Milliseconds until the lockout ends, or undefined when not locked. */
function locked(res: RateLimiterRes | null, points: number): number | undefined {
  // The memory store drops a key on a timer; until that fires an expired key reads as negative time left.
  if (!res || res.consumedPoints <= points || res.msBeforeNext <= 0) return undefined;
  return res.msBeforeNext;
}

function describeWait(seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}
