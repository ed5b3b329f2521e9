/**
 * The pace of `netlab demo` (every lesson's demo): how long a demo waits before each of its
 * scripted steps. At full speed there is no wait, and a demo is over in a few seconds; with
 * `--slow` an instructor at a projector gets time to read each step before the next one starts.
 *
 * The wait is real, not a queue of lines printed later: a demo calls `await pace.step()` before
 * each thing its script does (a client connecting or sending, a server publishing, a close), so
 * the network acts at the pace the class sees, and every line still appears the moment its
 * cause happened. Timings a demo prints (a round trip, an event's delay) stay true.
 *
 * Leaves out: pausing for a key press. A demo runs on its own, so that the instructor can talk
 * over it, and so that the tests can run it exactly as the class sees it.
 */
import { parseInteger } from '../core/options.js';

/** The wait before each step with a bare `--slow`: time to read a line or two aloud. */
export const SLOW_STEP_MS = 1500;
/** The range `--slow <ms>` accepts. */
export const MIN_STEP_MS = 100;
export const MAX_STEP_MS = 10_000;

export class DemoPace {
  /** No wait at all: what `netlab demo <lab>` does without --slow, and what the tests run. */
  static readonly FULL_SPEED = new DemoPace(0);

  /**
   * `stepMs` is 0 (full speed) or a whole number from MIN_STEP_MS to MAX_STEP_MS; anything else
   * throws a RangeError (a usage error is the option parser's business: parseStepMs below).
   */
  constructor(readonly stepMs: number) {
    if (stepMs !== 0 && !(Number.isSafeInteger(stepMs) && stepMs >= MIN_STEP_MS && stepMs <= MAX_STEP_MS)) {
      throw new RangeError(`a demo's step must be 0 or a whole number of milliseconds from ${MIN_STEP_MS} to ${MAX_STEP_MS}, not ${stepMs}`);
    }
  }

  /** True with --slow. */
  get paced(): boolean {
    return this.stepMs > 0;
  }

  /**
   * Resolves once the next step may start: after stepMs, or at once (on the next microtask,
   * without a timer) at full speed, so that a demo without --slow runs exactly as it did before
   * it had a pace.
   */
  step(): Promise<void> {
    if (this.stepMs === 0) return Promise.resolve();
    return new Promise((resolve) => setTimeout(resolve, this.stepMs));
  }
}

/** `--slow <ms>`: a whole number of milliseconds, MIN_STEP_MS to MAX_STEP_MS; a UsageError otherwise. */
export function parseStepMs(value: string): number {
  return parseInteger('--slow', value, MIN_STEP_MS, MAX_STEP_MS);
}
