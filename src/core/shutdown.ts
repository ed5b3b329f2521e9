/**
 * Ctrl+C, the way DESIGN.md promises it: the first one asks the command to finish cleanly
 * (a server tells its clients and closes, a client flushes and closes); a second one, for
 * when the clean way hangs, forces. SIGTERM counts as a first Ctrl+C.
 */

export interface InterruptHandlers {
  /** First Ctrl+C (or SIGTERM): start a clean shutdown. */
  graceful: () => void;
  /** Second Ctrl+C: stop now. */
  force: () => void;
}

export interface Interrupts {
  /** Counts a Ctrl+C that did not arrive as a signal (a terminal in raw mode, see prompt.ts). */
  trigger: () => void;
  /** Removes the signal handlers. */
  dispose: () => void;
}

/** Installs the handlers for SIGINT and SIGTERM. */
export function onInterrupt(handlers: InterruptHandlers, proc: NodeJS.Process = process): Interrupts {
  let count = 0;
  const trigger = () => {
    count++;
    if (count === 1) handlers.graceful();
    else handlers.force();
  };
  proc.on('SIGINT', trigger);
  proc.on('SIGTERM', trigger);
  return {
    trigger,
    dispose: () => {
      proc.off('SIGINT', trigger);
      proc.off('SIGTERM', trigger);
    },
  };
}
