/**
 * One terminal of a lesson, as the runner plays it: a shell that runs one command at a time,
 * what that command prints, and the keys a student presses (typed lines, Ctrl+C, Ctrl+D).
 *
 * A command runs as `sh -c`, spawned detached so that it leads its own process group, like a
 * terminal's foreground job: ^C reaches every process of a pipeline, and cleanup can kill the
 * whole group. Its stdout and stderr are one pipe (`exec 2>&1`), as on a terminal, so the
 * lines arrive in the order they were written; the stderr pipe only catches what the shell
 * might say before that.
 *
 * Every wait is a hang guard, not a timing threshold: a correct lesson never comes near it.
 * Failures throw Errors whose message describes the terminal; the runner adds file and line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { LineSplitter, findLine } from './output-matcher.js';

/**
 * Process groups still running, killed if this process exits before the runner's own cleanup
 * could run (a crashed worker). Detached groups get no signal when their parent dies.
 */
const liveGroups = new Set<number>();
process.once('exit', () => liveGroups.forEach((pid) => signalGroup(pid, 'SIGKILL')));

/** How many printed lines an error message shows, at most. */
const MAX_LINES_SHOWN = 15;

// `trap : INT` keeps the shell itself alive on ^C, as an interactive shell is: the command
// gets the signal and the shell reports the command's own exit status (130 if it died of it,
// 0 if it caught it and finished cleanly). Trapped signals are reset to default in children.
const SHELL_PRELUDE = 'trap : INT\nexec 2>&1\n';

export interface TerminalOptions {
  /** The N of `terminal=N`, for messages. */
  number: number;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Hang guard for every wait. */
  timeoutMs: number;
  /** Called with each command's process group id right after it is spawned. */
  onSpawn?: (pid: number) => void;
}

/** The command currently (or last) run in a terminal. */
interface Job {
  command: string;
  /** The lesson line that started it. */
  line: number;
  child: ChildProcess;
  /** Non-blank lines printed so far; `cursor` is the first one no expectation has matched. */
  lines: string[];
  cursor: number;
  /** After a `…` line: the next expectation may skip lines. */
  skipping: boolean;
  /** Exit status, once the process has exited and its output is drained. */
  status: number | undefined;
  /** The lesson line that pressed ^C or ^D, if any. */
  endedAt: number | undefined;
  /** Whether its unmatched output has been checked after it exited. */
  checked: boolean;
  wake: Set<() => void>;
}

export class Terminal {
  private job: Job | undefined;
  /** What `echo $?` prints when no command has run since the last one. */
  private lastStatus = 0;

  constructor(private readonly options: TerminalOptions) {}

