/**
 * The lesson format (lessons/README.md): a lesson is Markdown whose `console terminal=N`
 * blocks are terminal sessions, run by the test suite against the real CLI.
 *
 * This file only reads text. It finds the title (`# `), the steps (`## ` headings) and the
 * sessions, and turns every session line into an action: run a command, type a line, expect an
 * output line, press Ctrl+C… It starts no process and matches no output: the runner in
 * test/lessons/ does that, and a lesson viewer can render steps from the same structure.
 */

/** A lesson as written: its title, its steps and its terminal sessions in document order. */
export interface Lesson {
  /** The text of the `# ` line. */
  title: string;
  steps: Step[];
  sessions: Session[];
}

/** A `## ` heading and the lines it covers, up to the next `## ` or the end (1-based, inclusive). */
export interface Step {
  title: string;
  line: number;
  endLine: number;
}

/** One ```console terminal=N block. */
export interface Session {
  terminal: number;
  /** The opening and closing fence lines (1-based). */
  line: number;
  endLine: number;
  /** Index into Lesson.steps, or undefined for a block before the first `## `. */
  step: number | undefined;
  actions: Action[];
}

/** What one line of a session asks for; `line` is its 1-based line in the lesson. */
export type Action =
  /** `$ CMD`: start CMD in this terminal. */
  | { kind: 'run'; line: number; command: string }
  /**
   * `> TEXT` (echo true: a netlab client prints the line back as `> TEXT`) or `TEXT ⏎`
   * (echo false: the program prints nothing for it, like nc): write TEXT and a newline to stdin.
   */
  | { kind: 'type'; line: number; text: string; echo: boolean }
  /** Any other line: the next line the terminal prints must match; `…` matches any text. */
  | { kind: 'expect'; line: number; pattern: string }
  /** A line that is exactly `…`: zero or more lines the lesson leaves out. */
  | { kind: 'skip'; line: number }
  /** `^C`: SIGINT to the terminal's foreground process group. */
  | { kind: 'interrupt'; line: number }
  /** `^D`: end of the command's input. */
  | { kind: 'end-input'; line: number }
  /** `$ echo $?` and the number under it: the previous command's exit status. */
  | { kind: 'exit-status'; line: number; status: number };

/** A lesson that breaks the format; `line` is 1-based and is part of the message. */
export class LessonFormatError extends Error {
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(`line ${line}: ${detail}`);
    this.name = 'LessonFormatError';
  }
}

/** U+23CE, ending a line the user types that the program does not print back. */
export const TYPED_MARK = '⏎';
/** U+2026: inside a line, any text; alone on a line, any number of lines. */
export const ELLIPSIS = '…';
/** The command the runner answers itself, with the previous command's exit status. */
export const EXIT_STATUS_COMMAND = 'echo $?';

const FENCE = /^(\s*)(`{3,}|~{3,})(.*)$/;
const TERMINAL_ATTRIBUTE = /^terminal=([1-9][0-9]*)$/;

/**
 * Parses a lesson. Throws LessonFormatError for a missing title, a ```console block without
 * `terminal=N`, a fence that is never closed, `$ echo $?` without a status under it, or a
 * block that continues a terminal where nothing was started yet.
 */
export function parseLesson(source: string): Lesson {
  const lines = source.split(/\r?\n/);
  let title: string | undefined;
  const steps: Step[] = [];
  const sessions: Session[] = [];
  // Per terminal, its latest command: `> TEXT` is typed only if the shell does not feed its stdin.
  const lastCommand = new Map<number, string>();

  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const fence = FENCE.exec(text);
    if (fence) {
      const [, indent = '', marker = '', info = ''] = fence;
      // CommonMark: a backtick fence's info string may not contain a backtick (it is inline code).
      if (!(marker.startsWith('`') && info.includes('`'))) {
        const end = closingFence(lines, i + 1, marker);
        // GitHub would show the rest of the file as code, and a session inside it would never run.
        if (end === undefined) throw new LessonFormatError(i + 1, `this ${marker} block is never closed.`);
        const words = info.trim().split(/\s+/);
        if (words[0] === 'console') {
          const terminal = terminalOf(words.slice(1), i + 1);
          const body = lines.slice(i + 1, end).map((line) => stripIndent(line, indent.length));
          const actions = parseSession(body, i + 2, terminal, lastCommand);
          sessions.push({ terminal, line: i + 1, endLine: end + 1, step: lastIndex(steps), actions });
        }
        i = end;
        continue;
      }
    }
    if (text.startsWith('# ') && title === undefined) title = text.slice(2).trim();
    if (text.startsWith('## ')) {
      const previous = steps[steps.length - 1];
      if (previous) previous.endLine = i;
      steps.push({ title: text.slice(3).trim(), line: i + 1, endLine: lines.length });
    }
  }
  if (title === undefined) throw new LessonFormatError(1, 'a lesson needs a `# Title` line.');
  return { title, steps, sessions };
}

