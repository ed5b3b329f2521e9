/**
 * A live status line at the bottom of a server's terminal, for an instructor at a projector:
 * `● 23 online · 140 messages · Ctrl+C stops`. With a whole class connected the log scrolls
 * faster than anyone reads it (or is silenced with --quiet); the count stays in one place.
 *
 * It is drawn on stderr, and only when both stdout and stderr are terminals: a log piped to a
 * file or to another program gets no escape codes and no status. Every log line goes through
 * printAbove(), which clears the status, prints the line and draws the status again, in the
 * way prompt.ts keeps a half-typed input line. Between log lines, update() redraws at most
 * every REDRAW_INTERVAL_MS, so a busy chat does not spend a write per message on it.
 */
import type { LineSink, OutputStreams } from './output.js';

/** The shortest time between two redraws asked for by update(): a tenth of a second. */
export const REDRAW_INTERVAL_MS = 100;

/** ESC [ 2 K: erase the whole line; with "\r" first, the cursor is back at its start. */
const CLEAR_LINE = '\r\x1b[2K';

export class StatusLine implements LineSink {
  private closed = false;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param render the status text, asked for at every redraw; already styled by the caller
   * @param columns the terminal's width now (it may be resized while the server runs)
   */
  constructor(
    private readonly streams: OutputStreams,
    private readonly render: () => string,
    private readonly columns: () => number,
  ) {
    this.streams.stderr.write(this.drawn());
  }

  /** True when a status line can be shown on these streams (both are terminals). */
  static possible(streams: OutputStreams): boolean {
    return streams.stdout.isTTY === true && streams.stderr.isTTY === true;
  }

  /** The numbers changed: redraw soon (at most every REDRAW_INTERVAL_MS). */
  update(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) this.streams.stderr.write(`${CLEAR_LINE}${this.drawn()}`);
    }, REDRAW_INTERVAL_MS);
    this.timer.unref();
  }

  printAbove(line: string, stream: 'stdout' | 'stderr'): void {
    if (this.closed) {
      this.streams[stream].write(`${line}\n`);
      return;
    }
    if (stream === 'stderr') {
      this.streams.stderr.write(`${CLEAR_LINE}${line}\n${this.drawn()}`);
    } else {
      this.streams.stderr.write(CLEAR_LINE);
      this.streams.stdout.write(`${line}\n`);
      this.streams.stderr.write(this.drawn());
    }
  }

  /** Erases the status line for good. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.streams.stderr.write(CLEAR_LINE);
  }

  /** The status, cut to one column less than the terminal so it never wraps. */
  private drawn(): string {
    return cutToColumns(this.render(), Math.max(this.columns() - 1, 10));
  }
}

/**
 * `text` cut to `columns` visible characters, ending in `…` when cut; escape sequences
 * (colours) are kept and take no column.
 */
export function cutToColumns(text: string, columns: number): string {
  // eslint-disable-next-line no-control-regex
  const parts = text.split(/(\x1b\[[0-9;]*m)/);
  let shown = 0;
  let out = '';
  for (const part of parts) {
    if (part.startsWith('\x1b[')) {
      out += part;
      continue;
    }
    const chars = [...part];
    if (shown + chars.length > columns) {
      out += `${chars.slice(0, Math.max(columns - shown - 1, 0)).join('')}…`;
      return text.includes('\x1b[') ? `${out}\x1b[0m` : out;
    }
    out += part;
    shown += chars.length;
  }
  return out;
}
