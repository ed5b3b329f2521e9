#!/usr/bin/env node
/**
 * netlab's benchmarks: each compares a netlab server with a minimal floor implementation of the
 * same job, in the same run, and reports the ratios (see BENCHMARKS.md for the figures and what
 * they mean). `npm run bench` builds netlab first, then runs this.
 *
 *   node bench/run.js                 every benchmark, full run (about 8 min on 2 cores)
 *   node bench/run.js tcp-chat        only the named ones (tcp-echo, tcp-chat, udp-echo, ws-echo, ws-chat,
 *                                     ws-chat-redis)
 *   node bench/run.js --smoke         a tiny run (a few seconds): checks everything works (echoes
 *                                     verified byte for byte, every chat message delivered
 *                                     exactly once), the figures mean nothing
 *   node bench/run.js --json          the summaries and every round's values as JSON on stdout
 *   node bench/run.js --rounds 9      more rounds (default 7; at least 5 for a figure to quote)
 *   node bench/run.js --calibrate     the floor against itself: ratios near 1.00 and their
 *                                     range show how noisy this machine is
 *   node bench/run.js --list          one line per benchmark: its name, a tab, its title
 *
 * Progress goes to stderr, results to stdout. Exit 0 once the run completes, targets met or
 * not (the table marks misses with ✗); 1 if a server fails to start, dies, stops answering or
 * answers wrongly.
 *
 * Leaves out: comparisons across runs or machines. Only ratios within one run mean anything.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runComparison } from './lib/compare.js';
import { formatSummary } from './lib/report.js';
import { stopAllServers } from './lib/server-process.js';

/** Every benchmark, by name; later labs add theirs here. */
const BENCHMARKS = {
  'tcp-echo': () => import('./tcp-echo.js'),
  'tcp-chat': () => import('./tcp-chat.js'),
  'udp-echo': () => import('./udp-echo.js'),
  'ws-echo': () => import('./ws-echo.js'),
  'ws-chat': () => import('./ws-chat.js'),
  'ws-chat-redis': () => import('./ws-chat-redis.js'),
};

const DEFAULT_ROUNDS = 7;

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

async function main() {
  const { values: flags, positionals: names } = parseArgs({
    allowPositionals: true,
    options: {
      smoke: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      calibrate: { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (flags.help) {
    process.stdout.write(`usage: node bench/run.js [--smoke] [--json] [--rounds N] [--calibrate] [--list] [${Object.keys(BENCHMARKS).join(' | ')} …]\n`);
    return;
  }
  if (flags.list) {
    for (const [name, load] of Object.entries(BENCHMARKS)) process.stdout.write(`${name}\t${(await load()).default.title}\n`);
    return;
  }
  const unknown = names.filter((name) => !(name in BENCHMARKS));
  if (unknown.length > 0) throw new UsageError(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
  const rounds = flags.rounds === undefined ? (flags.smoke ? 1 : DEFAULT_ROUNDS) : Number(flags.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new UsageError(`--rounds must be a whole number ≥ 1, not ${flags.rounds}`);
  if (!existsSync(join(repoRoot, 'dist', 'cli.js'))) throw new Error('dist/cli.js is missing: run `npm run build` first (`npm run bench` does).');

  const mode = flags.smoke ? 'smoke' : 'full';
  const machine = describeMachine();
  const log = (line) => process.stderr.write(`${line}\n`);
  log(`netlab bench · ${mode} · ${machine.cpus} × ${machine.cpuModel} · node ${machine.node}`);

  const started = performance.now();
  const summaries = [];
  for (const name of names.length > 0 ? names : Object.keys(BENCHMARKS)) {
    const benchmark = (await BENCHMARKS[name]()).default;
    summaries.push(await runComparison(benchmark, { mode, rounds, cwd: repoRoot, calibrate: flags.calibrate, log }));
  }
  const seconds = (performance.now() - started) / 1000;
  log(`done in ${seconds.toFixed(0)} s`);

  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ mode, calibrate: flags.calibrate, machine, seconds, summaries }, null, 2)}\n`);
  } else {
    const header = `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, node ${machine.node}`;
    const body = summaries.map(formatSummary).join('\n\n');
    const smokeNote = mode === 'smoke' ? '\n\n(smoke run: everything works; these figures are too short to mean anything)' : '';
    process.stdout.write(`${header}\n\n${body}${smokeNote}\n`);
  }
}

function describeMachine() {
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.versions.node,
  };
}

class UsageError extends Error {}

// A SIGINT or SIGTERM would end this process without its 'exit' handlers and leave its servers
// running (each is in a process group of its own): stop them, wait until they are gone, exit.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    process.stderr.write(`bench: stopped by ${signal}\n`);
    stopAllServers().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

main().catch((err) => {
  process.stderr.write(`bench: ${err.message}\n`);
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
