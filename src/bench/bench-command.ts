/**
 * `netlab bench [lab]`: the benchmarks of bench/ (BENCHMARKS.md) from the netlab binary, for an
 * instructor at a projector. Without a lab it lists them; with one it runs
 * `node bench/run.js <lab> --json` (bench-process.ts), shows its progress as it comes (on a
 * terminal as one status line that redraws, piped as plain lines), and renders the result for
 * the terminal's width (render-bench.ts). `--json` and `--markdown` print run.js's own output
 * as it is, for scripts and for pasting into BENCHMARKS.md.
 *
 * Like `netlab check`, the exit code says whether the run completed, not whether netlab won:
 * 0 once every figure was measured, targets met or not (the verdict line says), 1 when a
 * server failed or the run was stopped, 2 for a usage error.
 *
 * Leaves out: choosing servers or figures (bench/run.js and the benchmark files decide them),
 * and comparing with another run; only ratios within one run mean anything.
 */
import { Chalk } from 'chalk';
import { Argument, Command, Option } from 'commander';
import { argParser, exitForced, outputFor } from '../core/commands.js';
import { NetlabError, UsageError } from '../core/errors.js';
import { parseInteger } from '../core/options.js';
import type { Output } from '../core/output.js';
import { onInterrupt } from '../core/shutdown.js';
import { layoutTable, wrapSpans, type Painter, type Span } from '../lessons/render-table.js';
import { FAILURE_PREFIX, benchInstalled, describeFailure, listBenchmarks, startBench, type BenchmarkEntry } from './bench-process.js';
import type { BenchRun } from './bench-summary.js';
import { QUOTABLE_ROUNDS, renderRun } from './render-bench.js';

export const MIN_ROUNDS = 1;
export const MAX_ROUNDS = 50;

/** The status a shell reports for a death by SIGHUP (128 + 1). */
const HANGUP_EXIT_CODE = 129;

/**
 * About how long a full run of each benchmark takes on two cores (7 rounds, warm-up and server
 * start included), in minutes, rounded from the run that BENCHMARKS.md reports (12.4 min for
 * the first five on 2026-12-02; ws-chat-redis 80 s on 2026-12-03). Approximate: a busy machine,
 * more rounds or new figures make it longer; update a benchmark's entry when its figures change.
 */
const FULL_RUN_MINUTES: Record<string, number> = { 'tcp-echo': 2.5, 'tcp-chat': 2.5, 'udp-echo': 2, 'ws-echo': 3, 'ws-chat': 2, 'ws-chat-redis': 1.5 };


/** Wider than this, a table's columns drift too far apart to read across. */
const MAX_WIDTH = 120;
const MIN_WIDTH = 40;

interface BenchOptions {
  rounds?: number;
  smoke?: boolean;
  json?: boolean;
  markdown?: boolean;
}

export function benchCommand(): Command {
  return new Command('bench')
    .description('measure a lab against a minimal floor program, side by side (BENCHMARKS.md)')
    .addArgument(new Argument('[lab]', 'the benchmark to run; without one, the list'))
    .addOption(
      new Option('--rounds <n>', `rounds per figure, ${MIN_ROUNDS} to ${MAX_ROUNDS} (default 7; at least ${QUOTABLE_ROUNDS} for a figure to quote)`).argParser(
        argParser((value) => parseInteger('--rounds', value, MIN_ROUNDS, MAX_ROUNDS)),
      ),
    )
    .addOption(new Option('--smoke', 'a tiny run, a few seconds: checks that everything works; its figures mean nothing'))
    .addOption(new Option('--json', "bench/run.js's JSON summary, as it is").conflicts('markdown'))
    .addOption(new Option('--markdown', "bench/run.js's Markdown table, as BENCHMARKS.md has it"))
    .addHelpText(
      'after',
      `
Exit status: 0 once the run completes (targets met or not), 1 if it fails or is stopped.

Examples:
  netlab bench                      the benchmarks, and about how long each takes
  netlab bench tcp-chat             netlab's chat against a minimal broadcast, 7 rounds
  netlab bench udp-echo --smoke     a few seconds: does it all work on this machine?
  netlab bench ws-echo --rounds 9 --markdown > ws-echo.md`,
    )
    .action(async (lab: string | undefined, opts: BenchOptions, command: Command) => {
      const output = outputFor(command);
      if (!benchInstalled()) {
        throw new NetlabError('NETLAB_ERR_NO_BENCH', 'the benchmarks are not part of this installation (there is no bench/run.js).', 'they come with the netlab repository: clone it and run `npm run bench` there.');
      }
      const benchmarks = listBenchmarks();
      if (lab === undefined) return listBenchmarksFor(output, benchmarks);
      if (!benchmarks.some((b) => b.name === lab)) {
        throw new UsageError(`there is no benchmark "${lab}": the benchmarks are ${benchmarks.map((b) => b.name).join(', ')}.`);
      }
      if (opts.rounds !== undefined && opts.rounds < QUOTABLE_ROUNDS) {
        output.note(`note: a figure needs at least ${QUOTABLE_ROUNDS} rounds to be quoted; ${opts.rounds} show whether it works and roughly where it lands.`);
      }
      const stdout = await runBench(output, lab, opts);
      if (opts.json || opts.markdown) return output.data(stdout.trimEnd());
      let run: BenchRun;
      try {
        run = JSON.parse(stdout) as BenchRun;
      } catch (err) {
        throw new NetlabError('NETLAB_ERR_BENCH_OUTPUT', 'bench/run.js finished but printed no JSON summary that netlab can read.', 'try `netlab bench ' + lab + ' --markdown` for its own table.', { cause: err });
      }
      const painter = output.color ? chalkPainter() : undefined;
      const chalk = new Chalk({ level: output.color ? 1 : 0 });
      const mark = (met: boolean, text: string) => (met ? chalk.green(text) : chalk.red.bold(text));
      for (const line of renderRun(run, { width: screenWidth(), painter, mark })) output.data(line);
    });
}

