/**
 * Shows what a client receives as `< line` lines, whatever the chunk boundaries were.
 *
 * Complete lines are shown at once. Text without a newline yet (a server's "Name: " prompt,
 * or the first half of a line split across two reads) is shown after a short quiet period,
 * so nothing sits invisible, yet a line split by the network usually still shows whole.
 * Control characters are made visible (text-view.ts): a peer cannot rewrite our terminal.
 */
import { LineFramer } from './line-framer.js';
import { visible } from './text-view.js';

/** How long a partial line waits for the rest before it is shown as it is. */
export const PARTIAL_LINE_WAIT_MS = 150;
/** A partial line this long is shown at once: a server that never sends "\n" cannot fill memory. */
export const MAX_PARTIAL_LINE_CHARS = 64 * 1024;

export class ReceivedLines {
  private readonly framer = new LineFramer();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly show: (line: string) => void) {}

  push(chunk: Buffer): void {
    for (const item of this.framer.push(chunk)) {
      if (item.kind === 'line') this.show(visible(item.text));
    }
    if (this.framer.pending.length > MAX_PARTIAL_LINE_CHARS) return this.flush();
    clearTimeout(this.timer);
    this.timer = this.framer.pending === '' ? undefined : setTimeout(() => this.flush(), PARTIAL_LINE_WAIT_MS);
  }

  /** Shows any partial line now (the connection closed, or the wait is over). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const rest = this.framer.flush();
    if (rest !== '') this.show(visible(rest));
  }
}
