/**
 * What `node bench/run.js --json` prints (bench/run.js and bench/lib/compare.js write it), as
 * TypeScript sees it, and the one judgement netlab makes of it: which targets were met.
 *
 * The shape is read, never trusted to be complete: a figure that skipped a server has null
 * medians and ratios there, and fields added later (limit, comparisons, skipped) are optional,
 * so a summary from an older or newer bench/ still renders.
 *
 * Leaves out: the raw per-round values (`runs`), which only --json shows.
 */

/** The whole run: the machine, and one summary per benchmark. */
export interface BenchRun {
  mode: 'full' | 'smoke' | string;
  calibrate?: boolean;
  machine?: Partial<BenchMachine>;
  seconds?: number;
  summaries: BenchSummary[];
}

export interface BenchMachine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
}

/** One benchmark: netlab's servers (subjects) against a floor (reference), in rounds. */
export interface BenchSummary {
  name: string;
  title: string;
  rounds: number;
  reference: string;
  subjects: string[];
  /** Servers left out of this run, and why ("socat is not installed"). */
  skipped?: { label: string; why: string }[];
  /** How many measurements other processes disturbed, of how many. */
  disturbed?: number;
  measurements?: number;
  /** The share of a core that counts as disturbing (0.1). */
  noisyShare?: number;
  figures: BenchFigure[];
}

export interface BenchFigure {
  name: string;
  metrics: BenchMetric[];
  extras?: BenchExtra[];
  comparisons?: BenchComparison[];
}

/** A ratio's median over the rounds and its range; null where a figure skipped the server. */
export interface Ratio {
  median: number;
  min: number;
  max: number;
  ratios?: number[];
}

export interface BenchMetric {
  key: string;
  label: string;
  better: 'higher' | 'lower';
  /** A bound on the ratio subject ÷ reference: ≥ for higher-is-better, ≤ for lower. */
  target?: number;
  /** A bound on each server's own median value, in the same direction. */
  limit?: number;
  digits: number;
  reference: { label: string; median: number | null };
  subjects: {
    label: string;
    median: number | null;
    ratio: Ratio | null;
    meets?: boolean | null;
    withinLimit?: boolean | null;
  }[];
}

/** Context beside a figure (CPU shares, losses): one value per server, not compared. */
export interface BenchExtra {
  key: string;
  label: string;
  scale: number;
  digits: number;
  worst?: boolean;
  values: { label: string; value: number | null }[];
}

/** A target against another server than the reference (WebSocket ÷ TCP echo, logging ÷ --quiet). */
export interface BenchComparison {
  metric: string;
  label?: string;
  subject: string;
  against: string;
  target: number;
  better: 'higher' | 'lower';
  digits?: number;
  ratio: Ratio | null;
  meets?: boolean | null;
}

/** Extras every figure gets from compare.js: the noise gauges, summed up once per benchmark. */
export const NOISE_EXTRA_KEYS: readonly string[] = ['otherCpuShare', 'stolenCpuShare'];

/** One target of the run and whether it held. */
export interface TargetCheck {
  benchmark: string;
  figure: string;
  /** What was bounded: `netlab --quiet, round trip p50, µs ÷ floor`. */
  what: string;
  /** `0.86×` or `1.04`: the value that was checked. */
  value: string;
  /** `≤ 1.10×` or `≤ 1.10`. */
  bound: string;
  met: boolean;
}

/**
 * Every target with a verdict in the run: ratio targets per subject, absolute limits per
 * subject, and comparisons. A target whose value is missing (a skipped cell) has no verdict
 * and is not counted.
 */
export function targetChecks(run: BenchRun): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const summary of run.summaries) {
    for (const figure of summary.figures) {
      const at = { benchmark: summary.name, figure: figure.name };
      for (const metric of figure.metrics) {
        for (const subject of metric.subjects) {
          if (metric.target !== undefined && typeof subject.meets === 'boolean' && subject.ratio) {
            const what = `${subject.label}, ${metric.label} ÷ floor`;
            checks.push({ ...at, what, value: formatRatio(subject.ratio.median), bound: ratioBound(metric.better, metric.target), met: subject.meets });
          }
          if (metric.limit !== undefined && typeof subject.withinLimit === 'boolean' && subject.median !== null) {
            const bound = `${direction(metric.better)} ${formatValue(metric.limit, metric.digits)}`;
            checks.push({ ...at, what: `${subject.label}, ${metric.label}`, value: formatValue(subject.median, metric.digits), bound, met: subject.withinLimit });
          }
        }
      }
      for (const comparison of figure.comparisons ?? []) {
        if (typeof comparison.meets !== 'boolean' || !comparison.ratio) continue;
        checks.push({
          ...at,
          what: comparisonLabel(comparison, figure),
          value: formatRatio(comparison.ratio.median),
          bound: ratioBound(comparison.better, comparison.target),
          met: comparison.meets,
        });
      }
    }
  }
  return checks;
}

/** A comparison's own label, or one made of what it divides: `netlab --quiet ÷ node pipe, p50`. */
export function comparisonLabel(comparison: BenchComparison, figure: BenchFigure): string {
  if (comparison.label) return comparison.label;
  const metric = figure.metrics.find((m) => m.key === comparison.metric);
  return `${comparison.subject} ÷ ${comparison.against}, ${metric?.label ?? comparison.metric}`;
}

/** `≤` for lower-is-better, `≥` for higher. */
export function direction(better: 'higher' | 'lower'): string {
  return better === 'higher' ? '≥' : '≤';
}

/** `≤ 1.10×`; three decimals when the bound has them (`≥ 0.999×` must not read `≥ 1.00×`). */
export function ratioBound(better: 'higher' | 'lower', target: number): string {
  const decimals = Number.isInteger(Math.round(target * 1e6) / 1e4) ? 2 : 3;
  return `${direction(better)} ${target.toFixed(decimals)}×`;
}

/** `0.97×`, or `—` for a skipped cell. */
export function formatRatio(ratio: number | null | undefined): string {
  return typeof ratio === 'number' && Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '—';
}

/** `1,234.5` as report.js writes it (grouped thousands, fixed decimals), or `—` when missing. */
export function formatValue(value: number | null | undefined, digits: number): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
