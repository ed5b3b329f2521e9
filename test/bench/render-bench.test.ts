/**
 * The terminal rendering of `netlab bench <lab>` (src/bench/render-bench.ts, figure-table.ts)
 * against fixed summaries in the shape `node bench/run.js --json` prints, so that nothing here
 * depends on timing: widths, ✓ and ✗, cells a figure skipped, optional fields, the verdict.
 */
import { describe, expect, it } from 'vitest';
import type { BenchFigure, BenchRun, BenchSummary } from '../../src/bench/bench-summary.js';
import { ratioBound, targetChecks } from '../../src/bench/bench-summary.js';
import { layoutFigureTable } from '../../src/bench/figure-table.js';
import { SMOKE_NOTE, renderRun } from '../../src/bench/render-bench.js';
import { displayWidth } from '../../src/lessons/render-table.js';

const ratio = (median: number, min = median * 0.97, max = median * 1.03) => ({ median, min, max, ratios: [min, median, max] });

/** A round-trip figure: p50 meets its target for --quiet and misses it for logging; p99 has none. */
const roundTrip: BenchFigure = {
  name: 'round trip',
  metrics: [
    {
      key: 'p50Us',
      label: 'round trip p50, µs',
      better: 'lower',
      target: 1.1,
      digits: 1,
      reference: { label: 'node pipe (floor)', median: 34.0 },
      subjects: [
        { label: 'netlab --quiet', median: 34.6, ratio: ratio(1.02), meets: true },
        { label: 'netlab, logging', median: 41.2, ratio: ratio(1.21), meets: false },
      ],
    },
    {
      key: 'serverCpuUsPerRoundTrip',
      label: 'server CPU, µs per round trip, every read and write counted',
      better: 'lower',
      digits: 1,
      reference: { label: 'node pipe (floor)', median: 21.0 },
      subjects: [
        { label: 'netlab --quiet', median: 21.0, ratio: ratio(0.97) },
        { label: 'netlab, logging', median: 24.5, ratio: ratio(1.23) },
      ],
    },
  ],
  extras: [
    { key: 'roundTripsPerS', label: 'round trips per second (one in flight)', scale: 1, digits: 0, values: [{ label: 'node pipe (floor)', value: 28_000 }, { label: 'netlab --quiet', value: 27_500 }, { label: 'netlab, logging', value: 23_000 }] },
    { key: 'otherCpuShare', label: "other processes' CPU during round trip, worst round, % of one core", scale: 100, digits: 0, worst: true, values: [{ label: 'node pipe (floor)', value: 0.04 }, { label: 'netlab --quiet', value: 0.31 }, { label: 'netlab, logging', value: 0 }] },
    { key: 'stolenCpuShare', label: 'CPU taken by the hypervisor (steal) during round trip, % of one core', scale: 100, digits: 0, values: [{ label: 'node pipe (floor)', value: 0.01 }, { label: 'netlab --quiet', value: 0.02 }, { label: 'netlab, logging', value: 0 }] },
  ],
  comparisons: [
    { metric: 'p50Us', subject: 'netlab, logging', against: 'netlab --quiet', target: 1.15, better: 'lower', digits: 2, ratio: ratio(1.19), meets: false },
    { metric: 'p50Us', label: 'WS 16 KiB round trip p50 ÷ TCP pipe', subject: 'netlab --quiet', against: 'node pipe (floor)', target: 1.15, better: 'lower', ratio: ratio(1.04), meets: true },
  ],
};

/** A memory figure that does not apply to the logging server: its cells are null. */
const memory: BenchFigure = {
  name: 'memory after five cycles',
  metrics: [
    {
      key: 'rssGrowth',
      label: 'RSS after five connect/leave cycles ÷ after the first',
      better: 'lower',
      limit: 1.1,
      digits: 2,
      reference: { label: 'node pipe (floor)', median: 1.02 },
      subjects: [
        { label: 'netlab --quiet', median: 1.04, ratio: ratio(1.02), withinLimit: true },
        { label: 'netlab, logging', median: null, ratio: null, withinLimit: null },
      ],
    },
  ],
  extras: [],
};

const summary: BenchSummary = {
  name: 'tcp-echo',
  title: 'TCP echo: netlab tcp-echo serve against net.createServer((s) => s.pipe(s))',
  rounds: 7,
  reference: 'node pipe (floor)',
  subjects: ['netlab --quiet', 'netlab, logging'],
  skipped: [{ label: 'socat', why: 'socat is not installed' }],
  disturbed: 2,
  measurements: 42,
  noisyShare: 0.1,
  figures: [roundTrip, memory],
};

const run: BenchRun = {
  mode: 'full',
  calibrate: false,
  machine: { cpus: 2, cpuModel: 'AMD EPYC', memoryGiB: 24, kernel: '6.18.44', node: '20.20.2' },
  seconds: 95,
  summaries: [summary],
};

function widest(lines: readonly string[]): number {
  return Math.max(...lines.map(displayWidth));
}

