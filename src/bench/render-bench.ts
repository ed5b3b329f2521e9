/**
 * A benchmark run (bench-summary.ts) as lines for a terminal, for `netlab bench <lab>` at a
 * projector: per benchmark its title, then per figure a table of metric | floor | each netlab
 * server and its ratio to the floor, ✓ or ✗ | target, laid out to the terminal's width by
 * figure-table.ts; under it the figure's targets against other servers (comparisons) and its
 * context (extras). Then the noise, the machine, and a verdict: targets met, X of Y, each miss.
 *
 * The ratio's range over the rounds is shown when the table has room for it (a wide terminal);
 * at 80 columns only the median is, and `--markdown` has the full table.
 *
 * Pure: a run in, strings out. Bold and dim come from the caller's Painter, ✓ and ✗ from its
 * `mark`, both only when colour is on. Leaves out: per-round values (--json has them) and any
 * judgement beyond the targets (BENCHMARKS.md says what the numbers mean).
 */
import { COLUMN_GAP, displayWidth, type Align, type Painter } from '../lessons/render-table.js';
import { hanging, layoutFigureTable, type FigureTable } from './figure-table.js';
import {
  NOISE_EXTRA_KEYS,
  comparisonLabel,
  direction,
  formatRatio,
  formatValue,
  ratioBound,
  targetChecks,
  type BenchFigure,
  type BenchMetric,
  type BenchRun,
  type BenchSummary,
  type Ratio,
} from './bench-summary.js';

export interface RenderOptions {
  /** The widest a line may be. */
  width: number;
  painter?: Painter;
  /** Colours a ✓ (met) or ✗ (missed) after layout; escape codes then take no column. */
  mark?: (met: boolean, text: string) => string;
}

/** What a smoke run's figures are worth, in bench/run.js's own words. */
export const SMOKE_NOTE = '(smoke run: everything works; these figures are too short to mean anything)';

/** Fewer rounds than this and a ratio's median is not worth quoting (BENCHMARKS.md, Method). */
export const QUOTABLE_ROUNDS = 5;

/** The whole run: every benchmark, then the machine and the verdict. */
export function renderRun(run: BenchRun, options: RenderOptions): string[] {
  const out: string[] = [];
  // A smoke run is too short for the noise gauges: /proc/stat counts in 10 ms ticks (compare.js).
  const quiet = { ...options, noise: run.mode !== 'smoke' };
  for (const summary of run.summaries) out.push(...renderSummary(summary, quiet), '');
  out.push(...renderVerdict(run, options));
  return out;
}

/** One benchmark: its title, who was left out, and a table per figure. */
export function renderSummary(summary: BenchSummary, options: RenderOptions & { noise?: boolean }): string[] {
  const { width, painter } = options;
  const bold = (text: string) => (painter ? painter.bold(text) : text);
  const out = hanging(summary.title, width).map(bold);
  const rounds = `${summary.rounds} ${summary.rounds === 1 ? 'round' : 'rounds'}`;
  out.push(...hanging(`${rounds}, medians; ÷ floor is the median of the per-round ratios to ${summary.reference}`, width));
  for (const { label, why } of summary.skipped ?? []) out.push(...hanging(`left out: ${label}, ${why}`, width));
  for (const figure of summary.figures) out.push('', ...renderFigure(figure, summary, options));
  const noise = options.noise === false ? undefined : noiseLine(summary);
  if (noise) out.push('', ...hanging(noise, width));
  return out;
}

/** A figure's table, then its comparisons and its extras. */
export function renderFigure(figure: BenchFigure, summary: BenchSummary, options: RenderOptions): string[] {
  const { width, painter } = options;
  const table = figureTable(figure, summary, withRanges(summary, width));
  const out = layoutFigureTable(table, width, painter).map((line) => paintMarks(line, options));

  const comparisons = figure.comparisons ?? [];
  if (comparisons.length > 0) {
    const compared: FigureTable = {
      header: ['against another server', 'ratio', 'target'],
      align: ['left', 'left'],
      rows: comparisons.map((c) => [comparisonLabel(c, figure), withMark(formatRatio(c.ratio?.median), c.meets), ratioBound(c.better, c.target)]),
    };
    out.push('', ...layoutFigureTable(compared, width, painter).map((line) => paintMarks(line, options)));
  }
  const extras = (figure.extras ?? []).filter((extra) => !NOISE_EXTRA_KEYS.includes(extra.key));
  if (extras.length > 0) out.push('');
  for (const extra of extras) {
    const values = extra.values.map(({ label, value }) => `${label} ${formatValue(value === null ? null : value * extra.scale, extra.digits)}`);
    out.push(...hanging(`- ${extra.label}: ${values.join(', ')}`, width));
  }
  return out;
}

