/**
 * Runs one benchmark as a comparison: every server it names (the subjects and the reference)
 * is started once, each figure is warmed up on every server, then measured in rounds. In a
 * round each server is measured once, the reference between the subjects, and the order flips
 * every round (A R B, then B R A…), so that neither side always runs first, on a cooler
 * machine, or right after the other's garbage.
 *
 * A benchmark is a module whose default export is
 *   { name, title, reference: spec, subjects: [spec],
 *     figures: [{ name, metrics: [{ key, label, better, target?, limit?, digits }],
 *               extras?: [{ key, label, scale, digits, worst? }],
 *               skip?(server), rounds?: { full, smoke },
 *               comparisons?: [{ metric, subject, against, target, label? }],
 *               warmUp(server, mode), measure(server, mode) → { [key]: number } }] }
 * where a server's spec is `{ label, args, available?, context?, ... }` (see server-process.js):
 * `args` is a `node` command line relative to the repository root, or another program's with
 * `command`; `available()` returns why the server must be left out of this run, if it must;
 * `context: true` marks a subject that is there to be looked at, not judged (socat beside the
 * floor): its ratios are reported, its targets not checked; `start(spec)`, when given, starts
 * the server in place of startServer() and resolves to a handle of the same shape: for a
 * server made of several processes (lib/redis-group.js: netlab servers sharing a Redis).
 *
 * - `target` bounds the ratio subject ÷ reference (at least, for higher-is-better; at most,
 *   for lower-is-better). `limit` bounds each server's own median instead, for a figure that
 *   is already a ratio (memory after five cycles ÷ after the first).
 * - `comparisons` are targets between two other servers of the run, paired by round like the
 *   main ratios: netlab's WebSocket echo ÷ the TCP pipe, netlab logging ÷ netlab --quiet.
 * - `skip(server)` leaves a server out of a figure that does not apply to it (WebSocket
 *   memory for a TCP pipe); its cells read "—".
 * - `rounds` gives a slow figure fewer rounds than the run's.
 *
 * Leaves out: pinning servers and load to cores (taskset). The scheduler places them as it
 * would on a student's laptop; on two cores that is usually one core each.
 */
import { machineCpuMs, ownCpuMs } from './machine-cpu.js';
import { startServer } from './server-process.js';
import { formatValue } from './report.js';
import { median, pairedRatios } from './stats.js';

/**
 * @param benchmark the module's default export
 * @param options `{ mode: 'full' | 'smoke', rounds, cwd, calibrate, log }`; `calibrate` replaces
 *   the subjects with a second copy of the reference, so the ratios show the noise floor.
 * @returns the summary: per figure, the raw per-round values and, per metric, medians and
 *   paired ratios (see summarize()).
 */