  /** `$ CMD`: waits for the previous command to exit, then starts this one. */
  async run(command: string, line: number): Promise<void> {
    await this.finish('before starting the next command');
    const child = spawn('sh', ['-c', SHELL_PRELUDE + command], {
      cwd: this.options.cwd,
      env: this.options.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const job: Job = {
      command,
      line,
      child,
      lines: [],
      cursor: 0,
      skipping: false,
      status: undefined,
      endedAt: undefined,
      checked: false,
      wake: new Set(),
    };
    this.job = job;
    if (child.pid !== undefined) {
      liveGroups.add(child.pid);
      this.options.onSpawn?.(child.pid);
    }

    const changed = () => job.wake.forEach((wake) => wake());
    const splitters = [child.stdout!, child.stderr!].map((stream) => {
      const splitter = new LineSplitter((printed) => {
        job.lines.push(printed);
        changed();
      });
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => splitter.push(text));
      return splitter;
    });
    // A command that exits without reading its input makes our writes fail with EPIPE; the
    // lesson then fails on the output that never came, which says more than EPIPE would.
    child.stdin!.on('error', () => {});
    child.on('error', (err) => {
      job.lines.push(`(the runner could not start sh: ${err.message})`);
      job.status = 127;
      changed();
    });
    child.on('close', (code, signal) => {
      if (child.pid !== undefined) liveGroups.delete(child.pid);
      splitters.forEach((splitter) => splitter.end());
      job.status = code ?? 128 + (signal ? constants.signals[signal] : 0);
      changed();
    });
  }

  /** `> TEXT` or `TEXT ⏎`: the user types a line. */
  type(text: string): void {
    const job = this.running('type into');
    if (job.child.stdin!.writableEnded) throw new Error(`terminal ${this.options.number}'s input was already ended with ^D.`);
    job.child.stdin!.write(`${text}\n`);
  }

  /** `^C`: SIGINT to the command's process group. A command that has already exited ignores it. */
  interrupt(line: number): void {
    const job = this.running('press ^C in');
    job.endedAt = line;
    if (job.status === undefined) signalGroup(job.child.pid, 'SIGINT');
  }

  /** `^D`: the end of the command's input. */
  endInput(line: number): void {
    const job = this.running('press ^D in');
    job.endedAt = line;
    job.child.stdin!.end();
  }

  /** A line that is exactly `…`: the next expectation may skip lines. */
  skip(): void {
    this.running('skip output of').skipping = true;
  }

  /**
   * Waits for the next printed line to match `pattern` (already port-mapped); `shown` is the
   * lesson's own text, for the message when it does not.
   */
  async expect(pattern: string, shown: string): Promise<void> {
    const job = this.running('expect output from');
    let search = findLine(pattern, job.lines, job.cursor, job.skipping);
    await this.waitFor(job, () => {
      search = findLine(pattern, job.lines, job.cursor, job.skipping);
      return search.kind !== 'not-yet' || job.status !== undefined;
    });
    if (search.kind === 'found') {
      job.cursor = search.index + 1;
      job.skipping = false;
      return;
    }
    const problem =
      search.kind === 'different'
        ? 'printed a different line'
        : job.status !== undefined
          ? `ended (exit status ${job.status}) without printing the expected line`
          : `did not print the expected line within ${this.options.timeoutMs / 1000} s`;
    throw new Error(
      [
        `terminal ${this.options.number} ${problem}.`,
        `  expected: ${shown}`,
        ...this.printedSinceLastMatch(job),
        `  (terminal ${this.options.number} runs \`${job.command}\`, started on line ${job.line})`,
      ].join('\n'),
    );
  }

  /** `$ echo $?`: waits for the command to exit and returns its status, as a shell would. */
  async exitStatus(): Promise<number> {
    await this.finish('before `echo $?`');
    const status = this.lastStatus;
    this.lastStatus = 0; // the status of `echo` itself, for a second `echo $?`
    return status;
  }

  /** The lesson line of the ^C or ^D that ended the current command, if one did. */
  get endedAt(): number | undefined {
    return this.job?.endedAt;
  }

  /**
   * At the end of the lesson: a command the lesson ended with ^C or ^D must exit, having
   * printed no more than the lesson shows. Commands left running are not checked.
   */
  async settle(): Promise<void> {
    if (this.job?.endedAt !== undefined) await this.finish('after it was ended');
  }

  /**
   * Ends whatever still runs: SIGINT to its process group, then SIGKILL after `graceMs`.
   * Never throws; safe to call twice.
   */
  async stop(graceMs: number): Promise<void> {
    const job = this.job;
    if (!job || job.status !== undefined) return;
    signalGroup(job.child.pid, 'SIGINT');
    if (await this.waitFor(job, () => job.status !== undefined, graceMs)) return;
    signalGroup(job.child.pid, 'SIGKILL');
    await this.waitFor(job, () => job.status !== undefined, graceMs);
  }

  /**
   * Waits for the current command to exit (hang guard), then checks that it printed nothing
   * the lesson does not show. A no-op once done for this command.
   */
  private async finish(when: string): Promise<void> {
    const job = this.job;
    if (!job || job.checked) return;
    if (!(await this.waitFor(job, () => job.status !== undefined))) {
      throw new Error(
        `terminal ${this.options.number} still runs \`${job.command}\` (line ${job.line}) after ` +
          `${this.options.timeoutMs / 1000} s ${when}: end it with ^C or ^D, or show what it waits for.`,
      );
    }
    job.checked = true;
    this.lastStatus = job.status!;
    if (job.cursor < job.lines.length && !job.skipping) {
      throw new Error(
        [
          `terminal ${this.options.number}'s \`${job.command}\` (line ${job.line}) printed lines the lesson does not show:`,
          ...this.printedSinceLastMatch(job).slice(1),
          '  (to leave them out on purpose, end the block with a line that is just `…`)',
        ].join('\n'),
      );
    }
  }

  private running(what: string): Job {
    if (!this.job || this.job.checked) throw new Error(`there is no command to ${what} in terminal ${this.options.number}.`);
    return this.job;
  }

  private printedSinceLastMatch(job: Job): string[] {
    const printed = job.lines.slice(job.cursor);
    if (printed.length === 0) return ['  printed since its last match: nothing'];
    const shown = printed.slice(0, MAX_LINES_SHOWN).map((line) => `    ${line}`);
    const more = printed.length > MAX_LINES_SHOWN ? [`    … and ${printed.length - MAX_LINES_SHOWN} more lines`] : [];
    return ['  printed since its last match:', ...shown, ...more];
  }

  /** Resolves true once `done()` holds, false after the timeout. Re-checked on every change. */
  private waitFor(job: Job, done: () => boolean, timeoutMs = this.options.timeoutMs): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!done()) return;
        finish(true);
      };
      const finish = (result: boolean) => {
        clearTimeout(timer);
        job.wake.delete(check);
        resolve(result);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      job.wake.add(check);
    });
  }
}

/** kill(-pid): the whole process group. It may be gone already; that is fine. */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: every process of the group has exited.
  }
}
