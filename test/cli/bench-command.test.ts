/**
 * `netlab bench [lab]`: the list, its usage errors, and real smoke runs of bench/run.js through
 * the built CLI (dist/, so `npm run build` first). A smoke run's figures mean nothing, so
 * nothing here looks at a number: only at exit codes, the table's shape, and that Ctrl+C
 * leaves no server behind.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { displayWidth } from '../../src/lessons/render-table.js';
import { STACK_FRAME, lines, runCli, startCli } from './run-cli.js';

/** A smoke run takes a couple of seconds; past this it is stuck. */
const SMOKE_GUARD_MS = 60_000;

/** The processes below `pid`, from /proc (each stat line holds its parent's pid). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // it exited while we looked
    }
  }
  const found: number[] = [];
  const visit = (parent: number) => {
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        visit(child);
      }
    }
  };
  visit(pid);
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether `pid` still runs: a zombie (dead, waiting for a parent to reap it) does not. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('netlab bench', () => {
  it('lists the benchmarks, about how long each takes, and how to run one', async () => {
    const { code, stdout, stderr } = await runCli(['bench']);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('run one with `netlab bench <lab>`');
    for (const name of ['tcp-echo', 'tcp-chat', 'udp-echo', 'ws-echo', 'ws-chat']) expect(stdout).toMatch(new RegExp(`^ {2}${name} +\\S`, 'm'));
    expect(stdout).toMatch(/^ +a full run takes about [\d.]+ min$/m);
    expect(stdout).toContain('--smoke');
  });

  it('names the benchmarks when asked for one that does not exist, and exits 2', async () => {
    const { code, stdout, stderr } = await runCli(['bench', 'udp-chat']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^error: there is no benchmark "udp-chat": the benchmarks are tcp-echo, tcp-chat, udp-echo, ws-echo, ws-chat/m);
    expect(stderr).not.toMatch(STACK_FRAME);
  });

  it.each([['0'], ['51'], ['five'], ['3.5']])('refuses --rounds %s with the accepted range, and exits 2', async (rounds) => {
    const { code, stderr } = await runCli(['bench', 'udp-echo', '--rounds', rounds]);
    expect(code).toBe(2);
    expect(stderr).toContain(`--rounds must be a whole number from 1 to 50, not "${rounds}"`);
  });

  it('refuses --json together with --markdown, and exits 2', async () => {
    const { code, stderr } = await runCli(['bench', 'udp-echo', '--json', '--markdown']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--json.+--markdown/);
  });

  it('runs udp-echo --smoke to the end: progress on stderr, then a table within 80 columns and the verdict', { timeout: SMOKE_GUARD_MS + 10_000 }, async () => {
    const { code, stdout, stderr } = await startCli(['bench', 'udp-echo', '--smoke']).waitForExit(SMOKE_GUARD_MS);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/^udp-echo · round trip · round 1\/1: /m);
    expect(stdout).toMatch(/^UDP echo: /);
    // The figure's name heads its table, beside the column headers or (many servers) above them.
    expect(stdout).toMatch(/^round trip( |$)/m);
    expect(stdout).toMatch(/ target$/m);
    expect(stdout).toMatch(/^round trip p50, µs\s+[\d,.]+ +[\d,.]+ +[\d.]+× [✓✗] /m);
    expect(stdout).toMatch(/^targets met: \d+ of \d+ · smoke run, \d+ s$/m);
    expect(stdout).toContain('(smoke run: everything works; these figures are too short to mean anything)');
    for (const line of lines(stdout)) expect(displayWidth(line), line).toBeLessThanOrEqual(80);
  });

  it('passes --rounds and --json through: bench/run.js\'s JSON as it is, after a note that 2 rounds are too few to quote', { timeout: SMOKE_GUARD_MS + 10_000 }, async () => {
    const { code, stdout, stderr } = await startCli(['bench', 'udp-echo', '--smoke', '--rounds', '2', '--json']).waitForExit(SMOKE_GUARD_MS);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('a figure needs at least 5 rounds to be quoted');
    const run = JSON.parse(stdout) as { mode: string; summaries: { name: string; rounds: number }[] };
    expect(run.mode).toBe('smoke');
    expect(run.summaries.map((s) => [s.name, s.rounds])).toEqual([['udp-echo', 2]]);
  });

  it('stops bench/run.js and every server it started on Ctrl+C, and exits 1 with one sentence', { timeout: SMOKE_GUARD_MS + 10_000 }, async () => {
    const proc = startCli(['bench', 'udp-echo', '--smoke', '--rounds', '50']);
    await proc.waitForStderr(/ · round 1\/50: /);
    const started = descendants(proc.child.pid!);
    expect(started.length, 'bench/run.js and its three servers').toBeGreaterThanOrEqual(4);
    proc.kill('SIGINT');
    const { code, stderr } = await proc.waitForExit(SMOKE_GUARD_MS);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: the benchmark was stopped before it finished, so there are no results\.$/m);
    expect(started.filter(alive), 'processes left running').toEqual([]);
  });

  it('ends bench/run.js and every server it started when the terminal hangs up (SIGHUP), and exits 129', { timeout: SMOKE_GUARD_MS + 10_000 }, async () => {
    const proc = startCli(['bench', 'udp-echo', '--smoke', '--rounds', '50']);
    await proc.waitForStderr(/ · round 1\/50: /);
    const started = descendants(proc.child.pid!);
    expect(started.length, 'bench/run.js and its three servers').toBeGreaterThanOrEqual(4);
    proc.kill('SIGHUP');
    const { code } = await proc.waitForExit(SMOKE_GUARD_MS);
    expect(code).toBe(129);
    // SIGKILL is delivered a moment later than the exit: wait for it, bounded.
    for (let i = 0; i < 100 && started.some(running); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(started.filter(running), 'processes left running').toEqual([]);
  });
});
