/**
 * Round-trip times, kept as raw samples and turned into percentiles.
 *
 * A benchmark run records a few tens of thousands of samples, so keeping every one in a
 * preallocated Float64Array is cheaper and more exact than a bucketed histogram: recording is
 * one store (no allocation while the clock runs), and a percentile is read from the sorted
 * samples, not from a bucket boundary.
 *
 * Leaves out: coordinated-omission correction. The load sends one message at a time and waits
 * for it, so a slow reply delays the next send instead of hiding queued ones; what is measured
 * is the time each message really took.
 */

export class LatencySamples {
  /** @param {number} capacity the most samples this will hold; more are a programming error. */
  constructor(capacity) {
    this.values = new Float64Array(capacity);
    this.count = 0;
    this.sorted = undefined;
  }

  /** One round trip, in microseconds. */
  record(us) {
    this.values[this.count++] = us;
    this.sorted = undefined;
  }

  /**
   * The p-th percentile (0 < p ≤ 100), nearest-rank: the smallest sample with at least p % of
   * the samples at or below it. p50 is the median, p99 what 1 message in 100 is slower than.
   */
  percentile(p) {
    if (this.count === 0) throw new Error('percentile() of no samples');
    this.sorted ??= this.values.slice(0, this.count).sort();
    const rank = Math.ceil((p / 100) * this.count);
    return this.sorted[Math.min(Math.max(rank, 1), this.count) - 1];
  }
}
