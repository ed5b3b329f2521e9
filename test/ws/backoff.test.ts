/**
 * The reconnect schedule of lesson 05 (src/ws/backoff.ts), exactly: the random numbers are
 * the test's, so every delay is known.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, backoffDelayMs } from '../../src/ws/backoff.js';

describe('backoffDelayMs', () => {
  it('waits a random 0 to first ms before the first attempt', () => {
    expect(backoffDelayMs(1, DEFAULT_BACKOFF, 0)).toBe(0);
    expect(backoffDelayMs(1, DEFAULT_BACKOFF, 0.5)).toBe(500);
    expect(backoffDelayMs(1, DEFAULT_BACKOFF, 0.9999)).toBe(999);
  });

  it('then waits half to all of a ceiling that doubles with each attempt', () => {
    const lowest = [2, 3, 4, 5].map((attempt) => backoffDelayMs(attempt, DEFAULT_BACKOFF, 0));
    const highest = [2, 3, 4, 5].map((attempt) => backoffDelayMs(attempt, DEFAULT_BACKOFF, 0.99999));
    expect(lowest).toEqual([1000, 2000, 4000, 8000]);
    expect(highest).toEqual([1999, 3999, 7999, 15999]);
  });

  it('never waits longer than the cap, however many attempts failed', () => {
    for (const attempt of [6, 10, 60, 1000, Number.MAX_SAFE_INTEGER]) {
      expect(backoffDelayMs(attempt, DEFAULT_BACKOFF, 0)).toBe(15_000);
      expect(backoffDelayMs(attempt, DEFAULT_BACKOFF, 0.99999)).toBeLessThanOrEqual(30_000);
    }
  });

  it('spreads fifty clients that failed together over the whole first second', () => {
    const delays = Array.from({ length: 50 }, (_, i) => backoffDelayMs(1, DEFAULT_BACKOFF, i / 50));
    expect(new Set(delays).size).toBe(50);
    expect(Math.min(...delays)).toBe(0);
    expect(Math.max(...delays)).toBe(980);
  });

  it('refuses an attempt number that is not a whole number from 1', () => {
    for (const attempt of [0, -1, 1.5, Number.NaN]) expect(() => backoffDelayMs(attempt, DEFAULT_BACKOFF, 0)).toThrow(RangeError);
  });
});