describe('renderRun', () => {
  it('fits 80 columns, marks met targets ✓ and missed ones ✗, and shows a skipped cell as —', () => {
    const lines = renderRun(run, { width: 80 });
    const text = lines.join('\n');
    expect(widest(lines), text).toBeLessThanOrEqual(80);
    expect(text).toMatch(/^round trip p50, µs +34\.0 +34\.6 +1\.02× ✓ +41\.2 +1\.21× ✗ +≤ 1\.10×$/m);
    // The logging server's memory row: value and ratio skipped.
    expect(text).toMatch(/^RSS after five\D+1\.02 +1\.04 ✓ +1\.02× +— +— +≤ 1\.10$/m);
    expect(text).toContain('left out: socat, socat is not installed');
  });

  it('wraps a long metric label under itself, indented, so the numbers stay on its first line', () => {
    const lines = renderRun(run, { width: 80 });
    const at = lines.findIndex((line) => line.startsWith('server CPU, µs per round'));
    expect(lines[at]).toMatch(/ 21\.0 +21\.0 +0\.97× +24\.5 +1\.23×$/);
    expect(lines[at + 1]).toMatch(/^ {2}\S/);
  });

  it('lists the comparisons with their own label, or one made of what they divide', () => {
    const text = renderRun(run, { width: 80 }).join('\n');
    expect(text).toMatch(/^WS 16 KiB round trip p50 ÷ TCP pipe +1\.04× ✓ +≤ 1\.15×$/m);
    expect(text).toMatch(/^netlab, logging ÷ netlab --quiet, round trip p50, µs +1\.19× ✗ +≤ 1\.15×$/m);
  });

  it('sums up the noise once per benchmark and ends with the machine and the verdict', () => {
    const text = renderRun(run, { width: 80 }).join('\n');
    expect(text).toMatch(/^noise: other processes took up to 31 % of a core, the hypervisor up to 2 %; 2 of\s+42 measurements disturbed/m);
    expect(text).not.toContain("other processes' CPU during round trip");
    expect(text).toContain('- round trips per second (one in flight): node pipe (floor) 28,000, netlab');
    expect(text).toMatch(/^machine: 2 × AMD EPYC, 24 GiB, Linux 6\.18\.44, node 20\.20\.2$/m);
    // p50 twice, the memory limit once, two comparisons: three met of five.
    expect(text).toMatch(/^targets met: 3 of 5 · full run, 1 min 35 s$/m);
    expect(text).toMatch(/^✗ tcp-echo · round trip: netlab, logging, round trip p50, µs ÷ floor 1\.21×,\n {2}target ≤ 1\.10×$/m);
  });

  it('shows the ratio ranges when the terminal is wide enough, and not at 80 columns', () => {
    expect(renderRun(run, { width: 160 }).join('\n')).toMatch(/1\.02× \(0\.99–1\.05\) ✓/);
    expect(renderRun(run, { width: 80 }).join('\n')).not.toMatch(/1\.02× \(/);
  });

  it('still fits a narrow terminal: each label goes on a line of its own above its numbers', () => {
    const lines = renderRun(run, { width: 60 });
    expect(widest(lines), lines.join('\n')).toBeLessThanOrEqual(60);
    const at = lines.indexOf('round trip p50, µs');
    expect(at, lines.join('\n')).toBeGreaterThan(-1);
    expect(lines[at + 1]).toMatch(/^ +34\.0 +34\.6 +1\.02× ✓ +41\.2 +1\.21× ✗ +≤ 1\.10×$/);
  });

  it('reads a summary without the optional fields, and says what a smoke run is worth', () => {
    const bare: BenchRun = {
      mode: 'smoke',
      summaries: [{ ...summary, rounds: 1, skipped: undefined, disturbed: undefined, measurements: undefined, figures: [{ name: 'round trip', metrics: roundTrip.metrics }] }],
    };
    const lines = renderRun(bare, { width: 80 });
    const text = lines.join('\n');
    expect(widest(lines)).toBeLessThanOrEqual(80);
    expect(text).toMatch(/^targets met: 1 of 2 · smoke run$/m);
    expect(text).toContain(SMOKE_NOTE);
    expect(text).not.toContain('noise:');
    expect(text).toMatch(/^machine: \? × unknown CPU$/m);
  });

  it('colours the marks through the caller, after the layout', () => {
    const text = renderRun(run, { width: 80, mark: (met, mark) => (met ? `<${mark}>` : `[${mark}]`) }).join('\n');
    expect(text).toContain('1.02× <✓>');
    expect(text).toContain('1.21× [✗]');
  });
});

describe('targetChecks', () => {
  it('counts ratio targets, limits and comparisons, and leaves out the cells a figure skipped', () => {
    const checks = targetChecks(run);
    expect(checks.map((c) => [c.what, c.met])).toEqual([
      ['netlab --quiet, round trip p50, µs ÷ floor', true],
      ['netlab, logging, round trip p50, µs ÷ floor', false],
      ['netlab, logging ÷ netlab --quiet, round trip p50, µs', false],
      ['WS 16 KiB round trip p50 ÷ TCP pipe', true],
      ['netlab --quiet, RSS after five connect/leave cycles ÷ after the first', true],
    ]);
  });
});

describe('layoutFigureTable', () => {
  it('sizes the number columns to their values and wraps their headers at spaces', () => {
    const lines = layoutFigureTable({ header: ['figure', 'node dgram (floor)', 'target'], rows: [['p50', '85.1', '≤ 1.10×']], align: ['right', 'left'] }, 30);
    expect(lines).toEqual(['           node', '          dgram', 'figure  (floor)  target', '──────  ───────  ───────', 'p50        85.1  ≤ 1.10×']);
  });
});

describe('ratioBound', () => {
  it('shows a bound with two decimals, or three when it has them', () => {
    expect(ratioBound('lower', 1.1)).toBe('≤ 1.10×');
    expect(ratioBound('higher', 0.8)).toBe('≥ 0.80×');
    expect(ratioBound('higher', 0.999)).toBe('≥ 0.999×');
  });
});
