/**
 * Latencies, counted in a histogram and read back as percentiles (p50, p99, p99.9).
 *
 * A chat fan-out times every delivery, millions in a run, so the samples are not kept: each is
 * counted in a bucket. The buckets are log-linear, the layout of Gil Tene's HdrHistogram: exact
 * below 12.8 µs, then 64 equal buckets per power of two, so a bucket is at most 1/64 as wide as
 * its values and the midpoint read back is within 0.8 % of any sample in it. Recording is a few
 * integer operations and one increment, with nothing allocated while the clock runs; 1,600
 * counters cover 0.1 µs to 100 s (a slower sample is counted as 100 s and the true maximum kept).
 *
 * Leaves out: coordinated-omission correction. The closed loads send one message at a time per
 * slot and wait for it, so a slow reply delays the next send instead of hiding queued ones. The
 * open load (UDP under load) sends on a schedule and times from the real send: a load that
 * falls behind its schedule shows as a lower rate offered, which it reports.
 */

/** Samples are counted in units of 0.1 µs. */
const UNITS_PER_US = 10;
/** Below 2^7 units (12.8 µs) every unit is its own bucket; above, 2^6 buckets per power of two. */
const LINEAR_BITS = 7;
const HALF = 1 << (LINEAR_BITS - 1);
/** 2^30 units is 107 s: anything slower goes in the last bucket. */
const MAX_UNITS = 2 ** 30 - 1;
const BUCKETS = (1 << LINEAR_BITS) + (30 - LINEAR_BITS) * HALF;

export class LatencyHistogram {
  constructor() {
    this.counts = new Float64Array(BUCKETS);
    this.count = 0;
    this.min = Infinity;
    this.max = 0;
  }

  /** One latency, in microseconds. */
  record(us) {
    const units = Math.min(Math.max(Math.round(us * UNITS_PER_US), 0), MAX_UNITS);
    this.counts[bucketOf(units)]++;
    this.count++;
    if (us < this.min) this.min = us;
    if (us > this.max) this.max = us;
  }

  /** Adds every sample of `other` to this one. */
  merge(other) {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] += other.counts[i];
    this.count += other.count;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  /**
   * The p-th percentile (0 < p ≤ 100), nearest-rank: the bucket of the smallest sample with at
   * least p % of the samples at or below it, read as its midpoint (within the samples' min and
   * max, so p100 is the true maximum). p50 is the median, p99.9 what 1 message in 1,000 is slower than.
   */
  percentile(p) {
    if (this.count === 0) throw new Error('percentile() of no samples');
    const rank = Math.min(Math.max(Math.ceil((p / 100) * this.count), 1), this.count);
    if (rank === this.count) return this.max;
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(Math.max(midpointOf(i) / UNITS_PER_US, this.min), this.max);
    }
    return this.max;
  }
}

/** The bucket a value of `units` falls in. */
function bucketOf(units) {
  if (units < 1 << LINEAR_BITS) return units;
  const exponent = 31 - Math.clz32(units); // ≥ LINEAR_BITS
  const shift = exponent - (LINEAR_BITS - 1);
  return (1 << LINEAR_BITS) + (exponent - LINEAR_BITS) * HALF + ((units >> shift) - HALF);
}

/** The middle of bucket `i`, in units. */
function midpointOf(i) {
  if (i < 1 << LINEAR_BITS) return i;
  const k = i - (1 << LINEAR_BITS);
  const exponent = LINEAR_BITS + Math.floor(k / HALF);
  const shift = exponent - (LINEAR_BITS - 1);
  const low = (HALF + (k % HALF)) * 2 ** shift;
  return low + (2 ** shift - 1) / 2;
}

/**
 * The earlier name, kept for the loads that size it: the capacity is no longer needed (a
 * histogram holds any number of samples) and is ignored.
 */
export class LatencySamples extends LatencyHistogram {
  constructor(_capacity) {
    super();
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