/** The index of the line that closes a fence opened with `marker`, or undefined. */
function closingFence(lines: string[], from: number, marker: string): number | undefined {
  for (let i = from; i < lines.length; i++) {
    const close = /^\s*(`{3,}|~{3,})\s*$/.exec(lines[i]!);
    if (close && close[1]![0] === marker[0] && close[1]!.length >= marker.length) return i;
  }
  return undefined;
}

function terminalOf(attributes: string[], line: number): number {
  const number = attributes.length === 1 ? TERMINAL_ATTRIBUTE.exec(attributes[0]!)?.[1] : undefined;
  if (number !== undefined) return Number(number);
  const problem =
    attributes.length === 0
      ? 'a ```console block is a terminal session and needs `terminal=N`'
      : 'a ```console block takes one attribute, `terminal=N` (N = 1, 2…), not `' + attributes.join(' ') + '`';
  throw new LessonFormatError(line, problem + '; use ```text for output that is not run.');
}

/** Removes up to `width` leading spaces, the fence's own indentation (as CommonMark does). */
function stripIndent(line: string, width: number): string {
  let cut = 0;
  while (cut < width && line[cut] === ' ') cut++;
  return line.slice(cut);
}

function parseSession(body: string[], firstLine: number, terminal: number, lastCommand: Map<number, string>): Action[] {
  const actions: Action[] = [];
  for (let k = 0; k < body.length; k++) {
    const text = body[k]!.trimEnd();
    const line = firstLine + k;
    if (text.trim() === '') continue;

    if (text === '$' || text.startsWith('$ ')) {
      const command = text.slice(1).trim();
      if (command === '') throw new LessonFormatError(line, 'a `$` line needs a command after it.');
      if (command === EXIT_STATUS_COMMAND) {
        const next = body.findIndex((candidate, j) => j > k && candidate.trim() !== '');
        const status = next === -1 ? '' : body[next]!.trim();
        if (!/^[0-9]{1,3}$/.test(status)) {
          throw new LessonFormatError(line, '`$ echo $?` must be followed by the exit status it prints, such as 0.');
        }
        actions.push({ kind: 'exit-status', line, status: Number(status) });
        k = next;
        continue;
      }
      lastCommand.set(terminal, command);
      actions.push({ kind: 'run', line, command });
      continue;
    }

    const command = lastCommand.get(terminal);
    if (command === undefined) {
      throw new LessonFormatError(
        line,
        `terminal ${terminal} has no command yet: its first block must start with a \`$\` line.`,
      );
    }
    actions.push(sessionLine(text, line, command));
  }
  return actions;
}

function sessionLine(text: string, line: number, command: string): Action {
  if (text === '^C') return { kind: 'interrupt', line };
  if (text === '^D') return { kind: 'end-input', line };
  if (text === ELLIPSIS) return { kind: 'skip', line };
  if (text === TYPED_MARK || text.endsWith(` ${TYPED_MARK}`)) {
    return { kind: 'type', line, text: text.slice(0, -TYPED_MARK.length).replace(/ $/, ''), echo: false };
  }
  if (text === '>' || text.startsWith('> ')) {
    // A command whose stdin comes from the shell (`printf 'hi\n' | netlab …`) prints its input
    // lines but reads nothing from the terminal: the line is output only.
    if (/[|<]/.test(command)) return { kind: 'expect', line, pattern: text };
    return { kind: 'type', line, text: text.slice(2), echo: true };
  }
  return { kind: 'expect', line, pattern: text };
}

function lastIndex(items: unknown[]): number | undefined {
  return items.length === 0 ? undefined : items.length - 1;
}