/** The last lines: the machine, how long it took, targets met, each miss, and what not to quote. */
export function renderVerdict(run: BenchRun, options: RenderOptions): string[] {
  const { width } = options;
  const out: string[] = [];
  const m = run.machine ?? {};
  const machine = [
    `${m.cpus ?? '?'} × ${m.cpuModel ?? 'unknown CPU'}`,
    m.memoryGiB === undefined ? undefined : `${m.memoryGiB} GiB`,
    m.kernel === undefined ? undefined : `Linux ${m.kernel}`,
    m.node === undefined ? undefined : `node ${m.node}`,
  ].filter((part) => part !== undefined);
  const took = run.seconds === undefined ? '' : `, ${formatDuration(run.seconds)}`;
  const kind = run.calibrate ? 'calibration run (the floor against itself)' : `${run.mode} run`;
  out.push(...hanging(`machine: ${machine.join(', ')}`, width));

  const checks = targetChecks(run);
  const met = checks.filter((check) => check.met).length;
  const verdict = checks.length === 0 ? 'no targets in this run' : `targets met: ${met} of ${checks.length}`;
  const [first = '', ...more] = hanging(`${verdict} · ${kind}${took}`, width);
  out.push(options.painter ? first.replace(verdict, options.painter.bold(verdict)) : first, ...more);
  for (const check of checks.filter((c) => !c.met)) {
    // A comparison's own label may start with its figure's name already: say it once.
    const what = check.what.startsWith(`${check.figure}: `) ? check.what.slice(check.figure.length + 2) : check.what;
    out.push(...hanging(`✗ ${check.benchmark} · ${check.figure}: ${what} ${check.value}, target ${check.bound}`, width).map((line) => paintMarks(line, options)));
  }
  if (run.mode === 'smoke') out.push(...hanging(SMOKE_NOTE, width));
  else if (run.summaries.some((s) => s.rounds < QUOTABLE_ROUNDS)) {
    out.push(...hanging(`(fewer than ${QUOTABLE_ROUNDS} rounds: these figures show the shape, not numbers to quote)`, width));
  }
  return out;
}

/** A header breaks only at ASCII spaces (figure-table.ts): `÷ floor` stays one word. */
const RATIO_HEADER = '÷\u00a0floor';

/** metric | floor | per subject: its value and its ratio to the floor | target. */
function figureTable(figure: BenchFigure, summary: BenchSummary, ranges: boolean): FigureTable {
  const subjects = summary.subjects;
  return {
    header: [figure.name, summary.reference, ...subjects.flatMap((label) => [label, RATIO_HEADER]), 'target'],
    align: ['right', ...subjects.flatMap((): Align[] => ['right', 'left']), 'left'],
    rows: figure.metrics.map((metric) => metricRow(metric, subjects, ranges)),
  };
}

/**
 * Whether the ratios show their range over the rounds: only when every figure of the benchmark
 * then still has room for its labels unwrapped, so the tables of one benchmark look alike.
 */
function withRanges(summary: BenchSummary, width: number): boolean {
  if (summary.rounds <= 1) return false;
  return summary.figures.every((figure) => {
    const table = figureTable(figure, summary, true);
    return tableWidth(table) + Math.max(0, ...table.rows.map((row) => displayWidth(row[0] ?? ''))) <= width;
  });
}

/** metric | floor | per subject: value, ratio ✓/✗ | target. Missing values read —. */
function metricRow(metric: BenchMetric, subjects: readonly string[], ranges: boolean): string[] {
  const row = [metric.label, formatValue(metric.reference.median, metric.digits)];
  for (const label of subjects) {
    const subject = metric.subjects.find((s) => s.label === label);
    const value = formatValue(subject?.median, metric.digits);
    row.push(metric.limit === undefined ? value : withMark(value, subject?.withinLimit));
    const ratio = subject?.ratio ?? null;
    row.push(withMark(ranges ? ratioWithRange(ratio) : formatRatio(ratio?.median), metric.target === undefined ? undefined : subject?.meets));
  }
  const bounds = [metric.target === undefined ? undefined : ratioBound(metric.better, metric.target), metric.limit === undefined ? undefined : `${direction(metric.better)} ${formatValue(metric.limit, metric.digits)}`];
  row.push(bounds.filter((b) => b !== undefined).join(', '));
  return row;
}

/** `0.97× (0.95–0.99)`: the median and the range over the rounds, as report.js writes it. */
function ratioWithRange(ratio: Ratio | null): string {
  if (!ratio) return '—';
  if (ratio.min === ratio.max) return formatRatio(ratio.median);
  return `${formatRatio(ratio.median)} (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})`;
}

function withMark(text: string, met: boolean | null | undefined): string {
  return typeof met === 'boolean' && text !== '—' ? `${text} ${met ? '✓' : '✗'}` : text;
}

/**
 * The worst of the noise gauges over the benchmark's figures, and how many measurements were
 * disturbed: the line that tells a class whether to believe the table.
 */
function noiseLine(summary: BenchSummary): string | undefined {
  const worst = (key: string) => {
    const values = summary.figures.flatMap((f) => (f.extras ?? []).filter((e) => e.key === key).flatMap((e) => e.values.map((v) => (v.value ?? 0) * e.scale)));
    return values.length === 0 ? undefined : Math.max(...values);
  };
  const others = worst('otherCpuShare');
  const steal = worst('stolenCpuShare');
  const parts: string[] = [];
  if (others !== undefined) parts.push(`other processes took up to ${formatValue(others, 0)} % of a core`);
  if (steal !== undefined) parts.push(`the hypervisor up to ${formatValue(steal, 0)} %`);
  let line = parts.length === 0 ? '' : `noise: ${parts.join(', ')}`;
  if ((summary.disturbed ?? 0) > 0) {
    const share = formatValue((summary.noisyShare ?? 0.1) * 100, 0);
    line += `${line ? '; ' : 'noise: '}${summary.disturbed} of ${summary.measurements ?? '?'} measurements disturbed (≥ ${share} % of a core): rerun on a quiet machine before quoting`;
  }
  return line || undefined;
}

/** The width of every column but the label's, gaps included (see figure-table.ts). */
function tableWidth(table: FigureTable): number {
  return table.header.slice(1).reduce((sum, header, i) => {
    const body = Math.max(0, ...table.rows.map((row) => displayWidth(row[i + 1] ?? '')));
    return sum + COLUMN_GAP + Math.max(body, ...header.split(' ').map(displayWidth));
  }, 0);
}

function paintMarks(line: string, options: RenderOptions): string {
  const { mark } = options;
  return mark ? line.replaceAll('✓', mark(true, '✓')).replaceAll('✗', mark(false, '✗')) : line;
}

/** `42 s` or `3 min 30 s`. */
function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}
