/**
 * Context for the ws-echo benchmark, held to no target: how fast a WebSocket echo can go in
 * Node at all. ws does the handshake; after it, this server takes the socket away from ws and
 * echoes frames with a loop of its own: read the header, unmask the payload into the answer's
 * buffer, write every answer of one read in one write(). It checks nothing (no UTF-8
 * validation, no limits, no fragments, no back-pressure), which no real server may skip, so its
 * gap to `socket.pipe(socket)` is what WebSocket framing costs before any safety, and a bound
 * on what issue #10's "WS echo throughput ≥ 0.8× the TCP pipe" can ask of a server built on ws.
 *
 * Frames: text and binary are echoed with their opcode and FIN bit as sent; ping gets a pong
 * with its payload; close gets a close back, then the socket ends. Lengths of 7, 16 and 64
 * bits are read (a 64-bit length above 2^53 ends the connection).
 *
 * It speaks the same first line as netlab's servers (`ws-echo server listening on
 * 127.0.0.1:PORT`) and takes `--port N`, as ws-echo-minimal.js does.
 */
import { WebSocketServer } from 'ws';

const portFlag = process.argv.indexOf('--port');
const port = portFlag === -1 ? 0 : Number(process.argv[portFlag + 1]);

const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });

wss.on('connection', (ws) => {
  // ws's own socket (ws 8 keeps it as `_socket`): its listeners go, this loop reads instead.
  const socket = ws._socket;
  socket.removeAllListeners('data');
  socket.removeAllListeners('end');
  socket.on('error', () => {});
  let carry = null;
  socket.on('data', (chunk) => {
    const buf = carry === null ? chunk : Buffer.concat([carry, chunk]);
    carry = null;
    const answers = [];
    let off = 0;
    while (buf.length - off >= 2) {
      const b0 = buf[off];
      let len = buf[off + 1] & 0x7f;
      let head = 2;
      if (len === 126) {
        if (buf.length - off < 4) break;
        len = buf.readUInt16BE(off + 2);
        head = 4;
      } else if (len === 127) {
        if (buf.length - off < 10) break;
        len = Number(buf.readBigUInt64BE(off + 2));
        head = 10;
        if (!Number.isSafeInteger(len)) return socket.destroy();
      }
      if (buf.length - off < head + 4 + len) break;
      const mask = off + head;
      const data = mask + 4;
      const opcode = b0 & 0x0f;
      const outHead = len < 126 ? 2 : len < 65536 ? 4 : 10;
      const out = Buffer.allocUnsafe(outHead + len);
      // A ping is answered with a pong (0xA), FIN set; everything else goes back as it came.
      out[0] = opcode === 0x9 ? 0x8a : b0;
      if (outHead === 2) out[1] = len;
      else if (outHead === 4) {
        out[1] = 126;
        out.writeUInt16BE(len, 2);
      } else {
        out[1] = 127;
        out.writeBigUInt64BE(BigInt(len), 2);
      }
      for (let i = 0; i < len; i++) out[outHead + i] = buf[data + i] ^ buf[mask + (i & 3)];
      answers.push(out);
      off = data + len;
      if (opcode === 0x8) {
        socket.end(answers.length === 1 ? out : Buffer.concat(answers));
        return;
      }
    }
    if (off < buf.length) carry = buf.subarray(off);
    if (answers.length === 1) socket.write(answers[0]);
    else if (answers.length > 1) socket.write(Buffer.concat(answers));
  });
});

wss.on('listening', () => {
  process.stdout.write(`ws-echo server listening on 127.0.0.1:${wss.address().port}\n`);
});
