/**
 * A token bucket, the usual way to limit a rate while allowing short bursts: the bucket holds
 * up to `burst` tokens, refills at `perSecond`, and each message takes one. Used by the chat
 * servers to throttle a client that floods (ROBUSTNESS.md: 1000 lines in one second).
 *
 * Pure: the caller passes the time, so tests need no clock and the server needs no timer
 * until a client actually runs dry.
 */

export interface TokenBucket {
  tokens: number;
  updatedMs: number;
}

export interface RateLimit {
  perSecond: number;
  burst: number;
}

/** A full bucket at time `nowMs`. */
export function fullBucket(limit: RateLimit, nowMs: number): TokenBucket {
  return { tokens: limit.burst, updatedMs: nowMs };
}

/**
 * Takes one token if there is one. Returns 0 when the message may go now, or how many
 * milliseconds until the next token is there.
 */
export function takeToken(bucket: TokenBucket, limit: RateLimit, nowMs: number): number {
  const elapsedMs = Math.max(0, nowMs - bucket.updatedMs);
  bucket.tokens = Math.min(limit.burst, bucket.tokens + (elapsedMs * limit.perSecond) / 1000);
  bucket.updatedMs = nowMs;
  // A small tolerance: ten refills of 0.1 add up to 0.9999999999999999 in floating point.
  if (bucket.tokens >= 1 - 1e-9) {
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    return 0;
  }
  return Math.ceil(((1 - bucket.tokens) * 1000) / limit.perSecond);
}
