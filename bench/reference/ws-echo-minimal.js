/**
 * The floor for the ws-echo benchmark: the smallest WebSocket echo server Node can run with the
 * ws library, a stock `WebSocketServer` on its own port whose every message goes straight back,
 * `ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }))`. Whatever
 * netlab's server does beyond that (the page, the path and Origin checks, heartbeats,
 * back-pressure, events, totals, logging) shows up as the gap to this one.
 *
 * permessage-deflate is off, as in netlab's server: otherwise the two would not do the same
 * work per message. It speaks the same first line as netlab's servers, `ws-echo server
 * listening on 127.0.0.1:PORT`, so the bench starts and parses both the same way, and takes
 * `--port N` (0 = any free port).
 *
 * Leaves out everything a teaching server needs: logging, --host, a page, one path for
 * WebSockets (this one upgrades any path), Origin checks, heartbeats, back-pressure (a client
 * that never reads makes this server buffer without bound), a message limit below ws's
 * default of 100 MiB, a graceful shutdown (SIGTERM just ends the process). Loopback only, on
 * purpose.
 */
import { WebSocketServer } from 'ws';

const portFlag = process.argv.indexOf('--port');
const port = portFlag === -1 ? 0 : Number(process.argv[portFlag + 1]);

const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });

wss.on('connection', (ws) => {
  // The one addition to the one-liner: without an 'error' listener a client that breaks the
  // protocol (or resets the connection) would crash the floor in the middle of a run.
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});

wss.on('listening', () => {
  process.stdout.write(`ws-echo server listening on 127.0.0.1:${wss.address().port}\n`);
});
