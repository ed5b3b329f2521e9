/**
 * The floor for the udp-echo benchmark: the smallest UDP echo server Node can run, one
 * node:dgram socket whose every datagram goes straight back to its source,
 * `socket.on('message', (m, r) => socket.send(m, r.port, r.address))`. Whatever netlab's server
 * does beyond that (events, totals, the echo-storm guards, logging) shows up as the gap to this one.
 *
 * It speaks the same first line as netlab's servers, `udp-echo server listening on 127.0.0.1:PORT`,
 * so the bench starts and parses both the same way, and takes `--port N` (0 = any free port).
 *
 * `--socket-buffer-bytes N` asks the kernel for receive and send buffers of N bytes, as netlab's
 * servers ask for 4 MiB (src/udp/udp-socket.ts). Under an offered load the server cannot
 * always keep up with, the receive buffer decides what is dropped and how long the rest
 * waits, so the udp-echo benchmark gives the floor netlab's buffers: then both face the same
 * kernel, and any difference in loss or delay is the servers' own. Without the flag the
 * socket keeps the kernel's default (net.core.rmem_default, 212,992 bytes on most Linux).
 *
 * Leaves out everything a teaching server needs: logging, --host, impairment, the guards
 * against echo storms, a graceful shutdown (SIGTERM just ends the process). Loopback only,
 * on purpose.
 */
import dgram from 'node:dgram';

const portFlag = process.argv.indexOf('--port');
const port = portFlag === -1 ? 0 : Number(process.argv[portFlag + 1]);
const bufferFlag = process.argv.indexOf('--socket-buffer-bytes');
const socketBufferBytes = bufferFlag === -1 ? 0 : Number(process.argv[bufferFlag + 1]);

const socket = dgram.createSocket('udp4');
// The one addition to the one-liner: without an 'error' listener a failed send would crash
// the floor in the middle of a run.
socket.on('error', () => {});
socket.on('message', (message, remote) => socket.send(message, remote.port, remote.address));

socket.bind({ address: '127.0.0.1', port }, () => {
  if (socketBufferBytes > 0) {
    // Linux caps what it grants at net.core.rmem_max / wmem_max (and doubles it for its own
    // bookkeeping, socket(7)), exactly as for netlab's servers.
    socket.setRecvBufferSize(socketBufferBytes);
    socket.setSendBufferSize(socketBufferBytes);
  }
  process.stdout.write(`udp-echo server listening on 127.0.0.1:${socket.address().port}\n`);
});
