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

/**
 * The bookkeeping every round-trip load does the same way (TCP, UDP, WebSocket): `warmup`
 * round trips that are not recorded, then `count` that are; the measured window starts when
 * the warm-up ends (`onMeasureStart`, where the server's CPU clock is read) and ends with the
 * last recorded round trip (`onMeasureEnd`).
 */
export class RoundTripTally {
  /** @param options `{ warmup, count, onMeasureStart?, onMeasureEnd? }` */
  constructor(options) {
    this.options = options;
    this.samples = new LatencySamples(options.count);
    this.done = 0;
    this.start = 0;
    this.end = 0;
  }

  /** Call before the first round trip: with no warm-up, the measured window starts now. */
  begin() {
    if (this.options.warmup === 0) this.startWindow();
  }

  /** Records one round trip of `elapsedMs` that ended at `now`; true once the last one is in. */
  record(elapsedMs, now) {
    const { warmup, count } = this.options;
    if (this.done >= warmup) this.samples.record(elapsedMs * 1000);
    this.done++;
    if (this.done === warmup) this.startWindow();
    if (this.done < warmup + count) return false;
    this.end = now;
    this.options.onMeasureEnd?.();
    return true;
  }

  /** The measured window, in seconds. */
  get seconds() {
    return (this.end - this.start) / 1000;
  }

  startWindow() {
    this.options.onMeasureStart?.();
    this.start = performance.now();
  }
}
