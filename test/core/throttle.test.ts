/**
 * The throttle of lessons 02 and 05 (src/core/throttle.ts): a token bucket that delays instead
 * of dropping. Pure but for its one timer, so the clock is fake (setTimeout and Date) and each
 * test says exactly when each message is handled.
 */
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { Throttle } from '../../src/core/throttle.js';
import type { RateLimit } from '../../src/core/token-bucket.js';

/** 10 a second (one token every 100 ms), bursts of 3. */
const RATE: RateLimit = { perSecond: 10, burst: 3 };
const NOTICE_INTERVAL_MS = 1000;

/** A throttle on a fake clock that records every hook call in order. */
function setup(rate = RATE) {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: 0 });
  onTestFinished(() => {
    vi.useRealTimers();
  });
  const calls: string[] = [];
  const handled: number[] = [];
  const state = { gone: false };
  const throttle = new Throttle<number>(
    rate,
    {
      handle: (n) => (handled.push(n), calls.push(`handle ${n}`)),
      pause: () => calls.push('pause'),
      resume: () => calls.push('resume'),
      throttled: () => calls.push('throttled'),
      gone: () => state.gone,
    },
    NOTICE_INTERVAL_MS,
  );
  const count = (call: string) => calls.filter((c) => c === call).length;
  return { throttle, calls, handled, state, count };
}

describe('Throttle', () => {
  it('handles messages at once while the rate allows, without pausing', () => {
    const { throttle, calls } = setup();
    throttle.push(1);
    throttle.push(2);
    throttle.push(3);
    expect(calls).toEqual(['handle 1', 'handle 2', 'handle 3']);
    expect(throttle.waiting).toBe(0);
    expect(vi.getTimerCount(), 'no timer until the bucket runs dry').toBe(0);
  });

  it('keeps handling at once a sender that stays under the rate', () => {
    const { throttle, handled, count } = setup();
    for (let i = 1; i <= 20; i++) {
      throttle.push(i);
      vi.advanceTimersByTime(100); // exactly the rate
    }
    expect(handled).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(count('pause')).toBe(0);
  });

  it('pauses the reader and says so once when a message comes over the rate, and holds it', () => {
    const { throttle, calls } = setup();
    for (let i = 1; i <= 4; i++) throttle.push(i);
    expect(calls).toEqual(['handle 1', 'handle 2', 'handle 3', 'pause', 'throttled']);
    expect(throttle.waiting).toBe(1);
  });

  it('queues what arrives while paused behind what waits, and drains it in order at the rate', () => {
    const { throttle, handled, count } = setup();
    for (let i = 1; i <= 8; i++) throttle.push(i); // one read's worth: 3 now, 5 waiting
    expect(handled).toEqual([1, 2, 3]);
    expect(throttle.waiting).toBe(5);
    expect([count('pause'), count('throttled')], 'paused and told once, not once per message').toEqual([1, 1]);

    vi.advanceTimersByTime(99);
    expect(handled).toEqual([1, 2, 3]);
    vi.advanceTimersByTime(1);
    expect(handled).toEqual([1, 2, 3, 4]);
    vi.advanceTimersByTime(300);
    expect(handled).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(count('resume')).toBe(0);
    vi.advanceTimersByTime(100);
    expect(handled).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(throttle.waiting).toBe(0);
  });

  it('resumes reading only once everything waiting is handled, and then handles at once again', () => {
    const { throttle, calls, handled } = setup();
    for (let i = 1; i <= 5; i++) throttle.push(i);
    vi.advanceTimersByTime(100);
    expect(calls.at(-1)).toBe('handle 4');
    vi.advanceTimersByTime(100);
    expect(calls.slice(-2)).toEqual(['handle 5', 'resume']);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000); // the bucket refills
    throttle.push(6);
    expect(handled.at(-1)).toBe(6);
  });

  it('says "throttled" at most once per notice interval, and again after a quiet interval', () => {
    const { throttle, count } = setup();
    for (let i = 0; i < 4; i++) throttle.push(i); // throttled at 0 ms
    vi.advanceTimersByTime(100); // drained
    throttle.push(4); // over again at 100 ms: paused, but no second notice
    expect([count('pause'), count('throttled')]).toEqual([2, 1]);
    vi.advanceTimersByTime(100);
    expect(count('resume')).toBe(2);

    vi.advanceTimersByTime(NOTICE_INTERVAL_MS + 1); // quiet for longer than the interval
    for (let i = 5; i < 9; i++) throttle.push(i);
    expect([count('pause'), count('throttled')]).toEqual([3, 2]);
  });

  it('drops what waits and stops its timer on dispose: nothing is handled or resumed later', () => {
    const { throttle, handled, count } = setup();
    for (let i = 1; i <= 6; i++) throttle.push(i);
    throttle.dispose();
    expect(throttle.waiting).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(handled).toEqual([1, 2, 3]);
    expect(count('resume')).toBe(0);
  });

  it('stops handling, and does not resume, once the connection is gone', () => {
    const { throttle, handled, state, count } = setup();
    for (let i = 1; i <= 6; i++) throttle.push(i);
    vi.advanceTimersByTime(100);
    expect(handled).toEqual([1, 2, 3, 4]);
    state.gone = true;
    vi.advanceTimersByTime(10_000);
    expect(handled).toEqual([1, 2, 3, 4]);
    expect(count('resume')).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('loses nothing of a long flood: 100 messages at 10 a second take 9.7 s after the burst of 3', () => {
    const { throttle, handled, count } = setup();
    for (let i = 0; i < 100; i++) throttle.push(i);
    vi.advanceTimersByTime(9699);
    expect(handled).toHaveLength(99);
    vi.advanceTimersByTime(1);
    expect(handled).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect([count('pause'), count('throttled'), count('resume')]).toEqual([1, 1, 1]);
  });
});
