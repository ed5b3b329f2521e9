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

/** Installs the handlers; returns a function that removes them. */
export function onInterrupt(handlers: InterruptHandlers, proc: NodeJS.Process = process): () => void {
  let count = 0;
  const handle = () => {
    count++;
    if (count === 1) handlers.graceful();
    else handlers.force();
  };
  proc.on('SIGINT', handle);
  proc.on('SIGTERM', handle);
  return () => {
    proc.off('SIGINT', handle);
    proc.off('SIGTERM', handle);
  };
}
