/**
 * The input side of every interactive client: lines the user types, or lines piped in.
 *
 * On a terminal it shows a `> ` prompt and keeps what the user is typing intact while text
 * arrives: a line printed through printAbove() clears the prompt line, prints, and redraws the
 * prompt with the half-typed text and the cursor where they were (the trick readline-based
 * chat clients use; `rl.prompt(true)` preserves the cursor).
 *
 * When stdin is not a terminal (`printf 'hi\n' | netlab tcp-echo connect`) there is no prompt
 * and no echo by the terminal, so the command prints each sent line itself as `> hi`: the
 * output of a scripted run reads exactly like an interactive session.
 */
import readline from 'node:readline';
import type { LineSink } from './output.js';

export interface PromptOptions {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  /** Called on Ctrl+C at the prompt (a terminal in raw mode sends no SIGINT of its own). */
  onInterrupt?: () => void;
  prompt?: string;
}

export class Prompt implements LineSink, AsyncIterable<string> {
  /** True when a person is typing at a terminal; false when input is piped. */
  readonly interactive: boolean;
  private readonly rl: readline.Interface;
  private readonly lines: AsyncIterator<string>;
  private closed = false;

  constructor(private readonly options: PromptOptions) {
    this.interactive = options.input.isTTY === true && options.stdout.isTTY === true;
    this.rl = readline.createInterface({
      input: options.input,
      output: this.interactive ? options.stdout : undefined,
      terminal: this.interactive,
      prompt: options.prompt ?? '> ',
      crlfDelay: Infinity,
    });
    // Created at once so no line typed before the first read is lost.
    this.lines = this.rl[Symbol.asyncIterator]();
    this.rl.on('close', () => {
      // Ctrl+D closes readline with the prompt still on screen: clear it, as close() does.
      if (this.interactive && !this.closed) this.clearLine();
      this.closed = true;
    });
    this.rl.on('SIGINT', () => options.onInterrupt?.());
  }

  /** Shows the prompt (terminal only); call when ready for the next line. */
  ready(): void {
    if (this.interactive && !this.closed) this.rl.prompt(true);
  }

  /** The lines, one at a time; ends on Ctrl+D or at the end of piped input. */
  [Symbol.asyncIterator](): AsyncIterator<string> {
    return this.lines;
  }

  /** Prints a whole line without breaking the one being typed (see the header). */
  printAbove(line: string, stream: 'stdout' | 'stderr'): void {
    const out = stream === 'stdout' ? this.options.stdout : this.options.stderr;
    if (!this.interactive || this.closed) {
      out.write(`${line}\n`);
      return;
    }
    this.clearLine();
    out.write(`${line}\n`);
    this.rl.prompt(true);
  }

  /** Stops reading input; the prompt line is cleared. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.rl.close(); // its 'close' handler clears the prompt line
  }

  private clearLine(): void {
    readline.cursorTo(this.options.stdout, 0);
    readline.clearLine(this.options.stdout, 0);
  }
}
