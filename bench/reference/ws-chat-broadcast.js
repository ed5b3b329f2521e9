/**
 * The floor for the ws-chat benchmark: the broadcast of the ws library's README ("Server
 * broadcast"), applied to the rooms of ws-chat's JSON (src/ws/chat-protocol.ts), with just
 * enough of that protocol for the bench's load. The README's loop is
 *
 *   ws.on('message', function message(data, isBinary) {
 *     wss.clients.forEach(function each(client) {
 *       if (client.readyState === WebSocket.OPEN) {
 *         client.send(data, { binary: isBinary });
 *       }
 *     });
 *   });
 *
 * Here the clients are those of the sender's room (a Map of rooms, each a Set of WebSockets),
 * and `data` is the chat's outgoing `{"type":"message",room,from,text,time}`, built once per
 * message as one Buffer, as the README's `data` is one Buffer, and sent as text. The sender
 * gets its own copy, as in the README and in netlab. On `{"type":"join"}` the connection
 * enters its room and gets `{"type":"joined"}`. Whatever netlab's server does beyond that
 * (validation, tokens, history, user lists, presence notices, the sender's id, the rate limit,
 * the queue cap, heartbeats, the page, logging) shows up as the gap to this one.
 *
 * permessage-deflate is off, as in netlab's server. It speaks the same first line as netlab's
 * servers, `ws-chat server listening on 127.0.0.1:PORT`, so the bench starts and parses both
 * the same way, and takes `--port N` (0 = any free port).
 *
 * Leaves out everything a teaching server needs: validation (a message that is not JSON throws
 * and ends the process, which fails the bench loudly), private messages, renames, limits (a
 * client that never reads makes this server buffer without bound), one path for WebSockets
 * (this one upgrades any path), a graceful shutdown (SIGTERM just ends the process). Loopback
 * only, on purpose.
 */
import WebSocket, { WebSocketServer } from 'ws';

const portFlag = process.argv.indexOf('--port');
const port = portFlag === -1 ? 0 : Number(process.argv[portFlag + 1]);

const rooms = new Map(); // room name → Set of WebSockets

const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });

wss.on('connection', function connection(ws) {
  let name;
  let members; // the Set of the room this connection joined
  let room;
  // The README logs errors (console.error); a client that resets its connection is no news here.
  ws.on('error', () => {});
  ws.on('close', () => members?.delete(ws));
  ws.on('message', function message(data) {
    const message = JSON.parse(data);
    if (message.type === 'join') {
      name = message.name;
      room = message.room;
      members = rooms.get(room) ?? rooms.set(room, new Set()).get(room);
      members.add(ws);
      ws.send(JSON.stringify({ type: 'joined', name, room }));
    } else if (message.type === 'message' && members) {
      const out = Buffer.from(JSON.stringify({ type: 'message', room, from: name, text: message.text, time: new Date().toISOString() }));
      members.forEach(function each(client) {
        if (client.readyState === WebSocket.OPEN) {
          client.send(out, { binary: false });
        }
      });
    }
  });
});

wss.on('listening', () => {
  process.stdout.write(`ws-chat server listening on 127.0.0.1:${wss.address().port}\n`);
});
