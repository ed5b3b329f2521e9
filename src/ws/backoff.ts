/**
 * When a client that lost its server tries again (lesson 05, "Reconnect and backoff"): a
 * random first delay, then capped exponential backoff with jitter. Pure: the caller passes
 * the random numbers, so tests can check the schedule exactly.
 *
 *   attempt 1    0 … first             random: a server that restarts with the whole class
 *                                      connected is not hit by 30 clients in the same millisecond
 *   attempt n    ceiling/2 … ceiling   ceiling = min(max, first × 2^(n-1)): each failure waits
 *                                      about twice as long, so a server that stays down is
 *                                      not hammered, and never longer than `max`, so a
 *                                      server that comes back is found within `max`
 *
 * The jitter (half the ceiling, plus a random half) keeps clients that failed together from
 * retrying together: the "equal jitter" of Marc Brooker's "Exponential Backoff And Jitter"
 * (AWS Architecture Blog, 2015).
 */

export interface BackoffPolicy {
  /** The first delay is random between 0 and this; later ones start from it. */
  firstMs: number;
  /** No delay is longer than this. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { firstMs: 1000, maxMs: 30_000 };

/**
 * The delay before reconnect attempt `attempt` (1 for the first), in whole milliseconds.
 * `random` is a number in [0, 1), as Math.random() returns.
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: number): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be a whole number from 1, not ${attempt}`);
  if (attempt === 1) return Math.floor(random * policy.firstMs);
  // 2 ** 40 is plenty: past a few dozen attempts the cap decides, and this never overflows.
  const ceilingMs = Math.min(policy.maxMs, policy.firstMs * 2 ** Math.min(attempt - 1, 40));
  return Math.floor(ceilingMs / 2 + (random * ceilingMs) / 2);
}
