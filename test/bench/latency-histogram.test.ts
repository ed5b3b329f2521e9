/**
 * bench/lib/latency-samples.js: the histogram every latency figure is read from. Its
 * percentiles must stay within 1 % of the exact ones, whatever the spread of the samples, and
 * merging two histograms must be the same as recording into one.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/seeded-random.js';

const { LatencyHistogram } = await import(new URL('../../bench/lib/latency-samples.js', import.meta.url).href);

/** The nearest-rank percentile of sorted samples, as the histogram defines it. */
function exact(sorted: number[], p: number): number {
  return sorted[Math.min(Math.max(Math.ceil((p / 100) * sorted.length), 1), sorted.length) - 1]!;
}

describe('LatencyHistogram', () => {
  it('reads p50, p99 and p99.9 within 1 % of the exact nearest-rank percentiles, from 13 µs to 50 s', () => {
    const random = seededRandom(10);
    const samples = Array.from({ length: 100_000 }, () => 13 * Math.exp(random() * 15)); // 13 µs … 42 s
    const histogram = new LatencyHistogram();
    for (const us of samples) histogram.record(us);
    samples.sort((a, b) => a - b);
    for (const p of [50, 90, 99, 99.9]) {
      expect(Math.abs(histogram.percentile(p) / exact(samples, p) - 1), `p${p}`).toBeLessThan(0.01);
    }
    expect(histogram.percentile(100)).toBe(samples.at(-1));
    expect(histogram.count).toBe(100_000);
  });

  it('is exact to 0.1 µs below 12.8 µs, and keeps the true minimum and maximum', () => {
    const histogram = new LatencyHistogram();
    for (const us of [1.2, 3.4, 5.6, 7.8, 200_000_000]) histogram.record(us); // the last beyond its 107 s range
    expect(histogram.percentile(20)).toBeCloseTo(1.2, 5);
    expect(histogram.percentile(60)).toBeCloseTo(5.6, 5);
    expect(histogram.percentile(100)).toBe(200_000_000);
  });

  it('merges two histograms into what one would have counted', () => {
    const random = seededRandom(3);
    const [one, two, both] = [new LatencyHistogram(), new LatencyHistogram(), new LatencyHistogram()];
    for (let i = 0; i < 10_000; i++) {
      const us = 20 + random() * 5000;
      (i % 2 === 0 ? one : two).record(us);
      both.record(us);
    }
    one.merge(two);
    expect(one.count).toBe(both.count);
    for (const p of [1, 50, 99, 99.9, 100]) expect(one.percentile(p)).toBe(both.percentile(p));
  });

  it('refuses a percentile of no samples', () => {
    expect(() => new LatencyHistogram().percentile(50)).toThrow(/no samples/);
  });
});
