/**
 * The client's reading of the numbers on the udp-chat server's datagrams (lesson 03, "A chat
 * without connections"): TCP numbers every byte and hides what it fixes; over UDP nothing is
 * fixed, so the client shows it instead. Each member's datagrams are numbered 1, 2, 3…, and a
 * jump is a gap (lost, or still on the way), a number from before the jump is late (it was
 * overtaken), and a number seen before is a duplicate.
 *
 * Pure: numbers in, verdicts out. Leaves out: asking for what is missing to be sent again
 * (that is what TCP does, with acknowledgements, timers and buffers).
 */

/** How many missing numbers a tracker remembers: a peer jumping to 10^9 must not fill memory. */
const MAX_TRACKED_MISSING = 1000;

/**
 * Tracks the numbers on a member's datagrams and says what each one means: the next one, a
 * gap (datagrams lost, or still on their way), a late one (it was overtaken), or a duplicate.
 *
 * It remembers the last MAX_TRACKED_MISSING missing numbers. A number older than those it can
 * no longer place, so it calls it late: better to show a rare duplicate than to hide a message.
 */
export class SequenceTracker {
  private expected = 1;
  /** Numbers below `expected` that have not arrived, oldest first (a Set keeps insertion order). */
  private readonly missing = new Set<number>();
  /** Below this, the tracker has forgotten which numbers arrived. */
  private forgottenBelow = 0;

  /** Starts counting again (a new WELCOME after the server forgot us). */
  reset(seq: number): void {
    this.expected = seq + 1;
    this.missing.clear();
    this.forgottenBelow = seq;
  }

  /** What datagram number `seq` is, relative to those before it. */
  check(seq: number): { kind: 'next' } | { kind: 'gap'; from: number; to: number } | { kind: 'late' } | { kind: 'duplicate' } {
    if (seq === this.expected) {
      this.expected++;
      return { kind: 'next' };
    }
    if (seq > this.expected) {
      const from = this.expected;
      const first = Math.max(from, seq - MAX_TRACKED_MISSING);
      if (first > from) this.forgottenBelow = first;
      for (let n = first; n < seq; n++) this.missing.add(n);
      for (const oldest of this.missing) {
        if (this.missing.size <= MAX_TRACKED_MISSING) break;
        this.missing.delete(oldest);
        this.forgottenBelow = oldest + 1;
      }
      this.expected = seq + 1;
      return { kind: 'gap', from, to: seq - 1 };
    }
    if (this.missing.delete(seq) || seq < this.forgottenBelow) return { kind: 'late' };
    return { kind: 'duplicate' };
  }
}
