/**
 * bench/run.js as a child process, for `netlab bench` (bench-command.ts): where it is, which
 * benchmarks it has, and one run of it with its progress as it comes.
 *
 * bench/ ships beside dist/ in the package, as lessons/ and pages/ do, so it is found from this
 * file's place (dist/bench/ → two levels up), not from the working directory. It runs with the
 * node that runs netlab (`process.execPath`), so a student with several node versions measures
 * the one netlab uses.
 *
 * run.js runs in a process group of its own (`detached`), so that stop() reaches it whatever
 * sent netlab its Ctrl+C: a terminal signals only its own foreground group, and a `kill -INT`
 * only netlab. run.js then exits, and its exit handler kills the servers it started, each in a
 * group of its own (bench/lib/server-process.js). A SIGKILL runs no exit handler, so kill()
 * first kills those servers' groups by the pids of run.js's children, then run.js's group.
 *
 * Leaves out: Windows (process groups, and /proc which the bench reads, are Linux's).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The package root: dist/bench/bench-process.js → ../../. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The benchmarks' entry point. */
export const RUN_JS = fileURLToPath(new URL('../../bench/run.js', import.meta.url));

/** After a Ctrl+C, how long run.js and its servers get to stop before they are killed. */
export const STOP_GRACE_MS = 5_000;

/** A benchmark bench/run.js knows, and its title when run.js says it (--list). */
export interface BenchmarkEntry {
  name: string;
  title?: string;
}

/** Whether bench/ is part of this installation. */
export function benchInstalled(): boolean {
  return existsSync(RUN_JS);
}

/**
 * The benchmarks, in run.js's order: `run.js --list` (a line `name<TAB>title` each), or, from a
 * run.js without --list, the names in its usage line: `[--smoke] … [tcp-echo | tcp-chat …]`.
 * Throws when neither answers.
 */
export function listBenchmarks(): BenchmarkEntry[] {
  const list = spawnSync(process.execPath, [RUN_JS, '--list'], { cwd: PACKAGE_ROOT, encoding: 'utf8' });
  if (list.status === 0 && list.stdout.trim() !== '') {
    return list.stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const [name = '', ...title] = line.split('\t');
        return title.length > 0 ? { name: name.trim(), title: title.join('\t').trim() } : { name: name.trim() };
      });
  }
  const help = spawnSync(process.execPath, [RUN_JS, '--help'], { cwd: PACKAGE_ROOT, encoding: 'utf8' });
  const names = /\[([\w-]+(?: \| [\w-]+)*) …\]/.exec(help.stdout ?? '');
  if (help.status !== 0 || !names) throw new Error(`bench/run.js lists no benchmarks: ${(help.stderr || help.stdout || '').trim()}`);
  return names[1]!.split(' | ').map((name) => ({ name }));
}

/** run.js reports a failure on stderr as `bench: <message>`, then lines of detail. */
export const FAILURE_PREFIX = 'bench: ';

/**
 * The failure in run.js's last stderr lines (from the `bench: ` line on) as one sentence for
 * netlab's `error:` line, and the details (the server's command line and stderr) to show above.
 */
export function describeFailure(lab: string, lines: readonly string[]): { sentence: string; details: string[] } {
  const [first = '', ...details] = lines;
  const message = (first.startsWith(FAILURE_PREFIX) ? first.slice(FAILURE_PREFIX.length) : first).trim();
  const sentence = `the ${lab} benchmark failed: ${message || 'bench/run.js gave no reason'}`;
  // Every error netlab prints is a sentence with its full stop.
  return { sentence: /[.!?]$/.test(sentence) ? sentence : `${sentence}.`, details: details.filter((line) => line.trim() !== '') };
}

/** How a run of run.js ended: its exit code or signal, and all of its stdout. */
export interface BenchExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
}

/** A running `node bench/run.js …`. */
export interface BenchProcess {
  /** Resolves once run.js has exited and no process of its group is left. */
  readonly exited: Promise<BenchExit>;
  /** Ctrl+C for run.js and its servers; SIGKILL for all of them after STOP_GRACE_MS. */
  stop(): void;
  /** SIGKILL for run.js and its servers, now. */
  kill(): void;
}

/**
 * Starts `node bench/run.js ARGS…`. Every line it prints on stderr (its progress) is handed to
 * `onLine` as it arrives; stdout (the results) is kept for `exited`.
 */
export function startBench(args: readonly string[], onLine: (line: string) => void): BenchProcess {
  const child = spawn(process.execPath, [RUN_JS, ...args], { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const group = child.pid;
  const signalGroup = (signal: NodeJS.Signals) => {
    if (group === undefined) return;
    try {
      process.kill(-group, signal);
    } catch {
      // the group is gone already
    }
  };
  // SIGKILL for the servers' groups, then for run.js's: run.js dies without killing them.
  const killAll = () => {
    for (const server of childrenOf(group)) {
      try {
        process.kill(-server, 'SIGKILL');
      } catch {
        // that server is gone already
      }
    }
    signalGroup('SIGKILL');
  };
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  let partial = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    for (const line of lines) onLine(line);
  });
  let killTimer: NodeJS.Timeout | undefined;
  const exited = new Promise<BenchExit>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (partial !== '') onLine(partial);
      // run.js is gone; a server it started may still be stopping (netlab's close cleanly on
      // SIGINT). Wait for the group to empty, killing it once the grace is over.
      killTimer ??= setTimeout(killAll, STOP_GRACE_MS);
      void groupGone(group).then(() => {
        clearTimeout(killTimer);
        resolve({ code, signal, stdout });
      });
    });
  });
  return {
    exited,
    stop() {
      signalGroup('SIGINT');
      killTimer ??= setTimeout(killAll, STOP_GRACE_MS);
    },
    kill: killAll,
  };
}

/** The live children of `pid`, from every thread's /proc/PID/task/TID/children (Linux). */
function childrenOf(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').split(' ').filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/** Polls until no process is left in the group (signal 0 tests without sending anything). */
async function groupGone(group: number | undefined): Promise<void> {
  const POLL_MS = 50;
  const alive = () => {
    if (group === undefined) return false;
    try {
      process.kill(-group, 0);
      return true;
    } catch {
      return false;
    }
  };
  while (alive()) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
}
