/**
 * socat as a subject of the tcp-echo benchmark: the echo a network programmer reaches for
 * first (`socat TCP-LISTEN:port,fork PIPE`), written in C, one process per connection. It
 * joins the comparison only when `socat` is on PATH; it is context, held to no target.
 *
 * The options, and why:
 *   fork          a child process per connection (without it socat serves one client, then
 *                 exits); the bench counts the CPU of the whole process tree.
 *   nodelay       netlab and the load set TCP_NODELAY; without it Nagle's algorithm would hold
 *                 back socat's small echoes while earlier ones are unacknowledged.
 *   backlog=1024  socat listens with a backlog of 5: 100 clients connecting at once overflow
 *                 it, and the kernel makes the rest retry their handshake for seconds (tried:
 *                 the echo-throughput load stalled). Node listens with 511.
 *   PIPE          the bytes go into a pipe and come back out of it: the classic socat echo.
 * socat's own block size (-b, 8 KiB per read and write) is kept. With `-b 65536` the echo
 * deadlocks under the bulk load: socat writes a whole block into its own pipe with a blocking
 * write, a pipe holds 64 KiB, and the only reader of the pipe is socat itself, stuck in that
 * write (tried: every child blocked in pipe_write, the load's watchdog fired). 8 KiB leaves
 * room, and measured twice the bulk rate of `-b 4096`, the size that could never block.
 *
 * Leaves out: any socat version check; the options above are in socat 1.7 and later.
 */
import { onPath } from './server-process.js';

export const SOCAT = {
  label: 'socat',
  context: true,
  command: 'socat',
  args: ['TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,nodelay,backlog=1024', 'PIPE'],
  available: () => (onPath('socat') ? undefined : 'socat is not installed'),
};