/** The list: name, title, about how long a full run takes, and how to run one. */
function listBenchmarksFor(output: Output, benchmarks: readonly BenchmarkEntry[]): void {
  const width = screenWidth();
  output.data('Benchmarks (run one with `netlab bench <lab>`):');
  const nameWidth = Math.max(...benchmarks.map((b) => b.name.length));
  for (const { name, title } of benchmarks) {
    const minutes = FULL_RUN_MINUTES[name];
    const rows: Span[][][] = [];
    if (title) rows.push([[{ text: name.padEnd(nameWidth) }], [{ text: title }]]);
    if (minutes !== undefined) rows.push([[{ text: title ? '' : name.padEnd(nameWidth) }], [{ text: `a full run takes about ${minutes} min` }]]);
    if (rows.length === 0) rows.push([[{ text: name }]]);
    for (const line of layoutTable(rows, { width: width - 2, rowGap: 'never' })) output.data(`  ${line}`);
  }
  const about =
    'Each compares netlab with a minimal program doing the same job (the floor), in the same run, on this machine. ' +
    'The times are rough, from runs at 7 rounds on 2 cores; a busy machine takes longer. ' +
    'Add --smoke for a run of a few seconds that checks everything works.';
  for (const line of wrapSpans([{ text: about }], width)) output.data(line.map((span) => span.text).join(''));
}

/**
 * Runs bench/run.js for `lab` to its end and resolves to its stdout; its progress goes to
 * stderr meanwhile. Ctrl+C stops it and its servers; a failure becomes one sentence.
 */
async function runBench(output: Output, lab: string, opts: BenchOptions): Promise<string> {
  const args = [lab, ...(opts.markdown ? [] : ['--json']), ...(opts.rounds === undefined ? [] : ['--rounds', String(opts.rounds)]), ...(opts.smoke ? ['--smoke'] : [])];
  output.note(`node bench/run.js ${args.join(' ')} · Ctrl+C stops it`);
  const startedMs = performance.now();
  let latest = 'starting the servers…';
  const status = output.showStatus(() => `${elapsed(performance.now() - startedMs)} · ${latest}`);
  const ticker = status ? setInterval(() => status.update(), 1000) : undefined;
  // run.js's own error lines (`bench: …`, then the server's command and stderr) come last.
  const failure: string[] = [];
  const bench = startBench(args, (line) => {
    if (failure.length > 0 || line.startsWith(FAILURE_PREFIX)) return void failure.push(line);
    // On a terminal a round's line only redraws the status; the other lines stay in the log.
    if (!(status && / · round \d+\/\d+: /.test(line))) output.note(line);
    latest = line;
    status?.update();
  });
  let interrupted = false;
  const interrupts = onInterrupt({
    graceful: () => {
      interrupted = true;
      output.note(`${process.stderr.isTTY ? '\r' : ''}stopping the benchmark and its servers… (Ctrl+C again to force)`);
      bench.stop();
    },
    force: () => {
      bench.kill();
      exitForced(output);
    },
  });
  // A closed terminal hangs netlab up, not run.js (a process group of its own): end them all.
  const hangUp = () => {
    bench.kill();
    exitForced(undefined, HANGUP_EXIT_CODE);
  };
  process.once('SIGHUP', hangUp);
  const result = await bench.exited.finally(() => {
    process.off('SIGHUP', hangUp);
    interrupts.dispose();
    clearInterval(ticker);
    status?.close();
  });
  if (interrupted) throw new NetlabError('NETLAB_ERR_BENCH_STOPPED', 'the benchmark was stopped before it finished, so there are no results.');
  if (failure.length > 0) {
    const { sentence, details } = describeFailure(lab, failure);
    for (const line of details) output.note(line);
    throw new NetlabError('NETLAB_ERR_BENCH_FAILED', sentence);
  }
  if (result.code !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
    throw new NetlabError('NETLAB_ERR_BENCH_FAILED', `bench/run.js ${how} before it finished the ${lab} benchmark.`);
  }
  return result.stdout;
}

/** `1:05`: minutes and seconds since the run started. */
function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** The terminal's columns, MIN_WIDTH to MAX_WIDTH; 80 when stdout is not a terminal. */
function screenWidth(): number {
  const columns = process.stdout.isTTY ? process.stdout.columns : undefined;
  return columns ? Math.max(MIN_WIDTH, Math.min(MAX_WIDTH, columns)) : 80;
}

/** Bold headers and dim rules on a colour terminal; 16 colours, as Output uses. */
function chalkPainter(): Painter {
  const chalk = new Chalk({ level: 1 });
  return {
    heading: (text) => chalk.bold(text),
    code: (text) => chalk.cyan(text),
    command: (text) => chalk.bold(text),
    bold: (text) => chalk.bold(text),
    emphasis: (text) => chalk.italic(text),
    dim: (text) => chalk.dim(text),
  };
}
