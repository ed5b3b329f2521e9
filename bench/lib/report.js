/**
 * Results as text: a Markdown table per benchmark (readable in a terminal and pasted as is into
 * BENCHMARKS.md), then notes with the figures that are context rather than comparison.
 *
 * A ratio cell reads `0.97× (0.95–0.99) ✓`: the median of the per-round ratios netlab ÷
 * reference, their range over the rounds, and whether the median meets the target. A value
 * cell with a limit (a bound on the value itself, not a ratio) is marked the same way. A server
 * a figure does not apply to reads "—". Targets between two other servers of the run (the
 * figure's comparisons) are listed under the table, one line each.
 *
 * Leaves out: charts, and any judgement beyond the target check; BENCHMARKS.md says what the
 * numbers mean.
 */

/** The Markdown for one benchmark's summary (from runComparison). */
export function formatSummary(summary) {
  const header = ['figure', 'target', summary.reference];
  for (const label of summary.subjects) header.push(label, `${label} ÷ floor`);
  const rows = [];
  for (const figure of summary.figures) {
    for (const metric of figure.metrics) {
      const row = [`${metric.label} (${metric.better} is better)`, target(metric), valueCell(metric.reference, metric)];
      for (const subject of metric.subjects) row.push(valueCell(subject, metric), ratioCell(subject));
      rows.push(row);
    }
  }
  const targets = summary.figures.flatMap((figure) =>
    (figure.comparisons ?? []).map(
      (c) => `- target, ${c.label}: ${c.better === 'higher' ? '≥' : '≤'} ${bound(c.target)}×, measured ${ratioCell(c)}`,
    ),
  );
  const notes = summary.figures.flatMap((figure) =>
    figure.extras.map(
      (extra) =>
        `- ${extra.label}: ` +
        extra.values.map(({ label, value }) => `${label} ${formatValue(value * extra.scale, extra.digits)}`).join(', '),
    ),
  );
  for (const { label, why } of summary.skipped ?? []) notes.push(`- left out: ${label} (${why})`);
  const fewer = summary.figures.filter((figure) => figure.rounds !== undefined && figure.rounds !== summary.rounds);
  for (const figure of fewer) notes.push(`- ${figure.name}: ${figure.rounds} ${figure.rounds === 1 ? 'round' : 'rounds'} (a slow figure)`);
  if (summary.disturbed > 0) {
    notes.push(`- noise: in ${summary.disturbed} of ${summary.measurements} measurements other processes used ≥ ${summary.noisyShare * 100} % of a core; rerun on a quiet machine before quoting these`);
  }
  const title = `${summary.title} · ${summary.rounds} ${summary.rounds === 1 ? 'round' : 'rounds'}, medians`;
  return [title, '', markdownTable(header, rows), '', ...targets, ...(targets.length > 0 ? [''] : []), ...notes].join('\n');
}

/** `1,234.5`: grouped thousands, a fixed number of decimals. */
export function formatValue(value, digits) {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The target column: a bound on the ratio (`≤ 1.10×`), or on the value itself (`≤ 1.10`). */
function target(metric) {
  const sign = metric.better === 'higher' ? '≥' : '≤';
  if (metric.target !== undefined) return `${sign} ${bound(metric.target)}×`;
  if (metric.limit !== undefined) return `${sign} ${bound(metric.limit)}`;
  return '';
}

/** A bound with two decimals, or three when it has them (0.999 must not read 1.00). */
const bound = (value) => value.toFixed(Number.isInteger(Math.round(value * 1e6) / 1e4) ? 2 : 3);

const mark = (ok) => (ok === undefined ? '' : ok ? ' ✓' : ' ✗');

function valueCell({ median, withinLimit }, metric) {
  return median === null ? '—' : `${formatValue(median, metric.digits)}${mark(withinLimit)}`;
}

function ratioCell({ ratio, meets }) {
  // A ratio to a zero (a smoke run's server CPU can read 0 ticks) means nothing either.
  if (ratio === null || !Number.isFinite(ratio.median)) return '—';
  return `${ratio.median.toFixed(2)}× (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})${mark(meets)}`;
}

/** Columns padded to line up in a terminal; the first left-aligned, the others right. */
function markdownTable(header, rows) {
  const widths = header.map((cell, i) => Math.max(width(cell), ...rows.map((row) => width(row[i]))));
  const line = (cells) => `| ${cells.map((cell, i) => (i === 0 ? padEnd(cell, widths[i]) : padStart(cell, widths[i]))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

// Code points, not UTF-16 units: `µ`, `×`, `–` and `✓` are one column each.
const width = (text) => [...text].length;
const padEnd = (text, w) => text + ' '.repeat(w - width(text));
const padStart = (text, w) => ' '.repeat(w - width(text)) + text;
