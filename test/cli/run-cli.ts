/**
 * Helpers for the CLI tests: they run the built binary (`node bin/netlab.js`, so `dist/` must be
 * built; `npm test` builds it first) the way a student's shell does, and collect what it prints.
 *
 * - `runCli` runs a command to completion: stdout, stderr and the exit code.
 * - `startCli` starts one that keeps running (a server, a client whose stdin stays open) and
 *   lets the test wait for what it prints.
 * - `startEchoServer` starts `netlab tcp-echo serve --port 0` and returns the port from its
 *   first stdout line, the line DESIGN.md promises scripts can parse.
 *
 * Every process gets its cleanup registered on the line after it is spawned (SIGINT, then
 * SIGKILL if it does not exit), and every wait has a hang guard that kills the process and fails
 * with what it printed. No fixed sleeps: tests wait for output and exit events.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

/** The repository root, found from this file's location (test/cli/run-cli.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The binary a student runs. */
export const NETLAB_BIN = fileURLToPath(new URL('../../bin/netlab.js', import.meta.url));

/** How long any one wait may take before the process is killed and the test fails. */
export const HANG_GUARD_MS = 10_000;

/** How long a process gets to exit after SIGINT before it is killed. */
const STOP_GRACE_MS = 3_000;

/** True on CI, where the interoperability tests must run rather than skip. */
export const ON_CI = process.env.CI === 'true';

/** package.json's version, which `netlab --version` prints. */
export const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;

/** A stack-trace frame as Node prints it: four spaces, "at". */
export const STACK_FRAME = /^ {4}at /m;

export interface RunOptions {
  /** Written to stdin, which is then closed. Without it (and without holdStdin) stdin is empty. */
  input?: string | Buffer;
  /** Keep stdin open; write with `write()` and close with `endInput()`. */
  holdStdin?: boolean;
  /** Working directory (default: the repository root). */
  cwd?: string;
  /** Extra environment; NO_COLOR=1 is always set. */
  env?: NodeJS.ProcessEnv;
  /**
   * netlab only: report whether the process ended because its event loop emptied (every
   * socket, timer and stdin listener gone) rather than by the CLI's exit grace timer, which
   * hides a leaked handle at the cost of a second's delay. See ExitResult.drained.
   */
  reportDrain?: boolean;
}

export interface ExitResult {
  /** The exit code, or null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** What the process printed on stderr (without the drain marker). */
  stderr: string;
  /** With reportDrain: true when the event loop emptied by itself before the exit. */
  drained?: boolean;
}

/**
 * Preloaded with reportDrain. Node emits 'beforeExit' only when the event loop has nothing
 * left to do, never for an explicit process.exit(), so the marker tells the two apart.
 * https://nodejs.org/api/process.html#event-beforeexit
 */
const DRAIN_MARKER = '[netlab-test] event loop drained\n';
const DRAIN_PRELOAD = `data:text/javascript,${encodeURIComponent(
  `process.once('beforeExit', () => process.stderr.write(${JSON.stringify(DRAIN_MARKER)}));`,
)}`;

/** A spawned process whose output is collected as it arrives. */
export class Spawned {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  /** Resolves once the process has exited and its stdout and stderr are closed. */
  readonly exited: Promise<ExitResult>;
  private result: ExitResult | undefined;
  /** Re-checked after every chunk of output and at exit. */
  private readonly watchers = new Set<() => void>();

