/**
 * Simulated network impairment for the UDP labs (lesson 03, "Loss on purpose"): what a real
 * network may do to a datagram and a loopback never does — lose it, delay it, deliver it twice,
 * or let a later one overtake it. Pure decisions from a seeded generator, so `--seed 7` gives
 * the same run every time and the tests know in advance which datagrams will be dropped.
 *
 * Every datagram draws the same four numbers whatever happens to it, so the fate of datagram N
 * depends only on the seed and N, never on the settings' other knobs or on timing.
 *
 * Leaves out: timers and sockets (echo-server.ts applies a fate), corruption (the UDP checksum
 * would catch it and the kernel would drop the datagram: that is just loss), bandwidth limits.
 */
import { UsageError } from '../core/errors.js';
import { seededRandom } from '../core/seeded-random.js';

export interface ImpairmentSettings {
  /** Probability, 0 to 1, that a datagram is lost. */
  dropRate: number;
  /** Fixed delay added to every datagram, in milliseconds. */
  delayMs: number;
  /** A random extra delay of 0 to jitterMs milliseconds per datagram. */
  jitterMs: number;
  /** Probability that a datagram is delivered twice. */
  duplicateRate: number;
  /** Probability that a datagram is held back until the next one has gone. */
  reorderRate: number;
  /** Seed of the generator: the same seed and settings give the same fates. */
  seed: number;
}

/** What happens to one datagram. */
export interface Fate {
  drop: boolean;
  /** Delay before it is sent (delayMs plus its share of jitter). */
  delayMs: number;
  duplicate: boolean;
  /** Held back until the next datagram to the same peer has been sent. */
  reorder: boolean;
}

export const NO_IMPAIRMENT: Omit<ImpairmentSettings, 'seed'> = { dropRate: 0, delayMs: 0, jitterMs: 0, duplicateRate: 0, reorderRate: 0 };

/** The fate of a datagram on a perfect network. */
const UNHARMED: Fate = Object.freeze({ drop: false, delayMs: 0, duplicate: false, reorder: false });

/** True when the settings do anything at all (then the fast path is skipped). */
export function isImpaired(settings: Omit<ImpairmentSettings, 'seed'>): boolean {
  return (
    settings.dropRate > 0 || settings.delayMs > 0 || settings.jitterMs > 0 || settings.duplicateRate > 0 || settings.reorderRate > 0
  );
}

/** Draws the fate of each datagram in turn. */
export class Impairment {
  readonly active: boolean;
  private readonly random: () => number;

  constructor(readonly settings: ImpairmentSettings) {
    this.active = isImpaired(settings);
    this.random = seededRandom(settings.seed);
  }

  /** The fate of the next datagram. */
  next(): Fate {
    if (!this.active) return UNHARMED;
    const s = this.settings;
    // Always four draws, in this order (see the header).
    const drop = this.random() < s.dropRate;
    const jitter = this.random();
    const duplicate = this.random() < s.duplicateRate;
    const reorder = this.random() < s.reorderRate;
    if (drop) return { drop, delayMs: 0, duplicate: false, reorder: false };
    return { drop, delayMs: s.delayMs + Math.round(jitter * s.jitterMs), duplicate, reorder };
  }
}

/** `drop 20%, delay 50 ms + up to 30 ms jitter, duplicate 5%`, or `none`. */
export function describeImpairment(settings: Omit<ImpairmentSettings, 'seed'>): string {
  const parts: string[] = [];
  if (settings.dropRate > 0) parts.push(`drop ${percent(settings.dropRate)}`);
  if (settings.delayMs > 0 || settings.jitterMs > 0) {
    const jitter = settings.jitterMs > 0 ? ` + up to ${settings.jitterMs} ms jitter` : '';
    parts.push(`delay ${settings.delayMs} ms${jitter}`);
  }
  if (settings.duplicateRate > 0) parts.push(`duplicate ${percent(settings.duplicateRate)}`);
  if (settings.reorderRate > 0) parts.push(`reorder ${percent(settings.reorderRate)}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/** 0.2 → `20%`, 0.125 → `12.5%`. */
export function percent(rate: number): string {
  return `${Number((rate * 100).toFixed(1))}%`;
}

/**
 * A probability option: `0.2` or `20%`, from 0 to 1 (0% to 100%). Anything else is a usage
 * error that shows both forms.
 */
export function parseProbability(name: string, value: string): number {
  const text = value.trim();
  const match = /^([0-9]+(?:\.[0-9]+)?|\.[0-9]+)(%?)$/.exec(text);
  const n = match ? Number(match[1]) / (match[2] ? 100 : 1) : NaN;
  if (!Number.isFinite(n) || n < 0 || n > 1) {
    throw new UsageError(`${name} must be a probability from 0 to 1, such as 0.2 or 20%, not "${value}".`);
  }
  return n;
}
