/**
 * The floor for the udp-echo benchmark: the smallest UDP echo server Node can run, one
 * node:dgram socket whose every datagram goes straight back to its source,
 * `socket.on('message', (m, r) => socket.send(m, r.port, r.address))`. Whatever netlab's server
 * does beyond that (events, totals, the echo-storm guards, logging) shows up as the gap to this one.
 *
 * It speaks the same first line as netlab's servers, `udp-echo server listening on 127.0.0.1:PORT`,
 * so the bench starts and parses both the same way, and takes `--port N` (0 = any free port).
 *
 * Leaves out everything a teaching server needs: logging, --host, impairment, the guards
 * against echo storms, a bigger socket buffer than the kernel's default, a graceful shutdown
 * (SIGTERM just ends the process). Loopback only, on purpose.
 */
import dgram from 'node:dgram';

const portFlag = process.argv.indexOf('--port');
const port = portFlag === -1 ? 0 : Number(process.argv[portFlag + 1]);

const socket = dgram.createSocket('udp4');
// The one addition to the one-liner: without an 'error' listener a failed send would crash
// the floor in the middle of a run.
socket.on('error', () => {});
socket.on('message', (message, remote) => socket.send(message, remote.port, remote.address));

socket.bind({ address: '127.0.0.1', port }, () => {
  process.stdout.write(`udp-echo server listening on 127.0.0.1:${socket.address().port}\n`);
});
