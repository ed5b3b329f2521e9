/**
 * bench/lib/compare.js and report.js: how a benchmark's rounds become the table. A benchmark
 * made up here runs two real (trivial) servers, leaves out a third that is "not installed",
 * and measures made-up values, so every ratio, target, limit, skip and comparison is known. A
 * subject there for context (socat beside the floor) is reported and never judged.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const { runComparison } = await import(new URL('../../bench/lib/compare.js', import.meta.url).href);
const { formatSummary } = await import(new URL('../../bench/lib/report.js', import.meta.url).href);

const pipe = ['bench/reference/tcp-echo-pipe.js', '--port', '0'];
/** Per server, what each round measures: the subject is 2× the floor's rate, its latency 1.5×. */
const RATE: Record<string, number> = { floor: 100, fast: 200, 'looked-at': 50 };

const benchmark = {
  name: 'made-up',
  title: 'A made-up benchmark',
  reference: { label: 'floor', args: pipe },
  subjects: [
    { label: 'fast', args: pipe },
    { label: 'looked-at', args: pipe, context: true },
    { label: 'absent', args: pipe, available: () => 'absent is not installed' },
  ],
  figures: [
    {
      name: 'rate',
      metrics: [
        { key: 'perS', label: 'messages per second', better: 'higher', target: 1.5, digits: 0 },
        { key: 'us', label: 'latency, µs', better: 'lower', target: 1.2, digits: 1 },
      ],
      comparisons: [{ metric: 'perS', subject: 'fast', against: 'floor', target: 2.5, label: 'fast ÷ floor, a second time' }],
      warmUp: async () => {},
      measure: async (server: { label: string }) => ({ perS: RATE[server.label], us: server.label === 'fast' ? 15 : 10 }),
    },
    {
      name: 'growth',
      rounds: { full: 2, smoke: 1 },
      metrics: [{ key: 'growth', label: 'memory growth', better: 'lower', limit: 1.1, digits: 2 }],
      skip: (server: { label: string }) => server.label === 'floor',
      warmUp: async () => {},
      measure: async () => ({ growth: 1.05 }),
    },
  ],
};

describe('runComparison and formatSummary', () => {
  it('pairs rounds into ratios, checks targets, limits and comparisons, and shows what was skipped', async () => {
    const summary = await runComparison(benchmark, { mode: 'full', rounds: 3, cwd: REPO_ROOT, log: () => {} });
    expect(summary.skipped).toEqual([{ label: 'absent', why: 'absent is not installed' }]);
    expect(summary.subjects).toEqual(['fast', 'looked-at']);
    const [rate, growth] = summary.figures;
    expect(rate.metrics[0].subjects[0]).toMatchObject({ median: 200, meets: true, ratio: { median: 2, min: 2, max: 2 } });
    expect(rate.metrics[1].subjects[0]).toMatchObject({ meets: false, ratio: { median: 1.5 } });
    expect(rate.metrics[0].subjects[1]).toMatchObject({ median: 50, ratio: { median: 0.5 }, meets: undefined, context: true });
    expect(rate.comparisons[0]).toMatchObject({ label: 'fast ÷ floor, a second time', better: 'higher', meets: false, ratio: { median: 2 } });
    expect(growth.rounds).toBe(2);
    expect(growth.runs.fast).toHaveLength(2);
    expect(growth.runs.floor).toBeUndefined();
    expect(growth.metrics[0].reference.median).toBeNull();
    expect(growth.metrics[0].subjects[0]).toMatchObject({ median: 1.05, ratio: null, withinLimit: true });
    expect(summary.measurements).toBe(3 * 3 + 2 * 2);

    const text = formatSummary(summary);
    expect(text).toMatch(/\| messages per second \(higher is better\) \| ≥ 1\.50× \| +100 \| +200 \| 2\.00× \(2\.00–2\.00\) ✓ \| +50 \| 0\.50× \(0\.50–0\.50\) \|/);
    expect(text).toMatch(/\| latency, µs \(lower is better\) +\| ≤ 1\.20× \| .* 1\.50× \(1\.50–1\.50\) ✗ \|/);
    expect(text).toMatch(/\| memory growth \(lower is better\) +\| +≤ 1\.10 \| +— \| +1\.05 ✓ \| +— \| +1\.05 \| +— \|/);
    expect(text).toContain('- target, fast ÷ floor, a second time: ≥ 2.50×, measured 2.00× (2.00–2.00) ✗');
    expect(text).toContain('- left out: absent (absent is not installed)');
    expect(text).toContain('- growth: 2 rounds (a slow figure)');
  });
});
