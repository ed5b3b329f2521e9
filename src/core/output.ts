/**
 * The one place netlab prints (STYLE.md habit 11): every lab's commands hand their lines to an
 * Output, so a student learns one pattern for the whole course:
 *
 *   - data (what a server logs, what a client receives) goes to stdout, diagnostics to stderr;
 *   - received text is marked `<`, sent text `>`;
 *   - a line about one peer starts with its address in brackets: `[127.0.0.1:53422] connected`;
 *   - in a demo, where several roles share one terminal, each line starts with its role tag;
 *   - colours only on a terminal, never with NO_COLOR or --no-color.
 *
 * While an interactive prompt is active, every line goes through it so that arriving text is
 * printed above what the user is typing instead of through the middle of it (see prompt.ts).
 *
 * stdout lines are batched: those printed in one event-loop turn go out in one write after it
 * (setImmediate), so a server that logs every message makes one system call per turn, not one
 * per line. While lines keep coming, writes are also spaced at least FLUSH_INTERVAL_MS apart:
 * a UDP echo logs one line per datagram, often one datagram per turn, and a write per line
 * cost it a quarter of its datagram rate (BENCHMARKS.md, udp-echo). A line for stderr first
 * flushes the batch, so the two streams stay in order.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import { StatusLine } from './status-line.js';

/** Where Output writes; process.stdout/stderr in the CLI, collectors in tests. */
export interface OutputStreams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface OutputOptions {
  /** false for --no-color; undefined means "decide from the streams and the environment". */
  color?: boolean;
  /** --verbose: debug lines and stack traces. */
  verbose?: boolean;
  /** The environment to read NO_COLOR / FORCE_COLOR from. */
  env?: NodeJS.ProcessEnv;
}

/** Something that can print a line without disturbing a half-typed input line. */
export interface LineSink {
  printAbove(line: string, stream: 'stdout' | 'stderr'): void;
}

/** https://no-color.org: any non-empty NO_COLOR turns colour off. */
export function colorWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv, flag?: boolean): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return flag === true || stream.isTTY === true;
}

/**
 * The shortest time between two stdout writes while lines keep coming: far below what a reader
 * notices. Measured on udp-echo (BENCHMARKS.md): 1 and 3 ms save the same CPU as 10 ms, but
 * 10 ms makes each write big enough to double the round trip's p99.
 */
export const FLUSH_INTERVAL_MS = 3;

// A fixed palette for role tags and names, chosen to read on dark and light projectors.
const TAG_COLORS = ['cyan', 'magenta', 'green', 'yellow', 'blue'] as const;

export class Output {
  /** Every Output made in this process, so that an error printed by main() comes after them. */
  private static readonly all = new Set<Output>();

  /** Writes what every Output still holds for stdout (see the header: lines wait for their turn). */
  static flushAll(): void {
    for (const output of Output.all) output.flush();
  }

  readonly color: boolean;
  readonly verbose: boolean;
  private readonly paint: ChalkInstance;
  private sink: LineSink | undefined;
  /** stdout lines of this event-loop turn, written together by flush(). */
  private batch: string[] = [];
  private lastFlushMs = -Infinity;
  private readonly flushBatch = () => this.flush();

  constructor(
    private readonly streams: OutputStreams,
    options: OutputOptions = {},
  ) {
    this.color = colorWanted(streams.stdout, options.env ?? process.env, options.color);
    this.verbose = options.verbose ?? false;
    this.paint = new Chalk({ level: this.color ? 1 : 0 });
    Output.all.add(this);
  }

  /** Route lines through an interactive prompt while it is active; undefined to stop. */
  attach(sink: LineSink | undefined): void {
    this.flush();
    this.sink = sink;
  }

  /**
   * A live status line under the log (status-line.ts), showing what `render` returns; only
   * when stdout and stderr are terminals, else undefined. Call update() when its numbers change
   * and close() before the last lines.
   */
  showStatus(render: () => string): { update(): void; close(): void } | undefined {
    if (!StatusLine.possible(this.streams) || this.sink) return undefined;
    this.flush(); // what waits for this turn goes above the status, not after it
    const stderr = this.streams.stderr as { columns?: number };
    // A terminal may report 0 columns (not yet sized): then 80, as everywhere else.
    const status = new StatusLine(this.streams, () => this.paint.inverse(` ${render()} `), () => stderr.columns || 80);
    this.attach(status);
    // A forced exit (a second Ctrl+C) must not leave the status on the line the shell prompts on.
    const clearOnExit = () => status.close();
    process.once('exit', clearOnExit);
    return {
      update: () => status.update(),
      close: () => {
        process.off('exit', clearOnExit);
        if (this.sink === status) this.attach(undefined);
        status.close();
      },
    };
  }

