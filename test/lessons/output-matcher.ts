/**
 * How a lesson's expected lines are matched against what a terminal printed: pure functions
 * over strings, used by the lesson runner while output is still arriving.
 *
 * Matching is strict and consecutive: each expected line must be the very next line printed.
 * After a `…` line the runner skips ahead to the first line that matches; it does not
 * backtrack, so the line after a `…` should be one that appears only once in the part skipped.
 */
import { ELLIPSIS } from '../../src/lessons/lesson-format.js';

/**
 * Whether a printed line matches a pattern from a lesson: `…` stands for any text (possibly
 * none), everything else is literal. Trailing whitespace is ignored on both sides.
 */
export function lineMatches(pattern: string, line: string): boolean {
  const literal = pattern
    .trimEnd()
    .split(ELLIPSIS)
    .map((piece) => piece.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${literal.join('.*')}$`, 's').test(line.trimEnd());
}

/** Where the next expected line is: found, a different line in its place, or not printed yet. */
export type LineSearch =
  | { kind: 'found'; index: number }
  | { kind: 'different'; index: number }
  | { kind: 'not-yet' };

/**
 * Looks for `pattern` in `lines` (the terminal's non-blank lines so far) from index `from`.
 * Without `skipping` only the line at `from` may match; with it (after a `…` line) the first
 * matching line at or after `from` does.
 */
export function findLine(pattern: string, lines: readonly string[], from: number, skipping: boolean): LineSearch {
  if (!skipping) {
    if (from >= lines.length) return { kind: 'not-yet' };
    return lineMatches(pattern, lines[from]!) ? { kind: 'found', index: from } : { kind: 'different', index: from };
  }
  for (let i = from; i < lines.length; i++) {
    if (lineMatches(pattern, lines[i]!)) return { kind: 'found', index: i };
  }
  return { kind: 'not-yet' };
}

/** Splits a stream of text into lines, dropping blank ones (lessons ignore them on both sides). */
export class LineSplitter {
  private partial = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(text: string): void {
    const pieces = (this.partial + text).split('\n');
    this.partial = pieces.pop()!;
    for (const piece of pieces) this.emit(piece);
  }

  /** The last line, if the stream ended without a newline. */
  end(): void {
    this.emit(this.partial);
    this.partial = '';
  }

  private emit(piece: string): void {
    const line = piece.replace(/\r$/, '').trimEnd();
    if (line !== '') this.onLine(line);
  }
}