  constructor(
    readonly command: string,
    readonly args: readonly string[],
    options: RunOptions = {},
  ) {
    // The locale of the machine running the tests must not choose the lessons' language.
    const base: NodeJS.ProcessEnv = { ...process.env, LANG: 'C.UTF-8' };
    for (const name of ['LC_ALL', 'LC_MESSAGES', 'LANGUAGE']) delete base[name];
    const env: NodeJS.ProcessEnv = { ...base, ...options.env, NO_COLOR: '1' };
    // The lesson runner's port remapping must not leak into these tests.
    delete env.NETLAB_PORT_MAP;
    delete env.FORCE_COLOR;
    this.child = spawn(command, args, { cwd: options.cwd ?? REPO_ROOT, env, stdio: 'pipe' });
    live.add(this.child);
    this.child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      this.stdout += text;
      this.notify();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      this.stderr += text;
      this.notify();
    });
    // A child that exits before reading all its input must not fail the test with EPIPE.
    this.child.stdin!.on('error', () => {});
    this.exited = new Promise((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.result) return;
        live.delete(this.child);
        const drained = this.stderr.includes(DRAIN_MARKER);
        this.result = { code, signal, stdout: this.stdout, stderr: this.stderr.replace(DRAIN_MARKER, '') };
        if (options.reportDrain) this.result.drained = drained;
        this.notify();
        resolve(this.result);
      };
      this.child.once('close', finish);
      // The program could not be started at all (not on PATH): an exit the test can report.
      this.child.on('error', (err) => {
        if (this.child.pid !== undefined) return; // a failed kill(); 'close' still follows
        this.stderr += `could not start ${command}: ${err.message}\n`;
        finish(null, null);
      });
    });
    if (options.input !== undefined) this.child.stdin!.end(options.input);
    else if (!options.holdStdin) this.child.stdin!.end();
  }

  /** Whether the process has exited. */
  get done(): boolean {
    return this.result !== undefined;
  }

  write(text: string | Buffer): void {
    this.child.stdin!.write(text);
  }

  /** Closes stdin: end of input, like Ctrl+D. */
  endInput(): void {
    this.child.stdin!.end();
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.done) this.child.kill(signal);
  }

  /** Waits until stdout matches `pattern`; fails if the process exits first or the hang guard fires. */
  waitForStdout(pattern: RegExp): Promise<RegExpMatchArray> {
    return this.waitFor('stdout', pattern);
  }

  /** Waits until stderr matches `pattern` (see waitForStdout). */
  waitForStderr(pattern: RegExp): Promise<RegExpMatchArray> {
    return this.waitFor('stderr', pattern);
  }

  /** Waits for the exit; after HANG_GUARD_MS kills the process and fails with what it printed. */
  async waitForExit(timeoutMs = HANG_GUARD_MS): Promise<ExitResult> {
    if (this.result) return this.result;
    await this.waitUntil(() => this.done, `to exit`, timeoutMs);
    return this.result!;
  }

  /** Ctrl+C, then SIGKILL if it has not exited within STOP_GRACE_MS. Safe to call twice. */
  async stop(): Promise<ExitResult> {
    if (this.result) return this.result;
    this.kill('SIGINT');
    const timer = setTimeout(() => this.kill('SIGKILL'), STOP_GRACE_MS);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The command and everything it printed so far, for failure messages. */
  describe(): string {
    const status = this.result ? `exited with code ${this.result.code}, signal ${this.result.signal}` : 'still running';
    const commandLine = [this.command, ...this.args].map((arg) => (arg === DRAIN_PRELOAD ? '<drain marker>' : arg)).join(' ');
    return `${commandLine} (${status})\n--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`;
  }

  private waitFor(stream: 'stdout' | 'stderr', pattern: RegExp): Promise<RegExpMatchArray> {
    let match: RegExpMatchArray | null = null;
    return this.waitUntil(
      () => (match = this[stream].match(pattern)) !== null,
      `to print ${pattern} on ${stream}`,
      HANG_GUARD_MS,
      true,
    ).then(() => match!);
  }

  private waitUntil(condition: () => boolean, what: string, timeoutMs: number, failOnExit = false): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.watchers.delete(check);
        this.kill('SIGKILL');
        reject(new Error(`hang guard: waited ${timeoutMs} ms for ${this.command} ${what}; killed it.\n${this.describe()}`));
      }, timeoutMs);
      const check = () => {
        if (condition()) {
          clearTimeout(timer);
          this.watchers.delete(check);
          resolve();
        } else if (failOnExit && this.done) {
          clearTimeout(timer);
          this.watchers.delete(check);
          reject(new Error(`expected ${this.command} ${what}, but it exited.\n${this.describe()}`));
        }
      };
      this.watchers.add(check);
      check();
    });
  }

  private notify(): void {
    for (const check of [...this.watchers]) check();
  }
}

/** Every child still running, killed if the test worker exits without its cleanup having run. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Spawns any program (nc, socat) with the same collection, cleanup and hang guard. */
export function startProcess(command: string, args: readonly string[], options: RunOptions = {}): Spawned {
  const proc = new Spawned(command, args, options);
  onTestFinished(() => proc.stop().then(() => undefined));
  return proc;
}

/** Starts `netlab ARGS…` and returns at once; it is stopped when the test finishes. */
export function startCli(args: readonly string[], options: RunOptions = {}): Spawned {
  const preload = options.reportDrain ? ['--import', DRAIN_PRELOAD] : [];
  const proc = new Spawned(process.execPath, [...preload, NETLAB_BIN, ...args], options);
  onTestFinished(() => proc.stop().then(() => undefined));
  return proc;
}

/** Runs `netlab ARGS…` to completion: its exit code, stdout and stderr. */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<ExitResult> {
  return startCli(args, options).waitForExit();
}

/** Runs any program to completion (see runCli). */
export function runProcess(command: string, args: readonly string[], options: RunOptions = {}): Promise<ExitResult> {
  return startProcess(command, args, options).waitForExit();
}

/** A running `netlab tcp-echo serve` and the port its first line announced. */
export interface RunningServer {
  port: number;
  proc: Spawned;
}

const LISTENING_LINE = /^tcp-echo server listening on 127\.0\.0\.1:(\d+)$/;

/**
 * Starts `netlab tcp-echo serve --port PORT EXTRA…` (PORT 0 by default) and resolves once its
 * first stdout line says where it listens. Stopped with SIGINT when the test finishes.
 */
export async function startEchoServer(extraArgs: readonly string[] = [], port = 0, options: RunOptions = {}): Promise<RunningServer> {
  const proc = startCli(['tcp-echo', 'serve', '--port', String(port), ...extraArgs], options);
  const [firstLine = ''] = await proc.waitForStdout(/^.*\n/);
  const match = LISTENING_LINE.exec(firstLine.trimEnd());
  if (!match) throw new Error(`the server's first stdout line is not the listening line.\n${proc.describe()}`);
  return { port: Number(match[1]), proc };
}

export { freePort } from '../support/free-port.js';

/** Connects a raw node:net socket to 127.0.0.1:port; destroyed when the test finishes. */
export async function connectRaw(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port });
  onTestFinished(() => {
    socket.destroy();
  });
  socket.on('error', () => {}); // a reset after the test is done with it is not a failure
  await once(socket, 'connect');
  return socket;
}

/** Whether a program is on PATH. */
export function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** The lines of a text, without the empty string after a final newline. */
export function lines(text: string): string[] {
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  return all;
}
