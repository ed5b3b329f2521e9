/**
 * The floor for the tcp-echo benchmark: the smallest TCP echo server Node can run,
 * `net.createServer((socket) => socket.pipe(socket))`. Whatever netlab's server does beyond
 * moving bytes (events, counters, logging, half-close handling) shows up as the gap to this one.
 *
 * It speaks the same first line as netlab's servers, `tcp-echo server listening on 127.0.0.1:PORT`,
 * so the bench starts and parses both the same way, and takes `--port N` (0 = any free port).
 *
 * Leaves out everything a teaching server needs: logging, --host, limits, a graceful shutdown
 * (SIGTERM just ends the process). Loopback only, on purpose.
 */
import net from 'node:net';

const portFlag = process.argv.indexOf('--port');
const port = portFlag === -1 ? 0 : Number(process.argv[portFlag + 1]);

const server = net.createServer((socket) => {
  // The one addition to the one-liner: without an 'error' listener a client's reset
  // (ECONNRESET, EPIPE) would crash the floor in the middle of a run.
  socket.on('error', () => {});
  socket.pipe(socket);
});

server.listen({ host: '127.0.0.1', port }, () => {
  process.stdout.write(`tcp-echo server listening on 127.0.0.1:${server.address().port}\n`);
});
