/**
 * impairment.ts is pure: fates drawn from a seeded generator. These tests pin what lesson 03
 * and the loopback tests rely on: a seed repeats a run, the fate of datagram N depends on the
 * seed and N only, and over many draws the rates are the ones asked for.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import {
  Impairment,
  NO_IMPAIRMENT,
  describeImpairment,
  isImpaired,
  parseProbability,
  percent,
  type Fate,
  type ImpairmentSettings,
} from '../../src/udp/impairment.js';
import { seededRandom } from '../../src/core/seeded-random.js';

function settings(overrides: Partial<ImpairmentSettings>): ImpairmentSettings {
  return { ...NO_IMPAIRMENT, seed: 7, ...overrides };
}

/** The fates of the first `n` datagrams. */
function fates(s: ImpairmentSettings, n: number): Fate[] {
  const impairment = new Impairment(s);
  return Array.from({ length: n }, () => impairment.next());
}

describe('seededRandom', () => {
  it('gives the same numbers for the same seed, in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const first = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('gives different numbers for different seeds, seed 0 included', () => {
    const zero = Array.from({ length: 10 }, seededRandom(0));
    const one = Array.from({ length: 10 }, seededRandom(1));
    expect(zero).not.toEqual(one);
    expect(new Set(zero).size).toBe(10);
  });
});

describe('Impairment', () => {
  const bad = settings({ dropRate: 0.3, delayMs: 20, jitterMs: 30, duplicateRate: 0.2, reorderRate: 0.2, seed: 370 });

  it('gives the same fates for the same seed and settings', () => {
    expect(fates(bad, 500)).toEqual(fates(bad, 500));
  });

  it('gives other fates for another seed', () => {
    expect(fates({ ...bad, seed: 371 }, 500)).not.toEqual(fates(bad, 500));
  });

  it('decides the loss of datagram N from the seed and N only, whatever the other knobs say', () => {
    const dropOnly = fates(settings({ dropRate: 0.3, seed: 370 }), 1000).map((f) => f.drop);
    expect(fates(bad, 1000).map((f) => f.drop)).toEqual(dropOnly);
    expect(fates({ ...bad, delayMs: 0, jitterMs: 0 }, 1000).map((f) => f.drop)).toEqual(dropOnly);
  });

  it('decides duplication and reordering of a datagram that is not lost independently of the drop rate', () => {
    const noLoss = fates(settings({ duplicateRate: 0.2, reorderRate: 0.2, seed: 370 }), 1000);
    const withLoss = fates(bad, 1000);
    withLoss.forEach((fate, i) => {
      if (fate.drop) return;
      expect({ duplicate: fate.duplicate, reorder: fate.reorder }, `datagram ${i + 1}`).toEqual({
        duplicate: noLoss[i]!.duplicate,
        reorder: noLoss[i]!.reorder,
      });
    });
  });

  it('gives a lost datagram no delay, no copy and no place in the reordering', () => {
    const lost = fates(bad, 1000).filter((f) => f.drop);
    expect(lost.length).toBeGreaterThan(0);
    for (const fate of lost) expect(fate).toEqual({ drop: true, delayMs: 0, duplicate: false, reorder: false });
  });

  it('adds the fixed delay and 0 to jitterMs of jitter to every datagram that is not lost', () => {
    const delays = fates(settings({ delayMs: 20, jitterMs: 30, seed: 5 }), 10_000).map((f) => f.delayMs);
    expect(Math.min(...delays)).toBe(20);
    expect(Math.max(...delays)).toBe(50);
    expect(delays.every(Number.isInteger)).toBe(true);
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    expect(mean).toBeGreaterThan(34);
    expect(mean).toBeLessThan(36);
  });

  it.each([1, 2, 3, 370, 2 ** 32 - 1])('drops close to 20%% of 20,000 datagrams with seed %i', (seed) => {
    // Binomial: the standard deviation of the rate is sqrt(0.2 × 0.8 / 20,000) ≈ 0.0028, so ±0.015 is over 5σ.
    const drawn = fates(settings({ dropRate: 0.2, duplicateRate: 0.05, reorderRate: 0.1, seed }), 20_000);
    const rate = (pick: (f: Fate) => boolean) => drawn.filter(pick).length / drawn.length;
    expect(Math.abs(rate((f) => f.drop) - 0.2)).toBeLessThan(0.015);
    // Duplication and reordering are drawn for the 80% that survive.
    expect(Math.abs(rate((f) => f.duplicate) - 0.8 * 0.05)).toBeLessThan(0.01);
    expect(Math.abs(rate((f) => f.reorder) - 0.8 * 0.1)).toBeLessThan(0.01);
  });

  it('drops every datagram at rate 1 and none at rate 0', () => {
    expect(fates(settings({ dropRate: 1 }), 1000).every((f) => f.drop)).toBe(true);
    expect(fates(settings({ dropRate: 0, duplicateRate: 0.5 }), 1000).some((f) => f.drop)).toBe(false);
  });

  it('leaves every datagram unharmed when nothing is simulated', () => {
    const impairment = new Impairment(settings({}));
    expect(impairment.active).toBe(false);
    expect(impairment.next()).toEqual({ drop: false, delayMs: 0, duplicate: false, reorder: false });
  });
});

