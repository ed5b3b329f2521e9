/** The push-pull lab's ticker (src/push-pull/ticker.ts): irregular gaps, bounded, and a clean stop. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { seededRandom } from '../../src/core/seeded-random.js';
import { MAX_GAP_FACTOR, MIN_GAP_FACTOR, Ticker, nextGapMs } from '../../src/push-pull/ticker.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('nextGapMs', () => {
  it('draws gaps with the mean of the rate, kept between a tenth of it and four times it', () => {
    const random = seededRandom(7);
    const gaps = Array.from({ length: 20_000 }, () => nextGapMs(2, random));
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    // Clamping moves the mean of an exponential with mean 500 ms to about 497 ms.
    expect(mean).toBeGreaterThan(470);
    expect(mean).toBeLessThan(520);
    expect(Math.min(...gaps)).toBe(MIN_GAP_FACTOR * 500);
    expect(Math.max(...gaps)).toBe(MAX_GAP_FACTOR * 500);
  });

  it('gives the same gaps for the same seed', () => {
    const a = seededRandom(3);
    const b = seededRandom(3);
    expect([nextGapMs(1, a), nextGapMs(1, a)]).toEqual([nextGapMs(1, b), nextGapMs(1, b)]);
  });
});

describe('Ticker', () => {
  it('ticks 1, 2, 3… at the drawn gaps, and not after stop()', () => {
    vi.useFakeTimers();
    const ticks: number[] = [];
    // u = 1 - e^-1 gives a gap of exactly the mean: 100 ms at 10 a second.
    const ticker = new Ticker({ ratePerSecond: 10, onTick: (n) => ticks.push(n), random: () => 1 - Math.exp(-1) });
    ticker.start();
    ticker.start(); // a second start() changes nothing
    vi.advanceTimersByTime(99);
    expect(ticks).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(ticks).toEqual([1]);
    vi.advanceTimersByTime(200);
    expect(ticks).toEqual([1, 2, 3]);
    ticker.stop();
    ticker.stop();
    vi.advanceTimersByTime(1000);
    expect(ticks).toEqual([1, 2, 3]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stops for good when onTick calls stop()', () => {
    vi.useFakeTimers();
    const ticks: number[] = [];
    const ticker: Ticker = new Ticker({ ratePerSecond: 10, random: () => 0.5, onTick: (n) => (ticks.push(n), ticker.stop()) });
    ticker.start();
    vi.advanceTimersByTime(10_000);
    expect(ticks).toEqual([1]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('refuses a rate that is not above 0', () => {
    for (const rate of [0, -1, Number.NaN, Infinity]) expect(() => new Ticker({ ratePerSecond: rate, onTick: () => {} })).toThrow(RangeError);
  });
});
