/**
 * The benchmarks' smoke run, `node bench/run.js --smoke`, as CI runs it: every benchmark starts
 * its servers, drives its loads and checks what came back (echoes byte for byte, every chat
 * message delivered exactly once), in a few seconds. This keeps bench/ from rotting while src/
 * changes under it; the figures of a smoke run mean nothing and are not looked at.
 *
 * Like the CLI tests, it runs built code (`dist/`; `npm test` builds first). The benchmark
 * names come from `bench/run.js --help`, so a benchmark added there is covered here.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RUN_JS = fileURLToPath(new URL('../../bench/run.js', import.meta.url));

/** The smoke run takes a few seconds; past this it is stuck, and is killed. */
const HANG_GUARD_MS = 60_000;

interface BenchResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The benchmark names in the usage line: `[--smoke] … [tcp-echo | tcp-chat …]`. */
function benchmarkNames(): string[] {
  const help = spawnSync(process.execPath, [RUN_JS, '--help'], { cwd: REPO_ROOT, encoding: 'utf8' });
  expect(help.status, help.stderr).toBe(0);
  const list = /\[([\w-]+(?: \| [\w-]+)*) …\]/.exec(help.stdout);
  expect(list, `no benchmark list in: ${help.stdout}`).not.toBeNull();
  return list![1]!.split(' | ');
}

/**
 * Runs bench/run.js with `args` to its exit. It runs in its own process group, so that the hang
 * guard and the cleanup also end the servers it started, not only the bench process itself.
 */
function runBench(args: readonly string[]): Promise<BenchResult> {
  const child = spawn(process.execPath, [RUN_JS, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const killGroup = () => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is already gone
    }
  };
  onTestFinished(killGroup);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => {
      killGroup();
      reject(new Error(`bench/run.js ${args.join(' ')} did not finish within ${HANG_GUARD_MS / 1000} s.\nstderr:\n${stderr}`));
    }, HANG_GUARD_MS);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('bench/run.js --smoke', () => {
  it('runs every benchmark to the end, with each one in its progress and a table for each, and exits 0', { timeout: HANG_GUARD_MS + 10_000 }, async () => {
    const names = benchmarkNames();
    expect(names).toEqual(expect.arrayContaining(['tcp-echo', 'tcp-chat']));

    const { code, signal, stdout, stderr } = await runBench(['--smoke']);
    expect({ code, signal }, stderr).toEqual({ code: 0, signal: null });
    for (const name of names) expect(stderr, `${name} is missing from the progress`).toMatch(new RegExp(`^${name} · .+ · round 1/1: `, 'm'));
    expect(stdout.match(/^\| figure /gm), stdout).toHaveLength(names.length);
    expect(stdout).toContain('(smoke run: everything works; these figures are too short to mean anything)');
  });
});
