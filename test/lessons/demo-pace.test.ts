/**
 * The pace of `netlab demo` (src/lessons/demo-pace.ts): at full speed a step does not wait at
 * all; with --slow it waits stepMs, on a timer, so the fake clock says exactly when it is over.
 */
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { DemoPace, MAX_STEP_MS, MIN_STEP_MS, SLOW_STEP_MS, parseStepMs } from '../../src/lessons/demo-pace.js';

function fakeClock(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  onTestFinished(() => {
    vi.useRealTimers();
  });
}

/** A step, and whether it has resolved yet. */
function track(step: Promise<void>): { done: boolean } {
  const state = { done: false };
  void step.then(() => (state.done = true));
  return state;
}

describe('DemoPace', () => {
  it('at full speed resolves a step without any timer', async () => {
    fakeClock();
    const step = DemoPace.FULL_SPEED.step();
    expect(vi.getTimerCount()).toBe(0);
    await step;
    expect(DemoPace.FULL_SPEED.paced).toBe(false);
  });

  it('with a step of 1500 ms resolves after 1500 ms, not one millisecond sooner', async () => {
    fakeClock();
    const pace = new DemoPace(1500);
    expect(pace.paced).toBe(true);
    const step = track(pace.step());
    await vi.advanceTimersByTimeAsync(1499);
    expect(step.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(step.done).toBe(true);
  });

  it('waits again for every step: three steps take three times as long', async () => {
    fakeClock();
    const pace = new DemoPace(MIN_STEP_MS);
    const script = (async () => {
      for (let i = 0; i < 3; i++) await pace.step();
    })();
    const steps = track(script);
    await vi.advanceTimersByTimeAsync(2 * MIN_STEP_MS);
    expect(steps.done).toBe(false);
    await vi.advanceTimersByTimeAsync(MIN_STEP_MS);
    expect(steps.done).toBe(true);
  });

  it.each([50, 99, 10_001, 1.5, -1, Number.NaN])('refuses a step of %s ms with a RangeError naming the range', (stepMs) => {
    expect(() => new DemoPace(stepMs)).toThrow(RangeError);
    expect(() => new DemoPace(stepMs)).toThrow(`from ${MIN_STEP_MS} to ${MAX_STEP_MS}`);
  });

  it('accepts both ends of the range, and a bare --slow is inside it', () => {
    expect(new DemoPace(MIN_STEP_MS).stepMs).toBe(MIN_STEP_MS);
    expect(new DemoPace(MAX_STEP_MS).stepMs).toBe(MAX_STEP_MS);
    expect(new DemoPace(SLOW_STEP_MS).stepMs).toBe(SLOW_STEP_MS);
  });
});

describe('parseStepMs (--slow <ms>)', () => {
  it('reads whole milliseconds from 100 to 10000', () => {
    expect(parseStepMs('100')).toBe(100);
    expect(parseStepMs('2500')).toBe(2500);
    expect(parseStepMs('10000')).toBe(10_000);
  });

  it.each(['99', '10001', '1.5', '1s', '', 'fast', '-100'])('refuses "%s" with a UsageError naming the range', (value) => {
    expect(() => parseStepMs(value)).toThrow(UsageError);
    expect(() => parseStepMs(value)).toThrow(`--slow must be a whole number from 100 to 10000, not "${value}".`);
  });
});