  /** Writes the stdout lines waiting for the end of this event-loop turn, now. */
  flush(): void {
    if (this.batch.length === 0) return;
    const text = `${this.batch.join('\n')}\n`;
    this.batch = [];
    this.lastFlushMs = performance.now();
    this.streams.stdout.write(text);
  }

  /** A line of data on stdout, as it is. */
  data(line: string, tag?: string): void {
    this.write('stdout', this.tagged(tag, line));
  }

  /** Text that arrived from the peer: `< text`. */
  received(text: string, tag?: string): void {
    this.write('stdout', this.tagged(tag, `${this.paint.green('<')} ${text}`));
  }

  /** Text this side sent: `> text`. */
  sent(text: string, tag?: string): void {
    this.write('stdout', this.tagged(tag, `${this.paint.blue('>')} ${text}`));
  }

  /** A server's log line about one peer: `[127.0.0.1:53422] connected`. */
  peer(address: string, text: string, tag?: string): void {
    this.write('stdout', this.tagged(tag, `${this.paint.dim(`[${address}]`)} ${text}`));
  }

  /** A log line on stdout that belongs to no peer (a server starting or stopping). */
  event(text: string, tag?: string): void {
    this.write('stdout', this.tagged(tag, text));
  }

  /** A diagnostic for the person at the keyboard: stderr, dimmed. */
  note(text: string, tag?: string): void {
    this.write('stderr', this.tagged(tag, this.paint.dim(text)));
  }

  /** Something the user should act on: stderr, `warning:` in yellow. */
  warn(text: string): void {
    this.write('stderr', `${this.paint.yellow('warning:')} ${text}`);
  }

  /** A failure: one sentence, then an optional hint, on stderr. */
  error(sentence: string, hint?: string): void {
    this.write('stderr', `${this.paint.red.bold('error:')} ${sentence}`);
    if (hint) this.write('stderr', `${this.paint.yellow('hint:')} ${hint}`);
  }

  /** A --trace event (src/core/trace.ts): its lines on stderr, in one write. */
  trace(lines: readonly string[]): void {
    // One printAbove for the whole event: the prompt is cleared and redrawn once, not per line.
    if (this.sink) return this.sink.printAbove(lines.join('\n'), 'stderr');
    this.flush();
    this.streams.stderr.write(`${lines.join('\n')}\n`);
  }

  /**
   * A checklist line on stdout (`netlab check`): `✓ text` in green for a pass, `✗ text` in red
   * for a fail, `- text` dimmed for a step that did not run.
   */
  verdict(outcome: 'pass' | 'fail' | 'skipped', text: string): void {
    const mark = outcome === 'pass' ? this.paint.green('✓') : outcome === 'fail' ? this.paint.red.bold('✗') : this.paint.dim('-');
    this.write('stdout', `${mark} ${outcome === 'skipped' ? this.paint.dim(text) : text}`);
  }

  /** Only with --verbose: stack traces and internals. */
  debug(text: string): void {
    if (this.verbose) this.write('stderr', this.paint.gray(text));
  }

  /** A role or name in a stable colour, the same one every time it appears. */
  name(text: string): string {
    if (!this.color) return text;
    let hash = 0;
    for (let i = 0; i < text.length; i++) hash = (hash * 31 + text.charCodeAt(i)) >>> 0;
    return this.paint[TAG_COLORS[hash % TAG_COLORS.length]!](text);
  }

  private tagged(tag: string | undefined, text: string): string {
    // In a demo the roles share one terminal: `server │ …` and `client │ …`, padded to align.
    return tag === undefined ? text : `${this.name(tag.padEnd(6))} ${this.paint.dim('│')} ${text}`;
  }

  private write(stream: 'stdout' | 'stderr', line: string): void {
    if (this.sink) {
      this.sink.printAbove(line, stream);
    } else if (stream === 'stderr') {
      this.flush();
      this.streams.stderr.write(`${line}\n`);
    } else if (this.batch.push(line) === 1) {
      // The first line of a batch: write it after this turn, or once the interval is over.
      const waitMs = this.lastFlushMs + FLUSH_INTERVAL_MS - performance.now();
      if (waitMs > 0) setTimeout(this.flushBatch, waitMs);
      else setImmediate(this.flushBatch);
    }
  }
}