describe('isImpaired', () => {
  it('is false for no impairment and true as soon as one knob is turned', () => {
    expect(isImpaired(NO_IMPAIRMENT)).toBe(false);
    for (const knob of ['dropRate', 'delayMs', 'jitterMs', 'duplicateRate', 'reorderRate'] as const) {
      expect(isImpaired({ ...NO_IMPAIRMENT, [knob]: knob.endsWith('Ms') ? 1 : 0.01 }), knob).toBe(true);
    }
  });
});

describe('describeImpairment', () => {
  it('says "none" when nothing is simulated', () => {
    expect(describeImpairment(NO_IMPAIRMENT)).toBe('none');
  });

  it('names each knob that is turned, in a fixed order', () => {
    expect(describeImpairment({ dropRate: 0.2, delayMs: 50, jitterMs: 30, duplicateRate: 0.05, reorderRate: 0.125 })).toBe(
      'drop 20%, delay 50 ms + up to 30 ms jitter, duplicate 5%, reorder 12.5%',
    );
    expect(describeImpairment({ ...NO_IMPAIRMENT, jitterMs: 30 })).toBe('delay 0 ms + up to 30 ms jitter');
    expect(describeImpairment({ ...NO_IMPAIRMENT, delayMs: 50 })).toBe('delay 50 ms');
  });

  it('writes rates as percentages with at most one decimal', () => {
    expect(percent(0.2)).toBe('20%');
    expect(percent(1)).toBe('100%');
    expect(percent(0.125)).toBe('12.5%');
    expect(percent(1 / 3)).toBe('33.3%');
  });
});

describe('parseProbability', () => {
  it.each([
    ['0.2', 0.2],
    ['20%', 0.2],
    ['.5', 0.5],
    ['0', 0],
    ['1', 1],
    ['100%', 1],
    ['0%', 0],
    ['12.5%', 0.125],
    [' 0.25 ', 0.25],
  ])('accepts %j as %d', (text, p) => {
    expect(parseProbability('--drop', text)).toBe(p);
  });

  it.each(['1.5', '-0.1', 'abc', '20%%', '', ' ', '101%', '%', '0.2x', '1e-1', '0,2', '.', '5.'])(
    'refuses %j with a usage error naming the option, the range and the value',
    (text) => {
      let thrown: unknown;
      try {
        parseProbability('--drop', text);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(UsageError);
      expect((thrown as Error).message).toBe(`--drop must be a probability from 0 to 1, such as 0.2 or 20%, not "${text}".`);
    },
  );
});