export async function runComparison(benchmark, options) {
  const { mode, rounds, cwd, calibrate = false, log } = options;
  const wanted = calibrate ? [{ ...benchmark.reference, label: `${benchmark.reference.label}, again` }] : benchmark.subjects;
  // A server that cannot run here (socat not installed) is left out, and the report says why.
  const skipped = [];
  const subjects = wanted.filter((spec) => {
    const why = spec.available?.();
    if (why) skipped.push({ label: spec.label, why });
    return !why;
  });
  for (const { label, why } of skipped) log(`${benchmark.name}: leaving out ${label}: ${why}`);
  const servers = [];
  try {
    // Sequentially: two servers compiling their code at once would slow each other's start.
    for (const spec of [benchmark.reference, ...subjects]) servers.push(await (spec.start ?? startServer)({ ...spec, cwd }));
    const [reference, ...rest] = servers;
    const figures = [];
    for (const figure of benchmark.figures) {
      const measured = servers.filter((server) => !figure.skip?.(server));
      log(`${benchmark.name} · ${figure.name}: warm-up`);
      for (const server of measured) await figure.warmUp(server, mode);
      const runs = new Map(measured.map((server) => [server.label, []]));
      const figureRounds = figureRoundsFor(figure, mode, rounds);
      for (let round = 0; round < figureRounds; round++) {
        const order = roundOrder(reference, rest, round).filter((server) => runs.has(server.label));
        const line = [];
        for (const server of order) {
          const values = await measureWithNoise(figure, server, servers, mode);
          if (!server.alive) throw new Error(`${server.label} exited during ${figure.name}`);
          runs.get(server.label).push(values);
          const others = noisy(values, mode) ? ` (others: ${Math.round(values.otherCpuShare * 100)} % of a core)` : '';
          line.push(`${server.label} ${formatValue(values[figure.metrics[0].key], figure.metrics[0].digits)}${others}`);
        }
        log(`${benchmark.name} · ${figure.name} · round ${round + 1}/${figureRounds}: ${line.join(' · ')}`);
      }
      const judged = new Set(rest.filter((s) => !s.spec.context).map((s) => s.label));
      figures.push(summarize(figure, reference.label, rest.map((s) => s.label), runs, figureRounds, judged));
    }
    // How many measurements another process disturbed: the table says so, so nobody quotes them.
    const all = figures.flatMap((f) => Object.values(f.runs).flat());
    const disturbed = all.filter((v) => noisy(v, mode)).length;
    const summary = { name: benchmark.name, title: benchmark.title, rounds, reference: reference.label, subjects: rest.map((s) => s.label), skipped };
    return { ...summary, disturbed, measurements: all.length, noisyShare: NOISY_SHARE, figures };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

/** A figure's own number of rounds (`figure.rounds`), never more than the run's. */
function figureRoundsFor(figure, mode, rounds) {
  const own = figure.rounds?.[mode];
  return own === undefined ? rounds : Math.min(own, rounds);
}

/** Other processes using this share of a core while a figure is measured make it suspect. */
const NOISY_SHARE = 0.1;

/**
 * Whether a measurement was disturbed. Not judged in a smoke run: /proc/stat counts in 10 ms
 * ticks, so over a smoke run's few tens of ms one tick already reads as a busy neighbour.
 */
const noisy = (values, mode) => mode === 'full' && values.otherCpuShare >= NOISY_SHARE;

/**
 * Every figure gets these extras: what the rest of the machine took while it was measured, in
 * the worst round rather than the median, since one disturbed round is what it must reveal;
 * and the median share the hypervisor took (steal), which no one on this machine controls.
 */
const noiseExtras = (figure) => [
  { key: 'otherCpuShare', label: `other processes' CPU during ${figure.name}, worst round, % of one core`, scale: 100, digits: 0, worst: true },
  { key: 'stolenCpuShare', label: `CPU taken by the hypervisor (steal) during ${figure.name}, % of one core`, scale: 100, digits: 0 },
];

/** figure.measure(), plus the noise gauges `otherCpuShare` and `stolenCpuShare` (see machine-cpu.js). */
async function measureWithNoise(figure, server, servers, mode) {
  const snapshot = () => ({
    wallMs: performance.now(),
    machine: machineCpuMs(),
    ownMs: ownCpuMs() + servers.reduce((sum, s) => sum + s.cpuMs(), 0),
  });
  const before = snapshot();
  const values = await figure.measure(server, mode);
  const after = snapshot();
  const wallMs = after.wallMs - before.wallMs;
  const othersMs = after.machine.processesMs - before.machine.processesMs - (after.ownMs - before.ownMs);
  return {
    ...values,
    // Clock ticks (10 ms) against microseconds: a quiet machine can come out a little below 0.
    otherCpuShare: Math.max(0, othersMs) / wallMs,
    stolenCpuShare: (after.machine.stolenMs - before.machine.stolenMs) / wallMs,
  };
}

/** The reference in the middle of the subjects; reversed on odd rounds. */
export function roundOrder(reference, subjects, round) {
  const half = Math.ceil(subjects.length / 2);
  const order = [...subjects.slice(0, half), reference, ...subjects.slice(half)];
  return round % 2 === 0 ? order : order.reverse();
}

/**
 * Per metric: the reference's median, and per subject its median and the median of its
 * per-round ratios to the reference, with whether that meets the metric's target (a ratio
 * bound: at least `target` for higher-is-better, at most `target` for lower-is-better) and its
 * limit (the same bound on the median itself). A server the figure skipped has `median: null`.
 * Then the figure's comparisons between two servers, paired by round in the same way.
 */
function summarize(figure, referenceLabel, subjectLabels, runs, rounds, judged) {
  const series = (label, key) => runs.get(label)?.map((values) => values[key]);
  const medianOf = (values) => (values === undefined ? null : median(values));
  const bounded = (metric, value, bound) => (bound === undefined || value === null ? undefined : metric.better === 'higher' ? value >= bound : value <= bound);
  const metrics = figure.metrics.map((metric) => {
    const reference = series(referenceLabel, metric.key);
    const subjects = subjectLabels.map((label) => {
      const values = series(label, metric.key);
      const ratio = values === undefined || reference === undefined ? null : pairedRatios(values, reference);
      const value = medianOf(values);
      if (!judged.has(label)) return { label, median: value, ratio, meets: undefined, withinLimit: undefined, context: true };
      return { label, median: value, ratio, meets: bounded(metric, ratio?.median ?? null, metric.target), withinLimit: bounded(metric, value, metric.limit) };
    });
    const referenceMedian = medianOf(reference);
    return { ...metric, reference: { label: referenceLabel, median: referenceMedian, withinLimit: bounded(metric, referenceMedian, metric.limit) }, subjects };
  });
  const comparisons = (figure.comparisons ?? []).map((comparison) => {
    const metric = figure.metrics.find((m) => m.key === comparison.metric);
    if (!metric) throw new Error(`${figure.name}: a comparison names the metric ${comparison.metric}, which the figure does not have`);
    const subject = series(comparison.subject, metric.key);
    const against = series(comparison.against, metric.key);
    const label = comparison.label ?? `${metric.label}: ${comparison.subject} ÷ ${comparison.against}`;
    const ratio = subject === undefined || against === undefined ? null : pairedRatios(subject, against);
    return { ...comparison, label, better: metric.better, ratio, meets: bounded(metric, ratio?.median ?? null, comparison.target) };
  });
  // Extras are context, not compared: one value per server (median, or the largest with
  // `worst`), for the notes under the table.
  const extras = [...(figure.extras ?? []), ...noiseExtras(figure)].map((extra) => ({
    ...extra,
    values: [referenceLabel, ...subjectLabels]
      .filter((label) => runs.has(label))
      .map((label) => {
        const values = series(label, extra.key);
        return { label, value: extra.worst ? Math.max(...values) : median(values) };
      }),
  }));
  return { name: figure.name, rounds, metrics, comparisons, extras, runs: Object.fromEntries(runs) };
}
