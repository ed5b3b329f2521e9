/**
 * How every scripted client of `netlab check` waits: a check asks "has this happened yet?"
 * (an echo, a line with a token, a reply datagram) and the probe answers as soon as it has,
 * or with false once the wait is over. Nothing polls: the probe calls notify() on each event
 * that may change an answer (a read, a datagram, FIN, close), and each wait looks again then.
 *
 * A condition runs on every event, so on a flood it runs thousands of times: it must look only
 * at what is new (keep a cursor), never rescan everything that came before.
 *
 * Leaves out: cancelling a wait. Every wait ends by itself, at its condition or its timeout.
 */

/** The waits pending on one source of events, such as one probe. */
export class Waiters {
  private readonly pending = new Set<() => void>();

  /**
   * Resolves true as soon as `condition` holds, looked at now and on every notify() of any of
   * `sources` (several UDP probes at once, say); false after `ms` without it. Rejects only
   * when `condition` throws, with what it threw.
   */
  static any(sources: readonly Waiters[], condition: () => boolean, ms: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const end = (settle: () => void) => {
        clearTimeout(timer);
        for (const source of sources) source.pending.delete(look);
        settle();
      };
      const look = () => {
        try {
          if (condition()) end(() => resolve(true));
        } catch (err) {
          end(() => reject(err));
        }
      };
      const timer = setTimeout(() => end(() => resolve(false)), ms);
      for (const source of sources) source.pending.add(look);
      look();
    });
  }

  /** Resolves true as soon as `condition` holds (now or at a later notify()), false after `ms`. */
  until(condition: () => boolean, ms: number): Promise<boolean> {
    return Waiters.any([this], condition, ms);
  }

  /** Looks at every pending wait's condition again: call on each event that may change one. */
  notify(): void {
    for (const look of [...this.pending]) look();
  }
}
