/**
 * The floor for the tcp-chat benchmark: the minimal correct line broadcast a Node programmer
 * writes. A Set of sockets; each socket's bytes are split into lines, the unfinished rest kept
 * for the next read; each complete line goes out as `guest-N: line\n` to every other socket.
 * Whatever netlab's server does beyond that (welcome and join notices, commands, cleaning
 * control characters, rate limits, the per-client queue cap, batching writes, logging)
 * shows up as the gap to this one.
 *
 * Nagle's algorithm stays on, as Node leaves it: under load it merges the small writes into
 * fewer segments (one write(2) per delivery all the same), and in a chat it holds a line for a
 * client whose last one is not yet acknowledged, up to the 40 ms of the receiver's delayed
 * ACK. The benchmark's lone messages are spaced to stay clear of that (bench/tcp-chat.js).
 *
 * It speaks the same first line as netlab's servers, `tcp-chat server listening on
 * 127.0.0.1:PORT`, so the bench starts and parses both the same way, and takes `--port N`
 * (0 = any free port).
 *
 * Leaves out everything a teaching server needs: notices, names other than guest-N, commands,
 * limits (a client that never reads makes this server buffer without bound), a graceful
 * shutdown (SIGTERM just ends the process). Loopback only, on purpose.
 */
import net from 'node:net';

const portFlag = process.argv.indexOf('--port');
const port = portFlag === -1 ? 0 : Number(process.argv[portFlag + 1]);

const sockets = new Set();
let nextGuest = 1;

const server = net.createServer((socket) => {
  const name = `guest-${nextGuest++}`;
  let rest = '';
  sockets.add(socket);
  // Without an 'error' listener a client's reset (ECONNRESET, EPIPE) would crash the floor.
  socket.on('error', () => {});
  socket.on('close', () => sockets.delete(socket));
  socket.setEncoding('utf8');
  socket.on('data', (text) => {
    const lines = (rest + text).split('\n');
    rest = lines.pop();
    for (const line of lines) {
      const message = `${name}: ${line}\n`;
      for (const other of sockets) if (other !== socket) other.write(message);
    }
  });
});

server.listen({ host: '127.0.0.1', port }, () => {
  process.stdout.write(`tcp-chat server listening on 127.0.0.1:${server.address().port}\n`);
});
