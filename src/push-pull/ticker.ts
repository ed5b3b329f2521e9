/**
 * The feed's own events (lesson 06): ticks at irregular intervals, as real events come (a price
 * changes, a message arrives) rather than on the beat of a clock. Short polling then looks as it
 * does in life: most requests find nothing new, and an event waits up to a whole interval.
 *
 * The gaps are those of a Poisson process, the usual model of independent arrivals: each is
 * drawn from an exponential distribution whose mean is 1 / rate, then kept between a tenth of
 * the mean and four times it, so a demo never goes quiet for long nor bursts absurdly.
 * (Inverse-transform sampling: -ln(1 - u) / rate for u uniform in [0, 1).)
 */

/** The shortest and longest gap between ticks, as multiples of the mean gap. */
export const MIN_GAP_FACTOR = 0.1;
export const MAX_GAP_FACTOR = 4;

/** The gap before the next tick, in milliseconds, for `ratePerSecond` ticks a second on average. */
export function nextGapMs(ratePerSecond: number, random: () => number): number {
  const meanMs = 1000 / ratePerSecond;
  const gap = -Math.log(1 - random()) * meanMs;
  return Math.min(MAX_GAP_FACTOR * meanMs, Math.max(MIN_GAP_FACTOR * meanMs, gap));
}

export interface TickerOptions {
  /** Ticks per second, on average: above 0. */
  ratePerSecond: number;
  /** Called with 1, 2, 3… at each tick. */
  onTick: (n: number) => void;
  /** Uniform in [0, 1); Math.random unless a test or a --seed fixes it. */
  random?: () => number;
}

/** Calls onTick at irregular intervals until stop(). */
export class Ticker {
  private timer: NodeJS.Timeout | undefined;
  private count = 0;
  private readonly random: () => number;

  constructor(private readonly options: TickerOptions) {
    if (!(options.ratePerSecond > 0) || !Number.isFinite(options.ratePerSecond)) {
      throw new RangeError(`ratePerSecond must be above 0, not ${options.ratePerSecond}`);
    }
    this.random = options.random ?? Math.random;
  }

  /** Starts ticking; calling it again while running changes nothing. */
  start(): void {
    if (this.timer === undefined) this.schedule();
  }

  /** Stops; safe to call twice. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.schedule(); // first, so that a stop() from onTick cancels the next tick too
      this.options.onTick(++this.count);
    }, nextGapMs(this.options.ratePerSecond, this.random));
  }
}
